// Collective costs against published nccl-tests measurements (shared reference formulas-specs-prices.md
// sec. 7) and closed forms: in-node busbw by fabric, NVLS gain, inter-node line rate and latency, link
// sharing between concurrent groups, oversubscription, algorithm choice by size, calibration tables.
#include <catch2/catch.hpp>

#include <thread>

#include "hardware/comm_model.hpp"
#include "hardware/topology.hpp"
#include "fabric_fixtures.hpp"

using namespace clustersim;
using namespace clustersim::hardware;
using namespace clustersim::testing;

namespace {

// One group of the first `ranks` GPUs (nccl-tests on one node).
CollectiveResult one_group(const Fabric& f, Collective op, double bytes, int ranks,
                           std::optional<Algorithm> algo = std::nullopt) {
  CollectiveOptions o;
  o.algorithm = algo;
  auto r = f.cost(op, Bytes(bytes), strided_pattern(ranks, 1, ranks, false), o);
  if (!r) FAIL(r.error().what());
  return *r;
}

const double kLarge = 8.0 * kGiB;  // nccl-tests' largest sizes: latency is negligible there

}  // namespace

TEST_CASE("8-GPU all-reduce busbw matches published nccl-tests") {
  // busbw at large sizes = wire x efficiency, where each preset's efficiency is the measured ring busbw over
  // its wire rate; NVLS busbw = 2(n-1)/(n+1) x wire x e_nvls (each GPU moves S (n+1)/n per direction).
  // Published (shared reference sec. 7): DGX A100 235 GB/s; 8 x H200 ring 367.2, NVLS 480; 8 x B200 ring
  // 682.2, NVLS 838; 8 x MI300X 312.9 GB/s.
  SECTION("DGX A100: ring, no NVLS") {
    const auto r = one_group(*preset_fabric("dgx-a100", 1), Collective::all_reduce, kLarge, 8);
    CHECK(r.algorithm == Algorithm::ring);
    CHECK(r.busbw.value == Approx(235e9).epsilon(0.03));
  }
  SECTION("H200: NVLS is chosen; the ring alone matches the ring measurement") {
    const auto f = preset_fabric("dgx-h200", 1);
    const auto best = one_group(*f, Collective::all_reduce, kLarge, 8);
    CHECK(best.algorithm == Algorithm::nvls);
    CHECK(best.busbw.value == Approx(480e9).epsilon(0.03));
    CHECK(one_group(*f, Collective::all_reduce, kLarge, 8, Algorithm::ring).busbw.value == Approx(367.2e9).epsilon(0.03));
    // All-gather and reduce-scatter run as rings: 361.4 and 362.9 GB/s measured.
    CHECK(one_group(*f, Collective::all_gather, kLarge, 8).busbw.value == Approx(361.4e9).epsilon(0.03));
    CHECK(one_group(*f, Collective::reduce_scatter, kLarge, 8).busbw.value == Approx(362.9e9).epsilon(0.03));
  }
  SECTION("B200") {
    const auto f = preset_fabric("hgx-b200", 1);
    const auto best = one_group(*f, Collective::all_reduce, kLarge, 8);
    CHECK(best.algorithm == Algorithm::nvls);
    CHECK(best.busbw.value == Approx(838e9).epsilon(0.03));
    CHECK(one_group(*f, Collective::all_reduce, kLarge, 8, Algorithm::ring).busbw.value == Approx(682.2e9).epsilon(0.03));
  }
  SECTION("MI300X: 313 GB/s on 8 GPUs but 48 on 2 (one 64 GB/s peer link)") {
    // 2 GPUs: 1 link x 64 GB/s x 0.70 = 44.8 GB/s against 47.7 measured (the preset keeps the 8-GPU
    // efficiency; within 7 %). 8 GPUs: min(448, 7 x 64) x 0.70 = 313.6.
    const auto f = preset_fabric("mi300x-node", 1);
    CHECK(one_group(*f, Collective::all_reduce, kLarge, 8).busbw.value == Approx(312.9e9).epsilon(0.03));
    CHECK(one_group(*f, Collective::all_reduce, kLarge, 2).busbw.value == Approx(47.7e9).epsilon(0.07));
  }
  SECTION("GB200 NVL72: 72-GPU domain, ring 680 and NVLS 850 GB/s (NVIDIA GTC25)") {
    const auto f = preset_fabric("gb200-nvl72", 1);
    CHECK(one_group(*f, Collective::all_reduce, kLarge, 72).busbw.value == Approx(850e9).epsilon(0.03));
    CHECK(one_group(*f, Collective::all_reduce, kLarge, 72, Algorithm::ring).busbw.value == Approx(680e9).epsilon(0.03));
  }
}

