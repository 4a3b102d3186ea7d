#include "hardware/collectives.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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

std::optional<Collective> parse_collective(std::string_view s) {
  std::string t(s);
  std::replace(t.begin(), t.end(), '_', '-');
  for (auto c : {Collective::all_reduce, Collective::reduce_scatter, Collective::all_gather, Collective::all_to_all,
                 Collective::broadcast, Collective::send_recv})
    if (t == to_string(c)) return c;
  if (t == "sendrecv" || t == "p2p") return Collective::send_recv;
  if (t == "alltoall") return Collective::all_to_all;
  if (t == "allreduce") return Collective::all_reduce;
  if (t == "allgather") return Collective::all_gather;
  if (t == "reducescatter") return Collective::reduce_scatter;
  return std::nullopt;
}

const char* to_string(ScaleUpKind k) {
  switch (k) {
    case ScaleUpKind::switched: return "switched";
    case ScaleUpKind::full_mesh: return "full-mesh";
    case ScaleUpKind::torus: return "torus";
  }
  return "?";
}

const char* to_string(NetworkKind k) {
  switch (k) {
    case NetworkKind::fat_tree: return "fat-tree";
    case NetworkKind::none: return "none";
  }
  return "?";
}

const char* to_string(Algorithm a) {
  switch (a) {
    case Algorithm::none: return "none";
    case Algorithm::ring: return "ring";
    case Algorithm::tree: return "tree";
    case Algorithm::hierarchical: return "hierarchical";
    case Algorithm::nvls: return "nvls";
    case Algorithm::nvls_tree: return "nvls-tree";
    case Algorithm::in_network: return "in-network";
    case Algorithm::torus: return "torus";
    case Algorithm::pairwise: return "pairwise";
    case Algorithm::direct: return "direct";
    case Algorithm::calibrated: return "calibrated";
  }
  return "?";
}

const char* to_string(Protocol p) {
  switch (p) {
    case Protocol::none: return "none";
    case Protocol::ll: return "LL";
    case Protocol::ll128: return "LL128";
    case Protocol::simple: return "Simple";
  }
  return "?";
}

std::optional<Algorithm> parse_algorithm(std::string_view s) {
  for (auto a : {Algorithm::ring, Algorithm::tree, Algorithm::hierarchical, Algorithm::nvls, Algorithm::nvls_tree,
                 Algorithm::in_network, Algorithm::torus, Algorithm::pairwise, Algorithm::direct})
    if (s == to_string(a)) return a;
  if (s == "sharp" || s == "collnet") return Algorithm::in_network;
  return std::nullopt;
}

