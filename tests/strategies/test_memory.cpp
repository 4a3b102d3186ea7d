// Memory model against Korthikanti et al. 2022 (Table 2, Figure 1) and the ZeRO paper (Table 1).
#include <catch2/catch.hpp>

#include "../support/scenarios.hpp"
#include "strategies/memory.hpp"

using namespace clustersim;
using namespace clustersim::strategies;
using clustersim::testing::gpt_model;
using clustersim::testing::preset_cluster;
using clustersim::testing::scenario;

namespace {
TrainingSpec training(std::int64_t seq, std::int64_t batch) {
  TrainingSpec t;
  t.seq_length = seq;
  t.global_batch = batch;
  return t;
}
}  // namespace

TEST_CASE("per-layer activations follow Korthikanti Table 2") {
  // 22B model of Korthikanti Table 3: l 48, h 6144, a 64, s 2048, b 4, t 8 (f = 4h, dropout, 16-bit).
  const auto m = gpt_model(48, 6144, 64);
  const auto c = preset_cluster("dgx-a100", 1);
  const double s = 2048, b = 4, h = 6144, a = 64, t = 8, sbh = s * b * h;
  auto act = [&](LayoutSpec L) { return layer_activations(scenario(m, c, training(2048, 4), L)).stored; };
  SECTION("TP, materialised attention, no recompute: sbh (10 + 24/t + 5as/(ht))") {
    CHECK(act({.tp = 8, .pp = 1, .micro_batch = 4, .attention = AttentionImpl::materialized}) ==
          Approx(sbh * (10 + 24 / t + 5 * a * s / (h * t))));
  }
  SECTION("TP + SP: (sbh/t)(34 + 5as/h)") {
    CHECK(act({.tp = 8, .sequence_parallel = true, .micro_batch = 4, .attention = AttentionImpl::materialized}) ==
          Approx(sbh / t * (34 + 5 * a * s / h)));
  }
  SECTION("TP + selective recompute: sbh (10 + 24/t)") {
    CHECK(act({.tp = 8, .micro_batch = 4, .recompute = Recompute::selective, .attention = AttentionImpl::materialized}) ==
          Approx(sbh * (10 + 24 / t)));
  }
  SECTION("TP + SP + selective recompute: 34 sbh / t") {
    CHECK(act({.tp = 8, .sequence_parallel = true, .micro_batch = 4, .recompute = Recompute::selective,
               .attention = AttentionImpl::materialized}) == Approx(34 * sbh / t));
  }
  SECTION("full recompute keeps the layer input: 2 sbh (sharded by SP)") {
    CHECK(act({.tp = 8, .micro_batch = 4, .recompute = Recompute::full}) == Approx(2 * sbh));
    CHECK(act({.tp = 8, .sequence_parallel = true, .micro_batch = 4, .recompute = Recompute::full}) == Approx(2 * sbh / t));
  }
  SECTION("FlashAttention drops the 5as^2b term and keeps the fp32 log-sum-exp (4 a s b / t)") {
    CHECK(act({.tp = 8, .sequence_parallel = true, .micro_batch = 4}) == Approx(34 * sbh / t + 4 * a * s * b / t));
  }
}

TEST_CASE("materialised attention grows quadratically with sequence length, flash linearly") {
  const auto m = gpt_model(4, 2048, 16);
  const auto c = preset_cluster("dgx-a100", 1);
  auto quad = [&](std::int64_t s, AttentionImpl a) {
    return layer_activations(scenario(m, c, training(s, 8), {.tp = 1, .attention = a}));
  };
  // Doubling s doubles the linear part and quadruples the 5as^2b part.
  const auto m1 = quad(1024, AttentionImpl::materialized), m2 = quad(2048, AttentionImpl::materialized);
  CHECK(m2.quadratic == Approx(4 * m1.quadratic));
  CHECK((m2.full - m2.quadratic) == Approx(2 * (m1.full - m1.quadratic)));
  const auto f1 = quad(1024, AttentionImpl::flash), f2 = quad(2048, AttentionImpl::flash);
  CHECK(f1.quadratic == 0.0);
  CHECK(f2.full == Approx(2 * f1.full));
}

