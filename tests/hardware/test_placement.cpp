// Rank placement (Megatron-LM RankGenerator semantics): group members, which groups cross nodes, the
// order string, expert parallelism inside data parallelism, and invalid layouts.
#include <catch2/catch.hpp>

#include <set>

#include "hardware/placement.hpp"

using namespace clustersim;
using namespace clustersim::hardware;

namespace {

// Nodes of 8 GPUs: a group crosses nodes when its members lie on more than one node.
bool crosses_nodes(const std::vector<int>& g) {
  std::set<int> nodes;
  for (int r : g) nodes.insert(r / 8);
  return nodes.size() > 1;
}

Placement make(const ParallelDegrees& d, int gpus, std::string_view order = kMegatronOrder) {
  auto p = Placement::make(d, gpus, order);
  if (!p) FAIL(p.error().what());
  return *p;
}

}  // namespace

TEST_CASE("TP innermost keeps TP groups inside a node; DP groups cross nodes") {
  // 4 nodes x 8 GPUs, tp 8, dp 4, order tp-cp-ep-dp-pp: TP groups are the nodes {0..7}, {8..15}, ...;
  // DP groups take one GPU per node at stride 8: {0, 8, 16, 24}, {1, 9, 17, 25}, ...
  const auto p = make({.tp = 8, .dp = 4}, 32);
  const auto tp = p.groups(ParallelDim::tp);
  REQUIRE(tp.size() == 4);
  CHECK(tp[1] == std::vector<int>{8, 9, 10, 11, 12, 13, 14, 15});
  for (const auto& g : tp) CHECK_FALSE(crosses_nodes(g));
  const auto dp = p.groups(ParallelDim::dp);
  REQUIRE(dp.size() == 8);
  CHECK(dp[0] == std::vector<int>{0, 8, 16, 24});
  CHECK(dp[7] == std::vector<int>{7, 15, 23, 31});
  for (const auto& g : dp) CHECK(crosses_nodes(g));
  CHECK(p.pattern(ParallelDim::dp).axes[0].stride == 8);
}

TEST_CASE("tp, cp, dp and pp groups and which of them cross nodes") {
  // 32 GPUs, tp 2, cp 2, dp 4, pp 2: strides tp 1, cp 2, dp 4, pp 16 (products of the inner sizes).
  // Rank 0's groups: TP {0,1}, CP {0,2}, DP {0,4,8,12} (nodes 0 and 1), PP {0,16} (nodes 0 and 2).
  const auto p = make({.tp = 2, .cp = 2, .dp = 4, .pp = 2}, 32);
  CHECK(p.group_of(ParallelDim::tp, 0) == std::vector<int>{0, 1});
  CHECK(p.group_of(ParallelDim::cp, 0) == std::vector<int>{0, 2});
  CHECK(p.group_of(ParallelDim::dp, 0) == std::vector<int>{0, 4, 8, 12});
  CHECK(p.group_of(ParallelDim::pp, 0) == std::vector<int>{0, 16});
  CHECK(p.group_of(ParallelDim::dp, 13) == std::vector<int>{1, 5, 9, 13});
  CHECK(p.coordinate(ParallelDim::pp, 21) == 1);
  CHECK(p.coordinate(ParallelDim::dp, 21) == 1);  // (21 / 4) % 4
  for (const auto& g : p.groups(ParallelDim::tp)) CHECK_FALSE(crosses_nodes(g));
  for (const auto& g : p.groups(ParallelDim::cp)) CHECK_FALSE(crosses_nodes(g));
  for (const auto& g : p.groups(ParallelDim::dp)) CHECK(crosses_nodes(g));
  for (const auto& g : p.groups(ParallelDim::pp)) CHECK(crosses_nodes(g));
  CHECK(p.group_count(ParallelDim::tp) == 16);
  CHECK(p.group_count(ParallelDim::pp) == 16);
  // Every rank is in exactly one group of each dimension.
  for (auto d : {ParallelDim::tp, ParallelDim::cp, ParallelDim::dp, ParallelDim::pp}) {
    std::set<int> seen;
    for (const auto& g : p.groups(d))
      for (int r : g) CHECK(seen.insert(r).second);
    CHECK(seen.size() == 32);
  }
}

