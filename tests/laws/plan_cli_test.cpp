// `clustersim plan` end to end: the JSON contract of INTERFACES.md, exact cost arithmetic, exit codes.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace {

struct Run {
  int code = -1;
  std::string out;
};

// Runs the clustersim binary with `args`; stdout only, or stdout and stderr together.
Run run(const std::string& args, bool with_stderr = false) {
  const std::string cmd = std::string(CLUSTERSIM_BINARY) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

nlohmann::json plan_json(const std::string& args) {
  const auto r = run("plan " + args + " --json");
  INFO(r.out);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("plan --compute answers with the law's optimum (JSON contract)", "[plan][cli]") {
  // Chinchilla's compute 6 x 70e9 x 1.4e12 = 5.88e23: the Epoch refit puts the optimum at ~18.4 tokens per
  // parameter, the paper's rounded constants at ~93 (shared reference sec. 1.3).
  const auto j = plan_json("--compute 5.88e23");
  for (const char* key : {"law", "compute_flops", "params", "tokens", "tokens_per_param", "loss"}) CHECK(j.contains(key));
  CHECK(j["law"] == "chinchilla-epoch2024");
  CHECK(j["compute_flops"].get<double>() == Approx(5.88e23));
  CHECK(j["compute_counting"] == "6ND");
  CHECK(j["tokens_per_param"].get<double>() == Approx(18.4).margin(0.1));
  CHECK(6.0 * j["params"].get<double>() * j["tokens"].get<double>() == Approx(5.88e23));
  CHECK_FALSE(j.contains("gpus"));
  const auto rounded = plan_json("--compute 5.88e23 --law chinchilla2022");
  CHECK(rounded["tokens_per_param"].get<double>() == Approx(92.8).margin(0.5));
  // Every law side by side at the same compute.
  CHECK(j["law_comparison"].size() >= 7);
}

TEST_CASE("plan on a cluster: cost is GPU-hours times the price, energy and CO2 by the formula", "[plan][cli]") {
  const auto j = plan_json("--compute 1e21 --cluster dgx-h100 --nodes 2 --price 2.5");
  for (const char* key : {"gpus", "days", "gpu_hours", "cost_usd", "energy_kwh", "co2_kg"}) CHECK(j.contains(key));
  CHECK(j["gpus"] == 16);
  const double gpu_hours = j["gpu_hours"];
  CHECK(j["cost_usd"].get<double>() == gpu_hours * 2.5);
  CHECK(j["days"].get<double>() * 24.0 * 16 == Approx(gpu_hours));
  // E = GPU-hours x 700 W x utilisation 1 x PUE 1.2 / 1000; CO2 = E x 0.39.
  CHECK(j["energy_kwh"].get<double>() == Approx(gpu_hours * 700.0 * 1.2 / 1000.0));
  CHECK(j["co2_kg"].get<double>() == Approx(j["energy_kwh"].get<double>() * 0.39));
  CHECK(j["price"]["name"] == "user");
  CHECK(j["layouts"].size() >= 1);
  CHECK(j["uncertainty"]["time_p90_relative"].get<double>() > 0);
}

TEST_CASE("plan uses the GPU's dated default price and states its date", "[plan][cli]") {
  const auto j = plan_json("--compute 1e21 --cluster dgx-h100 --nodes 2");
  CHECK(j["price"]["name"] == "aws-p5-on-demand");
  CHECK(j["price"]["date"] == "2026-11-09");
  CHECK(j["cost_usd"].get<double>() == j["gpu_hours"].get<double>() * 6.88);
  const auto text = run("plan --compute 1e21 --cluster dgx-h100 --nodes 2");
  CHECK(text.out.find("price read 2026-11-09") != std::string::npos);
}

TEST_CASE("plan energy assumptions are overridable and printed", "[plan][cli]") {
  const auto j = plan_json("--compute 1e21 --cluster dgx-h100 --nodes 2 --pue 1.1 --grid 0.1 --utilisation 0.5");
  CHECK(j["energy"]["pue"] == 1.1);
  CHECK(j["energy"]["grid_kg_per_kwh"] == 0.1);
  CHECK(j["energy_kwh"].get<double>() == Approx(j["gpu_hours"].get<double>() * 700.0 * 0.5 * 1.1 / 1000.0));
  const auto text = run("plan --compute 1e21 --cluster dgx-h100 --nodes 2 --pue 1.1");
  CHECK(text.out.find("PUE 1.1") != std::string::npos);
}

TEST_CASE("plan with unique tokens shows epochs and the penalty", "[plan][cli]") {
  const auto j = plan_json("--model llama3-8b --tokens 1.5e13 --unique-tokens 3e12");
  CHECK(j["data"]["epochs"].get<double>() == Approx(5.0));
  CHECK(j["data"]["loss_penalty"].get<double>() > 0);
  CHECK(j["loss"].get<double>() == Approx(j["data"]["loss_fresh"].get<double>() + j["data"]["loss_penalty"].get<double>()));
}

TEST_CASE("plan --exact-flops counts attention and the LM head", "[plan][cli]") {
  // The same 1e22 FLOPs buy fewer parameter-tokens when each token costs more than 6N: 6 N D < C.
  const auto six = plan_json("--compute 1e22");
  const auto exact = plan_json("--compute 1e22 --exact-flops");
  CHECK(six["compute_counting"] == "6ND");
  CHECK(exact["compute_counting"] != "6ND");
  CHECK(6.0 * exact["params"].get<double>() * exact["tokens"].get<double>() < 0.95e22);
  CHECK(exact["loss"].get<double>() > six["loss"].get<double>());
}

TEST_CASE("plan --list-laws names every bundled law", "[plan][cli]") {
  const auto r = run("plan --list-laws");
  CHECK(r.code == 0);
  for (const char* name : {"kaplan2020", "chinchilla2022", "chinchilla-epoch2024", "tokens-per-param-20",
                           "muennighoff2023", "llama3-2024", "deepseek2024"})
    CHECK(r.out.find(name) != std::string::npos);
}

TEST_CASE("plan: bad budgets are exit code 2 with the field named", "[plan][cli]") {
  SECTION("negative compute") {
    const auto r = run("plan --compute -5", true);
    CHECK(r.code == 2);
    CHECK(r.out.find("plan.compute: -5 must be positive") != std::string::npos);
  }
  SECTION("zero compute") { CHECK(run("plan --compute 0").code == 2); }
  SECTION("compute not a number") {
    const auto r = run("plan --compute lots", true);
    CHECK(r.code == 2);
    CHECK(r.out.find("plan.compute: 'lots' is not a number") != std::string::npos);
  }
  SECTION("negative dollars") { CHECK(run("plan --budget -100 --cluster dgx-h100").code == 2); }
  SECTION("unknown currency") {
    const auto r = run("plan --budget '1e6 EUR' --cluster dgx-h100", true);
    CHECK(r.code == 2);
    CHECK(r.out.find("currency 'EUR' is not supported") != std::string::npos);
  }
  SECTION("unknown price preset") {
    const auto r = run("plan --compute 1e21 --cluster dgx-h100 --price aws-p9", true);
    CHECK(r.code == 2);
    CHECK(r.out.find("plan.price: unknown price preset 'aws-p9'") != std::string::npos);
  }
  SECTION("dollars for a GPU without a price preset") {
    const auto r = run("plan --budget 1e5 --cluster dgx-v100", true);
    CHECK(r.code == 2);
    CHECK(r.out.find("plan.price") != std::string::npos);
  }
  SECTION("unknown law") { CHECK(run("plan --compute 1e21 --law chinchila").code == 2); }
  SECTION("two budgets") { CHECK(run("plan --compute 1e21 --gpu-hours 100 --cluster dgx-h100").code == 2); }
  SECTION("no budget") { CHECK(run("plan").code == 2); }
}

TEST_CASE("plan: a model that fits no layout is exit code 1 with the reason", "[plan][cli]") {
  const auto r = run("plan --params 4e11 --tokens 1e12 --cluster dgx-h100", true);
  CHECK(r.code == 1);
  CHECK(r.out.find("no layout fits in memory") != std::string::npos);
}