TEST_CASE("the NVLS gain ramps from 1.00x at 4 GPUs to 1.29x at 8") {
  // NVLS / ring busbw = 2(n-1)/(n+1) x e_nvls / e_ring = 2(n-1)/(n+1) x 0.686 / 0.82:
  // 4 GPUs 1.2 x 0.837 = 1.00, 8 GPUs 1.556 x 0.837 = 1.30 (measured on 8 x H200: 1.00 and 1.29).
  const auto f = preset_fabric("dgx-h200", 1);
  auto gain = [&](int n) {
    return one_group(*f, Collective::all_reduce, kLarge, n, Algorithm::nvls).busbw.value /
           one_group(*f, Collective::all_reduce, kLarge, n, Algorithm::ring).busbw.value;
  };
  CHECK(gain(4) == Approx(1.00).epsilon(0.03));
  CHECK(gain(8) == Approx(1.29).epsilon(0.03));
}

TEST_CASE("inter-node all-reduce approaches the NIC line rate when large and is latency-bound when small") {
  // 16 DGX H100 nodes, tp 8 x dp 16: each DP group has one GPU per node, all on one rail, its own NIC.
  // Large: busbw -> 50 GB/s x 0.85 (EFA 400 Gb/s all-reduce reached 340 Gb/s, shared reference sec. 7).
  // Small: NCCL's tree with the LL protocol: base 6.8 us + 2 x log2(16) steps x (5 us x 5.0/14 + one leaf
  // switch 0.2 us) = 6.8 + 8 x 1.986 = 22.69 us, plus 2 x 8 B over 42.5 GB/s x 0.92 (tree) / 3.8 (LL).
  const auto f = preset_fabric("dgx-h100", 16);
  auto pl = place(*f, {.tp = 8, .dp = 16});
  REQUIRE(pl.has_value());
  const auto large = f->cost(Collective::all_reduce, Bytes(4.0 * kGiB), *pl, ParallelDim::dp);
  CHECK(large.algorithm == Algorithm::ring);
  CHECK(large.busbw.value == Approx(0.85 * 50e9).epsilon(0.02));
  CHECK(large.busbw.value < 50e9);
  const auto tiny = f->cost(Collective::all_reduce, Bytes(8), *pl, ParallelDim::dp);
  CHECK(tiny.algorithm == Algorithm::tree);
  CHECK(tiny.protocol == Protocol::ll);
  CHECK(tiny.time.value == Approx(6.8e-6 + 8 * (5e-6 * 5.0 / 14.0 + 0.2e-6) + 16.0 / (42.5e9 * 0.92 / 3.8)).epsilon(1e-9));
  const auto k1 = f->cost(Collective::all_reduce, Bytes(1024), *pl, ParallelDim::dp);
  CHECK(k1.time.value == Approx(tiny.time.value).epsilon(0.01));
}

