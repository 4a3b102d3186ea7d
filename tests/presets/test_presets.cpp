// Every bundled preset parses, validates, names its sources, and estimates on every cluster.
#include <catch2/catch.hpp>

#include <numeric>

#include "../support/scenarios.hpp"
#include "presets/units.hpp"
#include "sim/analytical.hpp"

using namespace clustersim;

TEST_CASE("units parse into SI base units") {
  CHECK(*presets::parse_quantity("80 GiB", presets::Dimension::bytes, "x") == 80.0 * kGiB);
  CHECK(*presets::parse_quantity("900 GB/s", presets::Dimension::byte_rate, "x") == 900e9);
  CHECK(*presets::parse_quantity("400 Gbit/s", presets::Dimension::byte_rate, "x") == 50e9);
  CHECK(*presets::parse_quantity("5 us", presets::Dimension::seconds, "x") == Approx(5e-6));
  CHECK(*presets::parse_quantity("989 TFLOP/s", presets::Dimension::flop_rate, "x") == 989e12);
  SECTION("a unit of the wrong dimension") {
    auto q = presets::parse_quantity("80 GiB", presets::Dimension::byte_rate, "cluster.scale_up.bandwidth");
    REQUIRE_FALSE(q.has_value());
    CHECK(q.error().path == "cluster.scale_up.bandwidth");
  }
  SECTION("an unknown unit") {
    CHECK_FALSE(presets::parse_quantity("80 parsecs", presets::Dimension::bytes, "x").has_value());
  }
  SECTION("not a number") {
    CHECK_FALSE(presets::parse_quantity("lots", presets::Dimension::bytes, "x").has_value());
  }
}

TEST_CASE("every GPU and cluster preset parses, validates and cites sources") {
  for (const auto* e : presets::presets_of(presets::PresetKind::gpu)) {
    INFO(e->name);
    CHECK(presets::gpu_from_json(e->json).has_value());
    CHECK(e->json.contains("sources"));
  }
  for (const auto* e : presets::presets_of(presets::PresetKind::cluster)) {
    INFO(e->name);
    CHECK(presets::cluster_from_json(e->json).has_value());
    CHECK(e->json.contains("sources"));
  }
  for (const auto* e : presets::presets_of(presets::PresetKind::model)) {
    INFO(e->name);
    CHECK(e->json.contains("sources"));
  }
}

TEST_CASE("the preset names of INTERFACES.md exist") {
  for (const char* g : {"v100", "a100-40gb", "a100-80gb", "h100-sxm", "h200", "b200", "gb200", "mi300x", "mi325x"})
    CHECK(presets::find_preset(presets::PresetKind::gpu, g, "gpu").has_value());
  for (const char* c : {"dgx-a100", "dgx-h100", "dgx-h200", "hgx-b200", "gb200-nvl72", "mi300x-node"})
    CHECK(presets::find_preset(presets::PresetKind::cluster, c, "cluster").has_value());
  for (const char* m : {"gpt3-175b", "mt-nlg-530b", "bloom-176b", "llama2-7b", "llama2-13b", "llama2-70b", "llama3-8b",
                        "llama3-70b", "llama3.1-405b", "mistral-7b", "nemotron4-15b", "nemotron4-340b", "chinchilla-70b",
                        "megatron-1.7b", "megatron-1t"})
    CHECK(presets::find_preset(presets::PresetKind::model, m, "model").has_value());
}

TEST_CASE("estimate answers for every preset model on every preset cluster") {
  // A valid layout for each pair: the largest tp within the node that divides heads, kv_heads and ffn,
  // one pipeline stage per 8 layers' worth if the model is deep, dp over the rest; 16-bit precision the GPU
  // has (fp32 on a CPU host).
  for (const auto* me : presets::presets_of(presets::PresetKind::model)) {
    const auto m = clustersim::testing::preset_model(me->name);
    const auto& ms = m.spec();
    for (const auto* ce : presets::presets_of(presets::PresetKind::cluster)) {
      INFO(me->name << " on " << ce->name);
      auto cluster = clustersim::testing::preset_cluster(ce->name, 4);
      int tp = 1;
      for (int t = 1; t <= std::min(8, cluster.gpus_per_node); t *= 2)
        if (ms.heads % t == 0 && ms.kv_heads % t == 0 && ms.ffn_hidden % t == 0) tp = t;
      int pp = 1;
      for (int p : {4, 2})
        if (ms.layers % p == 0 && (cluster.total_gpus() / tp) % p == 0) { pp = p; break; }
      strategies::TrainingSpec t;
      t.seq_length = 2048;
      t.precision = cluster.gpu.peak_for(hardware::Precision::bf16)   ? hardware::Precision::bf16
                    : cluster.gpu.peak_for(hardware::Precision::fp16) ? hardware::Precision::fp16
                                                                      : hardware::Precision::fp32;  // a CPU host
      const int dp = cluster.total_gpus() / (tp * pp);
      t.global_batch = static_cast<std::int64_t>(dp) * 8;
      auto sc = strategies::validate_scenario(m, cluster, t, {.tp = tp, .pp = pp, .recompute = strategies::Recompute::full});
      REQUIRE(sc.has_value());
      const auto r = sim::estimate(*sc);
      CHECK(std::isfinite(r.iteration_time_s));
      CHECK(r.iteration_time_s > 0);
      CHECK(r.mfu > 0);
      CHECK(r.mfu < 1);
      CHECK(r.memory.peak_device.value > 0);
    }
  }
}
