// Calibration: interpolation of measured tables against closed forms, fitting a profile (with its bad
// entries), the calibrated preset read back and used by the compute model.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "hardware/calibration.hpp"
#include "hardware/compute_model.hpp"
#include "hardware/topology.hpp"
#include "presets/calibration_json.hpp"
#include "presets/scenario_json.hpp"
#include "presets/validation_runs.hpp"
#include "strategies/costs.hpp"
#include "../support/run.hpp"

using namespace clustersim;
using hardware::Calibration;
using hardware::GemmTable;
using hardware::Precision;
using hardware::SizeCurve;
using nlohmann::json;

namespace {

const std::vector<double> kAxis{64, 128, 256, 512};

// A GEMM table of a kernel with a fixed launch time plus a constant throughput.
GemmTable table(double rate, double launch) {
  GemmTable t;
  t.precision = Precision::fp32;
  t.m = t.n = t.k = kAxis;
  for (double m : kAxis)
    for (double n : kAxis)
      for (double k : kAxis) t.seconds.push_back(launch + 2.0 * m * n * k / rate);
  return t;
}

json gemm_entry(const char* dtype, double m, double n, double k, double seconds) {
  return {{"dtype", dtype}, {"m", m}, {"n", n}, {"k", k}, {"batch", 1}, {"flops", 2 * m * n * k}, {"median_s", seconds},
          {"min_s", seconds}, {"max_s", seconds}, {"repeats", 3}};
}

// A CPU profile whose GEMMs run at 100 GFLOP/s, memory-bound kernels at 10 GB/s with a 5 us floor.
json cpu_profile() {
  json p = {{"schema", "clustersim.calibration-profile/1"},
            {"created", "2026-11-29T12:00:00Z"},
            {"device", {{"kind", "cpu"}, {"name", "Test CPU"}, {"threads", 2}, {"torch", "1.13"}}},
            {"gemm", json::array()},
            {"memory_bound", json::array()},
            {"attention", json::array()},
            {"collectives", json::array()}};
  for (double m : {64.0, 256.0})
    for (double n : {64.0, 256.0})
      for (double k : {64.0, 256.0}) p["gemm"].push_back(gemm_entry("fp32", m, n, k, 2 * m * n * k / 100e9));
  for (double e : {1024.0, 65536.0, 4194304.0}) {
    for (const char* kernel : {"copy", "gelu"})
      p["memory_bound"].push_back({{"kernel", kernel}, {"dtype", "fp32"}, {"elements", e}, {"bytes", 8 * e}, {"median_s", 5e-6 + 8 * e / 10e9}});
    p["memory_bound"].push_back({{"kernel", "adam"}, {"dtype", "fp32"}, {"elements", e}, {"bytes", 28 * e}, {"median_s", 1e-5 + 28 * e / 5e9}});
  }
  p["attention"].push_back({{"impl", "materialized"}, {"dtype", "fp32"}, {"batch", 2}, {"heads", 8}, {"seq", 256}, {"head_dim", 64},
                            {"causal", true}, {"pass", "forward"}, {"flops", 1e9}, {"median_s", 0.01}});
  p["collectives"].push_back({{"op", "all-reduce"}, {"backend", "gloo"}, {"ranks", 2}, {"bytes", 4096}, {"median_s", 1e-4},
                              {"algbw", 4096 / 1e-4}, {"busbw", 4096 / 1e-4}});
  p["collectives"].push_back({{"op", "all-reduce"}, {"backend", "gloo"}, {"ranks", 2}, {"bytes", 1 << 20}, {"median_s", 1e-3},
                              {"algbw", (1 << 20) / 1e-3}, {"busbw", (1 << 20) / 1e-3}});
  return p;
}

json preset(const std::string& name) { return *presets::resolve(presets::PresetKind::gpu, json(name), "gpu"); }

}  // namespace

