// Every layout validation rule: one SECTION per bad field, checking the field path and the reason.
#include <catch2/catch.hpp>

#include "../support/scenarios.hpp"

using namespace clustersim;
using namespace clustersim::strategies;
using clustersim::testing::preset_cluster;
using clustersim::testing::preset_model;

TEST_CASE("layout validation names the field and the reason") {
  const auto llama = preset_model("llama3-70b");  // 80 layers, 64 heads, 8 kv heads
  const auto cluster = preset_cluster("dgx-h100", 4);  // 32 GPUs
  TrainingSpec t;
  t.seq_length = 8192;
  t.global_batch = 64;
  LayoutSpec L{.tp = 8, .pp = 2};
  auto error_of = [&](const model::Model& m, const TrainingSpec& tr, const LayoutSpec& l) {
    auto sc = validate_scenario(m, cluster, tr, l);
    REQUIRE_FALSE(sc.has_value());
    return sc.error();
  };

  SECTION("a valid layout passes and derives dp") {
    auto sc = validate_scenario(llama, cluster, t, L);
    REQUIRE(sc.has_value());
    CHECK(sc->layout.dp == 2);
    CHECK(sc->micro_batches == 32);
  }
  SECTION("degrees whose product is not the GPU count") {
    L.dp = 4;
    const auto e = error_of(llama, t, L);
    CHECK(e.path == "layout");
    CHECK_THAT(e.message, Catch::Contains("= 64 but the cluster has 32 GPUs"));
  }
  SECTION("tp x pp does not divide the GPU count") {
    L.pp = 3;
    const auto e = error_of(llama, t, L);
    CHECK(e.path == "layout");
    CHECK_THAT(e.message, Catch::Contains("does not divide the 32 GPUs"));
  }
  SECTION("heads not divisible by tp") {
    auto c = preset_cluster("dgx-h100", 3);  // 24 GPUs, tp 3
    auto sc = validate_scenario(llama, c, t, {.tp = 3});
    REQUIRE_FALSE(sc.has_value());
    CHECK(sc.error().path == "layout.tp");
    CHECK(sc.error().message == "3 does not divide 64 attention heads");
  }
  SECTION("kv_heads not divisible by tp") {
    L.tp = 16;
    L.pp = 1;
    const auto e = error_of(llama, t, L);
    CHECK(e.path == "layout.tp");
    CHECK_THAT(e.message, Catch::Contains("8 kv_heads"));
  }
  SECTION("layers not divisible by pp x virtual stages, with a suggested split") {
    auto l405 = preset_model("llama3.1-405b");  // 126 layers
    auto c = preset_cluster("dgx-h100", 16);      // 128 GPUs
    auto sc = validate_scenario(l405, c, t, {.tp = 8, .pp = 16});
    REQUIRE_FALSE(sc.has_value());
    CHECK(sc.error().path == "layout.pp");
    // Llama 3 405B's own split: one layer fewer on the first and last stage (7 + 14 x 8 + 7).
    CHECK_THAT(sc.error().message, Catch::Contains("[7,8,8,8,8,8,8,8,8,8,8,8,8,8,8,7]"));
  }
  SECTION("the NeMo embedding/loss-as-layer split makes 126 + 2 = 128 = 8 x 16 valid") {
    auto l405 = preset_model("llama3.1-405b");
    auto c = preset_cluster("dgx-h100", 8);  // 64 GPUs: tp 8, pp 8, v 2 -> 16 chunks of 8 units
    TrainingSpec t2 = t;
    t2.global_batch = 16;
    auto sc = validate_scenario(l405, c, t2,
                                {.tp = 8, .pp = 8, .virtual_stages = 2, .schedule = Schedule::interleaved_1f1b,
                                 .embedding_as_layer = true, .loss_as_layer = true});
    REQUIRE(sc.has_value());
    CHECK(sc->stages.front().chunk_layers.front() == 7);
    CHECK(sc->stages.back().chunk_layers.back() == 7);
  }
  SECTION("a split that does not sum to the layer count") {
    L.stage_layers = {40, 39};
    const auto e = error_of(llama, t, L);
    CHECK(e.path == "layout.stage_layers");
    CHECK(e.message == "sums to 79 but the model has 80 layers");
  }
  SECTION("a split with the wrong number of stages") {
    L.stage_layers = {20, 20, 40};
    const auto e = error_of(llama, t, L);
    CHECK(e.path == "layout.stage_layers");
  }
  SECTION("global batch not divisible by dp x micro_batch") {
    t.global_batch = 63;
    const auto e = error_of(llama, t, L);
    CHECK(e.path == "training.global_batch");
    CHECK(e.message == "63 is not divisible by dp x micro_batch = 2 x 1 = 2");
  }
  SECTION("sequence parallelism without tensor parallelism") {
    const auto e = error_of(llama, t, {.tp = 1, .pp = 2, .sequence_parallel = true});
    CHECK(e.path == "layout.sequence_parallel");
  }
  SECTION("zero or negative sizes") {
    L.micro_batch = 0;
    CHECK(error_of(llama, t, L).path == "layout.micro_batch");
    L.micro_batch = 1;
    L.tp = -2;
    CHECK(error_of(llama, t, L).path == "layout.tp");
    L.tp = 8;
    t.seq_length = 0;
    CHECK(error_of(llama, t, L).path == "training.seq_length");
  }
  SECTION("ZeRO stage out of range") {
    L.zero = 4;
    CHECK(error_of(llama, t, L).path == "layout.zero");
  }
  SECTION("virtual stages without the interleaved schedule") {
    L.virtual_stages = 2;
    const auto e = error_of(llama, t, L);
    CHECK(e.path == "layout.virtual_stages");
  }
  SECTION("interleaving with fewer micro-batches than stages") {
    t.global_batch = 2;  // dp 2 x micro-batch 1: one micro-batch per pipeline, pp 2
    const auto e = error_of(llama, t, {.tp = 8, .pp = 2, .virtual_stages = 2, .schedule = Schedule::interleaved_1f1b});
    CHECK(e.path == "training.global_batch");
    CHECK_THAT(e.message, Catch::Contains("at least pp = 2 micro-batches"));
  }
  SECTION("a precision the GPU lacks") {
    t.precision = Precision::fp8;
    auto a100 = preset_cluster("dgx-a100", 4);
    auto sc = validate_scenario(llama, a100, t, L);
    REQUIRE_FALSE(sc.has_value());
    CHECK(sc.error().path == "training.precision");
    CHECK_THAT(sc.error().message, Catch::Contains("not supported by a100-80gb"));
  }
}

