// `clustersim validate`: the record-to-scenario mapping, every skip reason, bad input, and the accuracy
// over the shared published runs held to named limits.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>

#include "../support/run.hpp"
#include "presets/validation_runs.hpp"
#include "sim/validation_stats.hpp"

using clustersim::testing::run_clustersim;
using clustersim::testing::write_temp;
using nlohmann::json;
using namespace clustersim;

namespace {

// The issue's accuracy targets (issue 3), over the records they count (docs/validation.md); the model
// meets them, and the test fails the day a change breaks one.
constexpr double kTargetTimeMedianPct = 8.0, kTargetTimeP90Pct = 20.0;
constexpr double kTargetMemoryMedianPct = 3.0, kTargetMemoryP90Pct = 10.0;
constexpr int kMinPredictedRecords = 300;

// A Megatron-style record with everything known.
json base_record() {
  return json::parse(R"({
    "id": "test-1", "group": "test group", "verification": "read_from_source",
    "model_name": "GPT test", "num_layers": 24, "hidden_size": 2048, "num_attention_heads": 16,
    "num_kv_heads": 16, "ffn_hidden_size": 8192, "mlp_type": "gelu", "vocab_size": 51200, "seq_length": 2048,
    "gpu_type": "A100-SXM4-80GB", "num_gpus": 16, "gpus_per_node": 8,
    "interconnect": "8x200 Gb/s HDR InfiniBand per node", "framework": "Megatron-Core r0.8.0", "precision": "bf16",
    "tp": 2, "pp": 2, "dp": 4, "cp": 1, "sequence_parallel": true, "virtual_pp": null, "zero_stage": null,
    "distributed_optimizer": true, "recompute": "selective", "micro_batch_size": 1, "global_batch_size": 64,
    "iteration_time_s": 1.0, "peak_memory_gib": null, "memory_kind": null })");
}

// The assumptions a mapping made, joined for matching.
std::string joined(const std::vector<std::string>& assumed) {
  std::string all;
  for (const auto& a : assumed) all += a + "; ";
  return all;
}

}  // namespace

TEST_CASE("a complete record maps to the scenario it describes") {
  std::vector<std::string> assumed;
  auto sc = presets::record_scenario(base_record(), &assumed);
  REQUIRE(sc.has_value());
  const auto& s = *sc;
  CHECK(s["model"]["layers"] == 24);
  CHECK(s["cluster"]["base"] == "dgx-a100");
  CHECK(s["cluster"]["nodes"] == 2);
  // 8 x 200 Gb/s per 8-GPU node = 25 GB/s per GPU.
  CHECK(s["cluster"]["scale_out"]["bandwidth"].get<double>() == Approx(25e9));
  CHECK(s["layout"]["tp"] == 2);
  CHECK(s["layout"]["dp"] == 4);
  CHECK(s["layout"]["zero"] == 1);
  CHECK(s["layout"]["recompute"] == "selective");
  CHECK(s["training"]["global_batch"] == 64);
  const auto res = presets::validate_record(base_record());
  REQUIRE_FALSE(res.skipped.has_value());
  REQUIRE(res.rows.size() == 1);
  CHECK(res.rows[0].metric == "iteration_time_s");
  CHECK(res.rows[0].error_pct == Approx(100.0 * (res.rows[0].predicted - 1.0)));
}

TEST_CASE("framework defaults fill null fields and are named") {
  auto r = base_record();
  r["micro_batch_size"] = nullptr;
  r["recompute"] = nullptr;
  std::vector<std::string> assumed;
  auto sc = presets::record_scenario(r, &assumed);
  REQUIRE(sc.has_value());
  CHECK((*sc)["layout"]["micro_batch"] == 1);
  CHECK_THAT(joined(assumed), Catch::Contains("micro_batch: 1") && Catch::Contains("recompute: selective"));
}