TEST_CASE("concurrent groups that share a NIC share its bandwidth") {
  // 16 nodes with one 50 GB/s NIC per 2 GPUs (25 GB/s per GPU). tp 8 x dp 16: the 8 DP groups of a node
  // run at once and two of them cross each NIC, so each ring gets 25 GB/s; a DP group alone gets 50.
  auto c = hgx(16);
  c.scale_out.bandwidth = gigabytes_per_s(25);
  TopologySpec t;
  t.host.gpus_per_nic = 2;
  c.topology = t;
  const auto f = fabric(c);
  auto pl = place(*f, {.tp = 8, .dp = 16});
  REQUIRE(pl.has_value());
  auto all = f->profile(pl->pattern(ParallelDim::dp));
  auto alone = f->profile(strided_pattern(16, 8, 128, false));
  REQUIRE(all.has_value());
  REQUIRE(alone.has_value());
  CHECK((*all)->ring_inter_bw == Approx(25e9));
  CHECK((*alone)->ring_inter_bw == Approx(50e9));
  CHECK((*all)->bottleneck == "nic");
  const auto shared = f->cost(Collective::all_reduce, Bytes(4.0 * kGiB), *pl, ParallelDim::dp);
  CHECK(shared.busbw.value == Approx(0.85 * 25e9).epsilon(0.02));
}

TEST_CASE("oversubscribed leaves slow all-to-all but not rings") {
  // 12 nodes x 4 GPUs on 8-port switches; one all-to-all group per rail: stride 4, one GPU per node, all
  // four groups at once. Each member sends S/12 to each of the 11 others through its own NIC (PXN keeps
  // rail-0 traffic on rail 0): NIC time = 11/12 S / 50 GB/s.
  // 3:1 leaves: 2 uplinks, 6 downlinks, so an SU is 6 nodes (2 SUs). A rail's leaf sends 6 members x 6
  // peers outside x S/12 = 3 S over 2 x 50 GB/s: 3 S / 100 GB/s, slower than the NIC.
  // 1:1 leaves: SUs of 4 nodes (3 SUs, 3 tiers): the leaf sends 4 x 8 / 12 S = 2.67 S over 200 GB/s, so
  // the NIC stays the bottleneck. A ring leaves each SU once per direction: 1 unit over the leaf's
  // uplinks against 1 unit over each NIC, so the NIC bounds it either way (50 GB/s).
  auto build = [](double over) {
    auto c = hgx(12, 4);
    TopologySpec t;
    t.network.switch_radix = 8;
    t.network.oversubscription = over;
    c.topology = t;
    return fabric(c);
  };
  const auto pattern = strided_pattern(12, 4, 48);
  const auto over = build(3.0);
  const auto flat = build(1.0);
  const auto po = *over->profile(pattern);
  const auto pf = *flat->profile(pattern);
  CHECK(po->a2a_inter_s_per_byte == Approx(3.0 / 100e9));
  CHECK(pf->a2a_inter_s_per_byte == Approx(11.0 / 12.0 / 50e9));
  CHECK(po->ring_inter_bw == Approx(50e9));
  CHECK(pf->ring_inter_bw == Approx(50e9));
  CHECK(bottleneck(*po, Collective::all_to_all) == "leaf uplinks");
  CHECK(bottleneck(*pf, Collective::all_to_all) == "nic");
  CHECK(bottleneck(*po, Collective::all_reduce) == "nic");
  // The 3:1 all-to-all leaves its SU (2 tiers); rings and pairs stay on one leaf where they can.
  CHECK(tiers_crossed(*po, Collective::all_to_all) == 2);
  const auto slow = over->cost(Collective::all_to_all, Bytes(kGiB), pattern);
  const auto fast = flat->cost(Collective::all_to_all, Bytes(kGiB), pattern);
  CHECK(slow->time.value / fast->time.value == Approx(3.0 / 100.0 / (11.0 / 12.0 / 50.0)).epsilon(0.01));
}