TEST_CASE("Korthikanti Figure 1 activation totals (first pipeline stage)") {
  // The published analytical figures (shared/validation/published-runs.json, korthikanti22-fig1-*):
  // first-stage activations = layers in flight x per-layer bytes. 22B (t 8, p 1, b 4): 59.25 GiB without
  // recompute, 9.5625 GiB with SP + selective. 175B (t 8, p 8, b 1) uses the interleaved schedule with v = 3:
  // 96 layers x (1 + (p-1)/(p v)) in flight, 66.84375 GiB without recompute. 1T (t 8, p 64, v 1): 131.25 GiB.
  const auto c8 = preset_cluster("dgx-a100", 1);
  auto first_stage = [](const Scenario& sc) { return memory_report(sc).stages.front().activations.value; };
  auto without_extras = [](const Scenario& sc, double total) {
    // Remove the embedding-stage extras (input ids, embedding dropout mask) and, when the first stage is
    // also the last, the final-norm input, which Figure 1 leaves out.
    const auto& L = sc.layout;
    const double s = static_cast<double>(sc.training.seq_length), b = L.micro_batch;
    const double h = static_cast<double>(sc.model.spec().hidden);
    const int inflight = memory_report(sc).stages.front().inflight_microbatches;
    const double sp = L.sequence_parallel ? L.tp : 1;
    // (the final norm input and the LM-head GEMM input, 2 bytes each)
    const double head = sc.stages.front().has_head ? 4.0 * s * b * h / sp : 0.0;
    return total - inflight * (8.0 * s * b + s * b * h / sp) - head;
  };
  SECTION("22B") {
    const auto m = gpt_model(48, 6144, 64);
    auto none = scenario(m, c8, training(2048, 4), {.tp = 8, .micro_batch = 4, .attention = AttentionImpl::materialized});
    CHECK(without_extras(none, first_stage(none)) / kGiB == Approx(59.25).epsilon(1e-6));
    auto sel = scenario(m, c8, training(2048, 4),
                        {.tp = 8, .sequence_parallel = true, .micro_batch = 4, .recompute = Recompute::selective,
                         .attention = AttentionImpl::materialized});
    CHECK(without_extras(sel, first_stage(sel)) / kGiB == Approx(9.5625).epsilon(1e-6));
  }
  SECTION("175B, interleaved v = 3") {
    const auto m = gpt_model(96, 12288, 96);
    auto sc = scenario(m, preset_cluster("dgx-a100", 8), training(2048, 64),
                       {.tp = 8, .pp = 8, .virtual_stages = 3, .schedule = Schedule::interleaved_1f1b,
                        .attention = AttentionImpl::materialized});
    CHECK(without_extras(sc, first_stage(sc)) / kGiB == Approx(66.84375).epsilon(1e-6));
  }
  SECTION("1T, 1F1B") {
    const auto m = gpt_model(128, 25600, 160);
    auto sc = scenario(m, preset_cluster("dgx-a100", 64), training(2048, 512),
                       {.tp = 8, .pp = 64, .attention = AttentionImpl::materialized});
    CHECK(without_extras(sc, first_stage(sc)) / kGiB == Approx(131.25).epsilon(1e-6));
  }
}

TEST_CASE("model states follow ZeRO Table 1 (16 bytes/param with 16-bit grads, 7.5B on 64 GPUs)") {
  // ZeRO (Rajbhandari et al. 2019) sec. 3.1 / Table 1: with K = 12 optimizer bytes and 16-bit grads,
  // per-GPU bytes are 16 Psi (DDP), 4 Psi + 12 Psi/N_d (ZeRO-1), 2 Psi + 14 Psi/N_d (ZeRO-2), 16 Psi/N_d (ZeRO-3).
  // For Psi = 7.5e9 and N_d = 64: 120, 31.4, 16.6, 1.88 GB.
  const auto m = gpt_model(4, 1024, 16);
  const auto c = preset_cluster("dgx-a100", 8);
  TrainingSpec t = training(1024, 64);
  t.grad_precision = GradPrecision::bf16;
  const double expected_gb[4] = {120.0, 31.4, 16.6, 1.88};
  for (int zero = 0; zero <= 3; ++zero) {
    INFO("zero " << zero);
    const auto sc = scenario(m, c, t, {.tp = 1, .zero = zero});
    const auto st = memory_report(sc).stages.front();
    const double per_param = (st.weights + st.gradients + st.optimizer).value / st.params;
    CHECK(per_param * 7.5e9 / 1e9 == Approx(expected_gb[zero]).epsilon(0.005));
  }
}