TEST_CASE("era and CI settings the records imply are mapped and named") {
  SECTION("Megatron-LM 2020 all-reduced 16-bit gradients") {
    auto r = base_record();
    r["framework"] = "Megatron-LM (2020)";
    r["precision"] = "fp16";
    std::vector<std::string> assumed;
    auto sc = presets::record_scenario(r, &assumed);
    REQUIRE(sc.has_value());
    CHECK((*sc)["training"]["grad_precision"] == "fp16");
    CHECK_THAT(joined(assumed), Catch::Contains("--fp32-allreduce off"));
  }
  SECTION("torchtitan 2024 pipelines: as many micro-batches as stages, two stages per rank when interleaved") {
    auto r = base_record();
    r["group"] = "torchtitan Llama 3.1 benchmarks (Dec 2024, H100)";
    r["framework"] = "torchtitan (FSDP2) 3D";
    r["num_gpus"] = 32;
    r["tp"] = 2;
    r["pp"] = 4;
    r["dp"] = 4;
    r["micro_batch_size"] = nullptr;
    r["global_batch_size"] = 64;  // 16 per DP rank, split into 4 micro-batches of 4
    r["notes"] = "PP schedule: Interleaved 1F1B";
    std::vector<std::string> assumed;
    auto sc = presets::record_scenario(r, &assumed);
    REQUIRE(sc.has_value());
    CHECK((*sc)["layout"]["micro_batch"] == 4);
    CHECK((*sc)["layout"]["virtual_stages"] == 2);
    CHECK((*sc)["layout"]["schedule"] == "interleaved-1f1b");
  }
  SECTION("Megatron CI: deterministic cuBLAS workspaces, TE's own, deferred head wgrad") {
    auto r = base_record();
    r["group"] = "Megatron-LM CI functional-test golden values (dgx_a100)";
    r["model_name"] = "gpt3_mcore_te_tp2_pp2_defer_embedding_wgrad_compute";
    std::vector<std::string> assumed;
    auto sc = presets::record_scenario(r, &assumed);
    REQUIRE(sc.has_value());
    CHECK((*sc)["training"]["memory"]["workspace"] == "68 MiB");  // 2 x 32 + TE's 4 (A100)
    CHECK((*sc)["training"]["deferred_head_wgrad"] == 2);
    r["gpu_type"] = "H100-SXM5-80GB";
    r["model_name"] = "gpt3_mcore_tp2_pp2";  // the local (non-TE) spec
    sc = presets::record_scenario(r, &assumed);
    REQUIRE(sc.has_value());
    CHECK((*sc)["training"]["memory"]["workspace"] == "64 MiB");
    CHECK_FALSE((*sc)["training"].contains("deferred_head_wgrad"));
    CHECK_FALSE((*sc)["training"].contains("loss_bytes_per_logit"));
    r["model_name"] = "gpt3_mcore_te_tp2_pp2_cross_entropy_loss_fusion";
    sc = presets::record_scenario(r, &assumed);
    REQUIRE(sc.has_value());
    CHECK((*sc)["training"]["loss_bytes_per_logit"] == 10.0);
    // Virtual pipeline stages from the test's name when the record leaves virtual_pp null.
    r["model_name"] = "gpt3_mcore_te_tp1_pp4_vp2_account_for_embedding_loss_in_pipeline_split";
    r["tp"] = 1;
    r["pp"] = 4;
    r["dp"] = 4;
    r["num_layers"] = 6;
    sc = presets::record_scenario(r, &assumed);
    REQUIRE(sc.has_value());
    CHECK((*sc)["layout"]["virtual_stages"] == 2);
    CHECK((*sc)["layout"]["schedule"] == "interleaved-1f1b");
    CHECK((*sc)["layout"]["embedding_as_layer"] == true);
  }
}

TEST_CASE("throughput is compared like with like") {
  SECTION("tokens/s per GPU") {
    auto r = base_record();
    r["iteration_time_s"] = nullptr;
    r["tokens_per_s_per_gpu"] = 1000.0;
    const auto res = presets::validate_record(r);
    REQUIRE(res.rows.size() == 1);
    CHECK(res.rows[0].metric == "tokens_per_s_per_gpu");
  }
  SECTION("TFLOP/s by Narayanan's hardware formula compares the same FLOPs over the predicted time") {
    auto r = base_record();
    r["iteration_time_s"] = nullptr;
    r["tflops_per_gpu"] = 100.0;
    r["tflops_kind"] = "paper formula (includes recompute)";
    const auto res = presets::validate_record(r);
    REQUIRE(res.rows.size() == 1);
    CHECK(res.rows[0].metric == "tflops_per_gpu");
    // 96 B s l h^2 (1 + s/(6h) + V/(16 l h)) / (time x GPUs): the record's own formula, not the model's.
    auto t = base_record();
    const auto time = presets::validate_record(t).rows[0].predicted;
    const double B = 64, s = 2048, l = 24, h = 2048, V = 51200;
    const double flops = 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
    CHECK(res.rows[0].predicted == Approx(flops / time / 16 / 1e12));
  }
}