TEST_CASE("expert parallelism splits the data-parallel groups") {
  // 16 GPUs, tp 2, dp 8, ep 4 (order tp-cp-ep-dp-pp): EP groups at stride tp = 2, {0,2,4,6}; expert-DP
  // groups at stride tp x ep = 8, {0,8}; the full DP group is all 8 ranks at stride 2, {0,2,...,14}.
  const auto p = make({.tp = 2, .ep = 4, .dp = 8}, 16);
  CHECK(p.group_of(ParallelDim::ep, 0) == std::vector<int>{0, 2, 4, 6});
  CHECK(p.group_of(ParallelDim::edp, 0) == std::vector<int>{0, 8});
  CHECK(p.group_of(ParallelDim::dp, 0) == std::vector<int>{0, 2, 4, 6, 8, 10, 12, 14});
  CHECK(p.group_of(ParallelDim::ep, 11) == std::vector<int>{9, 11, 13, 15});
  // "dp-ep": the expert-DP part inside, EP outside: EDP {0, 2}, EP {0, 4, 8, 12}, full DP unchanged.
  const auto q = make({.tp = 2, .ep = 4, .dp = 8}, 16, "tp-cp-dp-ep-pp");
  CHECK(q.group_of(ParallelDim::edp, 0) == std::vector<int>{0, 2});
  CHECK(q.group_of(ParallelDim::ep, 0) == std::vector<int>{0, 4, 8, 12});
  CHECK(q.group_of(ParallelDim::dp, 0) == p.group_of(ParallelDim::dp, 0));
}

TEST_CASE("the order string moves dimensions inside") {
  // "dp-ep-tp-cp-pp" puts DP innermost: 4 nodes x 8, dp 8, tp 4: DP groups {0..7} stay in a node and TP
  // groups at stride 8 cross nodes.
  const auto p = make({.tp = 4, .dp = 8}, 32, "dp-ep-tp-cp-pp");
  CHECK(p.order() == "dp-ep-tp-cp-pp");
  CHECK(p.group_of(ParallelDim::dp, 0) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(p.group_of(ParallelDim::tp, 0) == std::vector<int>{0, 8, 16, 24});
  for (const auto& g : p.groups(ParallelDim::dp)) CHECK_FALSE(crosses_nodes(g));
  for (const auto& g : p.groups(ParallelDim::tp)) CHECK(crosses_nodes(g));
}

TEST_CASE("fewer ranks than GPUs use the first GPUs") {
  const auto p = make({.tp = 4, .dp = 2}, 32);
  CHECK(p.world() == 8);
  CHECK(p.groups(ParallelDim::dp).back() == std::vector<int>{3, 7});
}

TEST_CASE("invalid placements name the field") {
  SECTION("a degree that is not positive") {
    auto p = Placement::make({.tp = 0}, 8);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().path == "layout.tp");
  }
  SECTION("ep that does not divide dp") {
    auto p = Placement::make({.ep = 3, .dp = 4}, 8);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().path == "layout.ep");
  }
  SECTION("more ranks than GPUs") {
    auto p = Placement::make({.tp = 8, .dp = 2, .pp = 2}, 16);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().path == "layout");
    CHECK(p.error().message == "tp x cp x dp x pp = 32 ranks but the cluster has 16 GPUs");
  }
  SECTION("an order with a dimension missing or repeated") {
    for (const char* bad : {"tp-cp-dp-pp", "tp-tp-ep-dp-pp", "tp-cp-ep-dp-pp-", "", "tp-cp-ep-dp-xx"}) {
      INFO(bad);
      auto p = Placement::make({.tp = 2}, 8, bad);
      REQUIRE_FALSE(p.has_value());
      CHECK(p.error().path == "layout.order");
    }
  }
  SECTION("ep not next to dp") {
    auto p = Placement::make({.tp = 2}, 8, "ep-tp-dp-cp-pp");
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().path == "layout.order");
    CHECK(p.error().message.find("adjacent") != std::string::npos);
  }
}

TEST_CASE("group patterns tile their ranks or are rejected") {
  // 4 per node on 2 of 8-GPU nodes: axes (4 x 1) and (2 x 8): {0,1,2,3,8,9,10,11}, then {4..7, 12..15}.
  GroupPattern p;
  p.axes[0] = {4, 1};
  p.axes[1] = {2, 8};
  p.world = 16;
  auto g = enumerate_groups(p);
  REQUIRE(g.has_value());
  REQUIRE(g->size() == 2);
  CHECK((*g)[0] == std::vector<int>{0, 1, 2, 3, 8, 9, 10, 11});
  CHECK((*g)[1] == std::vector<int>{4, 5, 6, 7, 12, 13, 14, 15});
  SECTION("overlapping axes") {
    GroupPattern q = p;
    q.axes[1] = {2, 2};
    CHECK_FALSE(enumerate_groups(q).has_value());
  }
  SECTION("translates that run past the ranks") {
    GroupPattern q = p;
    q.world = 24;
    CHECK_FALSE(enumerate_groups(q).has_value());
  }
}