TEST_CASE("the fastest algorithm changes with the size, as NCCL's choice does") {
  // 1024 GPUs (128 DGX H100 nodes = 4 SUs), one all-reduce over all of them. Small messages: the ring's
  // 2(n-1) = 2046 steps cost far more than the tree's 2 x (7 in-node + log2 128 = 7) steps. Large
  // messages: the ring (NCCL 2.19 step counts: 2 x 128 of the 2046 steps cross nodes, through 3 switches
  // of 0.2 us; the rest are NVLink steps of 3 us) with its bandwidth term 2(n-1)/n S over min(450 x 0.82,
  // 8 NICs x 50 x 0.85 = 340) GB/s:  t = 8.4 us + 1790 x 3 us + 256 x (5 + 0.6) us + 2 x 1023/1024 x S / 340 GB/s.
  const auto f = preset_fabric("dgx-h100", 128);
  auto at = [&](double s) { return one_group(*f, Collective::all_reduce, s, 1024); };
  const auto small = at(64 * kKiB);
  CHECK(small.algorithm == Algorithm::tree);
  const double S = 16.0 * kGiB;
  const auto large = at(S);
  CHECK(large.algorithm == Algorithm::ring);
  CHECK(large.protocol == Protocol::simple);
  CHECK(large.time.value == Approx(8.4e-6 + 1790 * 3e-6 + 256 * 5.6e-6 + 2.0 * 1023 / 1024 * S / 340e9).epsilon(1e-9));
  // The candidates list every algorithm NCCL has for it, fastest first: ring and tree with three
  // protocols each, and NVLS-tree (no hierarchical: NCCL has none).
  const auto cands = collective_candidates(**f->profile(strided_pattern(1024, 1, 1024, false)), Collective::all_reduce,
                                           Bytes(64 * kKiB));
  CHECK(cands.size() == 7);
  for (const auto& c : cands) CHECK(c.algorithm != Algorithm::hierarchical);
  CHECK(cands.front().time <= cands.back().time);
}

TEST_CASE("a calibration table replaces the model where it applies") {
  // Measured (made-up) 8-rank all-reduce: 1 MiB at 100 GB/s busbw, 1 GiB at 300 GB/s.
  // t = f S / busbw with f = 2 x 7/8 = 1.75: at the points 18.35 us and 6.263 ms; between them linear in S;
  // below the first point the first point's time; above the last the last busbw.
  auto c = hgx(1);
  TopologySpec t;
  t.calibration.push_back({Collective::all_reduce, 8, 0, {{Bytes(kMiB), gigabytes_per_s(100)}, {Bytes(kGiB), gigabytes_per_s(300)}}});
  c.topology = t;
  const auto f = fabric(c);
  const double f175 = 1.75;
  const auto at1g = one_group(*f, Collective::all_reduce, kGiB, 8);
  CHECK(at1g.algorithm == Algorithm::calibrated);
  CHECK(at1g.busbw.value == Approx(300e9));
  CHECK(one_group(*f, Collective::all_reduce, 4 * kGiB, 8).busbw.value == Approx(300e9));
  CHECK(one_group(*f, Collective::all_reduce, 512, 8).time.value == Approx(f175 * kMiB / 100e9));
  const double mid = (kMiB + kGiB) / 2;
  CHECK(one_group(*f, Collective::all_reduce, mid, 8).time.value ==
        Approx((f175 * kMiB / 100e9 + f175 * kGiB / 300e9) / 2));
  // Other operations and group sizes keep the model.
  CHECK(one_group(*f, Collective::all_gather, kGiB, 8).algorithm == Algorithm::ring);
  CHECK(one_group(*f, Collective::all_reduce, kGiB, 4).algorithm != Algorithm::calibrated);
}