double bus_factor(Collective op, int n) {
  const double nn = std::max(1, n);
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

// NVLS efficiency when the preset does not give one: the ratio measured on 8 x H200 (NVLS 480 GB/s busbw
// = 2(n-1)/(n+1) x 450 x e -> e = 0.686, ring 367.2/450 = 0.816; shared reference sec. 7) applied to the
// fabric's ring efficiency: 0.686 / 0.816 = 0.840.
double default_nvls_efficiency(const LinkSpec& scale_up) { return scale_up.efficiency * 0.840; }
// SHARP in the network: no measurement in the shared reference; assumed to reach the links' ring efficiency.
double default_sharp_efficiency(const LinkSpec& scale_out) { return scale_out.efficiency; }

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kUs = 1e-6;
constexpr int kLL = 0, kLL128 = 1, kSimple = 2;
constexpr std::array<Protocol, 3> kProtocols{Protocol::ll, Protocol::ll128, Protocol::simple};

// NCCL 2.19 src/graph/tuning.cc: baseLat (us) and hwLat (us per step) by protocol {LL, LL128, Simple}.
constexpr std::array<double, 3> kBaseRing{6.6 * kUs, 14.0 * kUs, 8.4 * kUs};
constexpr std::array<double, 3> kBaseTree{6.8 * kUs, 14.0 * kUs, 0.0};
constexpr std::array<double, 3> kNvlRing{0.6, 1.9, 3.4};
constexpr std::array<double, 3> kNvlTree{0.6, 1.25, 28.0};
constexpr double kNvlNvls = 23.0;
constexpr std::array<double, 3> kNetRing{2.7, 4.0, 14.0};
constexpr std::array<double, 3> kNetTree{5.0, 8.5, 28.0};
constexpr double kNetNvlsTree = 14.0;
constexpr double kNetCollNet = 31.0;
// NCCL 2.19 tuning.cc: CollNet "arity serialization latency" per local rank; also used here as the cost
// of issuing one more peer's send in an all-to-all (assumption).
constexpr double kArity = 0.4 * kUs;
// NCCL 2.19 tuning.cc model refinements: tree bandwidth x 0.92; LL128 x 0.92 (x 0.7 with one rank per node).
constexpr double kTreeBw = 0.92;

struct Ctx {
  const GroupProfile& g;
  Collective op;
  double S;
  int n, k, m;
  bool intra, inter;
  bool nccl;  // NCCL-style protocols (not on torus domains, whose runtimes are not NCCL)
  double Bi, Bo, Bring;
  double out_path;  // the network path of this operation's traffic

  // The cluster's Simple ring step scaled by NCCL's hwLat ratio for this table entry, plus the path.
  [[nodiscard]] double up(double nccl_us) const { return g.up_step * nccl_us / kNvlRing[kSimple] + g.up_path; }
  [[nodiscard]] double out(double nccl_us) const { return g.out_step * nccl_us / kNetRing[kSimple] + out_path; }
  [[nodiscard]] double base(const std::array<double, 3>& b, int p) const { return nccl ? b[p] : 0.0; }
  // Share of the Simple bandwidth each protocol reaches (NCCL 2.19 tuning.cc).
  [[nodiscard]] double eta_ring(int p) const {
    if (p == kLL) return (inter || op == Collective::all_reduce) ? 1.0 / 4.0 : 1.0 / 3.0;
    if (p == kLL128) return k < 2 && inter ? 0.7 : 0.92;
    return 1.0;
  }
  [[nodiscard]] double eta_tree(int p) const {
    if (p == kLL) return 1.0 / 3.8;
    if (p == kLL128) return m == 1 ? 7.0 / 9.0 : 120.0 / 128.0;
    return 1.0;
  }
};

int log2i(int m) {
  int l = 0;
  while ((1 << (l + 1)) <= m) ++l;
  return l;
}

template <class F>
void for_each_candidate(const Ctx& c, F&& emit) {
  const auto& g = c.g;
  const double S = c.S, n = c.n, k = c.k, m = c.m;
  const int first_p = c.nccl ? kLL : kSimple;
  switch (c.op) {
    case Collective::all_reduce:
    case Collective::reduce_scatter:
    case Collective::all_gather: {
      const bool ar = c.op == Collective::all_reduce;
      const double f = bus_factor(c.op, c.n);
      const double mult = ar ? 2.0 : 1.0;  // all-reduce = reduce-scatter + all-gather
      for (int p = first_p; p <= kSimple; ++p) {
        // Ring: NCCL's step counts, 2(n-1) for all-reduce with 2m of them across nodes, n-1 and m-1 else.
        const double steps = mult * (n - 1.0);
        const double inter_steps = c.inter ? std::min(steps, ar ? 2.0 * m : m - 1.0) : 0.0;
        const double ring_lat = c.base(kBaseRing, p) + (steps - inter_steps) * c.up(kNvlRing[p]) +
                                inter_steps * c.out(kNetRing[p]);
        emit(Algorithm::ring, kProtocols[p], ring_lat + f * S / (c.Bring * c.eta_ring(p)), f * S);
        if (ar && c.inter) {
          // Double binary tree: chain through the k domain members, log2(m) levels across domains; every
          // rank sends and receives S twice (NCCL: algbw = busbw / 2).
          const double bt = std::min(c.intra ? c.Bi : kInf, c.Bo) * kTreeBw;
          const double lat = c.base(kBaseTree, p) + 2.0 * ((k - 1.0) * c.up(kNvlTree[p]) + log2i(c.m) * c.out(kNetTree[p]));
          emit(Algorithm::tree, kProtocols[p], lat + 2.0 * S / (bt * c.eta_tree(p)), f * S);
        }
        if (c.intra && c.inter && !c.nccl) {
          // Hierarchical (runtimes other than NCCL/RCCL, which have no such algorithm: their all-gather and
          // reduce-scatter are rings across every rank, NCCL tuning.cc), phases in sequence: in-domain reduce-scatter, the collective across domains on S/k
          // (k rings at once, one per local rank, each on its own NIC), in-domain all-gather.
          const double lat = c.base(kBaseRing, p) + mult * ((k - 1.0) * c.up(kNvlRing[p]) + (m - 1.0) * c.out(kNetRing[p]));
          const double t = mult * ((k - 1.0) / k * S / (c.Bi * c.eta_ring(p)) + (m - 1.0) / m * S / (c.Bo * c.eta_ring(p)));
          emit(Algorithm::hierarchical, kProtocols[p], lat + t, mult * ((k - 1.0) / k * S + (m - 1.0) / m * S / k));
        }
      }
      if (ar && g.nvls && c.n >= 2) {
        // NVLS: each GPU sends its array to the switch (multimem ld_reduce) and receives the result
        // (multimem st): S (n+1)/n per link direction, so busbw = 2(n-1)/(n+1) x B x e_nvls [D].
        const double bn = g.ring_intra_bw * g.nvls_efficiency;
        if (!c.inter) {
          emit(Algorithm::nvls, Protocol::simple, c.up(kNvlNvls) + S * (n + 1.0) / n / bn, S * (n + 1.0) / n);
        } else if (c.intra) {
          const double intra = S * (k + 1.0) / k / bn;
          const double across = 2.0 * S / (c.Bo * kTreeBw);
          const double lat = c.up(kNvlNvls) + 2.0 * log2i(c.m) * c.out(kNetNvlsTree);
          emit(Algorithm::nvls_tree, Protocol::simple, lat + std::max(intra, across),
               S * (k + 1.0) / k + 2.0 * (m - 1.0) / m * S / k);
        }
      }
      if (ar && g.sharp && c.inter) {
        // SHARP across domains: each NIC sends its S/k share up once and receives the reduced share once
        // (CollNet); inside the domain a ring (or NVLS) reduce-scatter / all-gather, pipelined.
        double intra = 0.0, lat = 0.0, bytes = S / k;
        if (c.intra) {
          if (g.nvls) {
            intra = S * (k + 1.0) / k / (g.ring_intra_bw * g.nvls_efficiency);
            lat = c.up(kNvlNvls);
            bytes += S * (k + 1.0) / k;
          } else {
            intra = 2.0 * (k - 1.0) / k * S / c.Bi;
            lat = 2.0 * (k - 1.0) * c.up(kNvlRing[kSimple]);
            bytes += 2.0 * (k - 1.0) / k * S;
          }
        }
        lat += 2.0 * (k - 1.0) * kArity + c.out(kNetCollNet);
        const double across = S / (g.ring_inter_bw * g.sharp_efficiency);
        emit(Algorithm::in_network, Protocol::simple, lat + std::max(intra, across), bytes);
      }
      if (g.torus_naxes > 0 && !c.inter) {
        // Torus sub-grid: reduce-scatter along each axis in turn on a shrinking share, then all-gather back.
        double t = 0.0, bytes = 0.0, share = S;
        for (int d = 0; d < g.torus_naxes; ++d) {
          const auto& ax = g.torus_axes[d];
          if (ax.count < 2) continue;
          const double a = ax.count;
          t += mult * ((a - 1.0) * c.up(kNvlRing[kSimple]) + (a - 1.0) / a * share / (ax.bandwidth * g.up_efficiency));
          bytes += mult * (a - 1.0) / a * share;
          share /= a;
        }
        emit(Algorithm::torus, Protocol::simple, t, bytes);
      }
      break;
    }
    case Collective::all_to_all: {
      const double f = bus_factor(c.op, c.n);
      for (int p = first_p; p <= kSimple; p += (c.nccl ? 2 : 1)) {  // LL and Simple, as NCCL's send/recv
        const double lat = c.base(kBaseRing, p) + (c.intra ? c.up(kNvlRing[p]) : 0.0) +
                           (c.inter ? c.out(kNetRing[p]) : 0.0) + (n - 1.0) * kArity;
        const double eta = c.eta_ring(p);
        const double t = std::max(S * g.a2a_intra_s_per_byte / (g.up_efficiency * eta),
                                  S * g.a2a_inter_s_per_byte / (g.out_efficiency * eta));
        emit(Algorithm::pairwise, kProtocols[p], lat + t, f * S);
      }
      break;
    }
    case Collective::broadcast: {
      for (int p = first_p; p <= kSimple; ++p) {
        const double steps = n - 1.0;
        const double inter_steps = c.inter ? m - 1.0 : 0.0;
        const double lat = c.base(kBaseRing, p) + (steps - inter_steps) * c.up(kNvlRing[p]) + inter_steps * c.out(kNetRing[p]);
        emit(Algorithm::ring, kProtocols[p], lat + S / (c.Bring * c.eta_ring(p)), S);
      }
      break;
    }
    case Collective::send_recv: {
      const bool x = g.p2p_crosses_domain;
      const double e = x ? g.out_efficiency : g.up_efficiency;
      for (int p = first_p; p <= kSimple; p += (c.nccl ? 2 : 1)) {
        const double lat = c.base(kBaseRing, p) + (x ? c.out(kNetRing[p]) : c.up(kNvlRing[p]));
        emit(Algorithm::direct, kProtocols[p], lat + S / (g.p2p_bw * e * c.eta_ring(p)), S);
      }
      break;
    }
  }
}

Ctx make_ctx(const GroupProfile& g, Collective op, double S) {
  const int n = g.size;
  const int k = std::clamp(g.per_domain, 1, std::max(1, n));
  const int m = std::max(1, g.domains);
  const bool intra = k > 1, inter = m > 1;
  const double Bi = g.ring_intra_bw * g.up_efficiency;
  const double Bo = g.ring_inter_bw * g.out_efficiency;
  const double Bring = std::min(intra ? Bi : kInf, inter ? Bo : kInf);
  const double path = op == Collective::all_to_all ? g.a2a_out_path
                     : op == Collective::send_recv  ? g.p2p_out_path
                                                    : g.out_path;
  return Ctx{g, op, S, n, k, m, intra, inter, g.scale_up != ScaleUpKind::torus, Bi, Bo, Bring, path};
}

CollectiveResult finish(Collective op, int n, double S, double t, Algorithm a, Protocol p, double bytes) {
  CollectiveResult r;
  r.time = Seconds(t);
  r.algorithm = a;
  r.protocol = p;
  r.bytes_sent_per_rank = Bytes(bytes);
  r.algbw = t > 0 ? ByteRate(S / t) : ByteRate(0);
  r.busbw = ByteRate(r.algbw.value * bus_factor(op, n));
  return r;
}

const CollectiveCalibration* find_calibration(const std::vector<CollectiveCalibration>* cal, Collective op, int n, int k) {
  if (!cal) return nullptr;
  for (const auto& c : *cal)
    if (c.op == op && c.ranks == n && (c.ranks_per_domain == 0 || c.ranks_per_domain == k) && !c.points.empty())
      return &c;
  return nullptr;
}

// Time from a measured curve: t_i = f s_i / busbw_i at the measured sizes, linear in S between them
// (the alpha-beta form is affine in S), the smallest size's time below it (latency-bound), and the
// largest size's busbw above it.
double calibrated_time(const CollectiveCalibration& c, double f, double S) {
  const auto& p = c.points;
  auto t_at = [&](std::size_t i) { return f * p[i].size.value / p[i].busbw.value; };
  if (S <= p.front().size.value) return t_at(0);
  if (S >= p.back().size.value) return f * S / p.back().busbw.value;
  for (std::size_t i = 1; i < p.size(); ++i) {
    if (S <= p[i].size.value) {
      const double x0 = p[i - 1].size.value, x1 = p[i].size.value;
      const double w = (S - x0) / (x1 - x0);
      return t_at(i - 1) * (1.0 - w) + t_at(i) * w;
    }
  }
  return f * S / p.back().busbw.value;
}

}  // namespace

