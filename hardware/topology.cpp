#include "hardware/topology.hpp"

#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <unordered_map>

#include "common/format.hpp"

namespace clustersim::hardware {

const char* to_string(VertexKind k) {
  switch (k) {
    case VertexKind::gpu: return "gpu";
    case VertexKind::nvswitch: return "nvswitch";
    case VertexKind::pcie_switch: return "pcie-switch";
    case VertexKind::nic: return "nic";
    case VertexKind::leaf: return "leaf";
    case VertexKind::spine: return "spine";
    case VertexKind::core: return "core";
  }
  return "?";
}

const char* to_string(LinkKind k) {
  switch (k) {
    case LinkKind::nvlink: return "nvlink";
    case LinkKind::xgmi: return "xgmi";
    case LinkKind::ici: return "ici";
    case LinkKind::pcie: return "pcie";
    case LinkKind::network: return "network";
  }
  return "?";
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Routing an all-to-all pair by pair on a torus costs members x GPUs routes; above this, a bound.
constexpr long long kMaxTorusPairs = 4'000'000LL;
// Ports per switch when the topology does not say: NVIDIA Quantum-2 QM9700, 64 x 400 Gb/s NDR (the
// DGX SuperPOD reference architecture's leaf, spine and core switch).
constexpr int kDefaultRadix = 64;

// Three factors of n as equal as possible, ascending (a 4096-chip slice -> 16 x 16 x 16).
std::vector<int> near_cubic(int n) {
  std::vector<int> best{1, 1, n};
  double best_spread = kInf;
  for (int a = 1; a * a * a <= n; ++a) {
    if (n % a) continue;
    for (int b = a; a * b * b <= n; ++b) {
      if ((n / a) % b) continue;
      const int c = n / a / b;
      const double spread = static_cast<double>(c) / a;
      if (spread < best_spread) {
        best_spread = spread;
        best = {a, b, c};
      }
    }
  }
  return best;
}

// The sizes of a folded-Clos fat-tree of radix-R switches (leaf: R/(1+o) uplinks, o x that downlinks).
struct FatTreeShape {
  int tiers = 2;
  int rails = 1;           // NICs per node
  int nics = 0;
  int leaf_down = 0, leaf_up = 0;
  int leaves = 0;
  int nodes_per_unit = 0;  // rail-optimised: nodes per scalable unit (one leaf per rail)
  int spines = 0, spines_per_pod = 0, spine_up = 0;
  int leaves_per_pod = 0, pods = 1;
  int cores_per_group = 0, cores = 0;
};

Expected<FatTreeShape> fat_tree_shape(const ClusterSpec& c, const TopologySpec& t) {
  const auto& nw = t.network;
  const std::string p = "cluster.topology.network";
  FatTreeShape s;
  const int R = nw.switch_radix;
  s.rails = c.gpus_per_node / t.host.gpus_per_nic;
  s.nics = c.nodes * s.rails;
  s.leaf_up = static_cast<int>(std::floor(R / (1.0 + nw.oversubscription)));
  s.leaf_down = static_cast<int>(std::floor(s.leaf_up * nw.oversubscription + 1e-9));
  if (s.leaf_up < 1 || s.leaf_down < 1 || s.leaf_up + s.leaf_down > R)
    return invalid(p + ".oversubscription", num(nw.oversubscription) + " leaves no up- or downlinks on " +
                                                std::to_string(R) + "-port switches");
  if (nw.rail_optimized) {
    s.nodes_per_unit = s.leaf_down;
    s.leaves = (c.nodes + s.nodes_per_unit - 1) / s.nodes_per_unit * s.rails;
  } else {
    s.leaves = (s.nics + s.leaf_down - 1) / s.leaf_down;
  }
  s.tiers = nw.tiers != 0 ? nw.tiers : (s.leaves <= R ? 2 : 3);
  if (s.tiers == 2) {
    if (s.leaves > R)
      return invalid(p + ".tiers", "2 tiers of " + std::to_string(R) + "-port switches join at most " + std::to_string(R) +
                                       " leaves; the cluster's " + std::to_string(s.nics) + " NICs need " +
                                       std::to_string(s.leaves) + " (use 3 tiers)");
    // Every leaf has one link group to every spine; a spine has R ports.
    s.spines = std::max(1, (s.leaves * s.leaf_up + R - 1) / R);
    s.spines_per_pod = s.spines;
    s.leaves_per_pod = s.leaves;
    s.pods = 1;
    return s;
  }
  const double o2 = nw.spine_oversubscription;
  s.spine_up = static_cast<int>(std::floor(R / (1.0 + o2)));
  const int spine_down = static_cast<int>(std::floor(s.spine_up * o2 + 1e-9));
  if (s.spine_up < 1 || spine_down < 1 || s.spine_up + spine_down > R)
    return invalid(p + ".spine_oversubscription", num(o2) + " leaves no up- or downlinks on " + std::to_string(R) +
                                                      "-port switches");
  // A pod: the leaves that share one set of spines (each of its leaf_up spines links once to each leaf).
  s.leaves_per_pod = spine_down;
  if (nw.rail_optimized && spine_down >= s.rails) s.leaves_per_pod = spine_down / s.rails * s.rails;
  s.pods = (s.leaves + s.leaves_per_pod - 1) / s.leaves_per_pod;
  s.spines_per_pod = s.leaf_up;
  s.spines = s.pods * s.spines_per_pod;
  // Spine j of every pod links to core group j.
  s.cores_per_group = std::max(1, (s.pods * s.spine_up + R - 1) / R);
  if (s.cores_per_group > s.spine_up || s.pods > R)
    return invalid(p + ".tiers", "3 tiers of " + std::to_string(R) + "-port switches cannot join " +
                                     std::to_string(s.nics) + " NICs (" + std::to_string(s.pods) + " pods)");
  s.cores = s.spines_per_pod * s.cores_per_group;
  return s;
}

}  // namespace

int scale_up_domain_gpus(const ClusterSpec& c) {
  if (!c.topology) return c.gpus_per_node;
  const auto& su = c.topology->scale_up;
  if (su.domain_gpus > 0) return su.domain_gpus;
  if (su.kind != ScaleUpKind::torus) return c.gpus_per_node;
  if (su.torus_dims.empty()) return c.total_gpus();
  return std::accumulate(su.torus_dims.begin(), su.torus_dims.end(), 1, std::multiplies<>());
}

Expected<TopologySpec> resolved_topology(const ClusterSpec& c) {
  const std::string p = "cluster.topology";
  // The cluster fields the topology depends on (validate_cluster checks the rest).
  if (c.gpus_per_node <= 0) return invalid("cluster.gpus_per_node", "must be positive, got " + std::to_string(c.gpus_per_node));
  if (c.nodes <= 0) return invalid("cluster.nodes", "must be positive, got " + std::to_string(c.nodes));
  if (!(c.scale_out.bandwidth.value > 0)) return invalid("cluster.scale_out.bandwidth", "must be positive");
  TopologySpec t = c.topology.value_or(TopologySpec{});
  if (!c.topology && c.scale_up.pair_bandwidth.value < c.scale_up.bandwidth.value)
    t.scale_up.kind = ScaleUpKind::full_mesh;  // per-peer links narrower than the total: a point-to-point mesh
  auto& su = t.scale_up;
  const int total = c.total_gpus();
  if (su.kind == ScaleUpKind::torus) {
    if (su.domain_gpus == 0) su.domain_gpus = scale_up_domain_gpus(c);
    if (su.domain_gpus <= 0)
      return invalid(p + ".scale_up.domain_gpus", "must be positive, got " + std::to_string(su.domain_gpus));
    if (su.torus_dims.empty()) su.torus_dims = near_cubic(su.domain_gpus);
    if (su.torus_dims.size() < 2 || su.torus_dims.size() > 3)
      return invalid(p + ".scale_up.dims", "a torus has 2 or 3 dimensions, got " + std::to_string(su.torus_dims.size()));
    long long prod = 1;
    for (int d : su.torus_dims) {
      if (d < 1) return invalid(p + ".scale_up.dims", "every dimension must be positive, got " + std::to_string(d));
      prod *= d;
    }
    if (prod != su.domain_gpus)
      return invalid(p + ".scale_up.dims", "the dimensions hold " + std::to_string(prod) + " chips but the domain has " +
                                               std::to_string(su.domain_gpus));
  } else {
    if (!su.torus_dims.empty()) return invalid(p + ".scale_up.dims", "only a torus has dimensions");
    if (su.domain_gpus == 0) su.domain_gpus = c.gpus_per_node;
    if (su.kind == ScaleUpKind::full_mesh && su.domain_gpus != c.gpus_per_node)
      return invalid(p + ".scale_up.domain_gpus", "a full mesh joins the GPUs of one node (" +
                                                      std::to_string(c.gpus_per_node) + "), got " +
                                                      std::to_string(su.domain_gpus));
  }
  if (su.domain_gpus <= 0 || su.domain_gpus % c.gpus_per_node != 0)
    return invalid(p + ".scale_up.domain_gpus", "must be a positive multiple of gpus_per_node (" +
                                                    std::to_string(c.gpus_per_node) + "), got " +
                                                    std::to_string(su.domain_gpus));
  if (total % su.domain_gpus != 0)
    return invalid(p + ".scale_up.domain_gpus", std::to_string(su.domain_gpus) + " does not divide the cluster's " +
                                                    std::to_string(total) + " GPUs");
  if (su.in_network_efficiency < 0 || su.in_network_efficiency > 1)
    return invalid(p + ".scale_up.in_network_efficiency", "must be in (0, 1], got " + num(su.in_network_efficiency));
  if (su.in_network_efficiency == 0) su.in_network_efficiency = default_nvls_efficiency(c.scale_up);

  auto& h = t.host;
  if (h.gpus_per_nic < 1 || c.gpus_per_node % h.gpus_per_nic != 0)
    return invalid(p + ".host.gpus_per_nic", "must divide gpus_per_node (" + std::to_string(c.gpus_per_node) + "), got " +
                                                 std::to_string(h.gpus_per_nic));
  if (h.pcie_bandwidth && !(h.pcie_bandwidth->value > 0))
    return invalid(p + ".host.pcie_bandwidth", "must be positive");

  auto& nw = t.network;
  if (nw.kind == NetworkKind::fat_tree) {
    const bool auto_radix = nw.switch_radix == 0;
    if (auto_radix) nw.switch_radix = kDefaultRadix;
    if (nw.switch_radix < 4) return invalid(p + ".network.switch_radix", "must be at least 4, got " + std::to_string(nw.switch_radix));
    if (!(nw.oversubscription >= 1.0))
      return invalid(p + ".network.oversubscription", "must be at least 1 (downlinks : uplinks), got " + num(nw.oversubscription));
    if (!(nw.spine_oversubscription >= 1.0))
      return invalid(p + ".network.spine_oversubscription", "must be at least 1, got " + num(nw.spine_oversubscription));
    if (nw.tiers != 0 && nw.tiers != 2 && nw.tiers != 3)
      return invalid(p + ".network.tiers", "must be 2 or 3, got " + std::to_string(nw.tiers));
    if (nw.link_bandwidth && !(nw.link_bandwidth->value > 0)) return invalid(p + ".network.link_bandwidth", "must be positive");
    if (nw.switch_latency.value < 0) return invalid(p + ".network.switch_latency", "must not be negative");
    if (!nw.link_bandwidth) nw.link_bandwidth = ByteRate(c.scale_out.bandwidth.value * h.gpus_per_nic);
    auto shape = fat_tree_shape(c, t);
    // The default radix grows (x2) until the cluster fits the tiers asked for (3 when not given).
    while (!shape && auto_radix && nw.switch_radix < (1 << 16)) {
      nw.switch_radix *= 2;
      shape = fat_tree_shape(c, t);
    }
    if (!shape) return shape.error();
    nw.tiers = shape->tiers;
  }
  if (nw.in_network_efficiency < 0 || nw.in_network_efficiency > 1)
    return invalid(p + ".network.in_network_efficiency", "must be in (0, 1], got " + num(nw.in_network_efficiency));
  if (nw.in_network_efficiency == 0) nw.in_network_efficiency = default_sharp_efficiency(c.scale_out);

  for (std::size_t i = 0; i < t.calibration.size(); ++i) {
    const auto& cal = t.calibration[i];
    const std::string cp = p + ".calibration[" + std::to_string(i) + "]";
    if (cal.ranks < 2) return invalid(cp + ".ranks", "must be at least 2, got " + std::to_string(cal.ranks));
    if (cal.ranks_per_domain < 0) return invalid(cp + ".ranks_per_node", "must not be negative");
    if (cal.points.empty()) return invalid(cp + ".points", "must list at least one (size, busbw) point");
    for (std::size_t j = 0; j < cal.points.size(); ++j) {
      const auto& pt = cal.points[j];
      const std::string pp = cp + ".points[" + std::to_string(j) + "]";
      if (!(pt.size.value > 0)) return invalid(pp + ".size", "must be positive");
      if (!(pt.busbw.value > 0)) return invalid(pp + ".busbw", "must be positive");
      if (j > 0 && !(pt.size.value > cal.points[j - 1].size.value))
        return invalid(pp + ".size", "sizes must be strictly ascending");
    }
  }
  return t;
}

// ------------------------------------------------------------------------------------------------
// Building

struct Fabric::Impl {
  static VertexId add_vertex(Fabric& f, VertexKind kind, int index, int domain = -1, double latency = 0,
                             bool reduces = false) {
    return boost::add_vertex(FabricVertex{kind, index, domain, Seconds(latency), reduces}, f.graph_);
  }
  static void add_edge(Fabric& f, VertexId a, VertexId b, LinkKind kind, double bw, double links = 1, double latency = 0) {
    boost::add_edge(a, b, FabricLink{kind, ByteRate(bw), Seconds(latency), links}, f.graph_);
  }