TEST_CASE("send/recv and all-to-all bandwidths") {
  // Large messages: a pair inside an H100 node gets 450 x 0.82 GB/s; across nodes 50 x 0.85; on MI300X
  // one 64 GB/s link x 0.70. An 8-GPU MI300X all-to-all sends S/8 to each peer over its own link:
  // t = S/8 / (64 x 0.70 GB/s), busbw = 7/8 x S / t = 7 x 44.8 = 313.6 GB/s.
  const auto h = preset_fabric("dgx-h100", 2);
  CHECK(one_group(*h, Collective::send_recv, kLarge, 2).busbw.value == Approx(450e9 * 0.82).epsilon(0.01));
  const auto across = h->cost(Collective::send_recv, Bytes(kLarge), strided_pattern(2, 8, 16, false));
  CHECK(across->busbw.value == Approx(50e9 * 0.85).epsilon(0.01));
  const auto m = preset_fabric("mi300x-node", 1);
  CHECK(one_group(*m, Collective::send_recv, kLarge, 2).busbw.value == Approx(64e9 * 0.70).epsilon(0.01));
  const auto a2a = one_group(*m, Collective::all_to_all, kLarge, 8);
  CHECK(a2a.algorithm == Algorithm::pairwise);
  CHECK(a2a.busbw.value == Approx(313.6e9).epsilon(0.01));
}

TEST_CASE("a torus sub-grid reduces dimension by dimension") {
  // 4 x 4 x 4 chips with wrap-around, 100 GB/s per link and direction, efficiency 0.8, 1 us per step.
  // All 64 chips: reduce-scatter along x, y, z on S, S/4, S/16 with bidirectional rings (200 GB/s per
  // chip), then all-gather back: t = 2 x sum (3 x 1 us + 3/4 S_d / 160 GB/s) = 18 us + 1.96875 S / 160 GB/s.
  ClusterSpec c = hgx(16, 4);
  c.scale_up = {gigabytes_per_s(600), gigabytes_per_s(100), microseconds(1), 0.8, false};
  TopologySpec t;
  t.scale_up.kind = ScaleUpKind::torus;
  t.scale_up.torus_dims = {4, 4, 4};
  t.network.kind = NetworkKind::none;
  c.topology = t;
  const auto f = fabric(c);
  const auto r = one_group(*f, Collective::all_reduce, kGiB, 64);
  CHECK(r.algorithm == Algorithm::torus);
  CHECK(r.time.value == Approx(18e-6 + 1.96875 * kGiB / 160e9).epsilon(1e-9));
  // One x-row of 4: a full ring of the torus, 2 links per chip: t = 2 x (3 us + 3/4 S / 160 GB/s).
  const auto row = one_group(*f, Collective::all_reduce, kGiB, 4);
  CHECK(row.time.value == Approx(2 * (3e-6 + 0.75 * kGiB / 160e9)).epsilon(1e-9));
  // All-to-all on the cube: each chip sends S/64 to each peer; on an axis ring of 4 a directed link carries
  // 2 coordinate pairs (distance 1, and half of distance 2) for each of the 16 lines along it:
  // S/64 x 16 x 2 = S/2 per link at 100 GB/s x 0.8; latency one step (1 us) + 63 peers x 0.4 us.
  const auto a2a = one_group(*f, Collective::all_to_all, kGiB, 64);
  CHECK(a2a.time.value == Approx(1e-6 + 63 * 0.4e-6 + 0.5 * kGiB / 80e9).epsilon(1e-9));
}

TEST_CASE("the simple model and the graph agree for one group inside a node") {
  // comm_model's two-level profile and the fabric see the same NVSwitch link, efficiencies and steps
  // (no network path inside a node), so every operation costs the same.
  const auto f = preset_fabric("dgx-h100", 1);
  const auto& c = f->cluster();
  for (auto op : {Collective::all_reduce, Collective::all_gather, Collective::reduce_scatter, Collective::all_to_all,
                  Collective::broadcast}) {
    for (double s : {4096.0, 64.0 * kMiB}) {
      INFO(to_string(op) << " " << s);
      const auto simple = collective_cost(c, op, Bytes(s), group_shape(c, 8, 1));
      const auto graph = one_group(*f, op, s, 8);
      CHECK(simple.time.value == Approx(graph.time.value).epsilon(1e-12));
      CHECK(simple.algorithm == to_string(graph.algorithm));
    }
  }
}