TEST_CASE("GEMM table interpolation is exact for a constant-throughput kernel and conservative outside") {
  Calibration c;
  c.gemm.push_back(table(1e11, 0.0));
  auto t = [&](double m, double n, double k) { return c.gemm_time(Precision::fp32, m, n, k, 1)->value; };
  // Inside: time proportional to M N K is linear in log space, so log-trilinear interpolation is exact.
  CHECK(t(300, 100, 200) == Approx(2.0 * 300 * 100 * 200 / 1e11).epsilon(1e-9));
  CHECK(t(64, 512, 128) == Approx(2.0 * 64 * 512 * 128 / 1e11).epsilon(1e-9));
  // Above the grid: the edge's throughput (no extrapolated gains).
  CHECK(t(4096, 512, 512) == Approx(2.0 * 4096 * 512 * 512 / 1e11).epsilon(1e-9));
  // Batched GEMMs fold the batch into M.
  CHECK(c.gemm_time(Precision::fp32, 128, 128, 64, 8)->value == Approx(t(1024, 128, 64)).epsilon(1e-12));
  // Below the grid: never faster than the smallest measured shape.
  CHECK(t(16, 64, 64) == Approx(t(64, 64, 64)).epsilon(1e-12));
  // Another precision was not measured.
  CHECK_FALSE(c.gemm_time(Precision::bf16, 128, 128, 128, 1).has_value());
}

TEST_CASE("GEMM interpolation with a launch floor stays between the measured neighbours") {
  Calibration c;
  c.gemm.push_back(table(1e11, 20e-6));
  const double lo = c.gemm_time(Precision::fp32, 128, 128, 128, 1)->value;
  const double hi = c.gemm_time(Precision::fp32, 256, 128, 128, 1)->value;
  for (double m : {140.0, 180.0, 230.0}) {
    const double v = c.gemm_time(Precision::fp32, m, 128, 128, 1)->value;
    CHECK(v > lo);
    CHECK(v < hi);
  }
}

TEST_CASE("time curves: launch floor below, the largest size's bandwidth above, power laws exact") {
  SizeCurve c{{1e3, 1e6, 1e9}, {1e-6, 1e-4, 1e-1}};  // t ~ bytes^(2/3) then ~ bytes
  CHECK(hardware::interpolate_time(c, 10) == Approx(1e-6));
  CHECK(hardware::interpolate_time(c, 2e9) == Approx(0.2));
  CHECK(hardware::interpolate_time(c, 1e3 * std::pow(1e3, 0.5)) == Approx(1e-6 * std::pow(1e2, 0.5)).epsilon(1e-9));
  CHECK(hardware::interpolate_time(c, 1e7) == Approx(1e-3).epsilon(1e-9));
}

TEST_CASE("a CPU profile fits into a calibrated preset that reads back and drives the kernel times") {
  auto fit = presets::fit_profile(cpu_profile(), preset("host-cpu"), "test-cpu");
  REQUIRE(fit.has_value());
  CHECK(fit->warnings.empty());
  const auto& cal = fit->calibration;
  REQUIRE(cal.gemm.size() == 1);
  CHECK(cal.gemm[0].m == std::vector<double>{64, 256});
  CHECK(cal.memory_bound.size.size() == 3);
  CHECK(cal.optimizer.size.size() == 3);
  CHECK(cal.attention_forward.empty());  // no fused attention measured
  CHECK(cal.materialized_forward.size == std::vector<double>{256});  // the materialised run, per head
  CHECK(cal.materialized_forward.value[0] == Approx(0.01 / 16));
  REQUIRE(fit->preset["calibration"]["collectives"].size() == 1);
  CHECK(fit->preset["calibration"]["collectives"][0]["points"].size() == 2);
  CHECK(fit->preset["name"] == "test-cpu");
  CHECK(fit->preset["sources"].contains("calibration"));

  auto gpu = presets::gpu_from_json(fit->preset);
  REQUIRE(gpu.has_value());
  REQUIRE(gpu->calibration);
  hardware::ComputePrecision pr;
  pr.gemm = Precision::fp32;
  hardware::Kernel g{.kind = hardware::KernelKind::gemm, .flops = 2.0 * 128 * 128 * 128, .m = 128, .n = 128, .k = 128};
  // 100 GFLOP/s measured, gemm_sustained 1.0 in the host-cpu preset; no separate launch overhead added.
  CHECK(hardware::kernel_time(g, *gpu, pr).value == Approx(2.0 * 128 * 128 * 128 / 100e9).epsilon(1e-9));
  hardware::Kernel mem{.kind = hardware::KernelKind::memory_bound, .bytes = 8.0 * 65536};
  CHECK(hardware::kernel_time(mem, *gpu, pr).value == Approx(5e-6 + 8.0 * 65536 / 10e9).epsilon(1e-9));
  // Without calibration the roofline of the preset answers (a different number).
  hardware::GpuSpec plain = *gpu;
  plain.calibration.reset();
  CHECK(hardware::kernel_time(mem, plain, pr).value != Approx(hardware::kernel_time(mem, *gpu, pr).value));
}

