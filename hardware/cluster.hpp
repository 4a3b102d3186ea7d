#pragma once
// A cluster in its simple form: identical nodes of `gpus_per_node` GPUs joined by a scale-up fabric
// (NVLink/NVSwitch, xGMI) and a scale-out network (InfiniBand/RoCE NICs). Bandwidths are per GPU, one
// direction. The topology-graph model replaces the collective costing but keeps this description as
// the input it is built from.
#include <string>

#include "hardware/gpu.hpp"

namespace clustersim::hardware {

struct LinkSpec {
  ByteRate bandwidth;          // per GPU, one direction, all peers together
  ByteRate pair_bandwidth;     // what one GPU pair gets (narrower than `bandwidth` on point-to-point meshes)
  Seconds latency;             // per step of a collective (alpha)
  double efficiency = 0.8;     // large-message bus bandwidth / wire bandwidth (nccl-tests busbw)
  bool in_network_reduction = false;  // NVLS / SHARP
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

  [[nodiscard]] int total_gpus() const { return gpus_per_node * nodes; }
};

Expected<ClusterSpec> validate_cluster(const ClusterSpec& spec);

}  // namespace clustersim::hardware