  static void build_scale_up(Fabric& f) {
    const auto& c = f.cluster_;
    const auto& su = f.topo_.scale_up;
    const int n = c.total_gpus();
    const int D = su.domain_gpus;
    for (int g = 0; g < n; ++g) f.gpu_vertex_[g] = add_vertex(f, VertexKind::gpu, g, g / D);
    const int domains = n / D;
    switch (su.kind) {
      case ScaleUpKind::switched:
        // The NVSwitch chips of a domain act as one non-blocking crossbar: one vertex, one edge per GPU.
        for (int d = 0; d < domains; ++d) {
          const auto sw = add_vertex(f, VertexKind::nvswitch, d, d, 0.0, c.scale_up.in_network_reduction);
          for (int i = 0; i < D; ++i)
            add_edge(f, f.gpu_vertex_[d * D + i], sw, LinkKind::nvlink, c.scale_up.bandwidth.value);
        }
        break;
      case ScaleUpKind::full_mesh:
        for (int d = 0; d < domains; ++d)
          for (int i = 0; i < D; ++i)
            for (int j = i + 1; j < D; ++j)
              add_edge(f, f.gpu_vertex_[d * D + i], f.gpu_vertex_[d * D + j], LinkKind::xgmi,
                       c.scale_up.pair_bandwidth.value);
        break;
      case ScaleUpKind::torus: {
        const auto& dims = f.torus_dims_;
        const double bw = f.torus_link_bw_;
        for (int d = 0; d < domains; ++d) {
          for (int local = 0; local < D; ++local) {
            int co[3] = {local % dims[0], (local / dims[0]) % dims[1], local / (dims[0] * dims[1])};
            for (int ax = 0; ax < 3; ++ax) {
              const int A = dims[ax];
              if (A < 2) continue;
              // One edge to the +1 neighbour; the last chip wraps to the first when the axis is a ring of 3+.
              if (co[ax] + 1 < A || (f.torus_wrap_ && A > 2)) {
                int nb[3] = {co[0], co[1], co[2]};
                nb[ax] = (co[ax] + 1) % A;
                const int other = nb[0] + dims[0] * (nb[1] + dims[1] * nb[2]);
                add_edge(f, f.gpu_vertex_[d * D + local], f.gpu_vertex_[d * D + other], LinkKind::ici, bw);
              }
            }
          }
        }
        break;
      }
    }
  }

