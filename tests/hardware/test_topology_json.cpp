// The "topology" block of cluster JSON: every field, the errors that name the field, the bundled presets.
#include <catch2/catch.hpp>

#include "hardware/topology.hpp"
#include "presets/registry.hpp"
#include "presets/topology_json.hpp"

using namespace clustersim;
using namespace clustersim::hardware;
using nlohmann::json;

namespace {

std::string error_of(const json& topology) {
  auto t = presets::topology_from_json(topology);
  REQUIRE_FALSE(t.has_value());
  return t.error().what();
}

}  // namespace

TEST_CASE("a full topology block") {
  const json j = json::parse(R"({
    "scale_up": { "kind": "torus", "domain_gpus": 64, "dims": [4, 4, 4], "wraparound": false },
    "host": { "gpus_per_nic": 2, "pcie_bandwidth": "64 GB/s" },
    "network": { "kind": "fat-tree", "tiers": 3, "rail_optimized": false, "switch_radix": 40,
                 "oversubscription": "2:1", "spine_oversubscription": 1.5, "link_bandwidth": "400 Gbit/s",
                 "switch_latency": "300 ns", "in_network_efficiency": 0.9 },
    "calibration": [ { "op": "all_reduce", "ranks": 8, "ranks_per_node": 8,
                       "points": [ { "size": "1 MiB", "busbw": "100 GB/s" }, ["1 GiB", 3.0e11] ] } ]
  })");
  auto t = presets::topology_from_json(j);
  REQUIRE(t.has_value());
  CHECK(t->scale_up.kind == ScaleUpKind::torus);
  CHECK(t->scale_up.domain_gpus == 64);
  CHECK(t->scale_up.torus_dims == std::vector<int>{4, 4, 4});
  CHECK_FALSE(t->scale_up.torus_wraparound);
  CHECK(t->host.gpus_per_nic == 2);
  CHECK(t->host.pcie_bandwidth->value == Approx(64e9));
  CHECK(t->network.tiers == 3);
  CHECK_FALSE(t->network.rail_optimized);
  CHECK(t->network.switch_radix == 40);
  CHECK(t->network.oversubscription == Approx(2.0));
  CHECK(t->network.spine_oversubscription == Approx(1.5));
  CHECK(t->network.link_bandwidth->value == Approx(50e9));
  CHECK(t->network.switch_latency.value == Approx(300e-9));
  CHECK(t->network.in_network_efficiency == Approx(0.9));
  REQUIRE(t->calibration.size() == 1);
  CHECK(t->calibration[0].op == Collective::all_reduce);
  CHECK(t->calibration[0].ranks_per_domain == 8);
  REQUIRE(t->calibration[0].points.size() == 2);
  CHECK(t->calibration[0].points[0].size.value == Approx(kMiB));
  CHECK(t->calibration[0].points[1].busbw.value == Approx(300e9));
  // Written out and read back, it is the same description.
  auto again = presets::topology_from_json(presets::topology_to_json(*t));
  REQUIRE(again.has_value());
  CHECK(again->network.oversubscription == Approx(2.0));
  CHECK(again->scale_up.torus_dims == t->scale_up.torus_dims);
  CHECK(again->calibration[0].points[1].size.value == Approx(kGiB));
}