TEST_CASE("bad profile entries are warnings naming the entry, and the rest is used") {
  json p = cpu_profile();
  p["gemm"].push_back(gemm_entry("fp32", 512, 64, 64, -1.0));             // non-positive time
  p["gemm"].push_back(gemm_entry("bf16", 64, 64, 64, 1e-5));              // the preset has no bf16 peak
  p["gemm"].push_back(gemm_entry("int4", 64, 64, 64, 1e-5));              // unknown dtype
  p["gemm"].push_back(gemm_entry("fp32", 64, 64, 128, 1e-12));            // far faster than the peak
  json missing = gemm_entry("fp32", 128, 64, 64, 1e-5);
  missing.erase("median_s");
  p["gemm"].push_back(missing);
  p["memory_bound"].push_back({{"kernel", "copy"}, {"elements", 10}, {"bytes", "many"}, {"median_s", 1e-6}});
  auto fit = presets::fit_profile(p, preset("host-cpu"), "test-cpu");
  REQUIRE(fit.has_value());
  const auto& w = fit->warnings;
  auto warned = [&](const std::string& what) {
    return std::any_of(w.begin(), w.end(), [&](const std::string& s) { return s.find(what) != std::string::npos; });
  };
  CHECK(warned("gemm[8]: median_s must be positive"));
  CHECK(warned("gemm[9]: dtype bf16: the preset host-cpu has no peak for it"));
  CHECK(warned("gemm[10]: dtype 'int4'"));
  CHECK(warned("gemm[11]:"));
  CHECK(warned("gemm[12]: median_s is missing"));
  CHECK(warned("memory_bound[9]: bytes is a string"));
  // The good entries still make the same grid.
  REQUIRE(fit->calibration.gemm.size() == 1);
  CHECK(fit->calibration.gemm[0].m == std::vector<double>{64, 256});
}

TEST_CASE("a profile of another device than the preset is an error naming the field") {
  json gpu_profile = cpu_profile();
  gpu_profile["device"] = {{"kind", "cuda"}, {"name", "NVIDIA A100-SXM4-80GB"}};
  auto on_cpu = presets::fit_profile(gpu_profile, preset("host-cpu"), "x");
  REQUIRE_FALSE(on_cpu.has_value());
  CHECK(on_cpu.error().path == "device.kind");
  auto wrong_gpu = presets::fit_profile(gpu_profile, preset("h100-sxm"), "x");
  REQUIRE_FALSE(wrong_gpu.has_value());
  CHECK(wrong_gpu.error().path == "device.name");
  CHECK(wrong_gpu.error().message.find("A100") != std::string::npos);
  auto cpu_on_gpu = presets::fit_profile(cpu_profile(), preset("a100-80gb"), "x");
  REQUIRE_FALSE(cpu_on_gpu.has_value());
  CHECK(cpu_on_gpu.error().path == "device.kind");
  // A GPU profile on its preset passes the device check (its GEMMs are far below an A100's peak).
  gpu_profile["gemm"] = json::array({gemm_entry("bf16", 4096, 4096, 4096, 1e-3)});
  CHECK(presets::fit_profile(gpu_profile, preset("a100-80gb"), "x").has_value());
  json empty = cpu_profile();
  empty["gemm"] = json::array();
  empty["memory_bound"] = json::array();
  auto nothing = presets::fit_profile(empty, preset("host-cpu"), "x");
  REQUIRE_FALSE(nothing.has_value());
  CHECK(nothing.error().path == "profile");
}

