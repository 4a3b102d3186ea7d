#pragma once
// The cluster as a graph (Boost.Graph): GPUs, scale-up switches (NVSwitch domains), host PCIe switches,
// NICs, and the leaf / spine / core switches of a fat-tree; edges are full-duplex links with a bandwidth
// per direction, a latency and a kind.
//
// Builders (all from one ClusterSpec and its TopologySpec):
//   - scale-up domain: `switched` (HGX/DGX NVSwitch, NVL72 NVLink Switch: one non-blocking switch vertex
//     per domain, marked `reduces` where it has NVLS), `full_mesh` (AMD xGMI: one edge per GPU pair at the
//     narrow per-peer bandwidth), `torus` (TPU ICI: 2D/3D torus, wrap-around optional);
//   - host: a PCIe switch per NIC joining `gpus_per_nic` GPUs and the NIC;
//   - network: a folded-Clos fat-tree of `switch_radix`-port switches, 2 or 3 tiers, rail-optimised (leaf
//     i of a scalable unit joins NIC i of its nodes) or not, with leaf (and spine) oversubscription.
//     Parallel links between two switches are one edge with their summed bandwidth (`links`).
//
// Fabric is built and validated once (connected graph, positive bandwidths), then sealed: immutable and
// safe to read from many threads. Costing a collective on the groups of a pattern goes through a
// GroupProfile, derived once per pattern by routing every group's traffic over the fabric's tiers with
// all groups at once (link sharing, oversubscription), and memoised behind a lock; each later cost is
// O(1). Routing assumes ECMP spreads a switch's up-traffic evenly over its uplinks, so a tier's uplinks
// act as one pooled capacity (docs/topology.md).
#include <boost/graph/adjacency_list.hpp>

#include <memory>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "hardware/cluster.hpp"
#include "hardware/collectives.hpp"
#include "hardware/placement.hpp"

namespace clustersim::hardware {

enum class VertexKind { gpu, nvswitch, pcie_switch, nic, leaf, spine, core };
enum class LinkKind { nvlink, xgmi, ici, pcie, network };
const char* to_string(VertexKind k);
const char* to_string(LinkKind k);

struct FabricVertex {
  VertexKind kind = VertexKind::gpu;
  int index = 0;        // among the vertices of its kind
  int domain = -1;      // scale-up domain (GPUs and scale-up switches)
  Seconds latency;      // to traverse this vertex (network switches)
  bool reduces = false; // the switch reduces in the network (NVLS / SHARP)
};

struct FabricLink {
  LinkKind kind = LinkKind::network;
  ByteRate bandwidth;   // per direction, all parallel links together
  Seconds latency;
  double links = 1;     // physical links (cables) this edge stands for
};

using TopologyGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, FabricVertex, FabricLink,
                                            boost::no_property, boost::vecS>;
using VertexId = TopologyGraph::vertex_descriptor;

struct FabricCounts {
  int gpus = 0, nvswitches = 0, pcie_switches = 0, nics = 0, leaves = 0, spines = 0, cores = 0;
  int vertices = 0, edges = 0;
  double nic_leaf_cables = 0, leaf_spine_cables = 0, spine_core_cables = 0;
  int tiers = 0;  // network tiers (0 without a network)
};

// A shortest path between two GPUs, found on the graph (fewest hops, breadth-first).
struct Route {
  std::vector<VertexId> vertices;  // from source to destination
  int hops = 0;
  ByteRate bottleneck;             // narrowest edge on the path
  Seconds latency;                 // edges plus traversed switches
};

class Fabric {
 public:
  // Validates the cluster and its topology, builds the graph, checks it is connected and every link has
  // bandwidth, and seals it.
  static Expected<std::shared_ptr<const Fabric>> build(const ClusterSpec& cluster);