TEST_CASE("bad topology fields name the field") {
  SECTION("unknown field, with the near miss") {
    const auto e = error_of(json::parse(R"({"network": {"rail_optimised": true}})"));
    CHECK(e == "cluster.topology.network.rail_optimised: unknown field; did you mean 'rail_optimized'?");
  }
  SECTION("unknown part") {
    CHECK(error_of(json::parse(R"({"fabric": {}})")).find("cluster.topology.fabric: unknown field") == 0);
  }
  SECTION("scale-up kind") {
    CHECK(error_of(json::parse(R"({"scale_up": {"kind": "ring"}})")) ==
          "cluster.topology.scale_up.kind: 'ring' is not one of switched, full-mesh, torus");
  }
  SECTION("torus dimensions") {
    CHECK(error_of(json::parse(R"({"scale_up": {"dims": 4}})")).find("cluster.topology.scale_up.dims:") == 0);
    CHECK(error_of(json::parse(R"({"scale_up": {"dims": [4, "x"]}})")).find("cluster.topology.scale_up.dims[1]") == 0);
  }
  SECTION("NVLS efficiency out of range") {
    CHECK(error_of(json::parse(R"({"scale_up": {"in_network_efficiency": 1.5}})"))
              .find("cluster.topology.scale_up.in_network_efficiency: must be in (0, 1]") == 0);
  }
  SECTION("PCIe bandwidth with a wrong unit") {
    CHECK(error_of(json::parse(R"({"host": {"pcie_bandwidth": "64 GiB"}})")).find("cluster.topology.host.pcie_bandwidth") == 0);
  }
  SECTION("GPUs per NIC not an integer") {
    CHECK(error_of(json::parse(R"({"host": {"gpus_per_nic": 1.5}})")).find("cluster.topology.host.gpus_per_nic") == 0);
  }
  SECTION("network kind") {
    CHECK(error_of(json::parse(R"({"network": {"kind": "dragonfly"}})")) ==
          "cluster.topology.network.kind: 'dragonfly' is not one of fat-tree, none");
  }
  SECTION("tiers") {
    CHECK(error_of(json::parse(R"({"network": {"tiers": 4}})")) == "cluster.topology.network.tiers: must be 2 or 3, got 4");
  }
  SECTION("oversubscription that is not a ratio") {
    CHECK(error_of(json::parse(R"({"network": {"oversubscription": "lots"}})"))
              .find("cluster.topology.network.oversubscription") == 0);
  }
  SECTION("switch latency with a wrong unit") {
    CHECK(error_of(json::parse(R"({"network": {"switch_latency": "1 GB"}})")).find("cluster.topology.network.switch_latency") == 0);
  }
  SECTION("calibration operation") {
    CHECK(error_of(json::parse(R"({"calibration": [{"op": "gather", "ranks": 8, "points": [[1, 1]]}]})"))
              .find("cluster.topology.calibration[0].op: 'gather'") == 0);
  }
  SECTION("calibration without points") {
    CHECK(error_of(json::parse(R"({"calibration": [{"op": "all-reduce", "ranks": 8}]})")) ==
          "cluster.topology.calibration[0].points: is required");
  }
  SECTION("calibration point without busbw") {
    CHECK(error_of(json::parse(R"({"calibration": [{"op": "all-reduce", "ranks": 8, "points": [{"size": 1}]}]})")) ==
          "cluster.topology.calibration[0].points[0].busbw: is required");
  }
}

TEST_CASE("a topology is checked against its cluster") {
  // 8-GPU nodes: a 12-GPU domain is not whole nodes; descending calibration sizes are rejected.
  auto c = presets::cluster_with_topology_from_json(
      json::parse(R"({"base": "dgx-h100", "nodes": 2, "topology": {"scale_up": {"domain_gpus": 12}}})"));
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().path == "cluster.topology.scale_up.domain_gpus");
  auto d = presets::cluster_with_topology_from_json(json::parse(
      R"({"base": "dgx-h100", "topology": {"calibration": [{"op": "all-reduce", "ranks": 8,
          "points": [["1 GiB", "300 GB/s"], ["1 MiB", "100 GB/s"]]}]}})"));
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error().path == "cluster.topology.calibration[0].points[1].size");
}

TEST_CASE("overrides merge into a preset's topology") {
  // {"base": "dgx-h100", "topology": {"network": {"oversubscription": 2}}} keeps the preset's NVLS efficiency.
  auto c = presets::cluster_with_topology_from_json(
      json::parse(R"({"base": "dgx-h100", "nodes": 4, "topology": {"network": {"oversubscription": 2}}})"));
  REQUIRE(c.has_value());
  REQUIRE(c->topology.has_value());
  CHECK(c->topology->network.oversubscription == Approx(2.0));
  CHECK(c->topology->scale_up.in_network_efficiency == Approx(0.686).epsilon(0.01));
  CHECK(c->nodes == 4);
}

TEST_CASE("every cluster preset describes its topology with sources and builds a fabric") {
  for (const auto* e : presets::presets_of(presets::PresetKind::cluster)) {
    INFO(e->name);
    CHECK(e->json.contains("topology"));
    bool cited = false;
    const json sources = e->json.value("sources", json::object());
    for (const auto& [k, v] : sources.items()) cited |= k.rfind("topology", 0) == 0;
    CHECK(cited);
    auto c = presets::cluster_with_topology_from_json(json{{"base", e->name}, {"nodes", 4}});
    REQUIRE(c.has_value());
    CHECK(c->topology.has_value());
    auto f = Fabric::build(*c);
    if (!f) FAIL(f.error().what());
    CHECK((*f)->gpu_count() == c->total_gpus());
  }
}
