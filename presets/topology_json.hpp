#pragma once
// The "topology" object of a cluster (JSON) to hardware::TopologySpec, and back.
//
//   "topology": {
//     "scale_up": { "kind": "switched" | "full-mesh" | "torus", "domain_gpus": 72, "dims": [16, 16, 16],
//                   "wraparound": true, "in_network_efficiency": 0.686 },
//     "host":     { "gpus_per_nic": 1, "pcie_bandwidth": "64 GB/s" },
//     "network":  { "kind": "fat-tree" | "none", "tiers": 2, "rail_optimized": true, "switch_radix": 64,
//                   "oversubscription": 1 (or "2:1"), "spine_oversubscription": 1, "link_bandwidth": "50 GB/s",
//                   "switch_latency": "0.2 us", "in_network_efficiency": 0.85 },
//     "calibration": [ { "op": "all-reduce", "ranks": 8, "ranks_per_node": 8,
//                        "points": [ { "size": "1 GiB", "busbw": "367 GB/s" }, ["8 GiB", "370 GB/s"] ] } ]
//   }
// Every field is optional (defaults: hardware/topology.hpp resolved_topology). Unknown fields, wrong types
// and bad units are errors naming the field ("cluster.topology.network.tiers: ..."), with the closest
// known name for a typo.
#include <optional>

#include <nlohmann/json.hpp>

#include "common/expected.hpp"
#include "hardware/cluster.hpp"

namespace clustersim::presets {

using nlohmann::json;

Expected<hardware::TopologySpec> topology_from_json(const json& j, const std::string& path = "cluster.topology");

// When the cluster object `cluster_json` has a "topology" field: parses it, checks it against `cluster`
// (hardware::resolved_topology: domain sizes, torus dimensions, fat-tree fit, ...) and stores it in
// cluster.topology. `path` names the cluster object ("cluster"). No field: nothing changes.
std::optional<Error> attach_topology(const json& cluster_json, hardware::ClusterSpec& cluster,
                                     const std::string& path = "cluster");

// A cluster (preset name, object, or {"base": preset, ...}) with its topology: cluster_from_json on the
// object without "topology", then attach_topology. Works whether or not cluster_from_json reads the
// topology itself.
Expected<hardware::ClusterSpec> cluster_with_topology_from_json(const json& j, const std::string& path = "cluster");

// The description as JSON (the same schema; rates in bytes/s, times in seconds).
json topology_to_json(const hardware::TopologySpec& t);

}  // namespace clustersim::presets