TEST_CASE("a calibration block with a broken table is an error naming the field") {
  auto fit = presets::fit_profile(cpu_profile(), preset("host-cpu"), "test-cpu");
  REQUIRE(fit.has_value());
  json bad = fit->preset;
  bad["calibration"]["gemm"][0]["seconds"].erase(0);
  auto g = presets::gpu_from_json(bad);
  REQUIRE_FALSE(g.has_value());
  CHECK(g.error().path == "cluster.gpu.calibration.gemm[0].seconds");
  bad = fit->preset;
  bad["calibration"]["gemm"][0]["m"] = json::array({256, 64});
  g = presets::gpu_from_json(bad);
  REQUIRE_FALSE(g.has_value());
  CHECK(g.error().path == "cluster.gpu.calibration.gemm[0].m[1]");
  bad = fit->preset;
  bad["calibration"]["memory_bond"] = bad["calibration"]["memory_bound"];
  g = presets::gpu_from_json(bad);
  REQUIRE_FALSE(g.has_value());
  CHECK(g.error().message.find("memory_bound") != std::string::npos);
}

TEST_CASE("harness step records map to plain-PyTorch fp32 scenarios on the calibrated device") {
  auto fit = presets::fit_profile(cpu_profile(), preset("host-cpu"), "test-cpu");
  REQUIRE(fit.has_value());
  const json record = {{"id", "harness-test"}, {"group", "clustersim measure harness (Test CPU)"},
                       {"verification", "read_from_source"}, {"model_name", "harness GPT"},
                       {"num_layers", 2}, {"hidden_size", 256}, {"num_attention_heads", 4}, {"num_kv_heads", 4},
                       {"ffn_hidden_size", 1024}, {"mlp_type", "gelu"}, {"vocab_size", 8192}, {"seq_length", 128},
                       {"gpu_type", "Test CPU"}, {"num_gpus", 1}, {"gpus_per_node", 1},
                       {"framework", "PyTorch eager (clustersim measure harness)"}, {"precision", "fp32"},
                       {"tp", 1}, {"pp", 1}, {"dp", 1}, {"zero_stage", 0}, {"recompute", "none"},
                       {"micro_batch_size", 4}, {"global_batch_size", 4}, {"iteration_time_s", 0.1},
                       {"peak_memory_gib", 0.2}, {"memory_kind", "max_memory_allocated (CPU allocator trace)"},
                       {"attention_impl", "materialized"}};
  presets::ValidateOptions opt;
  opt.calibrated_gpu = &fit->preset;
  std::vector<std::string> assumed;
  auto sc = presets::record_scenario(record, &assumed, opt);
  REQUIRE(sc.has_value());
  CHECK((*sc)["training"]["framework"] == "pytorch");
  CHECK((*sc)["training"]["precision"] == "fp32");
  CHECK((*sc)["training"]["optimizer_bytes_per_param"] == 8.0);
  CHECK((*sc)["layout"]["attention"] == "materialized");
  CHECK((*sc)["model"]["tied_embeddings"] == true);
  CHECK((*sc)["model"]["dropout"] == false);
  CHECK((*sc)["cluster"]["base"] == "cpu-host");
  auto res = presets::validate_record(record, opt);
  REQUIRE_FALSE(res.skipped.has_value());
  REQUIRE(res.rows.size() == 2);
  // 16 bytes per parameter of model states (fp32 weights, grads, Adam's two moments) at least.
  CHECK(res.rows[1].predicted > 16.0 * 2 * 12 * 256 * 256 / (1 << 30));
  // A record measured on another device is skipped with the reason.
  json other = record;
  other["gpu_type"] = "Other CPU";
  auto skipped = presets::validate_record(other, opt);
  REQUIRE(skipped.skipped.has_value());
  CHECK(skipped.skipped->reason.find("the --calibration preset is for 'Test CPU'") != std::string::npos);
}

