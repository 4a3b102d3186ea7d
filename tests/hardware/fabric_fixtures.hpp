#pragma once
// Clusters and fabrics for the hardware tests: bundled presets with their topology, and an H100-class
// node type built in code.
#include <catch2/catch.hpp>

#include "hardware/topology.hpp"
#include "presets/scenario_json.hpp"
#include "presets/topology_json.hpp"

namespace clustersim::testing {

inline hardware::ClusterSpec preset_cluster_with_topology(const std::string& name, int nodes) {
  auto c = presets::cluster_with_topology_from_json(nlohmann::json{{"base", name}, {"nodes", nodes}});
  if (!c) FAIL(c.error().what());
  return *c;
}

inline std::shared_ptr<const hardware::Fabric> fabric(const hardware::ClusterSpec& c) {
  auto f = hardware::Fabric::build(c);
  if (!f) FAIL(f.error().what());
  return *f;
}

inline std::shared_ptr<const hardware::Fabric> preset_fabric(const std::string& name, int nodes) {
  return fabric(preset_cluster_with_topology(name, nodes));
}

// `nodes` nodes of `gpus_per_node` H100s: 450 GB/s NVSwitch with NVLS (e 0.82, 3 us per step), one
// 50 GB/s NIC per GPU (e 0.85, 5 us per step); no topology block (the default one).
inline hardware::ClusterSpec hgx(int nodes, int gpus_per_node = 8) {
  hardware::ClusterSpec c;
  auto gpu = presets::gpu_from_json(nlohmann::json("h100-sxm"));
  REQUIRE(gpu.has_value());
  c.name = "test-hgx";
  c.gpu = *gpu;
  c.gpus_per_node = gpus_per_node;
  c.nodes = nodes;
  c.scale_up = {gigabytes_per_s(450), gigabytes_per_s(450), microseconds(3), 0.82, true};
  c.scale_out = {gigabytes_per_s(50), gigabytes_per_s(50), microseconds(5), 0.85, false};
  return c;
}

}  // namespace clustersim::testing
