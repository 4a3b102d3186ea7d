// `clustersim simulate`: JSON contract, trace file, exit codes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "../support/run.hpp"

using clustersim::testing::run_clustersim;
using clustersim::testing::slurp;
using clustersim::testing::write_temp;
using nlohmann::json;

TEST_CASE("simulate --json is the estimate JSON with evaluator simulate and a simulation object") {
  // Llama 3 70B on 64 DGX H100 (tp 8, pp 4, interleaved v = 5): one representative GPU per stage.
  const auto r = run_clustersim("simulate examples/llama3-70b-h100.json --json", "sim-json");
  REQUIRE(r.rc == 0);
  const auto j = json::parse(r.out);
  CHECK(j.at("evaluator") == "simulate");
  for (const char* k : {"iteration_time_s", "tokens_per_s", "tflops_per_gpu", "mfu", "hfu"}) CHECK(j.at(k).is_number());
  for (const char* k : {"compute", "recompute", "tp_comm", "pp_comm", "dp_comm", "bubble", "optimizer", "exposed_comm"})
    CHECK(j.at("time_breakdown_s").at(k).is_number());
  CHECK(j.at("memory").at("peak_bytes").is_number_integer());
  CHECK(j.at("memory").at("per_stage").size() == 4);
  const auto& s = j.at("simulation");
  CHECK(s.at("mode") == "representative");
  CHECK(s.at("gpus_simulated") == 4);
  REQUIRE(s.at("ranks").size() == 4);
  CHECK(s.at("ranks")[0].at("peak_allocated_bytes").is_number_integer());
  CHECK(s.at("critical_path").at("length_s").get<double>() == Approx(j.at("iteration_time_s").get<double>()));
  CHECK_FALSE(s.at("critical_path").at("steps").empty());
}

TEST_CASE("simulate --trace writes a Chrome trace, replacing an existing file") {
  const auto path = write_temp("sim-trace.json", "not a trace");
  const auto r = run_clustersim("simulate examples/llama3-70b-h100.json --trace " + path, "sim-trace");
  REQUIRE(r.rc == 0);
  CHECK(r.err.find("trace: " + path) != std::string::npos);
  const auto t = json::parse(slurp(path));
  const auto& ev = t.at("traceEvents");
  int processes = 0, forwards = 0, backwards = 0, bubbles = 0, counters = 0;
  for (const auto& e : ev) {
    const auto ph = e.at("ph").get<std::string>();
    if (ph == "M" && e.at("name") == "process_name") ++processes;
    if (ph == "C") ++counters;
    if (ph != "X") continue;
    CHECK(e.at("dur").get<double>() >= 0);
    const auto cat = e.at("cat").get<std::string>();
    forwards += cat == "forward";
    backwards += cat == "backward";
    bubbles += cat == "bubble";
  }
  // 4 GPUs and the critical path. dp = 512 / (8 x 4) = 16, so m = 512 / 16 = 32 micro-batches; each
  // stage runs 20 layers (5 chunks of 4), stage 0 the embedding, stage 3 the head: 4 x 32 x 20 + 2 x 32.
  CHECK(processes == 5);
  CHECK(forwards == 4 * 32 * 20 + 2 * 32);
  CHECK(backwards == forwards);
  CHECK(bubbles > 0);
  CHECK(counters > 0);
  std::remove(path.c_str());
}

TEST_CASE("simulate: bad input and unwritable output have their exit codes") {
  SECTION("a malformed straggler is bad input (2), naming the flag") {
    const auto r = run_clustersim("simulate examples/llama3-70b-h100.json --straggler gpu=3", "sim-bad");
    CHECK(r.rc == 2);
    CHECK(r.err.find("--straggler") != std::string::npos);
  }
  SECTION("a slow link without --full is bad input (2)") {
    const auto r = run_clustersim("simulate examples/llama3-70b-h100.json --straggler link=nic:0:2", "sim-link");
    CHECK(r.rc == 2);
    CHECK(r.err.find("--full") != std::string::npos);
  }
  SECTION("a straggler beyond the cluster is bad input (2)") {
    const auto r = run_clustersim("simulate examples/llama3-70b-h100.json --straggler gpu=512:2", "sim-range");
    CHECK(r.rc == 2);
    CHECK(r.err.find("does not exist") != std::string::npos);
  }
  SECTION("a trace that cannot be written is an I/O error (3)") {
    const auto r = run_clustersim("simulate examples/llama3-70b-h100.json --trace /nonexistent-dir/t.json", "sim-io");
    CHECK(r.rc == 3);
    CHECK(r.err.find("/nonexistent-dir/t.json") != std::string::npos);
  }
  SECTION("a straggler makes the step slower than without it") {
    const auto base = run_clustersim("simulate examples/llama3-70b-h100.json --json", "sim-base");
    const auto slow = run_clustersim("simulate examples/llama3-70b-h100.json --json --straggler gpu=5:2", "sim-slow");
    REQUIRE(base.rc == 0);
    REQUIRE(slow.rc == 0);
    CHECK(json::parse(slow.out).at("iteration_time_s").get<double>() >
          json::parse(base.out).at("iteration_time_s").get<double>());
  }
}
