// FLOPs of the op lists against Megatron-LM's and Korthikanti et al.'s closed formulas.
#include <catch2/catch.hpp>

#include "../support/scenarios.hpp"
#include "model/ops.hpp"
#include "sim/analytical.hpp"

using namespace clustersim;
using clustersim::testing::gpt_model;
using clustersim::testing::preset_model;

TEST_CASE("op-list model FLOPs equal Megatron-LM num_floating_point_operations") {
  // Megatron training.py: 12 B s L h^2 (1 + (f/h) k gamma + g/a + s/h + V/(2 L h)); the op list counts the
  // same GEMMs one by one (3 x forward), so both must agree for dense models with d = h/a.
  for (const char* name : {"gpt3-175b", "llama3-70b", "llama3-8b", "mistral-7b", "nemotron4-15b"}) {
    INFO(name);
    const auto m = preset_model(name);
    CHECK(model::model_flops_per_iteration(m, 512, 4096) ==
          Approx(model::megatron_formula_flops(m, 512, 4096)).epsilon(1e-12));
  }
}

TEST_CASE("GPT-style model FLOPs match Korthikanti Eq. 7") {
  // Korthikanti et al. 2022 App. A Eq. 7: 72 B s l h^2 (1 + s/(6h) + V/(12 h l)) for f = 4h, MHA.
  const auto m = gpt_model(96, 12288, 96, 51200);
  const double B = 1536, s = 2048, l = 96, h = 12288, V = 51200;
  const double eq7 = 72.0 * B * s * l * h * h * (1.0 + s / (6.0 * h) + V / (12.0 * h * l));
  CHECK(model::model_flops_per_iteration(m, 1536, 2048) == Approx(eq7).epsilon(1e-12));
}

TEST_CASE("hardware FLOPs with recomputation: one extra forward of what is recomputed") {
  const auto m = gpt_model(8, 4096, 32, 51200);
  auto cluster = clustersim::testing::preset_cluster("dgx-a100", 1);
  strategies::TrainingSpec t;
  t.seq_length = 2048;
  t.global_batch = 8;
  const double B = 8, s = 2048, l = 8, h = 4096, V = 51200;
  SECTION("selective recompute of materialised attention") {
    // Eq. 7 plus one more forward of the attention core (QK^T and PV, 4 B s^2 l h):
    // 72 B s l h^2 (1 + s/(6h) + s/(18h) + V/(12 h l)). Korthikanti's printed Eq. 8 writes s/(3h), i.e. it
    // adds three attention forwards (12 B s^2 l h); the kernels run once more, not three times, so the
    // simulator counts the work that executes and this test holds it to that derivation.
    strategies::LayoutSpec L{.tp = 8, .sequence_parallel = true, .recompute = strategies::Recompute::selective,
                             .attention = model::AttentionImpl::materialized};
    const auto r = sim::estimate(clustersim::testing::scenario(m, cluster, t, L));
    const double hw = 72.0 * B * s * l * h * h * (1.0 + s / (6.0 * h) + s / (18.0 * h) + V / (12.0 * h * l));
    CHECK(r.hardware_flops == Approx(hw).epsilon(1e-9));
  }
  SECTION("full recompute: Narayanan Eq. 3") {
    // 96 B s l h^2 (1 + s/(6h) + V/(16 l h)): every layer's forward runs twice, the LM head once.
    strategies::LayoutSpec L{.tp = 8, .recompute = strategies::Recompute::full};
    const auto r = sim::estimate(clustersim::testing::scenario(m, cluster, t, L));
    const double eq3 = 96.0 * B * s * l * h * h * (1.0 + s / (6.0 * h) + V / (16.0 * l * h));
    CHECK(r.hardware_flops == Approx(eq3).epsilon(1e-9));
  }
  SECTION("FlashAttention with selective recompute adds nothing: the kernel recomputes internally") {
    strategies::LayoutSpec L{.tp = 8, .sequence_parallel = true, .recompute = strategies::Recompute::selective};
    const auto r = sim::estimate(clustersim::testing::scenario(m, cluster, t, L));
    CHECK(r.hardware_flops == Approx(r.model_flops).epsilon(1e-12));
  }
}

TEST_CASE("causal FlashAttention executes half the convention's attention FLOPs") {
  const auto m = gpt_model(2, 1024, 16);
  model::ShardContext c;
  c.seq_length = 2048;
  for (const auto& op : model::layer_ops(m, c, model::Pass::forward)) {
    if (op.kind != model::OpKind::flash_attention) continue;
    // 4 b s^2 h non-causal; a causal kernel skips the upper triangle.
    CHECK(op.flops == 4.0 * 2048 * 2048 * 1024);
    CHECK(op.executed_flops == op.flops / 2);
  }
}
