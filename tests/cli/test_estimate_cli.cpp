// The clustersim command: exit codes, messages, JSON contract, golden outputs compared numerically.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "../support/run.hpp"

using clustersim::testing::run_clustersim;
using clustersim::testing::slurp;
using clustersim::testing::write_temp;
using nlohmann::json;

namespace {
// Compares two JSON documents: same keys and types, numbers within a relative tolerance.
void compare_numeric(const json& expected, const json& actual, const std::string& path = "") {
  INFO(path);
  if (expected.is_number()) {
    REQUIRE(actual.is_number());
    CHECK(actual.get<double>() == Approx(expected.get<double>()).epsilon(1e-6).margin(1e-12));
  } else if (expected.is_object()) {
    REQUIRE(actual.is_object());
    for (const auto& [k, v] : expected.items()) {
      REQUIRE(actual.contains(k));
      compare_numeric(v, actual.at(k), path + "." + k);
    }
  } else if (expected.is_array()) {
    REQUIRE(actual.is_array());
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) compare_numeric(expected[i], actual[i], path + "[" + std::to_string(i) + "]");
  } else {
    CHECK(actual == expected);
  }
}
}  // namespace

TEST_CASE("estimate --json follows the INTERFACES.md contract") {
  const auto r = run_clustersim("estimate examples/llama3-70b-h100.json --json");
  REQUIRE(r.rc == 0);
  const auto j = json::parse(r.out);
  for (const char* k : {"iteration_time_s", "tokens_per_s", "tflops_per_gpu", "mfu", "hfu"}) CHECK(j.at(k).is_number());
  for (const char* k : {"compute", "recompute", "tp_comm", "pp_comm", "dp_comm", "bubble", "optimizer", "exposed_comm"})
    CHECK(j.at("time_breakdown_s").at(k).is_number());
  const auto& mem = j.at("memory");
  CHECK(mem.at("peak_bytes").is_number_integer());
  CHECK(mem.at("capacity_bytes").is_number_integer());
  CHECK(mem.at("fits").is_boolean());
  for (const auto& st : mem.at("per_stage"))
    for (const char* k : {"stage", "weights", "gradients", "optimizer", "activations", "other", "peak"}) CHECK(st.contains(k));
  CHECK(j.at("params").at("total").is_number());
  CHECK(j.at("params").at("per_gpu_max").is_number());
  CHECK(j.at("flops").at("model_per_iteration").is_number());
  CHECK(j.at("flops").at("hardware_per_iteration").is_number());
  for (const char* k : {"tp", "pp", "dp"}) CHECK(j.at("traffic_bytes").at(k).is_number());
}

TEST_CASE("golden estimate outputs, compared numerically (regenerate with scripts/update-golden.sh)") {
  for (const char* name : {"llama3-70b-h100", "gpt3-175b-a100", "llama3.1-405b-h100"}) {
    INFO(name);
    const auto r = run_clustersim(std::string("estimate examples/") + name + ".json --json", name);
    REQUIRE((r.rc == 0 || r.rc == 1));
    const auto golden = json::parse(slurp(std::string("tests/data/golden/estimate-") + name + ".json"));
    compare_numeric(golden, json::parse(r.out));
  }
}

TEST_CASE("exit codes: 0 ok, 1 infeasible with the numbers, 2 bad input naming the field, 3 I/O") {
  SECTION("ok") {
    CHECK(run_clustersim("estimate examples/llama3-70b-h100.json").rc == 0);
  }
  SECTION("infeasible: out of memory") {
    const auto r = run_clustersim("estimate examples/llama3-70b-h100.json --tp 1 --pp 1 --virtual-stages 1 --schedule 1f1b --sequence-parallel false");
    CHECK(r.rc == 1);
    CHECK_THAT(r.err, Catch::Contains("infeasible") && Catch::Contains("GiB"));
  }
  SECTION("bad input: tp does not divide heads") {
    const auto f = write_temp("bad-tp.json", R"({"model": "llama3-70b", "cluster": {"base": "dgx-h100", "nodes": 3},
      "training": {"seq_length": 4096, "global_batch": 24}, "layout": {"tp": 3}})");
    const auto r = run_clustersim("estimate " + f);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("layout.tp: 3 does not divide 64 attention heads"));
  }
  SECTION("bad input: unknown field with a suggestion") {
    const auto f = write_temp("bad-field.json", R"({"model": "llama3-8b", "cluster": "dgx-h100",
      "training": {"seq_length": 4096, "global_batch": 8}, "layout": {"tp": 1, "micro_bach": 1}})");
    const auto r = run_clustersim("estimate " + f);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("layout.micro_bach: unknown field; did you mean 'micro_batch'?"));
  }
  SECTION("bad input: a wrong type") {
    const auto f = write_temp("bad-type.json", R"({"model": "llama3-8b", "cluster": "dgx-h100",
      "training": {"seq_length": "long", "global_batch": 8}})");
    const auto r = run_clustersim("estimate " + f);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("training.seq_length: expected an integer"));
  }
  SECTION("bad input: a bad unit") {
    const auto f = write_temp("bad-unit.json", R"({"model": "llama3-8b",
      "cluster": {"base": "dgx-h100", "scale_out": {"bandwidth": "50 GiB"}},
      "training": {"seq_length": 4096, "global_batch": 8}})");
    const auto r = run_clustersim("estimate " + f);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("cluster.scale_out.bandwidth"));
  }
  SECTION("bad input: not JSON") {
    const auto f = write_temp("not-json.json", "{ model: ");
    const auto r = run_clustersim("estimate " + f);
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("not valid JSON"));
  }
  SECTION("I/O: a missing file") {
    const auto r = run_clustersim("estimate /nonexistent/scenario.json");
    CHECK(r.rc == 3);
    CHECK_THAT(r.err, Catch::Contains("cannot open file"));
  }
  SECTION("unknown preset suggests the closest name") {
    const auto r = run_clustersim("estimate --model lama3-8b --cluster dgx-h100 --seq-length 4096 --global-batch 8");
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("did you mean 'llama3-8b'"));
  }
}

TEST_CASE("flags override scenario fields") {
  const auto base = json::parse(run_clustersim("estimate examples/llama3-70b-h100.json --json").out);
  const auto more = json::parse(run_clustersim("estimate examples/llama3-70b-h100.json --json --nodes 128", "nodes").out);
  CHECK(more.at("gpus") == 1024);
  CHECK(base.at("gpus") == 512);
  // Twice the GPUs with the same global batch: dp doubles, micro-batches per pipeline halve.
  CHECK(more.at("micro_batches").get<int>() * 2 == base.at("micro_batches").get<int>());
}

TEST_CASE("presets list and show") {
  const auto list = run_clustersim("presets list --json");
  REQUIRE(list.rc == 0);
  const auto j = json::parse(list.out);
  CHECK(j.at("models").size() >= 23);
  CHECK(j.at("gpus").size() >= 9);
  CHECK(j.at("clusters").size() >= 6);
  const auto show = run_clustersim("presets show llama3-70b");
  REQUIRE(show.rc == 0);
  CHECK(json::parse(show.out).at("computed_params").get<double>() == Approx(70.55e9).epsilon(0.001));
  CHECK(run_clustersim("presets show nope-nope").rc == 2);
  CHECK(run_clustersim("--version").rc == 0);
}