TEST_CASE("group shapes count members per scale-up domain") {
  // 8-GPU nodes: a stride-8 group of 4 has one member per node. NVL72 as 18 trays of 4 GPUs: a TP group
  // of 16 consecutive GPUs spans 4 trays but one NVLink domain. A 4 x 4 torus of 4-chip hosts: a stride-4
  // group of 4 spans 4 hosts but one ICI domain, so the simple model keeps it on the 2-link ring of ICI.
  CHECK(group_shape(hgx(4), 4, 8).per_node == 1);
  CHECK(group_shape(hgx(4), 8, 1).per_node == 8);
  auto nvl = preset_cluster_with_topology("gb200-nvl72", 1);
  nvl.gpus_per_node = 4;
  nvl.nodes = 18;
  CHECK(group_shape(nvl, 16, 1).per_node == 16);
  auto tpu = hgx(4, 4);
  tpu.scale_up = {gigabytes_per_s(400), gigabytes_per_s(100), microseconds(1), 0.8, false};
  tpu.topology = TopologySpec{};
  tpu.topology->scale_up.kind = ScaleUpKind::torus;
  CHECK(group_shape(tpu, 4, 4).per_node == 4);
  const auto r = collective_cost(tpu, Collective::all_reduce, Bytes(kLarge), group_shape(tpu, 4, 4));
  CHECK(r.bus_bandwidth.value == Approx(2 * 100e9 * 0.8).epsilon(0.01));
}

TEST_CASE("bus factors follow nccl-tests") {
  // doc/PERFORMANCE.md: all-reduce 2(n-1)/n, reduce-scatter / all-gather / all-to-all (n-1)/n, else 1.
  CHECK(bus_factor(Collective::all_reduce, 8) == Approx(1.75));
  CHECK(bus_factor(Collective::all_gather, 8) == Approx(0.875));
  CHECK(bus_factor(Collective::reduce_scatter, 4) == Approx(0.75));
  CHECK(bus_factor(Collective::all_to_all, 2) == Approx(0.5));
  CHECK(bus_factor(Collective::broadcast, 8) == Approx(1.0));
  CHECK(bus_factor(Collective::send_recv, 2) == Approx(1.0));
}

TEST_CASE("one rank costs nothing") {
  const auto f = preset_fabric("dgx-h100", 1);
  const auto r = one_group(*f, Collective::all_reduce, kGiB, 1);
  CHECK(r.time.value == 0.0);
  CHECK(r.algorithm == Algorithm::none);
}

TEST_CASE("profiles are memoised safely when threads cost at once") {
  // Four threads cost the tp, cp, dp and pp groups of one fresh fabric in different orders at the same
  // time; every answer equals the one of a serial run on another fabric of the same cluster.
  const auto serial = preset_fabric("dgx-h100", 16);
  const auto shared = preset_fabric("dgx-h100", 16);
  auto pl = place(*serial, {.tp = 4, .cp = 2, .dp = 8, .pp = 2});
  REQUIRE(pl.has_value());
  const std::vector<ParallelDim> dims{ParallelDim::tp, ParallelDim::cp, ParallelDim::dp, ParallelDim::pp};
  std::vector<double> expected;
  for (auto d : dims) expected.push_back(serial->cost(Collective::all_reduce, Bytes(kGiB), *pl, d).time.value);
  std::vector<std::vector<double>> got(4, std::vector<double>(dims.size()));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < dims.size(); ++i) {
        const std::size_t j = (i + t) % dims.size();
        got[t][j] = shared->cost(Collective::all_reduce, Bytes(kGiB), *pl, dims[j]).time.value;
      }
    });
  for (auto& th : threads) th.join();
  for (const auto& g : got)
    for (std::size_t i = 0; i < dims.size(); ++i) CHECK(g[i] == expected[i]);
}