TEST_CASE("Megatron keeps fp32 main grads: 18 bytes/param, 6 + 12/d with the distributed optimizer") {
  // Megatron theoretical_memory_usage.py: bf16 weight 2 + fp32 main grad 4 + Adam 12.
  const auto m = gpt_model(4, 1024, 16);
  const auto c = preset_cluster("dgx-a100", 2);
  const auto t = training(1024, 32);
  const auto st0 = memory_report(scenario(m, c, t, {.tp = 1, .zero = 0})).stages.front();
  CHECK((st0.weights + st0.gradients + st0.optimizer).value / st0.params == Approx(18.0));
  const auto st1 = memory_report(scenario(m, c, t, {.tp = 1, .zero = 1})).stages.front();
  CHECK((st1.weights + st1.gradients + st1.optimizer).value / st1.params == Approx(6.0 + 12.0 / 16));
}

TEST_CASE("FSDP keeps gathered weights and unsharded gradients across micro-batches under pipeline parallelism") {
  // FSDP alone: only the fp32 shard (master + Adam, 12 + 4 = 16 bytes / d). With PP, torchtitan does not
  // reshard after forward and gradients accumulate unsharded in the parameter dtype: + 2 + 2 bytes.
  const auto m = gpt_model(8, 1024, 16);
  const auto c = preset_cluster("dgx-a100", 2);  // 16 GPUs
  TrainingSpec t = training(1024, 64);
  t.framework = Framework::fsdp;
  t.optimizer_bytes_per_param = 16.0;  // fp32 master 4 + Adam 8 + fp32 grad shard 4
  t.grad_precision = GradPrecision::bf16;
  const auto flat = memory_report(scenario(m, c, t, {.tp = 1, .pp = 1, .zero = 3})).stages.front();
  CHECK(flat.weights.value == 0.0);
  CHECK(flat.gradients.value == Approx(flat.params * 2.0 / 16));
  const auto piped = memory_report(scenario(m, c, t, {.tp = 1, .pp = 2, .zero = 3})).stages.front();
  CHECK(piped.weights.value == Approx(piped.params * 2.0));
  CHECK(piped.gradients.value == Approx(piped.params * 2.0));
  CHECK(piped.optimizer.value == Approx(piped.params * 16.0 / 8));  // still sharded over dp = 8
}

TEST_CASE("in-flight micro-batches per schedule") {
  const auto m = gpt_model(16, 1024, 16);
  const auto c = preset_cluster("dgx-a100", 1);
  const auto t = training(1024, 32);  // dp 2 (t 1, p 4), micro-batch 1: m = 16
  SECTION("1F1B: stage r holds p - r") {
    const auto rep = memory_report(scenario(m, c, t, {.tp = 1, .pp = 4}));
    for (int r = 0; r < 4; ++r) CHECK(rep.stages[r].inflight_microbatches == 4 - r);
  }
  SECTION("GPipe: every stage holds all m") {
    const auto rep = memory_report(scenario(m, c, t, {.tp = 1, .pp = 4, .schedule = Schedule::gpipe}));
    for (int r = 0; r < 4; ++r) CHECK(rep.stages[r].inflight_microbatches == 16);
  }
  SECTION("interleaved: first rank (v p + p - 1) chunks, last rank (v-1) p + 1 chunks") {
    const auto rep = memory_report(
        scenario(m, c, t, {.tp = 1, .pp = 4, .virtual_stages = 2, .schedule = Schedule::interleaved_1f1b}));
    CHECK(rep.stages.front().inflight_chunks == 2 * 4 + 4 - 1);
    CHECK(rep.stages.back().inflight_chunks == (2 - 1) * 4 + 1);
  }
  SECTION("interleaved chunks of unequal depth count the layers each in-flight chunk holds") {
    // 6 layers + embedding + loss as layers = 8 units over p 4 x v 2 chunks: the last rank runs chunk 3
    // (layer 2) and chunk 7 (the loss only). Its (v-1) p + 1 = 5 chunks in flight are the 4 forwards of
    // chunk 3 (Megatron's micro-batch groups of p) and one of chunk 7: 4 layers, not 5/2 x 1.
    const auto m6 = gpt_model(6, 1024, 16);
    const auto rep = memory_report(scenario(m6, c, t,
                                            {.tp = 1, .pp = 4, .virtual_stages = 2, .schedule = Schedule::interleaved_1f1b,
                                             .embedding_as_layer = true, .loss_as_layer = true}));
    const auto sc = scenario(m6, c, t, {.tp = 1, .pp = 4, .virtual_stages = 2, .schedule = Schedule::interleaved_1f1b,
                                        .embedding_as_layer = true, .loss_as_layer = true});
    REQUIRE(sc.stages.back().chunk_layers == std::vector<int>{1, 0});
    const double layer = layer_activations(sc).full;
    const double head_inputs = 2.0 * 2.0 * 1024 * 1 * 1024;  // final-norm and LM-head inputs, 2 e s b h
    CHECK(rep.stages.back().activations.value == Approx(4 * layer + head_inputs));
  }
  SECTION("fewer micro-batches than stages: min(p - r, m)") {
    const auto rep = memory_report(scenario(m, c, training(1024, 4), {.tp = 1, .pp = 4}));
    CHECK(rep.stages[0].inflight_microbatches == 2);  // m = 4 / dp 2 = 2
  }
}

