#pragma once
// Collective communication in the simple (alpha-beta) form, over the cluster description.
//
// For S bytes over n ranks with per-rank bandwidth B (NCCL-tests doc/PERFORMANCE.md):
//   all-reduce 2(n-1)/n S/B, reduce-scatter and all-gather (n-1)/n S/B (S = the full array),
//   all-to-all (n-1)/n S/B, broadcast and send/recv S/B.
// B is the wire bandwidth times the fabric's measured bus efficiency. A group inside one node uses the
// scale-up fabric, limited to (n-1) x the pair bandwidth on point-to-point meshes (MI300X: 64 GB/s per
// peer). A group across nodes is hierarchical: within the node (k members) then across nodes over each
// GPU's own NIC on S/k bytes. In-network reduction (NVLS) raises all-reduce bandwidth by up to 1.29x at
// 8 GPUs (measured 480 vs 367 GB/s busbw on 8 x H200, shared reference sec. 7). Latency: NCCL picks
// tree/low-latency protocols for small messages, so the alpha term grows with log2(n) steps.
#include <string>

#include "hardware/cluster.hpp"

namespace clustersim::hardware {

enum class Collective { all_reduce, reduce_scatter, all_gather, all_to_all, broadcast, send_recv };
const char* to_string(Collective c);

// How a communicator's members lie on the nodes.
struct GroupShape {
  int size = 1;       // members
  int per_node = 1;   // members that share one node (== size: the group is inside one node)
};

struct CollectiveCost {
  Seconds time;
  std::string algorithm;         // "ring", "nvls", "hierarchical", "direct"
  Bytes bytes_sent_per_rank;     // what each rank puts on the wire
  ByteRate bus_bandwidth;        // busbw as nccl-tests reports it
};

CollectiveCost collective_cost(const ClusterSpec& cluster, Collective op, Bytes size, GroupShape group);

// Where a group of `size` members with rank stride `stride` lies (ranks numbered node-major).
GroupShape group_shape(const ClusterSpec& cluster, int size, int stride);

}  // namespace clustersim::hardware
