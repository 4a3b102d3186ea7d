#pragma once
// A cluster in its simple form: identical nodes of `gpus_per_node` GPUs joined by a scale-up fabric
// (NVLink/NVSwitch, xGMI, ICI) and a scale-out network (InfiniBand/RoCE NICs). Bandwidths are per GPU, one
// direction. The optional `topology` describes the fabric as a graph (hardware/topology.hpp builds it):
// the kind of scale-up domain, the host PCIe and NICs, the fat-tree, and measured collective curves. A
// cluster without it gets a default topology: one switched (or, where per-peer links are narrower than
// the per-GPU total, full-mesh) domain per node and a rail-optimised non-blocking fat-tree.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/gpu.hpp"

namespace clustersim::hardware {

struct LinkSpec {
  ByteRate bandwidth;          // per GPU, one direction, all peers together
  ByteRate pair_bandwidth;     // what one GPU pair gets (narrower than `bandwidth` on point-to-point meshes)
  Seconds latency;             // per step of a collective (alpha, Simple protocol)
  double efficiency = 0.8;     // large-message bus bandwidth / wire bandwidth (nccl-tests busbw)
  bool in_network_reduction = false;  // NVLS / SHARP
};

enum class Collective { all_reduce, reduce_scatter, all_gather, all_to_all, broadcast, send_recv };
const char* to_string(Collective c);
// "all-reduce", "reduce-scatter", "all-gather", "all-to-all", "broadcast", "send-recv" (underscores too).
std::optional<Collective> parse_collective(std::string_view s);

// How the GPUs of one scale-up domain are joined.
enum class ScaleUpKind {
  switched,   // NVSwitch / NVLink Switch: every GPU has one non-blocking path to every other
  full_mesh,  // xGMI / Infinity Fabric: one direct link per GPU pair (pair_bandwidth each)
  torus,      // ICI: chips on a 2D or 3D torus, `pair_bandwidth` per link and direction
};
enum class NetworkKind { fat_tree, none };
const char* to_string(ScaleUpKind k);
const char* to_string(NetworkKind k);

struct ScaleUpTopology {
  ScaleUpKind kind = ScaleUpKind::switched;
  int domain_gpus = 0;             // GPUs per scale-up domain; 0 = gpus_per_node (torus: the whole cluster)
  std::vector<int> torus_dims;     // torus: chips along each axis (2 or 3); empty = near-cubic factorisation
  bool torus_wraparound = true;    // torus: the end of each axis links back to its start
  double in_network_efficiency = 0;  // NVLS all-reduce: achieved / wire bandwidth of the reduction (0 = default)
};

struct HostTopology {
  int gpus_per_nic = 1;                   // GPUs sharing one scale-out NIC (behind one PCIe switch)
  std::optional<ByteRate> pcie_bandwidth; // GPU <-> PCIe switch <-> NIC per direction; unset = not limiting
};

struct NetworkTopology {
  NetworkKind kind = NetworkKind::fat_tree;
  int tiers = 0;                          // 2 (leaf-spine) or 3 (leaf-spine-core); 0 = the fewest that fit
  bool rail_optimized = true;             // NIC i of every node of a scalable unit shares leaf i
  int switch_radix = 0;                   // ports per switch; 0 = 64 (NDR QM9700), doubled until the cluster fits
  double oversubscription = 1.0;          // leaf downlinks : uplinks
  double spine_oversubscription = 1.0;    // spine downlinks : uplinks (3 tiers)
  std::optional<ByteRate> link_bandwidth; // switch-to-switch port, per direction; unset = the NIC's rate
  Seconds switch_latency = microseconds(0.2);  // per switch traversed
  double in_network_efficiency = 0;       // SHARP all-reduce efficiency when scale_out reduces (0 = default)
};

// One measured curve (nccl-tests: size -> busbw) for an operation on groups of `ranks` GPUs with
// `ranks_per_domain` of them per scale-up domain (0 = any). Where it applies it replaces the model.
struct CalibrationPoint {
  Bytes size;
  ByteRate busbw;
};
struct CollectiveCalibration {
  Collective op = Collective::all_reduce;
  int ranks = 0;
  int ranks_per_domain = 0;
  std::vector<CalibrationPoint> points;  // ascending size
};

struct TopologySpec {
  ScaleUpTopology scale_up;
  HostTopology host;
  NetworkTopology network;
  std::vector<CollectiveCalibration> calibration;
};

struct ClusterSpec {
  std::string name;
  std::string description;
  GpuSpec gpu;
  int gpus_per_node = 8;
  int nodes = 1;
  LinkSpec scale_up;
  LinkSpec scale_out;
  Watts node_power;            // optional (0 = unknown)
  std::optional<TopologySpec> topology;  // unset = the default topology (see above)

  [[nodiscard]] int total_gpus() const { return gpus_per_node * nodes; }
};

Expected<ClusterSpec> validate_cluster(const ClusterSpec& spec);

// GPUs per scale-up domain: topology.scale_up.domain_gpus, else the torus (its dimensions, or every
// GPU), else one node.
int scale_up_domain_gpus(const ClusterSpec& cluster);

// The topology description with every default filled in, checked against the cluster (hardware/
// topology.cpp). Errors name the field ("cluster.topology.network.tiers: ...").
Expected<TopologySpec> resolved_topology(const ClusterSpec& cluster);

}  // namespace clustersim::hardware