TEST_CASE("reserved and device memory are explicit steps above allocated") {
  const auto m = gpt_model(8, 2048, 16);
  const auto c = preset_cluster("dgx-a100", 1);
  TrainingSpec t = training(2048, 8);
  t.memory.allocator_reserve = 0.10;
  t.memory.cuda_context = Bytes(1.0 * kGiB);
  t.memory.nccl_buffers = Bytes(0.5 * kGiB);
  const auto st = memory_report(scenario(m, c, t, {.tp = 2})).stages.front();
  CHECK(st.reserved_peak.value == Approx(st.allocated_peak.value * 1.10));
  CHECK(st.device_peak.value == Approx(st.reserved_peak.value + 1.5 * kGiB));
}

TEST_CASE("the LM head sits on the last stage, a tied embedding is copied there when p > 1") {
  const auto m = gpt_model(8, 2048, 16, 50304);
  const auto c = preset_cluster("dgx-a100", 1);
  const auto rep = memory_report(scenario(m, c, training(2048, 16), {.tp = 2, .pp = 2}));
  // Each stage: 4 layers; first adds the embedding (+ positions), last the head copy (V h / t) + final norm.
  const double per_layer = (m.layer_params() - m.layer_replicated_params()) / 2 + m.layer_replicated_params();
  const double vh = 50432.0 * 2048 / 2;  // vocab padded to a multiple of 128 x 2
  CHECK(rep.stages[0].params == Approx(4 * per_layer + vh + 2048.0 * 2048));
  CHECK(rep.stages[1].params == Approx(4 * per_layer + vh + m.final_norm_params()));
  CHECK(rep.stages[1].logits.value == Approx(6.0 * 2048 * 1 * 50432 / 2));
}

TEST_CASE("a workspace override replaces the GPU preset's cuBLAS workspace in the allocated peak") {
  // Megatron's CI sets CUBLAS_WORKSPACE_CONFIG=:4096:8: 32 MiB per handle instead of PyTorch's 8.125 MiB
  // default before Hopper.
  const auto m = gpt_model(8, 2048, 16);
  const auto c = preset_cluster("dgx-a100", 1);
  const auto base = memory_report(scenario(m, c, training(2048, 8), {.tp = 2})).stages.front();
  CHECK(base.workspace.value == Approx(c.gpu.workspace.value));
  TrainingSpec t = training(2048, 8);
  t.memory.workspace = Bytes(64.0 * kMiB);
  const auto st = memory_report(scenario(m, c, t, {.tp = 2})).stages.front();
  CHECK(st.workspace.value == Approx(64.0 * kMiB));
  CHECK(st.allocated_peak.value - base.allocated_peak.value == Approx(64.0 * kMiB - c.gpu.workspace.value));
}

TEST_CASE("deferred LM-head weight gradients hold their logits gradient and input on the last stage") {
  // 32 sequences, micro-batch 2, dp 2: 8 micro-batches; a limit of 3 holds 3 of them, 16-bit.
  const auto m = gpt_model(8, 1024, 16, 50304);
  const auto c = preset_cluster("dgx-a100", 1);
  const LayoutSpec L{.tp = 2, .pp = 2, .dp = 2, .micro_batch = 2};
  const auto base = memory_report(scenario(m, c, training(1024, 32), L));
  TrainingSpec t = training(1024, 32);
  t.deferred_head_wgrad = 3;
  const auto rep = memory_report(scenario(m, c, t, L));
  const double s = 1024, b = 2, h = 1024, Vt = 50432.0 / 2;
  CHECK(rep.stages[0].activations.value == Approx(base.stages[0].activations.value));
  CHECK(rep.stages[1].activations.value - base.stages[1].activations.value == Approx(3 * 2.0 * s * b * (Vt + h)));
  // A limit above the micro-batch count holds every micro-batch, no more.
  t.deferred_head_wgrad = 100;
  const auto all = memory_report(scenario(m, c, t, L));
  CHECK(all.stages[1].activations.value - base.stages[1].activations.value == Approx(8 * 2.0 * s * b * (Vt + h)));
  t.deferred_head_wgrad = -1;
  const auto bad = validate_scenario(m, c, t, L);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().path == "training.deferred_head_wgrad");
}