  static void build_network(Fabric& f, const FatTreeShape& s) {
    const auto& c = f.cluster_;
    const auto& t = f.topo_;
    const int gpn = c.gpus_per_node, per_nic = t.host.gpus_per_nic;
    const double nic_rate = c.scale_out.bandwidth.value * per_nic;
    const double pcie = t.host.pcie_bandwidth ? t.host.pcie_bandwidth->value : nic_rate;
    const double link = t.network.link_bandwidth->value;
    const double sw_lat = t.network.switch_latency.value;
    const int n = c.total_gpus();
    f.gpu_nic_.assign(n, 0);
    f.gpu_pcie_cap_.assign(n, t.host.pcie_bandwidth ? pcie : kInf);
    f.nic_cap_.assign(s.nics, std::min(nic_rate, t.host.pcie_bandwidth ? pcie : kInf));
    f.nic_leaf_.assign(s.nics, 0);
    std::vector<VertexId> nic_v(s.nics), leaf_v(s.leaves), spine_v(s.spines), core_v(s.cores);
    // Host: one PCIe switch per NIC, joining its GPUs and the NIC.
    for (int nic = 0; nic < s.nics; ++nic) {
      const auto pcie_sw = add_vertex(f, VertexKind::pcie_switch, nic);
      nic_v[nic] = add_vertex(f, VertexKind::nic, nic);
      add_edge(f, pcie_sw, nic_v[nic], LinkKind::pcie, pcie);
      const int node = nic / s.rails, rail = nic % s.rails;
      for (int j = 0; j < per_nic; ++j) {
        const int g = node * gpn + rail * per_nic + j;
        f.gpu_nic_[g] = nic;
        add_edge(f, f.gpu_vertex_[g], pcie_sw, LinkKind::pcie, pcie);
      }
    }
    for (int l = 0; l < s.leaves; ++l) leaf_v[l] = add_vertex(f, VertexKind::leaf, l, -1, sw_lat);
    for (int nic = 0; nic < s.nics; ++nic) {
      const int node = nic / s.rails, rail = nic % s.rails;
      const int leaf = t.network.rail_optimized ? node / s.nodes_per_unit * s.rails + rail : nic / s.leaf_down;
      f.nic_leaf_[nic] = leaf;
      add_edge(f, nic_v[nic], leaf_v[leaf], LinkKind::network, nic_rate);
    }
    f.leaf_pod_.assign(s.leaves, 0);
    for (int l = 0; l < s.leaves; ++l) f.leaf_pod_[l] = l / s.leaves_per_pod;
    const bool sharp = c.scale_out.in_network_reduction;
    for (int sp = 0; sp < s.spines; ++sp) spine_v[sp] = add_vertex(f, VertexKind::spine, sp, -1, sw_lat, sharp);
    // Leaf uplinks spread evenly over the spines of its pod (parallel links pooled into one edge).
    for (int l = 0; l < s.leaves; ++l) {
      const int pod = f.leaf_pod_[l];
      const double links = static_cast<double>(s.leaf_up) / s.spines_per_pod;
      for (int j = 0; j < s.spines_per_pod; ++j)
        add_edge(f, leaf_v[l], spine_v[pod * s.spines_per_pod + j], LinkKind::network, links * link, links);
    }
    if (s.tiers == 3) {
      for (int k = 0; k < s.cores; ++k) core_v[k] = add_vertex(f, VertexKind::core, k, -1, sw_lat, sharp);
      const double links = static_cast<double>(s.spine_up) / s.cores_per_group;
      for (int sp = 0; sp < s.spines; ++sp) {
        const int group = sp % s.spines_per_pod;  // spine j of every pod joins core group j
        for (int k = 0; k < s.cores_per_group; ++k)
          add_edge(f, spine_v[sp], core_v[group * s.cores_per_group + k], LinkKind::network, links * link, links);
      }
    }
    // Tier capacities, read back from the graph: a leaf's and a pod's pooled uplinks (ECMP spreads evenly).
    f.leaf_up_cap_.assign(s.leaves, 0.0);
    f.pod_up_cap_.assign(s.pods, 0.0);
    for (int l = 0; l < s.leaves; ++l)
      for (auto [e, end] = boost::out_edges(leaf_v[l], f.graph_); e != end; ++e)
        if (f.graph_[boost::target(*e, f.graph_)].kind == VertexKind::spine) f.leaf_up_cap_[l] += f.graph_[*e].bandwidth.value;
    for (int sp = 0; sp < s.spines; ++sp)
      for (auto [e, end] = boost::out_edges(spine_v[sp], f.graph_); e != end; ++e)
        if (f.graph_[boost::target(*e, f.graph_)].kind == VertexKind::core)
          f.pod_up_cap_[sp / s.spines_per_pod] += f.graph_[*e].bandwidth.value;
    if (s.tiers == 2) std::fill(f.pod_up_cap_.begin(), f.pod_up_cap_.end(), kInf);
    f.nics_per_node_ = s.rails;
  }

