#pragma once
// Collective communication over the simple cluster description (no graph): a group of `size` members,
// `per_node` of them per node, each member with its own share of the node's NICs and no other group
// beside it. The algorithms and their time are those of hardware/collectives.hpp (ring, tree,
// hierarchical, NVLS, SHARP; NCCL-style protocol choice), on hardware/collectives.cpp's
// two_level_profile(). hardware/topology.hpp's Fabric costs the same operations over the topology graph
// with concurrent groups sharing links; for one uncontended group inside a node the two agree.
//
// Sizes follow nccl-tests (doc/PERFORMANCE.md): S is the full array for reduce-scatter and all-gather,
// the per-rank send buffer for all-to-all.
#include <string>

#include "hardware/cluster.hpp"

namespace clustersim::hardware {

// How a communicator's members lie on the scale-up domains (nodes, unless the topology joins several
// nodes into one NVLink or ICI domain).
struct GroupShape {
  int size = 1;       // members
  int per_node = 1;   // members that share one domain (== size: the group is inside one domain)
};

struct CollectiveCost {
  Seconds time;
  std::string algorithm;         // "ring", "tree", "nvls", "hierarchical", "direct", "pairwise", ...
  Bytes bytes_sent_per_rank;     // what each rank puts on the wire
  ByteRate bus_bandwidth;        // busbw as nccl-tests reports it
};

CollectiveCost collective_cost(const ClusterSpec& cluster, Collective op, Bytes size, GroupShape group);

// Where a group of `size` members with rank stride `stride` lies (ranks numbered node-major).
GroupShape group_shape(const ClusterSpec& cluster, int size, int stride);

}  // namespace clustersim::hardware
