// Building a 16,384-GPU fat-tree (2,048 DGX H100 nodes, 3 tiers of 64-port switches) and costing
// collectives on it: build time and memory, the first cost of each parallel dimension (routing every
// group once), the memoised cost per call, and the bisection max-flow. Figures go to bench/README.md.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "hardware/topology.hpp"
#include "presets/topology_json.hpp"

using namespace clustersim;
using namespace clustersim::hardware;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
double heap_mib() { return static_cast<double>(mallinfo2().uordblks) / (1024.0 * 1024.0); }

}  // namespace

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 2048;
  auto cluster = presets::cluster_with_topology_from_json(nlohmann::json{{"base", "dgx-h100"}, {"nodes", nodes}});
  if (!cluster) {
    std::fprintf(stderr, "%s\n", cluster.error().what().c_str());
    return 3;
  }

  // Build: best and median of 5, and the heap the sealed fabric keeps.
  std::vector<double> builds;
  std::shared_ptr<const Fabric> fabric;
  double heap = 0;
  for (int i = 0; i < 5; ++i) {
    fabric.reset();
    const double before = heap_mib();
    const auto t0 = Clock::now();
    auto f = Fabric::build(*cluster);
    builds.push_back(seconds_since(t0));
    if (!f) {
      std::fprintf(stderr, "%s\n", f.error().what().c_str());
      return 3;
    }
    fabric = *f;
    heap = heap_mib() - before;
  }
  std::sort(builds.begin(), builds.end());
  const auto& k = fabric->counts();
  std::printf("cluster            dgx-h100 x %d nodes = %d GPUs\n", nodes, fabric->gpu_count());
  std::printf("graph              %d vertices, %d edges (%d leaves, %d spines, %d cores, %d tiers)\n", k.vertices,
              k.edges, k.leaves, k.spines, k.cores, k.tiers);
  std::printf("build              best %.1f ms, median %.1f ms (5 runs)\n", builds.front() * 1e3, builds[2] * 1e3);
  std::printf("fabric heap        %.1f MiB\n", heap);

  // Placement tp 8 x pp 16 x dp (ep 8 inside dp); first cost per dimension routes every group once.
  const int dp = fabric->gpu_count() / (8 * 16);
  auto pl = place(*fabric, {.tp = 8, .ep = 8, .dp = dp, .pp = 16});
  if (!pl) {
    std::fprintf(stderr, "%s\n", pl.error().what().c_str());
    return 3;
  }
  struct Dim { ParallelDim d; Collective op; double bytes; };
  const Dim dims[] = {{ParallelDim::tp, Collective::all_gather, 64.0 * kMiB},
                      {ParallelDim::dp, Collective::all_reduce, 1.0 * kGiB},
                      {ParallelDim::pp, Collective::send_recv, 16.0 * kMiB},
                      {ParallelDim::ep, Collective::all_to_all, 256.0 * kMiB}};
  for (const auto& d : dims) {
    const double before = heap_mib();
    const auto t0 = Clock::now();
    const auto r = fabric->cost(d.op, Bytes(d.bytes), *pl, d.d);
    const double cold = seconds_since(t0);
    const auto prof = *fabric->profile(pl->pattern(d.d));
    std::printf("first cost %-3s     %7.2f ms  (%d groups of %d, %s %.0f MiB: %s, %.3f ms, busbw %.1f GB/s, bottleneck %s; +%.2f MiB)\n",
                to_string(d.d), cold * 1e3, prof->groups, prof->size, to_string(d.op), d.bytes / kMiB,
                to_string(r.algorithm), r.time.value * 1e3, r.busbw.value / 1e9, bottleneck(*prof, d.op).c_str(),
                heap_mib() - before);
  }

  // Memoised: the profile is found under a shared lock, then the algorithms are a closed form.
  constexpr int kCalls = 2'000'000;
  double sink = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < kCalls; ++i)
    sink += fabric->cost(Collective::all_reduce, Bytes(1e6 + i), *pl, ParallelDim::dp).time.value;
  const double per_call = seconds_since(t0) / kCalls;
  const auto held = *fabric->profile(pl->pattern(ParallelDim::dp));
  t0 = Clock::now();
  for (int i = 0; i < kCalls; ++i) sink += cost_collective(*held, Collective::all_reduce, Bytes(1e6 + i)).time.value;
  const double per_formula = seconds_since(t0) / kCalls;
  std::printf("cost, memoised     %.0f ns per call (Fabric::cost), %.0f ns with the profile held (cost_collective)\n",
              per_call * 1e9, per_formula * 1e9);

  t0 = Clock::now();
  const auto bis = fabric->bisection_bandwidth();
  std::printf("bisection          %.1f TB/s by push-relabel max-flow in %.2f s\n", bis.value / 1e12, seconds_since(t0));
  return sink > 0 ? 0 : 1;
}