namespace {
// The harness's profile and measured steps, committed (tests/data/calibration/README.md says where
// and how they were measured).
const std::string kProfile = std::string(CLUSTERSIM_SOURCE_DIR) + "/tests/data/calibration/cpu-profile.json";
const std::string kSteps = std::string(CLUSTERSIM_SOURCE_DIR) + "/tests/data/calibration/cpu-steps.json";
// The targets for calibrated predictions of the measured steps.
constexpr double kCalibratedTimeMedianTarget = 15.0;    // %
constexpr double kCalibratedMemoryMedianTarget = 10.0;  // %
}  // namespace

TEST_CASE("calibrated predictions of the committed CPU steps are within the targets (calibrate + validate CLI)") {
  const std::string out = "/tmp/clustersim-test-" + std::to_string(::getpid()) + "-cpu-calibrated.json";
  std::remove(out.c_str());
  auto cal = clustersim::testing::run_clustersim("calibrate " + kProfile + " --gpu host-cpu -o " + out + " --json", "cal");
  INFO(cal.err);
  REQUIRE(cal.rc == 0);
  const json summary = json::parse(cal.out);
  CHECK(summary["gemm"][0]["dtype"] == "fp32");
  CHECK(summary["gemm_sustained"].get<double>() > 0.5);
  CHECK(summary["gemm_sustained"].get<double>() <= 1.0);

  // Never overwritten without --force.
  auto again = clustersim::testing::run_clustersim("calibrate " + kProfile + " --gpu host-cpu -o " + out, "again");
  CHECK(again.rc == 3);
  CHECK(again.err.find("--force") != std::string::npos);
  // The profile is of a CPU: a GPU preset refuses it, naming the field.
  auto wrong = clustersim::testing::run_clustersim("calibrate " + kProfile + " --gpu h100-sxm -o " + out + ".x", "wrong");
  CHECK(wrong.rc == 2);
  CHECK(wrong.err.find("device.kind") != std::string::npos);

  auto val = clustersim::testing::run_clustersim("validate " + kSteps + " --calibration " + out + " --json", "val");
  INFO(val.err);
  REQUIRE(val.rc == 0);
  const json v = json::parse(val.out);
  CHECK(v["skipped"].empty());
  const auto& time = v["summary"]["time"];
  const auto& memory = v["summary"]["memory"];
  CHECK(time["n"].get<int>() >= 12);
  CHECK(memory["n"].get<int>() >= 12);
  CHECK(time["median_ape_pct"].get<double>() <= kCalibratedTimeMedianTarget);
  CHECK(memory["median_ape_pct"].get<double>() <= kCalibratedMemoryMedianTarget);

  // A scenario names the calibrated preset by its file, like any preset.
  const json scenario = {{"model", {{"layers", 2}, {"hidden", 256}, {"heads", 4}, {"ffn_hidden", 1024}, {"vocab", 8192},
                                    {"position", "learned"}, {"max_seq_length", 128}, {"tied_embeddings", true}}},
                         {"cluster", {{"base", "cpu-host"}, {"gpu", out}}},
                         {"training", {{"seq_length", 128}, {"global_batch", 2}, {"precision", "fp32"}, {"framework", "pytorch"}}},
                         {"layout", {{"micro_batch", 2}, {"attention", "materialized"}}}};
  auto sc = presets::scenario_from_json(scenario);
  INFO((sc ? std::string() : sc.error().what()));
  REQUIRE(sc.has_value());
  CHECK(sc->cluster.gpu.calibration != nullptr);

  // The collectives measured with the profile (gloo, 2 ranks on one host) become the cluster's link
  // calibration: a 2-process group of the host is costed from them.
  auto two = presets::cluster_from_json(json{{"base", "cpu-host"}, {"gpu", out}, {"gpus_per_node", 2}});
  INFO((two ? std::string() : two.error().what()));
  REQUIRE(two.has_value());
  REQUIRE(two->topology.has_value());
  CHECK(two->topology->calibration.size() == 3);  // all-reduce, all-gather, broadcast (gloo: no reduce-scatter)
  auto fabric = hardware::Fabric::build(*two);
  REQUIRE(fabric.has_value());
  auto placement = hardware::place(**fabric, {.tp = 2});
  REQUIRE(placement.has_value());
  const auto r = (*fabric)->cost(hardware::Collective::all_reduce, Bytes(1 << 20), *placement, hardware::ParallelDim::tp);
  CHECK(r.algorithm == hardware::Algorithm::calibrated);
  std::remove(out.c_str());
}

