#pragma once
// Collective algorithms and their time, over a GroupProfile: what a group of ranks sees of the fabric
// (members per scale-up domain, bottleneck bandwidths with concurrent groups sharing links, step
// latencies). hardware/topology.hpp derives profiles from the topology graph; two_level_profile()
// derives one from the simple cluster description.
//
// Time of one algorithm with one protocol (NCCL's tuning model, src/graph/tuning.cc of NCCL 2.19):
//   t = base_p + sum_levels(steps x alpha_level,p) + sum_phases(c_phase x S / (B_phase x e_phase x eta_p))
// with B the bottleneck wire bandwidth of the phase, e the fabric's large-message efficiency (nccl-tests
// busbw / wire), eta_p the protocol's share of it (LL 1/4, LL128 0.92, Simple 1) and alpha_level,p the
// step latency of the cluster scaled by NCCL's protocol ratios plus the path latency of the graph.
// Pipelined algorithms (ring, tree, NVLS) take the slowest phase, phased ones (hierarchical) the sum.
// The fastest (algorithm, protocol) wins, as NCCL picks; the curve busbw(S) this yields is Hockney's
// r_inf * S / (S + n_1/2) per protocol, maximised over protocols. A calibration table (size -> busbw,
// as nccl-tests prints) for the operation and group replaces all of it.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "hardware/cluster.hpp"

namespace clustersim::hardware {

enum class Algorithm {
  none,          // one rank: nothing to do
  ring,          // NCCL ring (intra-domain chain, one crossing per domain and channel)
  tree,          // NCCL double binary tree across domains, chain inside
  hierarchical,  // reduce-scatter in the domain, the collective across domains on S/k, all-gather back
  nvls,          // NVLink SHARP: the NVSwitch reduces (one domain)
  nvls_tree,     // NVLS inside the domain, tree across domains
  in_network,    // SHARP in the network switches across domains (CollNet)
  torus,         // dimension by dimension on a torus sub-grid (bidirectional rings per axis)
  pairwise,      // all-to-all: every rank sends to every peer at once
  direct,        // send/recv
  calibrated,    // interpolated from a measured table
};
enum class Protocol { none, ll, ll128, simple };
const char* to_string(Algorithm a);
const char* to_string(Protocol p);
std::optional<Algorithm> parse_algorithm(std::string_view s);

// What one group (and the groups running beside it) sees of the fabric. Bandwidths are wire bytes/s in
// one direction; "ring units": one ring edge carrying T bytes across domains takes T / ring_inter_bw.
struct GroupProfile {
  int size = 1;          // members n
  int domains = 1;       // scale-up domains spanned, m (the most any group spans)
  int per_domain = 1;    // members in one domain, k (the most)
  int groups = 1;        // groups running at the same time
  ScaleUpKind scale_up = ScaleUpKind::switched;

  double ring_intra_bw = 0;         // per member, among its domain-mates
  double ring_inter_bw = 0;         // ring traffic leaving a domain (spread over the members' NICs)
  double a2a_intra_s_per_byte = 0;  // all-to-all: seconds per byte of the per-rank buffer, inside domains
  double a2a_inter_s_per_byte = 0;  // ... across domains (NICs and switch uplinks, all groups at once)
  double p2p_bw = 0;                // send/recv from each member to the next, all pairs at once
  bool p2p_crosses_domain = false;

  double up_efficiency = 0.8, out_efficiency = 0.8;  // scale-up / scale-out busbw over wire
  double nvls_efficiency = 0, sharp_efficiency = 0;  // in-switch reduction over wire
  double up_step = 0, out_step = 0;  // Simple-protocol step latency (s), without path latency
  double up_path = 0;                // path latency inside a domain, seconds
  // Network path latency (switch traversals) of ring, all-to-all and send/recv traffic, seconds.
  double out_path = 0, a2a_out_path = 0, p2p_out_path = 0;
  bool nvls = false;                 // the domain's switch reduces (NVLS)
  bool sharp = false;                // the network switches reduce (SHARP)
  int tiers_crossed = 0;             // ring traffic: 0 inside domains, 1 one leaf, 2 spines, 3 cores
  int a2a_tiers_crossed = 0, p2p_tiers_crossed = 0;
  std::string bottleneck;            // what limits ring traffic ("nvlink", "nic", "leaf uplinks", ...)
  std::string a2a_bottleneck;        // ... all-to-all traffic
  std::string p2p_bottleneck;        // ... send/recv traffic

  // Torus domains: a group that is a sub-grid of the torus runs dimension by dimension.
  struct TorusAxis {
    int count = 1;
    double bandwidth = 0;  // per member along this axis (2 links with wrap-around, 1 without)
  };
  std::array<TorusAxis, 3> torus_axes{};
  int torus_naxes = 0;    // 0: not a sub-grid (or not a torus)
};

struct CollectiveResult {
  Seconds time;
  Algorithm algorithm = Algorithm::none;
  Protocol protocol = Protocol::none;
  Bytes bytes_sent_per_rank;  // what each rank puts on its links
  ByteRate algbw;             // S / t
  ByteRate busbw;             // algbw x bus_factor (nccl-tests doc/PERFORMANCE.md)
};

struct CollectiveOptions {
  std::optional<Algorithm> algorithm;                           // force one (NCCL_ALGO)
  const std::vector<CollectiveCalibration>* calibration = nullptr;
};

// busbw / algbw (nccl-tests doc/PERFORMANCE.md): all-reduce 2(n-1)/n, reduce-scatter, all-gather and
// all-to-all (n-1)/n, broadcast and send/recv 1.
double bus_factor(Collective op, int n);

// The fastest algorithm for the operation on S bytes (nccl-tests sizes: the full array for
// reduce-scatter and all-gather, the per-rank send buffer for all-to-all). O(1).
CollectiveResult cost_collective(const GroupProfile& g, Collective op, Bytes size, const CollectiveOptions& opt = {});

// Every (algorithm, protocol) that applies, fastest first (for the command line and tests).
std::vector<CollectiveResult> collective_candidates(const GroupProfile& g, Collective op, Bytes size);

// What limits the operation's traffic on this profile (the ring's, the all-to-all's or the pair's), and
// the highest network tier that traffic crosses.
const std::string& bottleneck(const GroupProfile& g, Collective op);
int tiers_crossed(const GroupProfile& g, Collective op);

// The uncontended two-level profile of the simple cluster description: `size` members, `per_domain`
// of them per node, every member using its own share of the node's NICs.
GroupProfile two_level_profile(const ClusterSpec& cluster, int size, int per_domain);

// Defaults of the topology description that the collectives use (sourced in collectives.cpp).
double default_nvls_efficiency(const LinkSpec& scale_up);
double default_sharp_efficiency(const LinkSpec& scale_out);

}  // namespace clustersim::hardware