  [[nodiscard]] const ClusterSpec& cluster() const { return cluster_; }
  [[nodiscard]] const TopologySpec& topology() const { return topo_; }
  [[nodiscard]] const TopologyGraph& graph() const { return graph_; }
  [[nodiscard]] const FabricCounts& counts() const { return counts_; }
  [[nodiscard]] int gpu_count() const { return static_cast<int>(gpu_vertex_.size()); }
  [[nodiscard]] int domain_size() const { return domain_gpus_; }
  [[nodiscard]] int domain_of(int gpu) const { return gpu / domain_gpus_; }
  [[nodiscard]] int node_of(int gpu) const { return gpu / cluster_.gpus_per_node; }
  [[nodiscard]] int nic_of(int gpu) const { return gpu_nic_[gpu]; }
  [[nodiscard]] VertexId gpu_vertex(int gpu) const { return gpu_vertex_[gpu]; }

  // Shortest path on the graph between two GPUs (breadth-first search; for inspection and tests).
  [[nodiscard]] Route route(int from_gpu, int to_gpu) const;

  // Maximum flow (bytes/s, one direction) from the first half of the GPUs to the second half
  // (push-relabel on the graph): the bisection bandwidth when the halves are the natural cut.
  [[nodiscard]] ByteRate bisection_bandwidth() const;

  // The profile of every group of the pattern at once; memoised. Errors when the pattern reaches past
  // the GPUs or its translates do not tile them.
  [[nodiscard]] Expected<std::shared_ptr<const GroupProfile>> profile(const GroupPattern& pattern) const;

  // One collective of `size` bytes on every group of a dimension, all at once. O(1) after the first call
  // for the dimension's pattern. The placement must fit the fabric (place() or Placement::make with its
  // GPU count); one that does not is a programming error (assert; an infinite time without asserts).
  [[nodiscard]] CollectiveResult cost(Collective op, Bytes size, const Placement& placement, ParallelDim dim) const;
  [[nodiscard]] Expected<CollectiveResult> cost(Collective op, Bytes size, const GroupPattern& pattern,
                                                const CollectiveOptions& options = {}) const;

  // The calibration tables of the topology (for CollectiveOptions).
  [[nodiscard]] const std::vector<CollectiveCalibration>& calibration() const { return topo_.calibration; }

  struct Impl;  // building and routing internals (topology.cpp)

 private:
  Fabric() = default;
  GroupProfile compute_profile(const std::vector<std::vector<int>>& groups) const;

  ClusterSpec cluster_;
  TopologySpec topo_;
  TopologyGraph graph_;
  FabricCounts counts_;
  int domain_gpus_ = 1;
  int nics_per_node_ = 1;
  std::vector<VertexId> gpu_vertex_;
  std::vector<int> gpu_nic_;
  // Tiers: NIC -> leaf -> pod; capacities of each NIC, leaf uplinks and pod (spine) uplinks, bytes/s.
  std::vector<int> nic_leaf_, leaf_pod_;
  std::vector<double> nic_cap_, gpu_pcie_cap_, leaf_up_cap_, pod_up_cap_;
  // Torus: chip coordinates and per-link bandwidth; directed link slots (chip * 3 + axis) * 2 + dir.
  std::array<int, 3> torus_dims_{1, 1, 1};
  bool torus_wrap_ = true;
  double torus_link_bw_ = 0;
  double up_path_ = 0, out_path_one_leaf_ = 0, switch_latency_ = 0;

  mutable std::shared_mutex cache_mutex_;
  struct PatternHash {
    std::size_t operator()(const GroupPattern& p) const;
  };
  mutable std::unordered_map<GroupPattern, std::shared_ptr<const GroupProfile>, PatternHash> cache_;
};

// A placement of `degrees` that fits the fabric (more ranks than GPUs is an error naming "layout").
inline Expected<Placement> place(const Fabric& fabric, const ParallelDegrees& degrees,
                                 std::string_view order = kMegatronOrder) {
  return Placement::make(degrees, fabric.gpu_count(), order);
}

}  // namespace clustersim::hardware