TEST_CASE("validate --calibration with a file that is not a calibrated preset is an error naming the option") {
  auto r = clustersim::testing::run_clustersim("validate " + kSteps + " --calibration " + kSteps, "notcal");
  CHECK(r.rc == 2);
  CHECK(r.err.find("--calibration") != std::string::npos);
  // Without calibration, the harness's CPU is not a preset: every record is skipped with the reason.
  auto plain = clustersim::testing::run_clustersim("validate " + kSteps + " --json", "plain");
  REQUIRE(plain.rc == 0);
  const json v = json::parse(plain.out);
  CHECK(v["records"].empty());
  REQUIRE_FALSE(v["skipped"].empty());
  CHECK(v["skipped"][0]["reason"].get<std::string>().find("has no preset") != std::string::npos);
}

TEST_CASE("a preset file that is missing or not JSON is an error naming the field") {
  const json model = {{"layers", 2}, {"hidden", 256}, {"heads", 4}, {"ffn_hidden", 1024}, {"vocab", 8192}};
  auto sc = presets::scenario_from_json({{"model", model},
                                         {"cluster", {{"base", "cpu-host"}, {"gpu", "/nonexistent/calibrated.json"}}},
                                         {"training", {{"seq_length", 128}, {"global_batch", 2}, {"precision", "fp32"}}}});
  REQUIRE_FALSE(sc.has_value());
  CHECK(sc.error().path == "cluster.gpu");
  CHECK(sc.error().message.find("cannot open the preset file '/nonexistent/calibrated.json'") != std::string::npos);
  const std::string garbage = "/tmp/clustersim-test-" + std::to_string(::getpid()) + "-garbage.json";
  {
    std::ofstream(garbage) << "{ not json";
  }
  auto bad = presets::scenario_from_json({{"model", model},
                                          {"cluster", {{"base", "cpu-host"}, {"gpu", garbage}}},
                                          {"training", {{"seq_length", 128}, {"global_batch", 2}, {"precision", "fp32"}}}});
  std::remove(garbage.c_str());
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().path == "cluster.gpu");
  CHECK(bad.error().message.find("is not valid JSON") != std::string::npos);
}