CollectiveResult cost_collective(const GroupProfile& g, Collective op, Bytes size, const CollectiveOptions& opt) {
  const double S = size.value;
  if (g.size <= 1 || S <= 0) return finish(op, g.size, S, 0.0, Algorithm::none, Protocol::none, 0.0);
  if (const auto* cal = find_calibration(opt.calibration, op, g.size, g.per_domain)) {
    const double f = bus_factor(op, g.size);
    return finish(op, g.size, S, calibrated_time(*cal, f, S), Algorithm::calibrated, Protocol::none, f * S);
  }
  const Ctx c = make_ctx(g, op, S);
  double best = kInf, best_forced = kInf;
  CollectiveResult r, forced;
  for_each_candidate(c, [&](Algorithm a, Protocol p, double t, double bytes) {
    if (t < best) {
      best = t;
      r = finish(op, g.size, S, t, a, p, bytes);
    }
    if (opt.algorithm && *opt.algorithm == a && t < best_forced) {
      best_forced = t;
      forced = finish(op, g.size, S, t, a, p, bytes);
    }
  });
  return best_forced < kInf ? forced : r;
}

std::vector<CollectiveResult> collective_candidates(const GroupProfile& g, Collective op, Bytes size) {
  std::vector<CollectiveResult> out;
  const double S = size.value;
  if (g.size <= 1 || S <= 0) return out;
  for_each_candidate(make_ctx(g, op, S), [&](Algorithm a, Protocol p, double t, double bytes) {
    out.push_back(finish(op, g.size, S, t, a, p, bytes));
  });
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.time < b.time; });
  return out;
}