  static Expected<bool> check_graph(const Fabric& f) {
    const auto& G = f.graph_;
    for (auto [e, end] = boost::edges(G); e != end; ++e) {
      if (!(G[*e].bandwidth.value > 0)) {
        const auto& a = G[boost::source(*e, G)];
        const auto& b = G[boost::target(*e, G)];
        return invalid("cluster.topology", std::string("the ") + to_string(G[*e].kind) + " link between " +
                                               to_string(a.kind) + " " + std::to_string(a.index) + " and " +
                                               to_string(b.kind) + " " + std::to_string(b.index) + " has no bandwidth");
      }
    }
    std::vector<int> comp(boost::num_vertices(G));
    const int ncomp = boost::connected_components(G, comp.data());
    if (ncomp > 1) {
      for (int g = 1; g < f.gpu_count(); ++g)
        if (comp[f.gpu_vertex_[g]] != comp[f.gpu_vertex_[0]])
          return invalid("cluster.topology.network",
                         "the graph is disconnected: GPU " + std::to_string(g) + " (node " + std::to_string(f.node_of(g)) +
                             ") cannot reach GPU 0" +
                             (f.topo_.network.kind == NetworkKind::none ? " without a network (kind 'none')" : ""));
      return invalid("cluster.topology", "the graph is disconnected (" + std::to_string(ncomp) + " parts)");
    }
    return true;
  }