TEST_CASE("unknown preset names suggest the closest") {
  auto m = presets::model_from_json(nlohmann::json("llama3-70c"));
  REQUIRE_FALSE(m.has_value());
  CHECK(m.error().path == "model");
  CHECK_THAT(m.error().message, Catch::Contains("did you mean 'llama3-70b'"));
  auto c = presets::cluster_from_json(nlohmann::json("dgx-h10"));
  REQUIRE_FALSE(c.has_value());
  CHECK_THAT(c.error().message, Catch::Contains("did you mean 'dgx-h100'"));
}

TEST_CASE("training JSON: library workspace, deferred LM-head wgrad, FP8 scaling") {
  const auto ok = presets::training_from_json(
      nlohmann::json::parse(R"({"seq_length": 1024, "global_batch": 32, "deferred_head_wgrad": 2,
                                "memory": {"workspace": "72 MiB"}})"));
  REQUIRE(ok.has_value());
  CHECK(ok->deferred_head_wgrad == 2);
  REQUIRE(ok->memory.workspace.has_value());
  CHECK(ok->memory.workspace->value == Approx(72.0 * kMiB));
  const auto bad = presets::training_from_json(
      nlohmann::json::parse(R"({"seq_length": 1024, "global_batch": 32, "memory": {"workspace": "lots"}})"));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().path == "training.memory.workspace");
  const auto wrong_type = presets::training_from_json(
      nlohmann::json::parse(R"({"seq_length": 1024, "global_batch": 32, "deferred_head_wgrad": "two"})"));
  REQUIRE_FALSE(wrong_type.has_value());
  CHECK(wrong_type.error().path == "training.deferred_head_wgrad");
  const auto dynamic = presets::training_from_json(
      nlohmann::json::parse(R"({"seq_length": 1024, "global_batch": 32, "precision": "fp8", "fp8_scaling": "dynamic"})"));
  REQUIRE(dynamic.has_value());
  CHECK(dynamic->fp8_scaling == Fp8Scaling::dynamic);
  const auto unknown = presets::training_from_json(
      nlohmann::json::parse(R"({"seq_length": 1024, "global_batch": 32, "fp8_scaling": "rowwise"})"));
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().path == "training.fp8_scaling");
  CHECK_THAT(unknown.error().message, Catch::Contains("delayed, dynamic"));
}