TEST_CASE("every skip reason is given") {
  auto skip_reason = [](const json& r) {
    const auto res = presets::validate_record(r);
    REQUIRE(res.skipped.has_value());
    return res.skipped->reason;
  };
  SECTION("missing model shape") {
    auto r = base_record();
    r["hidden_size"] = nullptr;
    CHECK_THAT(skip_reason(r), Catch::Contains("model shape missing"));
  }
  SECTION("context parallelism") {
    auto r = base_record();
    r["cp"] = 2;
    CHECK_THAT(skip_reason(r), Catch::Contains("context parallelism"));
  }
  SECTION("expert parallelism") {
    auto r = base_record();
    r["ep"] = 4;
    CHECK_THAT(skip_reason(r), Catch::Contains("expert parallelism"));
  }
  SECTION("TPU") {
    auto r = base_record();
    r["gpu_type"] = "TPU v4";
    CHECK_THAT(skip_reason(r), Catch::Contains("TPU"));
  }
  SECTION("unknown GPU") {
    auto r = base_record();
    r["gpu_type"] = "Mystery-9000";
    CHECK_THAT(skip_reason(r), Catch::Contains("no preset"));
  }
  SECTION("layout unknown for a non-FSDP framework") {
    auto r = base_record();
    r["tp"] = nullptr;
    CHECK_THAT(skip_reason(r), Catch::Contains("tp missing"));
  }
  SECTION("pipeline without a global batch") {
    auto r = base_record();
    r["global_batch_size"] = nullptr;
    CHECK_THAT(skip_reason(r), Catch::Contains("global_batch_size missing"));
  }
  SECTION("parallel attention + MLP blocks") {
    auto r = base_record();
    r["mlp_type"] = "gelu (parallel attn+MLP residual)";
    CHECK_THAT(skip_reason(r), Catch::Contains("parallel attention"));
  }
  SECTION("FP8 with row-wise scaling") {
    auto r = base_record();
    r["precision"] = "fp8 rowwise";
    CHECK_THAT(skip_reason(r), Catch::Contains("row-wise scaling"));
  }
  SECTION("nothing measured") {
    auto r = base_record();
    r["iteration_time_s"] = nullptr;
    CHECK_THAT(skip_reason(r), Catch::Contains("no measured"));
  }
  SECTION("a wrong type names the record and the field") {
    auto r = base_record();
    r["num_layers"] = "twenty-four";
    const auto reason = skip_reason(r);
    CHECK_THAT(reason, Catch::Contains("record test-1") && Catch::Contains("num_layers"));
  }
}

TEST_CASE("error statistics: median, p90 by linear interpolation, signed mean") {
  // APEs 1..10: median 5.5, p90 at rank 0.9 x 9 = 8.1 -> 9.1; signed mean of (+1, -2, ..., -10) = -4.5.
  std::vector<double> e;
  for (int i = 1; i <= 10; ++i) e.push_back(i % 2 ? i : -i);
  const auto s = sim::error_stats(e);
  CHECK(s.n == 10);
  CHECK(s.median_ape_pct == Approx(5.5));
  CHECK(s.p90_ape_pct == Approx(9.1));
  CHECK(s.mean_signed_pct == Approx(-0.5));
}

TEST_CASE("validate: bad files and bad records") {
  SECTION("missing file: I/O error") {
    CHECK(run_clustersim("validate /nonexistent/runs.json").rc == 3);
  }
  SECTION("not JSON") {
    const auto f = write_temp("runs-bad.json", "[{");
    const auto r = run_clustersim("validate " + f);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("not valid JSON"));
  }
  SECTION("one bad record is skipped with its reason, the others still validated") {
    auto good = base_record();
    auto bad = base_record();
    bad["id"] = "bad-1";
    bad["tp"] = "two";
    const auto f = write_temp("runs-mixed.json", json::array({good, bad}).dump());
    const auto r = run_clustersim("validate --json " + f);
    REQUIRE(r.rc == 0);
    const auto j = json::parse(r.out);
    CHECK(j["records"].size() == 1);
    REQUIRE(j["skipped"].size() == 1);
    CHECK(j["skipped"][0]["id"] == "bad-1");
    CHECK_THAT(j["skipped"][0]["reason"].get<std::string>(), Catch::Contains("'tp'"));
  }
}

TEST_CASE("accuracy over the shared published runs") {
  const auto r = run_clustersim("validate --json " + std::string(CLUSTERSIM_SHARED_DIR) + "/validation/published-runs.json");
  REQUIRE(r.rc == 0);
  const auto j = json::parse(r.out);
  std::set<std::string> predicted;
  for (const auto& rec : j["records"]) predicted.insert(rec["id"].get<std::string>());
  CHECK(static_cast<int>(predicted.size()) >= kMinPredictedRecords);
  for (const auto& s : j["skipped"]) CHECK_FALSE(s["reason"].get<std::string>().empty());
  const auto& t = j["summary"]["time"];
  const auto& m = j["summary"]["memory"];
  INFO("time median " << t["median_ape_pct"] << " % (target " << kTargetTimeMedianPct << "), p90 " << t["p90_ape_pct"]
                      << " % (target " << kTargetTimeP90Pct << ")");
  INFO("memory median " << m["median_ape_pct"] << " % (target " << kTargetMemoryMedianPct << "), p90 " << m["p90_ape_pct"]
                        << " % (target " << kTargetMemoryP90Pct << ")");
  CHECK(t["median_ape_pct"].get<double>() <= kTargetTimeMedianPct);
  CHECK(t["p90_ape_pct"].get<double>() <= kTargetTimeP90Pct);
  CHECK(m["median_ape_pct"].get<double>() <= kTargetMemoryMedianPct);
  CHECK(m["p90_ape_pct"].get<double>() <= kTargetMemoryP90Pct);
  CHECK(t["n"].get<int>() >= 150);
  CHECK(m["n"].get<int>() >= 100);
}