  static void count(Fabric& f) {
    auto& k = f.counts_;
    const auto& G = f.graph_;
    for (auto [v, end] = boost::vertices(G); v != end; ++v) {
      switch (G[*v].kind) {
        case VertexKind::gpu: ++k.gpus; break;
        case VertexKind::nvswitch: ++k.nvswitches; break;
        case VertexKind::pcie_switch: ++k.pcie_switches; break;
        case VertexKind::nic: ++k.nics; break;
        case VertexKind::leaf: ++k.leaves; break;
        case VertexKind::spine: ++k.spines; break;
        case VertexKind::core: ++k.cores; break;
      }
    }
    for (auto [e, end] = boost::edges(G); e != end; ++e) {
      const auto ka = G[boost::source(*e, G)].kind, kb = G[boost::target(*e, G)].kind;
      auto is = [&](VertexKind x, VertexKind y) { return (ka == x && kb == y) || (ka == y && kb == x); };
      if (is(VertexKind::nic, VertexKind::leaf)) k.nic_leaf_cables += G[*e].links;
      if (is(VertexKind::leaf, VertexKind::spine)) k.leaf_spine_cables += G[*e].links;
      if (is(VertexKind::spine, VertexKind::core)) k.spine_core_cables += G[*e].links;
    }
    k.vertices = static_cast<int>(boost::num_vertices(G));
    k.edges = static_cast<int>(boost::num_edges(G));
    k.tiers = f.topo_.network.kind == NetworkKind::fat_tree ? f.topo_.network.tiers : 0;
  }
};

Expected<std::shared_ptr<const Fabric>> Fabric::build(const ClusterSpec& cluster) {
  auto valid = validate_cluster(cluster);
  if (!valid) return valid.error();
  auto topo = resolved_topology(cluster);
  if (!topo) return topo.error();
  std::shared_ptr<Fabric> f(new Fabric());
  f->cluster_ = cluster;
  f->cluster_.topology = *topo;
  f->topo_ = *topo;
  f->domain_gpus_ = topo->scale_up.domain_gpus;
  if (topo->scale_up.kind == ScaleUpKind::torus) {
    for (std::size_t i = 0; i < topo->scale_up.torus_dims.size(); ++i) f->torus_dims_[i] = topo->scale_up.torus_dims[i];
    f->torus_wrap_ = topo->scale_up.torus_wraparound;
    f->torus_link_bw_ = std::min(cluster.scale_up.pair_bandwidth.value, cluster.scale_up.bandwidth.value);
  }
  const int n = cluster.total_gpus();
  f->gpu_vertex_.resize(n);
  Impl::build_scale_up(*f);
  f->switch_latency_ = topo->network.switch_latency.value;
  if (topo->network.kind == NetworkKind::fat_tree) {
    auto shape = fat_tree_shape(cluster, *topo);
    if (!shape) return shape.error();
    Impl::build_network(*f, *shape);
  } else {
    f->gpu_nic_.assign(n, 0);
  }
  auto ok = Impl::check_graph(*f);
  if (!ok) return ok.error();
  Impl::count(*f);
  return std::shared_ptr<const Fabric>(std::move(f));
}

// ------------------------------------------------------------------------------------------------
// Inspection

Route Fabric::route(int from_gpu, int to_gpu) const {
  const auto& G = graph_;
  const auto n = boost::num_vertices(G);
  std::vector<VertexId> pred(n, boost::graph_traits<TopologyGraph>::null_vertex());
  const auto src = gpu_vertex_[from_gpu], dst = gpu_vertex_[to_gpu];
  pred[src] = src;
  boost::breadth_first_search(
      G, src,
      boost::visitor(boost::make_bfs_visitor(boost::record_predecessors(pred.data(), boost::on_tree_edge()))));
  Route r;
  for (auto v = dst;; v = pred[v]) {
    r.vertices.push_back(v);
    if (v == src) break;
  }
  std::reverse(r.vertices.begin(), r.vertices.end());
  r.hops = static_cast<int>(r.vertices.size()) - 1;
  double bottleneck = kInf, latency = 0;
  for (std::size_t i = 0; i + 1 < r.vertices.size(); ++i) {
    const auto e = boost::edge(r.vertices[i], r.vertices[i + 1], G).first;
    bottleneck = std::min(bottleneck, G[e].bandwidth.value);
    latency += G[e].latency.value;
    if (i > 0) latency += G[r.vertices[i]].latency.value;
  }
  r.bottleneck = ByteRate(r.hops > 0 ? bottleneck : 0.0);
  r.latency = Seconds(latency);
  return r;
}

ByteRate Fabric::bisection_bandwidth() const {
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, long long,
                      boost::property<boost::edge_residual_capacity_t, long long,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  // Capacities in MB/s (integers keep push-relabel exact).
  constexpr double kUnit = 1e6;
  constexpr long long kBig = 1LL << 50;
  const auto& G = graph_;
  const auto nv = boost::num_vertices(G);
  FlowGraph F(nv + 2);
  auto cap = boost::get(boost::edge_capacity, F);
  auto rev = boost::get(boost::edge_reverse, F);
  auto arc = [&](std::size_t a, std::size_t b, long long c) {
    const auto e1 = boost::add_edge(a, b, F).first;
    const auto e2 = boost::add_edge(b, a, F).first;
    cap[e1] = c;
    cap[e2] = 0;
    rev[e1] = e2;
    rev[e2] = e1;
  };
  for (auto [e, end] = boost::edges(G); e != end; ++e) {
    const auto c = static_cast<long long>(std::llround(G[*e].bandwidth.value / kUnit));
    arc(boost::source(*e, G), boost::target(*e, G), c);
    arc(boost::target(*e, G), boost::source(*e, G), c);
  }
  const std::size_t s = nv, t = nv + 1;
  const int n = gpu_count();
  for (int g = 0; g < n; ++g) {
    if (g < n / 2) arc(s, gpu_vertex_[g], kBig);
    else arc(gpu_vertex_[g], t, kBig);
  }
  const long long flow = boost::push_relabel_max_flow(F, s, t);
  return ByteRate(static_cast<double>(flow) * kUnit);
}

// ------------------------------------------------------------------------------------------------
// Group profiles

std::size_t Fabric::PatternHash::operator()(const GroupPattern& p) const {
  std::size_t h = static_cast<std::size_t>(p.world) * 1000003u + (p.concurrent ? 1u : 0u);
  for (const auto& a : p.axes) h = h * 1000033u + static_cast<std::size_t>(a.count) * 7919u + static_cast<std::size_t>(a.stride);
  return h;
}

Expected<std::shared_ptr<const GroupProfile>> Fabric::profile(const GroupPattern& pattern) const {
  {
    std::shared_lock lock(cache_mutex_);
    if (auto it = cache_.find(pattern); it != cache_.end()) return it->second;
  }
  if (pattern.world > gpu_count())
    return invalid("layout", std::to_string(pattern.world) + " ranks but the cluster has " + std::to_string(gpu_count()) +
                                 " GPUs");
  auto groups = enumerate_groups(pattern);
  if (!groups) return groups.error();
  auto prof = std::make_shared<const GroupProfile>(compute_profile(*groups));
  std::unique_lock lock(cache_mutex_);
  return cache_.emplace(pattern, std::move(prof)).first->second;
}

CollectiveResult Fabric::cost(Collective op, Bytes size, const Placement& placement, ParallelDim dim) const {
  auto p = profile(placement.pattern(dim));
  assert(p.has_value() && "the placement was made for this fabric (Placement::make with its GPU count)");
  if (!p) {
    CollectiveResult never;
    never.time = Seconds(std::numeric_limits<double>::infinity());
    return never;
  }
  CollectiveOptions opt;
  opt.calibration = &topo_.calibration;
  return cost_collective(**p, op, size, opt);
}

Expected<CollectiveResult> Fabric::cost(Collective op, Bytes size, const GroupPattern& pattern,
                                        const CollectiveOptions& options) const {
  auto p = profile(pattern);
  if (!p) return p.error();
  CollectiveOptions opt = options;
  if (!opt.calibration) opt.calibration = &topo_.calibration;
  return cost_collective(**p, op, size, opt);
}

namespace {

// Loads (in units of the traffic of one transfer) on each capacity a route through the network uses.
struct Loads {
  std::vector<double> gpu_out, gpu_in, nic_out, nic_in, leaf_up, leaf_down, pod_up, pod_down, ici;
  int tiers = 0;
  bool any = false;
  void reset(std::size_t gpus, std::size_t nics, std::size_t leaves, std::size_t pods, bool torus) {
    gpu_out.assign(gpus, 0); gpu_in.assign(gpus, 0);
    nic_out.assign(nics, 0); nic_in.assign(nics, 0);
    leaf_up.assign(leaves, 0); leaf_down.assign(leaves, 0);
    pod_up.assign(pods, 0); pod_down.assign(pods, 0);
    ici.assign(torus ? gpus * 6 : 0, 0);
  }
};

struct Worst {
  double ratio = 0;  // load / capacity (seconds per unit of traffic)
  const char* what = "";
  void take(double load, double cap, const char* name) {
    if (load <= 0) return;
    const double r = load / cap;
    if (r > ratio) { ratio = r; what = name; }
  }
};

// Directed-link load of uniform all-to-all on one torus axis of `a` chips (ring when `wrap`), per pair
// of coordinates: the most pairs any directed link carries, shortest direction, ties split in half.
double torus_axis_pairs(int a, bool wrap) {
  std::vector<double> plus(a, 0), minus(a, 0);
  for (int i = 0; i < a; ++i)
    for (int j = 0; j < a; ++j) {
      if (i == j) continue;
      auto walk = [&](int dir, double w) {
        for (int x = i; x != j; x = (x + dir + a) % a) (dir > 0 ? plus : minus)[x] += w;
      };
      if (wrap) {
        const int fwd = (j - i + a) % a, bwd = a - fwd;
        if (fwd < bwd) walk(+1, 1.0);
        else if (bwd < fwd) walk(-1, 1.0);
        else { walk(+1, 0.5); walk(-1, 0.5); }
      } else {
        walk(j > i ? +1 : -1, 1.0);
      }
    }
  return std::max(*std::max_element(plus.begin(), plus.end()), *std::max_element(minus.begin(), minus.end()));
}

}  // namespace

GroupProfile Fabric::compute_profile(const std::vector<std::vector<int>>& groups) const {
  const auto& c = cluster_;
  const auto& t = topo_;
  const auto& G = graph_;
  const int N = gpu_count();
  const int D = domain_gpus_;
  const bool torus = t.scale_up.kind == ScaleUpKind::torus;
  const bool net = t.network.kind == NetworkKind::fat_tree;
  const std::size_t nics = nic_cap_.size(), leaves = leaf_up_cap_.size(), pods = pod_up_cap_.size();

  GroupProfile g;
  g.size = static_cast<int>(groups.front().size());
  g.groups = static_cast<int>(groups.size());
  g.scale_up = t.scale_up.kind;
  g.up_efficiency = c.scale_up.efficiency;
  g.out_efficiency = c.scale_out.efficiency;
  g.nvls_efficiency = t.scale_up.in_network_efficiency;
  g.sharp_efficiency = t.network.in_network_efficiency;
  g.up_step = c.scale_up.latency.value;
  g.out_step = c.scale_out.latency.value;
  g.nvls = t.scale_up.kind == ScaleUpKind::switched && c.scale_up.in_network_reduction;
  g.sharp = net && c.scale_out.in_network_reduction;
  const char* up_name = torus ? "ici" : t.scale_up.kind == ScaleUpKind::full_mesh ? "xgmi" : "nvlink";

  // Which group each GPU is in (membership tests for the in-domain links).
  std::vector<int> member_of(N, -1);
  for (std::size_t i = 0; i < groups.size(); ++i)
    for (int m : groups[i]) member_of[m] = static_cast<int>(i);

  Loads ring, a2a, p2p;
  ring.reset(N, nics, leaves, pods, torus);
  a2a.reset(N, nics, leaves, pods, torus);
  p2p.reset(N, nics, leaves, pods, torus);

  auto add_route = [&](Loads& L, int u, int v, double w) {
    L.any = true;
    L.gpu_out[u] += w;
    L.gpu_in[v] += w;
    const int a = gpu_nic_[u], b = gpu_nic_[v];
    L.nic_out[a] += w;
    L.nic_in[b] += w;
    int tier = 1;
    const int la = nic_leaf_[a], lb = nic_leaf_[b];
    if (la != lb) {
      tier = 2;
      L.leaf_up[la] += w;
      L.leaf_down[lb] += w;
      const int pa = leaf_pod_[la], pb = leaf_pod_[lb];
      if (pa != pb) {
        tier = 3;
        L.pod_up[pa] += w;
        L.pod_down[pb] += w;
      }
    }
    L.tiers = std::max(L.tiers, tier);
  };
  auto coords = [&](int gpu, int co[3]) {
    const int local = gpu % D;
    co[0] = local % torus_dims_[0];
    co[1] = (local / torus_dims_[0]) % torus_dims_[1];
    co[2] = local / (torus_dims_[0] * torus_dims_[1]);
  };
  // Dimension-order routing on the torus; ties on a ring split half each way.
  auto route_torus = [&](Loads& L, int u, int v, double w) {
    int cu[3], cv[3];
    coords(u, cu);
    coords(v, cv);
    const int base = u - u % D;
    int cur[3] = {cu[0], cu[1], cu[2]};
    for (int ax = 0; ax < 3; ++ax) {
      const int A = torus_dims_[ax];
      const int a = cur[ax], b = cv[ax];
      if (a == b) continue;
      auto walk = [&](int dir, double wt) {
        int pos[3] = {cur[0], cur[1], cur[2]};
        for (int x = a; x != b; x = (x + dir + A) % A) {
          pos[ax] = x;
          const int chip = base + pos[0] + torus_dims_[0] * (pos[1] + torus_dims_[1] * pos[2]);
          L.ici[(static_cast<std::size_t>(chip) * 3 + ax) * 2 + (dir > 0 ? 1 : 0)] += wt;
        }
      };
      if (torus_wrap_ && A > 2) {
        const int fwd = (b - a + A) % A, bwd = A - fwd;
        if (fwd < bwd) walk(+1, w);
        else if (bwd < fwd) walk(-1, w);
        else { walk(+1, w / 2); walk(-1, w / 2); }
      } else {
        walk(b > a ? +1 : -1, w);
      }
      cur[ax] = b;
    }
  };
  auto worst_network = [&](const Loads& L) {
    Worst w;
    for (int i = 0; i < N; ++i) {
      w.take(L.gpu_out[i], gpu_pcie_cap_.empty() ? kInf : gpu_pcie_cap_[i], "pcie");
      w.take(L.gpu_in[i], gpu_pcie_cap_.empty() ? kInf : gpu_pcie_cap_[i], "pcie");
    }
    for (std::size_t i = 0; i < nics; ++i) {
      w.take(L.nic_out[i], nic_cap_[i], "nic");
      w.take(L.nic_in[i], nic_cap_[i], "nic");
    }
    for (std::size_t i = 0; i < leaves; ++i) {
      w.take(L.leaf_up[i], leaf_up_cap_[i], "leaf uplinks");
      w.take(L.leaf_down[i], leaf_up_cap_[i], "leaf uplinks");
    }
    for (std::size_t i = 0; i < pods; ++i) {
      w.take(L.pod_up[i], pod_up_cap_[i], "spine uplinks");
      w.take(L.pod_down[i], pod_up_cap_[i], "spine uplinks");
    }
    return w;
  };
  auto worst_ici = [&](const Loads& L) {
    Worst w;
    for (double l : L.ici) w.take(l, torus_link_bw_, "ici");
    return w;
  };
  // Bandwidth from u into the domain-mates of its group: its edge to the domain's switch, or its direct
  // links to the members (a full mesh), capped by the GPU's total scale-up bandwidth.
  auto intra_bw = [&](int u) {
    double bw = 0;
    const auto vu = gpu_vertex_[u];
    for (auto [e, end] = boost::out_edges(vu, G); e != end; ++e) {
      const auto w = boost::target(*e, G);
      const auto& wv = G[w];
      if (wv.kind == VertexKind::nvswitch && wv.domain == domain_of(u)) bw += G[*e].bandwidth.value;
      else if (wv.kind == VertexKind::gpu && member_of[wv.index] == member_of[u] && domain_of(wv.index) == domain_of(u))
        bw += G[*e].bandwidth.value;
    }
    return std::min(bw, c.scale_up.bandwidth.value);
  };
  auto pair_bw = [&](int u, int v) {
    if (t.scale_up.kind == ScaleUpKind::switched)
      return std::min(c.scale_up.bandwidth.value, c.scale_up.pair_bandwidth.value);
    const auto e = boost::edge(gpu_vertex_[u], gpu_vertex_[v], G);
    return e.second ? G[e.first].bandwidth.value : 0.0;
  };

  int m_max = 1, k_max = 1;
  double ring_intra = kInf, a2a_intra_spb = 0, p2p_intra = kInf;
  const int rails = nics_per_node_;
  const int per_nic = t.host.gpus_per_nic;
  auto rail_of = [&](int gpu) { return (gpu % c.gpus_per_node) / per_nic; };
  // Torus sub-grids (whole coordinate ranges inside one domain) run dimension by dimension, and their
  // all-to-all has a closed form: S/n per pair, n/a lines per axis position.
  double subgrid_a2a_spb = 0;
  if (const auto& first = groups.front(); torus && g.size > 1 && domain_of(first.front()) == domain_of(first.back())) {
    std::array<std::vector<int>, 3> sets;
    for (int u : first) {
      int co[3];
      coords(u, co);
      for (int ax = 0; ax < 3; ++ax) sets[ax].push_back(co[ax]);
    }
    long long prod = 1;
    bool contiguous = true;
    std::array<int, 3> count{};
    for (int ax = 0; ax < 3; ++ax) {
      auto& set = sets[ax];
      std::sort(set.begin(), set.end());
      set.erase(std::unique(set.begin(), set.end()), set.end());
      count[ax] = static_cast<int>(set.size());
      prod *= count[ax];
      if (set.back() - set.front() + 1 != count[ax]) contiguous = false;
    }
    if (contiguous && prod == g.size) {
      for (int ax = 0; ax < 3; ++ax) {
        const int a = count[ax];
        if (a < 2) continue;
        const bool wrap = torus_wrap_ && a == torus_dims_[ax] && a > 2;
        g.torus_axes[g.torus_naxes++] = {a, (wrap ? 2.0 : 1.0) * torus_link_bw_};
        subgrid_a2a_spb = std::max(subgrid_a2a_spb, torus_axis_pairs(a, wrap) / a / torus_link_bw_);
      }
    }
  }
  const bool subgrid = g.torus_naxes > 0;

  std::vector<std::vector<int>> runs;
  for (const auto& members : groups) {
    const int n = static_cast<int>(members.size());
    // Members by domain, in rank order (members ascend, so each domain's members are consecutive).
    runs.clear();
    for (int u : members) {
      if (runs.empty() || domain_of(runs.back().front()) != domain_of(u)) runs.emplace_back();
      runs.back().push_back(u);
    }
    const int m = static_cast<int>(runs.size());
    m_max = std::max(m_max, m);
    for (const auto& r : runs) k_max = std::max(k_max, static_cast<int>(r.size()));

    // --- ring (also tree, hierarchical, broadcast): a chain through each domain, one crossing per domain
    for (const auto& r : runs) {
      const int k = static_cast<int>(r.size());
      if (k < 2) continue;
      if (torus) {
        const bool closed = m == 1;  // the ring closes inside the domain
        for (int i = 0; i + (closed ? 0 : 1) < k; ++i) {
          const int u = r[i], v = r[(i + 1) % k];
          route_torus(ring, u, v, 0.5);  // two counter-rotating rings, half the data each
          route_torus(ring, v, u, 0.5);
        }
      } else {
        for (int u : r) ring_intra = std::min(ring_intra, intra_bw(u));
        // Each member sends S/n to each of its k-1 domain-mates (over one link each on a full mesh).
        a2a_intra_spb = std::max(a2a_intra_spb, (k - 1.0) / n / intra_bw(r[0]));
      }
    }
    if (m > 1 && net) {
      // Crossing A -> B: channel j leaves through the NIC of A's j-th member to B's j-th (rail-aligned).
      for (int i = 0; i < m; ++i) {
        const auto& A = runs[i];
        const auto& B = runs[(i + 1) % m];
        const double w = 1.0 / static_cast<double>(A.size());
        for (std::size_t j = 0; j < A.size(); ++j) add_route(ring, A[j], B[j % B.size()], w);
      }
    }

    // --- all-to-all: every member sends S/n to every other member
    if (m > 1 && net) {
      // Counts by rail: in the whole group, per node, per domain, per scalable unit (leaf group).
      std::vector<double> rail_total(rails, 0);
      std::unordered_map<int, std::vector<double>> node_rail, dom_rail, unit_rail;
      std::unordered_map<int, double> dom_count, leaf_count, pod_count;
      for (int u : members) {
        const int r = rail_of(u);
        const int leaf = nic_leaf_[gpu_nic_[u]];
        const int unit = t.network.rail_optimized ? leaf / rails : leaf;
        rail_total[r] += 1;
        auto bump = [&](std::unordered_map<int, std::vector<double>>& mp, int key) {
          auto& v = mp[key];
          if (v.empty()) v.assign(rails, 0);
          v[r] += 1;
        };
        bump(node_rail, node_of(u));
        bump(dom_rail, domain_of(u));
        bump(unit_rail, unit);
        dom_count[domain_of(u)] += 1;
        leaf_count[leaf] += 1;
        pod_count[leaf_pod_[leaf]] += 1;
      }
      const double inv_n = 1.0 / n;
      if (t.network.rail_optimized) {
        // PXN (NCCL >= 2.12): data for a peer on rail r first moves over the scale-up fabric to the GPU on
        // rail r of the sender's node, then leaves through that NIC and stays on rail r's leaf when it can.
        for (const auto& [node, counts] : node_rail) {
          const int dom = (node * c.gpus_per_node) / D;
          const double k_node = std::accumulate(counts.begin(), counts.end(), 0.0);
          const auto& in_dom = dom_rail[dom];
          for (int r = 0; r < rails; ++r) {
            const int nic = node * rails + r;
            a2a.nic_out[nic] += k_node * (rail_total[r] - in_dom[r]) * inv_n;
            a2a.nic_in[nic] += counts[r] * (n - dom_count[dom]) * inv_n;
          }
        }
        for (const auto& [unit, counts] : unit_rail) {
          const double k_unit = std::accumulate(counts.begin(), counts.end(), 0.0);
          for (int r = 0; r < rails; ++r) {
            const int leaf = unit * rails + r;
            if (leaf >= static_cast<int>(leaves)) continue;
            a2a.leaf_up[leaf] += k_unit * (rail_total[r] - counts[r]) * inv_n;
            a2a.leaf_down[leaf] += counts[r] * (n - k_unit) * inv_n;
          }
        }
      } else {
        for (int u : members) {
          const double remote = (n - dom_count[domain_of(u)]) * inv_n;
          a2a.nic_out[gpu_nic_[u]] += remote;
          a2a.nic_in[gpu_nic_[u]] += remote;
        }
        for (const auto& [leaf, cnt] : leaf_count) {
          a2a.leaf_up[leaf] += cnt * (n - cnt) * inv_n;
          a2a.leaf_down[leaf] += cnt * (n - cnt) * inv_n;
        }
      }
      for (const auto& [pod, cnt] : pod_count) {
        a2a.pod_up[pod] += cnt * (n - cnt) * inv_n;
        a2a.pod_down[pod] += cnt * (n - cnt) * inv_n;
      }
      // With PXN a rail-optimised fabric keeps the traffic of one scalable unit on its rail leaves.
      const std::size_t blocks = t.network.rail_optimized ? unit_rail.size() : leaf_count.size();
      a2a.tiers = std::max(a2a.tiers, pod_count.size() > 1 ? 3 : blocks > 1 ? 2 : 1);
    }
    if (torus && m == 1 && n > 1 && !subgrid && static_cast<long long>(n) * N <= kMaxTorusPairs) {
      // Uniform all-to-all inside the torus, routed pair by pair (sub-grids use the closed form).
      for (int u : members)
        for (int v : members)
          if (u != v) route_torus(a2a, u, v, 1.0 / n);
    }

    // --- send/recv: member i sends to member i+1, all pairs at once
    for (int i = 0; i + 1 < n; ++i) {
      const int u = members[i], v = members[i + 1];
      if (domain_of(u) != domain_of(v)) {
        // PXN on a rail-optimised fabric: the sender's node-mate on the receiver's rail sends it.
        const int src = t.network.rail_optimized ? node_of(u) * c.gpus_per_node + rail_of(v) * per_nic : u;
        if (net) add_route(p2p, src, v, 1.0);
      } else if (torus) {
        route_torus(p2p, u, v, 1.0);
      } else {
        p2p_intra = std::min(p2p_intra, pair_bw(u, v));
      }
    }
  }
  g.domains = m_max;
  g.per_domain = k_max;

  // Ring bandwidths.
  if (torus) {
    const auto w = worst_ici(ring);
    g.ring_intra_bw = w.ratio > 0 ? 1.0 / w.ratio : c.scale_up.bandwidth.value;
  } else {
    g.ring_intra_bw = ring_intra < kInf ? ring_intra : c.scale_up.bandwidth.value;
  }
  const auto wr = worst_network(ring);
  g.ring_inter_bw = wr.ratio > 0 ? 1.0 / wr.ratio : 0.0;
  const bool intra_used = k_max > 1, inter_used = m_max > 1;
  if (inter_used && (!intra_used || g.ring_inter_bw * g.out_efficiency < g.ring_intra_bw * g.up_efficiency))
    g.bottleneck = wr.what;
  else
    g.bottleneck = up_name;

  // All-to-all.
  const auto wa = worst_network(a2a);
  g.a2a_inter_s_per_byte = wa.ratio;
  if (subgrid) {
    g.a2a_intra_s_per_byte = subgrid_a2a_spb;
  } else if (torus && m_max == 1) {
    const auto wt = worst_ici(a2a);
    // Too many pairs to route: bound by what each chip can inject on its links (approximate).
    const int links = (torus_dims_[0] > 1) + (torus_dims_[1] > 1) + (torus_dims_[2] > 1);
    g.a2a_intra_s_per_byte = wt.ratio > 0 ? wt.ratio : (g.size - 1.0) / g.size / (2.0 * links * torus_link_bw_);
  } else {
    g.a2a_intra_s_per_byte = a2a_intra_spb;
  }

  // Send/recv.
  const auto wp = worst_network(p2p);
  g.p2p_crosses_domain = p2p.any;
  double p2p_bw = p2p_intra;
  g.p2p_bottleneck = up_name;
  if (wp.ratio > 0 && 1.0 / wp.ratio < p2p_bw) {
    p2p_bw = 1.0 / wp.ratio;
    g.p2p_bottleneck = wp.what;
  }
  if (torus) {
    const auto wt = worst_ici(p2p);
    if (wt.ratio > 0) p2p_bw = std::min(p2p_bw, 1.0 / wt.ratio);
  }
  g.p2p_bw = p2p_bw < kInf ? p2p_bw : c.scale_up.pair_bandwidth.value;

  g.a2a_bottleneck = g.a2a_inter_s_per_byte / g.out_efficiency > g.a2a_intra_s_per_byte / g.up_efficiency
                         ? std::string(wa.what)
                         : std::string(up_name);

  // Latency of the paths: switches traversed below the highest tier crossed (1, 3 or 5).
  auto path = [&](int tiers) { return (tiers == 0 ? 0 : 2 * tiers - 1) * switch_latency_; };
  g.tiers_crossed = ring.tiers;
  g.a2a_tiers_crossed = a2a.tiers;
  g.p2p_tiers_crossed = p2p.tiers;
  g.out_path = path(ring.tiers);
  g.a2a_out_path = path(a2a.tiers);
  g.p2p_out_path = path(p2p.tiers);
  g.up_path = 0.0;
  return g;
}

}  // namespace clustersim::hardware
