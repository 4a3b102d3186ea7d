// `clustersim collective`: the nccl-tests comparison command, end to end.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "../support/run.hpp"

using clustersim::testing::run_clustersim;
using nlohmann::json;

TEST_CASE("collective --json prints time, algorithm, algbw and busbw") {
  // 8 x H200, 8 GiB all-reduce: NVLS at about 480 GB/s busbw (shared reference sec. 7); algbw = busbw / 1.75.
  const auto r = run_clustersim("collective --cluster dgx-h200 --op all-reduce --size 8GiB --ranks 8 --json", "coll1");
  REQUIRE(r.rc == 0);
  const auto j = json::parse(r.out);
  CHECK(j.at("algorithm") == "nvls");
  CHECK(j.at("busbw_bytes_per_s").get<double>() == Approx(480e9).epsilon(0.03));
  CHECK(j.at("algbw_bytes_per_s").get<double>() == Approx(j.at("busbw_bytes_per_s").get<double>() / 1.75));
  CHECK(j.at("time_s").get<double>() == Approx(8.0 * 1073741824.0 / j.at("algbw_bytes_per_s").get<double>()));
  CHECK(j.at("domains") == 1);
  CHECK(j.at("candidates").size() >= 4);
}

TEST_CASE("collective spans nodes when the group needs them") {
  // 16 ranks, one per node (nccl-tests on 16 nodes with one GPU each): the preset grows to 16 nodes; at
  // 4 GiB the ring runs near the 50 GB/s NIC at 85 %.
  const auto r = run_clustersim("collective --cluster dgx-h100 --size 4G --ranks 16 --per-node 1 --json", "coll2");
  REQUIRE(r.rc == 0);
  const auto j = json::parse(r.out);
  CHECK(j.at("nodes") == 16);
  CHECK(j.at("domains") == 16);
  CHECK(j.at("algorithm") == "ring");
  CHECK(j.at("busbw_bytes_per_s").get<double>() == Approx(42.5e9).epsilon(0.02));
}

TEST_CASE("collective prints an nccl-tests-style table") {
  const auto r = run_clustersim("collective --cluster mi300x-node --op all-gather --min-size 1M --size 1G --ranks 8", "coll3");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("busbw") != std::string::npos);
  CHECK(r.out.find("1073741824") != std::string::npos);
  CHECK(r.out.find("1048576") != std::string::npos);
}

TEST_CASE("collective rejects bad input with exit code 2") {
  SECTION("operation") {
    const auto r = run_clustersim("collective --cluster dgx-h100 --op gather --size 1GiB --ranks 8", "coll4");
    CHECK(r.rc == 2);
    CHECK(r.err.find("--op") != std::string::npos);
  }
  SECTION("size") {
    const auto r = run_clustersim("collective --cluster dgx-h100 --size lots --ranks 8", "coll5");
    CHECK(r.rc == 2);
    CHECK(r.err.find("--size") != std::string::npos);
  }
  SECTION("more ranks than GPUs") {
    const auto r = run_clustersim("collective --cluster dgx-h100 --nodes 1 --size 1GiB --ranks 16", "coll6");
    CHECK(r.rc == 2);
    CHECK(r.err.find("--ranks") != std::string::npos);
  }
  SECTION("unknown cluster") {
    const auto r = run_clustersim("collective --cluster dgx-h1000 --size 1GiB --ranks 8", "coll7");
    CHECK(r.rc == 2);
    CHECK(r.err.find("did you mean 'dgx-h100'") != std::string::npos);
  }
  SECTION("an algorithm that does not apply") {
    const auto r = run_clustersim("collective --cluster dgx-a100 --size 1GiB --ranks 8 --algo nvls", "coll8");
    CHECK(r.rc == 2);
    CHECK(r.err.find("--algo") != std::string::npos);
  }
}
