#include "sim/des_network.hpp"

#include <algorithm>

namespace clustersim::sim {

using hardware::Collective;
using hardware::GroupShape;

PerGpuLinks::PerGpuLinks(engine::Engine& e, const hardware::ClusterSpec& cluster, std::span<const LinkSlowdown> slow)
    : cluster_(cluster) {
  domain_gpus_ = std::max(1, hardware::scale_up_domain_gpus(cluster));
  gpus_per_nic_ = cluster.topology ? std::max(1, cluster.topology->host.gpus_per_nic) : 1;
  // Capacities only set the ratio of sharing: each phase's amount is its time alone x the capacity.
  // A NIC carries scale_out.bandwidth for each GPU behind it (docs/topology.md sec. 1).
  nvlink_capacity_ = std::max(1.0, cluster.scale_up.bandwidth.value);
  nic_capacity_ = std::max(1.0, cluster.scale_out.bandwidth.value * gpus_per_nic_);
  const int gpus = cluster.total_gpus();
  for (int g = 0; g < gpus; ++g) {
    double nvl = 1.0, nic = 1.0;
    for (const auto& s : slow) {
      if (s.nic && s.gpu - s.gpu % gpus_per_nic_ == g) nic = std::max(nic, s.factor);
      if (!s.nic && s.gpu == g) nvl = std::max(nvl, s.factor);
    }
    const auto a = e.add_link(nvlink_capacity_ / nvl);
    if (g == 0) first_ = a;
    e.add_link(nvlink_capacity_ / nvl);
    e.add_link(nic_capacity_ / nic);
    e.add_link(nic_capacity_ / nic);
  }
}

void PerGpuLinks::phase(engine::Engine& e, double latency, double seconds, std::span<const int> members, bool nic) {
  uses_.clear();
  for (int g : members) {
    uses_.push_back({link(g, nic ? nic_tx : nvlink_tx), 1.0});
    uses_.push_back({link(g, nic ? nic_rx : nvlink_rx), 1.0});
  }
  const double capacity = nic ? nic_capacity_ : nvlink_capacity_;
  e.add_transfer(latency, std::max(0.0, seconds - latency) * capacity, engine::FlowModel::kUnbounded, uses_);
}

const std::vector<PerGpuLinks::Level>& PerGpuLinks::levels(Collective op, double bytes, int n, int k) {
  const auto key = std::make_tuple(static_cast<int>(op), bytes, n, k);
  auto it = memo_.find(key);
  if (it != memo_.end()) return it->second;
  const int domains = std::max(1, n / k);
  const auto& c = cluster_;
  auto cost = [&](Collective o, double s, GroupShape g) { return hardware::collective_cost(c, o, Bytes(s), g).time.value; };
  std::vector<Level> out;
  if (domains == 1 || k == 1) {
    // One level: inside the domain over the scale-up ports, or one member per domain over the NICs.
    const GroupShape g{n, domains == 1 ? n : 1};
    out.push_back({cost(op, 0.0, g), cost(op, bytes, g), domains > 1});
  } else {
    // Hierarchical (hardware::collective_cost): inside each domain on the whole array, across on 1/k.
    const GroupShape intra{k, k}, inter{domains, 1};
    struct Part {
      Collective op;
      double bytes;
      bool nic;
      GroupShape shape;
    };
    std::vector<Part> parts;
    switch (op) {
      case Collective::all_reduce:
        parts = {{Collective::reduce_scatter, bytes, false, intra},
                 {Collective::all_reduce, bytes / k, true, inter},
                 {Collective::all_gather, bytes, false, intra}};
        break;
      case Collective::reduce_scatter:
      case Collective::all_gather:
        parts = {{op, bytes, false, intra}, {op, bytes / k, true, inter}};
        break;
      default:
        // All-to-all and broadcast are not in training plans: one phase over the NICs, timed as a whole.
        parts = {{op, bytes, true, GroupShape{n, k}}};
        break;
    }
    // Scale the levels so that, alone, they add up to the whole collective's time.
    const double whole = cost(op, bytes, GroupShape{n, k});
    double sum = 0;
    for (const auto& p : parts) sum += cost(p.op, p.bytes, p.shape);
    const double scale = sum > 0 ? whole / sum : 1.0;
    for (const auto& p : parts)
      out.push_back({cost(p.op, 0.0, p.shape) * scale, cost(p.op, p.bytes, p.shape) * scale, p.nic});
  }
  return memo_.emplace(key, std::move(out)).first->second;
}

void PerGpuLinks::add_collective(engine::Engine& e, Collective op, double bytes, std::span<const int> members,
                                 double scale) {
  const int n = static_cast<int>(members.size());
  if (n <= 1) return;
  const int first = domain(members.front());
  const int k = static_cast<int>(std::count_if(members.begin(), members.end(), [&](int g) { return domain(g) == first; }));
  for (const auto& l : levels(op, bytes, n, k)) phase(e, l.latency * scale, l.seconds * scale, members, l.nic);
}

void PerGpuLinks::add_send(engine::Engine& e, double bytes, int from, int to) {
  const bool intra = domain(from) == domain(to);
  const GroupShape g{2, intra ? 2 : 1};
  const double latency = hardware::collective_cost(cluster_, Collective::send_recv, Bytes(0), g).time.value;
  const double total = hardware::collective_cost(cluster_, Collective::send_recv, Bytes(bytes), g).time.value;
  uses_.clear();
  uses_.push_back({link(from, intra ? nvlink_tx : nic_tx), 1.0});
  uses_.push_back({link(to, intra ? nvlink_rx : nic_rx), 1.0});
  const double capacity = intra ? nvlink_capacity_ : nic_capacity_;
  e.add_transfer(latency, std::max(0.0, total - latency) * capacity, engine::FlowModel::kUnbounded, uses_);
}

}  // namespace clustersim::sim