const std::string& bottleneck(const GroupProfile& g, Collective op) {
  if (op == Collective::all_to_all) return g.a2a_bottleneck;
  if (op == Collective::send_recv) return g.p2p_bottleneck;
  return g.bottleneck;
}

int tiers_crossed(const GroupProfile& g, Collective op) {
  if (op == Collective::all_to_all) return g.a2a_tiers_crossed;
  if (op == Collective::send_recv) return g.p2p_tiers_crossed;
  return g.tiers_crossed;
}

GroupProfile two_level_profile(const ClusterSpec& c, int size, int per_domain) {
  GroupProfile g;
  const int n = std::max(1, size);
  const int k = std::clamp(per_domain, 1, n);
  const int m = (n + k - 1) / k;
  const auto& up = c.scale_up;
  const auto& out = c.scale_out;
  ScaleUpKind kind = up.pair_bandwidth.value < up.bandwidth.value ? ScaleUpKind::full_mesh : ScaleUpKind::switched;
  double nvls_eff = default_nvls_efficiency(up), sharp_eff = default_sharp_efficiency(out);
  if (c.topology) {
    kind = c.topology->scale_up.kind;
    if (c.topology->scale_up.in_network_efficiency > 0) nvls_eff = c.topology->scale_up.in_network_efficiency;
    if (c.topology->network.in_network_efficiency > 0) sharp_eff = c.topology->network.in_network_efficiency;
  }
  g.size = n;
  g.domains = m;
  g.per_domain = k;
  g.scale_up = kind;
  const double bw = up.bandwidth.value, pair = std::min(up.pair_bandwidth.value, bw);
  switch (kind) {
    case ScaleUpKind::switched: g.ring_intra_bw = bw; break;
    // One direct link to each domain-mate (shared reference sec. 5: MI300X 64 GB/s per peer).
    case ScaleUpKind::full_mesh: g.ring_intra_bw = std::min(bw, (k - 1) * pair); break;
    // A bidirectional ring along one torus axis uses two links per chip.
    case ScaleUpKind::torus: g.ring_intra_bw = std::min(bw, 2.0 * pair); break;
  }
  // Ring crossings spread over the NICs of the k members (one channel per NIC).
  g.ring_inter_bw = k * out.bandwidth.value;
  if (k > 1)
    g.a2a_intra_s_per_byte = kind == ScaleUpKind::full_mesh ? 1.0 / (n * pair) : (k - 1.0) / n / g.ring_intra_bw;
  g.a2a_inter_s_per_byte = static_cast<double>(n - k) / n / out.bandwidth.value;
  g.p2p_crosses_domain = m > 1;
  g.p2p_bw = g.p2p_crosses_domain ? out.bandwidth.value : pair;
  g.up_efficiency = up.efficiency;
  g.out_efficiency = out.efficiency;
  g.nvls_efficiency = nvls_eff;
  g.sharp_efficiency = sharp_eff;
  g.up_step = up.latency.value;
  g.out_step = out.latency.value;
  g.nvls = up.in_network_reduction && kind == ScaleUpKind::switched;
  g.sharp = out.in_network_reduction;
  g.tiers_crossed = g.a2a_tiers_crossed = g.p2p_tiers_crossed = m > 1 ? 1 : 0;
  g.bottleneck = m > 1 ? "scale-out" : "scale-up";
  g.a2a_bottleneck = g.a2a_inter_s_per_byte / out.efficiency > g.a2a_intra_s_per_byte / up.efficiency ? "scale-out" : "scale-up";
  g.p2p_bottleneck = g.p2p_crosses_domain ? "scale-out" : "scale-up";
  return g;
}

}  // namespace clustersim::hardware
