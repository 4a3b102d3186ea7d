#include "hardware/comm_model.hpp"

#include <algorithm>
#include <cmath>

namespace clustersim::hardware {

const char* to_string(Collective c) {
  switch (c) {
    case Collective::all_reduce: return "all-reduce";
    case Collective::reduce_scatter: return "reduce-scatter";
    case Collective::all_gather: return "all-gather";
    case Collective::all_to_all: return "all-to-all";
    case Collective::broadcast: return "broadcast";
    case Collective::send_recv: return "send-recv";
  }
  return "?";
}

GroupShape group_shape(const ClusterSpec& cluster, int size, int stride) {
  GroupShape g;
  g.size = size;
  if (stride >= cluster.gpus_per_node) {
    g.per_node = 1;
  } else {
    g.per_node = std::clamp(cluster.gpus_per_node / std::max(1, stride), 1, size);
  }
  return g;
}

namespace {

// Bytes factor of the bandwidth term (busbw / algbw in nccl-tests).
double bus_factor(Collective op, int n) {
  const double nn = n;
  switch (op) {
    case Collective::all_reduce: return 2.0 * (nn - 1.0) / nn;
    case Collective::reduce_scatter:
    case Collective::all_gather:
    case Collective::all_to_all: return (nn - 1.0) / nn;
    case Collective::broadcast:
    case Collective::send_recv: return 1.0;
  }
  return 1.0;
}

double latency_steps(Collective op, int n) {
  if (n <= 1) return 0.0;
  const double lg = std::ceil(std::log2(static_cast<double>(n)));
  switch (op) {
    case Collective::all_reduce: return 2.0 * lg;
    case Collective::send_recv:
    case Collective::broadcast: return 1.0 + (op == Collective::broadcast ? lg : 0.0);
    default: return lg;
  }
}

struct Flat {
  double time;
  double busbw;
  bool nvls;
};

// One level (inside a node or across nodes) with n members.
Flat flat(const LinkSpec& link, Collective op, double bytes, int n, bool intra) {
  if (n <= 1 && op != Collective::send_recv) return {0.0, 0.0, false};
  double wire = link.bandwidth.value;
  if (intra) {
    // Point-to-point meshes give each pair only pair_bandwidth: a collective over n members reaches at
    // most (n-1) peers at once; send/recv uses exactly one pair.
    const int peers = op == Collective::send_recv ? 1 : std::max(1, n - 1);
    wire = std::min(wire, peers * link.pair_bandwidth.value);
  }
  double bw = wire * link.efficiency;
  bool nvls = false;
  if (op == Collective::all_reduce && link.in_network_reduction && intra && n >= 4) {
    // NVLS gain ramps from 1.00x at 4 GPUs to 1.29x at 8 (shared reference sec. 7, 8 x H200 measurements).
    const double gain = 1.0 + 0.29 * std::clamp((n - 4) / 4.0, 0.0, 1.0);
    if (gain > 1.0) { bw *= gain; nvls = true; }
  }
  const double t = latency_steps(op, n) * link.latency.value + bus_factor(op, std::max(n, 2)) * bytes / bw;
  return {t, bw, nvls};
}

}  // namespace

CollectiveCost collective_cost(const ClusterSpec& c, Collective op, Bytes size, GroupShape g) {
  CollectiveCost out;
  const double S = size.value;
  const int n = g.size;
  if (n <= 1 && op != Collective::send_recv) {
    out.algorithm = "none";
    return out;
  }
  const int k = std::clamp(g.per_node, 1, std::max(1, n));
  const int nodes = std::max(1, n / k);
  if (op == Collective::send_recv) {
    const bool intra = g.per_node >= 2;
    const auto f = flat(intra ? c.scale_up : c.scale_out, op, S, 2, intra);
    out.time = Seconds(f.time);
    out.algorithm = "direct";
    out.bytes_sent_per_rank = size;
    out.bus_bandwidth = ByteRate(f.busbw);
    return out;
  }
  out.bytes_sent_per_rank = Bytes(bus_factor(op, n) * S);
  if (nodes == 1) {
    const auto f = flat(c.scale_up, op, S, n, true);
    out.time = Seconds(f.time);
    out.algorithm = f.nvls ? "nvls" : "ring";
  } else if (k == 1) {
    const auto f = flat(c.scale_out, op, S, n, false);
    out.time = Seconds(f.time);
    out.algorithm = "ring";
  } else {
    // Hierarchical: reduce-scatter inside the node, the collective across nodes on S/k, all-gather back.
    double t = 0.0;
    switch (op) {
      case Collective::all_reduce:
        t = flat(c.scale_up, Collective::reduce_scatter, S, k, true).time +
            flat(c.scale_out, Collective::all_reduce, S / k, nodes, false).time +
            flat(c.scale_up, Collective::all_gather, S, k, true).time;
        break;
      case Collective::reduce_scatter:
      case Collective::all_gather:
        t = flat(c.scale_up, op, S, k, true).time + flat(c.scale_out, op, S / k, nodes, false).time;
        break;
      case Collective::all_to_all:
        // The share that leaves the node, (n-k)/n of each rank's data, crosses its NIC.
        t = flat(c.scale_up, op, S * k / n, k, true).time +
            latency_steps(op, nodes) * c.scale_out.latency.value +
            S * (n - k) / n / (c.scale_out.bandwidth.value * c.scale_out.efficiency);
        break;
      case Collective::broadcast:
        t = flat(c.scale_out, op, S, nodes, false).time + flat(c.scale_up, op, S, k, true).time;
        break;
      case Collective::send_recv: break;
    }
    out.time = Seconds(t);
    out.algorithm = "hierarchical";
  }
  out.bus_bandwidth = out.time.value > 0 ? ByteRate(bus_factor(op, n) * S / out.time.value) : ByteRate(0);
  return out;
}

}  // namespace clustersim::hardware
