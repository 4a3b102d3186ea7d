#include "hardware/comm_model.hpp"

#include <algorithm>

#include "hardware/collectives.hpp"

namespace clustersim::hardware {

GroupShape group_shape(const ClusterSpec& cluster, int size, int stride) {
  GroupShape g;
  g.size = size;
  const int domain = scale_up_domain_gpus(cluster);
  if (stride >= domain) {
    g.per_node = 1;
  } else {
    g.per_node = std::clamp(domain / std::max(1, stride), 1, std::max(1, size));
  }
  return g;
}

CollectiveCost collective_cost(const ClusterSpec& c, Collective op, Bytes size, GroupShape group) {
  // A send/recv pair lies in one node when the shape puts two members per node.
  const int n = op == Collective::send_recv ? std::max(2, group.size) : group.size;
  const auto profile = two_level_profile(c, n, group.per_node);
  CollectiveOptions opt;
  if (c.topology) opt.calibration = &c.topology->calibration;
  const auto r = cost_collective(profile, op, size, opt);
  return {r.time, to_string(r.algorithm), r.bytes_sent_per_rank, r.busbw};
}

}  // namespace clustersim::hardware