TEST_CASE("the framework's own time is fitted from tiny steps as per-step + per-layer residuals") {
  // Tiny harness steps at 1, 2, 4 and 8 layers, measured as exactly the calibrated prediction plus
  // 2 ms per step and 1 ms per layer: the fit recovers both.
  auto first = presets::fit_profile(cpu_profile(), preset("host-cpu"), "test-cpu");
  REQUIRE(first.has_value());
  presets::ValidateOptions opt;
  opt.calibrated_gpu = &first->preset;
  json profile = cpu_profile();
  profile["framework_steps"] = json::array();
  for (int layers : {1, 2, 4, 8}) {
    json rec = {{"id", "tiny-" + std::to_string(layers)}, {"group", "clustersim measure harness (Test CPU)"},
                {"verification", "read_from_source"}, {"model_name", "harness GPT"},
                {"num_layers", layers}, {"hidden_size", 64}, {"num_attention_heads", 1}, {"num_kv_heads", 1},
                {"ffn_hidden_size", 256}, {"mlp_type", "gelu"}, {"vocab_size", 256}, {"seq_length", 32},
                {"gpu_type", "Test CPU"}, {"num_gpus", 1}, {"gpus_per_node", 1},
                {"framework", "PyTorch eager (clustersim measure harness)"}, {"precision", "fp32"},
                {"tp", 1}, {"pp", 1}, {"dp", 1}, {"zero_stage", 0}, {"recompute", "none"},
                {"micro_batch_size", 1}, {"global_batch_size", 1}, {"attention_impl", "materialized"},
                {"iteration_time_s", 1.0}};
    const auto predicted = presets::validate_record(rec, opt);
    REQUIRE_FALSE(predicted.skipped.has_value());
    rec["iteration_time_s"] = predicted.rows[0].predicted + 0.002 + 0.001 * layers;
    profile["framework_steps"].push_back(rec);
  }
  auto fit = presets::fit_profile(profile, preset("host-cpu"), "test-cpu");
  REQUIRE(fit.has_value());
  CHECK(fit->calibration.framework_per_layer == Approx(0.001).epsilon(1e-6));
  CHECK(fit->calibration.framework_per_step == Approx(0.002).epsilon(1e-6));
  CHECK(fit->calibration.framework_dispatch_per_layer > 0.001);
  // Read back from the preset, and used: the eager prediction of a step grows by exactly that.
  auto gpu = presets::gpu_from_json(fit->preset);
  REQUIRE(gpu.has_value());
  CHECK(gpu->calibration->framework_per_layer == Approx(0.001).epsilon(1e-6));
  presets::ValidateOptions with;
  with.calibrated_gpu = &fit->preset;
  const auto again = presets::validate_record(profile["framework_steps"][3], with);
  REQUIRE_FALSE(again.skipped.has_value());
  CHECK(again.rows[0].predicted == Approx(profile["framework_steps"][3]["iteration_time_s"].get<double>()).epsilon(1e-6));
}

TEST_CASE("eager RMSNorm is costed as its measured chain: the main op by the rmsnorm curve, its extra kernels at zero") {
  json p = cpu_profile();
  for (double e : {1024.0, 65536.0, 4194304.0})
    p["memory_bound"].push_back({{"kernel", "rmsnorm"}, {"dtype", "fp32"}, {"elements", e}, {"bytes", 18 * 4 * e},
                                 {"median_s", 2e-5 + 18 * 4 * e / 20e9}});
  auto fit = presets::fit_profile(p, preset("host-cpu"), "test-cpu");
  REQUIRE(fit.has_value());
  auto gpu = presets::gpu_from_json(fit->preset);
  REQUIRE(gpu.has_value());
  // A Llama-style layer in eager PyTorch: RMSNorm ops carry the chain's traffic and five extra kernels.
  model::ModelSpec ms;
  ms.layers = 2;
  ms.hidden = 256;
  ms.heads = 4;
  ms.kv_heads = 4;
  ms.ffn_hidden = 688;
  ms.mlp = model::MlpKind::swiglu;
  ms.norm = model::NormKind::rmsnorm;
  ms.position = model::PositionKind::rope;
  ms.vocab = 1024;
  auto m = model::validate_model(ms);
  REQUIRE(m.has_value());
  model::ShardContext ctx;
  ctx.micro_batch = 2;
  ctx.seq_length = 128;
  ctx.activation_bytes = 4;
  ctx.eager_elementwise = true;
  hardware::ComputePrecision pr;
  pr.gemm = Precision::fp32;
  int extra = 0, main_ops = 0;
  for (const auto& op : model::layer_ops(*m, ctx, model::Pass::forward)) {
    if (op.memory_kind != model::MemoryOpKind::rmsnorm_eager) continue;
    const double t = hardware::kernel_time(strategies::to_kernel(op), *gpu, pr).value;
    if (op.bytes == 0) {
      ++extra;
      CHECK(t == 0.0);
    } else {
      ++main_ops;
      CHECK(t == Approx(2e-5 + op.bytes / 20e9).epsilon(1e-6));
    }
  }
  CHECK(main_ops == 2);   // input and post-attention norms
  CHECK(extra == 10);     // five extra kernels each
}
