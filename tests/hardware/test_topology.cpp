// Topology builders: vertex and edge counts, routes, bisection bandwidth and oversubscription, against
// closed forms and NVIDIA's published DGX SuperPOD switch counts; invalid topologies give clear errors.
#include <catch2/catch.hpp>

#include "hardware/topology.hpp"
#include "fabric_fixtures.hpp"

using namespace clustersim;
using namespace clustersim::hardware;
using namespace clustersim::testing;

namespace {

std::string build_error(const ClusterSpec& c) {
  auto f = Fabric::build(c);
  REQUIRE_FALSE(f.has_value());
  return f.error().what();
}

}  // namespace


TEST_CASE("one HGX node: NVSwitch domain, PCIe, NICs and the rail leaves") {
  // DGX H100, 1 node: 8 GPUs on one NVSwitch vertex (it reduces: NVLS), 8 PCIe switches, 8 NICs, one leaf
  // per rail (8), spines = ceil(8 leaves x 32 uplinks / 64 ports) = 4.
  // Vertices 8+1+8+8+8+4 = 37; edges: 8 GPU-NVSwitch + 8 GPU-PCIe + 8 PCIe-NIC + 8 NIC-leaf + 8x4 leaf-spine = 64.
  const auto f = fabric(preset_cluster_with_topology("dgx-h100", 1));
  const auto& k = f->counts();
  CHECK(k.gpus == 8);
  CHECK(k.nvswitches == 1);
  CHECK(k.pcie_switches == 8);
  CHECK(k.nics == 8);
  CHECK(k.leaves == 8);
  CHECK(k.spines == 4);
  CHECK(k.cores == 0);
  CHECK(k.vertices == 37);
  CHECK(k.edges == 64);
  // GPU 0 -> GPU 5: GPU, NVSwitch, GPU; the narrowest link is the GPU's 450 GB/s NVLink.
  const auto r = f->route(0, 5);
  CHECK(r.hops == 2);
  CHECK(r.bottleneck.value == Approx(450e9));
  CHECK(f->graph()[r.vertices[1]].kind == VertexKind::nvswitch);
  CHECK(f->graph()[r.vertices[1]].reduces);
  // DGX A100's NVSwitch has no NVLS.
  const auto a = fabric(preset_cluster_with_topology("dgx-a100", 1));
  CHECK_FALSE(a->graph()[a->route(0, 1).vertices[1]].reduces);
}

TEST_CASE("rail-optimised fat-tree reproduces the DGX SuperPOD switch and cable counts") {
  // NVIDIA DGX SuperPOD reference architecture (B200 and H100 editions, "Larger DGX SuperPOD component
  // counts"): scalable units of 32 nodes x 8 GPUs, 64-port NDR switches, non-blocking.
  //   SUs  nodes  leaf spine core | cables node-leaf leaf-spine spine-core
  //     2     64    16     8    - |        512       512          -
  //     4    128    32    16    - |       1024      1024          -
  //     8    256    64    32    - |       2048      2048          -
  //    16    512   128   128   64 |       4096      4096       4096
  //    32   1024   256   256  128 |       8192      8192       8192
  //    64   2048   512   512  256 |      16384     16384      16384
  struct Row { int sus, leaves, spines, cores; };
  for (const Row row : {Row{2, 16, 8, 0}, Row{4, 32, 16, 0}, Row{8, 64, 32, 0}, Row{16, 128, 128, 64},
                        Row{32, 256, 256, 128}, Row{64, 512, 512, 256}}) {
    INFO(row.sus << " SUs");
    const auto f = fabric(preset_cluster_with_topology("dgx-h100", 32 * row.sus));
    const auto& k = f->counts();
    const double nics = 32.0 * row.sus * 8;
    CHECK(k.leaves == row.leaves);
    CHECK(k.spines == row.spines);
    CHECK(k.cores == row.cores);
    CHECK(k.tiers == (row.cores ? 3 : 2));
    CHECK(k.nic_leaf_cables == Approx(nics));
    CHECK(k.leaf_spine_cables == Approx(nics));
    CHECK(k.spine_core_cables == Approx(row.cores ? nics : 0.0));
  }
}

TEST_CASE("bisection bandwidth and oversubscription of a 2-tier fat-tree") {
  SECTION("non-blocking") {
    // 64 nodes = 2 SUs of 32; the halves are the SUs: 32 nodes x 8 NICs x 50 GB/s = 12.8 TB/s, and the
    // leaves' uplinks (8 leaves x 32 x 50 GB/s) carry as much.
    const auto f = fabric(hgx(64));
    CHECK(f->bisection_bandwidth().value == Approx(12.8e12));
  }
  SECTION("3:1 at the leaves") {
    // 64-port leaves at 3:1: floor(64/4) = 16 uplinks, 48 downlinks, so an SU has 48 nodes. 96 nodes = 2 SUs.
    // Bisection = SU 0's uplinks: 8 leaves x 16 x 50 GB/s = 6.4 TB/s, a third of its NICs' 48 x 8 x 50 GB/s.
    auto c = hgx(96);
    TopologySpec t;
    t.network.oversubscription = 3.0;
    c.topology = t;
    const auto f = fabric(c);
    CHECK(f->counts().leaves == 16);
    CHECK(f->bisection_bandwidth().value == Approx(6.4e12));
    // Leaf 0: 48 NIC ports down, 16 x 50 GB/s up (read from the graph).
    double down = 0, up = 0;
    const auto& G = f->graph();
    for (auto [v, end] = boost::vertices(G); v != end; ++v) {
      if (G[*v].kind != VertexKind::leaf || G[*v].index != 0) continue;
      for (auto [e, eend] = boost::out_edges(*v, G); e != eend; ++e)
        (G[boost::target(*e, G)].kind == VertexKind::nic ? down : up) += G[*e].bandwidth.value;
    }
    CHECK(down == Approx(48 * 50e9));
    CHECK(up == Approx(16 * 50e9));
    CHECK(down / up == Approx(3.0));
  }
}

TEST_CASE("3-tier fat-tree of small switches") {
  // 32 nodes x 4 GPUs, 8-port switches: leaves 4 down / 4 up, an SU is 4 nodes (one leaf per rail), 8 SUs
  // -> 32 leaves > 8 ports, so 3 tiers. Spines: 4 up / 4 down -> pods of 4 leaves (one SU), 8 pods x 4
  // spines = 32; core groups of ceil(8 x 4 / 8) = 4 -> 16 cores.
  // Vertices 128 GPU + 32 NVSwitch + 128 PCIe + 128 NIC + 32 + 32 + 16 = 496;
  // edges 4 x 128 (GPU-NVSwitch, GPU-PCIe, PCIe-NIC, NIC-leaf) + 32 x 4 leaf-spine + 32 x 4 spine-core = 768.
  auto c = hgx(32, 4);
  TopologySpec t;
  t.network.switch_radix = 8;
  c.topology = t;
  const auto f = fabric(c);
  const auto& k = f->counts();
  CHECK(k.tiers == 3);
  CHECK(k.leaves == 32);
  CHECK(k.spines == 32);
  CHECK(k.cores == 16);
  CHECK(k.vertices == 496);
  CHECK(k.edges == 768);
  // Across pods: GPU, PCIe, NIC, leaf, spine, core, spine, leaf, NIC, PCIe, GPU = 10 hops through 5 switches
  // of 0.2 us each; the narrowest link is a 50 GB/s NIC.
  const auto r = f->route(0, 127);
  CHECK(r.hops == 10);
  CHECK(r.latency.value == Approx(5 * 0.2e-6));
  CHECK(r.bottleneck.value == Approx(50e9));
  // Non-blocking: the first 16 nodes push 64 NICs x 50 GB/s to the rest.
  CHECK(f->bisection_bandwidth().value == Approx(3.2e12));
}

TEST_CASE("NVL72-style domains span several nodes") {
  // GB200 NVL72 as 18 compute trays of 4 GPUs sharing one 72-GPU NVLink domain: 2 racks = 36 nodes.
  auto c = preset_cluster_with_topology("gb200-nvl72", 1);
  c.gpus_per_node = 4;
  c.nodes = 36;
  TopologySpec t = *c.topology;
  t.scale_up.domain_gpus = 72;
  c.topology = t;
  const auto f = fabric(c);
  CHECK(f->counts().nvswitches == 2);
  CHECK(f->domain_of(71) == 0);
  CHECK(f->domain_of(72) == 1);
  CHECK(f->node_of(71) == 17);
  // GPU 0 and GPU 71 sit on different trays but one NVLink hop apart through the switch.
  const auto r = f->route(0, 71);
  CHECK(r.hops == 2);
  CHECK(r.bottleneck.value == Approx(900e9));
}

TEST_CASE("AMD full mesh: one narrow link per GPU pair") {
  // MI300X: 8 GPUs, C(8,2) = 28 direct xGMI links of 64 GB/s; any pair is one hop apart.
  const auto f = fabric(preset_cluster_with_topology("mi300x-node", 1));
  int xgmi = 0;
  const auto& G = f->graph();
  for (auto [e, end] = boost::edges(G); e != end; ++e)
    if (G[*e].kind == LinkKind::xgmi) {
      ++xgmi;
      CHECK(G[*e].bandwidth.value == Approx(64e9));
    }
  CHECK(xgmi == 28);
  const auto r = f->route(0, 5);
  CHECK(r.hops == 1);
  CHECK(r.bottleneck.value == Approx(64e9));
}

TEST_CASE("2D and 3D tori") {
  auto tpu = [](int chips, std::vector<int> dims, bool wrap, double link_gbs) {
    ClusterSpec c = hgx(chips / 4, 4);
    c.scale_up = {gigabytes_per_s(link_gbs * 2 * dims.size()), gigabytes_per_s(link_gbs), microseconds(1), 0.8, false};
    TopologySpec t;
    t.scale_up.kind = ScaleUpKind::torus;
    t.scale_up.torus_dims = std::move(dims);
    t.scale_up.torus_wraparound = wrap;
    t.network.kind = NetworkKind::none;
    c.topology = t;
    return c;
  };
  SECTION("TPU v5e pod: 16 x 16 2D torus") {
    // Google Cloud TPU v5e docs: 256 chips, ICI 400 GB/s bidirectional per chip over 4 links (50 GB/s per
    // link and direction), bisection 1.6 TB/s. Edges: 2 per chip = 512. The cut between the halves
    // (rows y < 8 and y >= 8) crosses 16 columns twice (wrap-around): 32 x 50 GB/s = 1.6 TB/s.
    const auto f = fabric(tpu(256, {16, 16}, true, 50));
    CHECK(f->counts().vertices == 256);
    CHECK(f->counts().edges == 512);
    CHECK(f->bisection_bandwidth().value == Approx(1.6e12));
    // Chip 0 to chip 15 (the other end of row 0): one hop over the wrap-around link.
    CHECK(f->route(0, 15).hops == 1);
  }
  SECTION("4 x 4 x 4 cube, with and without wrap-around") {
    // With wrap-around: 3 edges per chip = 192; the z-cut crosses 16 lines twice: 32 x 100 GB/s.
    const auto w = fabric(tpu(64, {4, 4, 4}, true, 100));
    CHECK(w->counts().edges == 192);
    CHECK(w->bisection_bandwidth().value == Approx(3.2e12));
    // A mesh (no wrap): 3 axes x 16 lines x 3 links = 144 edges; the cut crosses 16 links.
    const auto m = fabric(tpu(64, {4, 4, 4}, false, 100));
    CHECK(m->counts().edges == 144);
    CHECK(m->bisection_bandwidth().value == Approx(1.6e12));
    CHECK(m->route(0, 3).hops == 3);
    CHECK(w->route(0, 3).hops == 1);
  }
  SECTION("the default shape is near-cubic") {
    // 512 chips -> 8 x 8 x 8.
    auto c = tpu(512, {}, true, 100);
    c.topology->scale_up.torus_dims.clear();
    auto t = resolved_topology(c);
    REQUIRE(t.has_value());
    CHECK(t->scale_up.torus_dims == std::vector<int>{8, 8, 8});
  }
}

TEST_CASE("a cluster without a topology gets the default one") {
  // Switched domains where pair bandwidth equals the per-GPU bandwidth, a full mesh where it is narrower;
  // a rail-optimised non-blocking fat-tree of 64-port switches, 2 tiers while the leaves fit the spines.
  auto c = hgx(4);
  auto t = resolved_topology(c);
  REQUIRE(t.has_value());
  CHECK(t->scale_up.kind == ScaleUpKind::switched);
  CHECK(t->network.kind == NetworkKind::fat_tree);
  CHECK(t->network.rail_optimized);
  CHECK(t->network.oversubscription == 1.0);
  CHECK(t->network.tiers == 2);
  c.scale_up.pair_bandwidth = gigabytes_per_s(64);
  CHECK(resolved_topology(c)->scale_up.kind == ScaleUpKind::full_mesh);
  // 2048 nodes need 3 tiers of 64-port switches. Beyond 64^3/4 = 65,536 NICs the default radix doubles:
  // 16,384 nodes x 8 NICs = 131,072 need 128-port switches.
  CHECK(resolved_topology(hgx(2048))->network.tiers == 3);
  CHECK(resolved_topology(hgx(2048))->network.switch_radix == 64);
  CHECK(resolved_topology(hgx(16384))->network.switch_radix == 128);
  // An explicit radix is kept, and too small a one is an error.
  auto big = hgx(16384);
  big.topology = TopologySpec{};
  big.topology->network.switch_radix = 64;
  CHECK(resolved_topology(big).error().path == "cluster.topology.network.tiers");
}

TEST_CASE("invalid topologies give clear errors") {
  SECTION("disconnected graph") {
    auto c = hgx(2);
    TopologySpec t;
    t.network.kind = NetworkKind::none;
    c.topology = t;
    const auto e = build_error(c);
    CHECK(e.find("cluster.topology.network") != std::string::npos);
    CHECK(e.find("disconnected") != std::string::npos);
    CHECK(e.find("GPU 8") != std::string::npos);
  }
  SECTION("a cluster without GPUs per node") {
    auto c = hgx(2);
    c.gpus_per_node = 0;
    CHECK(resolved_topology(c).error().path == "cluster.gpus_per_node");
    CHECK(build_error(c).find("cluster.gpus_per_node") != std::string::npos);
  }
  SECTION("zero scale-up bandwidth") {
    auto c = hgx(1);
    c.scale_up.bandwidth = ByteRate(0);
    CHECK(build_error(c).find("cluster.scale_up.bandwidth") != std::string::npos);
  }
  SECTION("zero PCIe bandwidth") {
    auto c = hgx(1);
    TopologySpec t;
    t.host.pcie_bandwidth = ByteRate(0);
    c.topology = t;
    CHECK(build_error(c).find("cluster.topology.host.pcie_bandwidth: must be positive") != std::string::npos);
  }
  SECTION("zero switch-link bandwidth") {
    auto c = hgx(1);
    TopologySpec t;
    t.network.link_bandwidth = ByteRate(0);
    c.topology = t;
    CHECK(build_error(c).find("cluster.topology.network.link_bandwidth") != std::string::npos);
  }
  SECTION("two tiers too small for the cluster") {
    auto c = hgx(2048);
    TopologySpec t;
    t.network.tiers = 2;
    t.network.switch_radix = 64;
    c.topology = t;
    const auto e = build_error(c);
    CHECK(e.find("cluster.topology.network.tiers") != std::string::npos);
    CHECK(e.find("3 tiers") != std::string::npos);
  }
  SECTION("torus dimensions that do not hold the domain") {
    auto c = hgx(16, 4);
    TopologySpec t;
    t.scale_up.kind = ScaleUpKind::torus;
    t.scale_up.domain_gpus = 64;
    t.scale_up.torus_dims = {4, 4, 3};
    c.topology = t;
    CHECK(build_error(c).find("cluster.topology.scale_up.dims") != std::string::npos);
  }
  SECTION("NICs that do not divide the node") {
    auto c = hgx(1);
    TopologySpec t;
    t.host.gpus_per_nic = 3;
    c.topology = t;
    CHECK(build_error(c).find("cluster.topology.host.gpus_per_nic") != std::string::npos);
  }
  SECTION("a domain that is not whole nodes") {
    auto c = hgx(2);
    TopologySpec t;
    t.scale_up.domain_gpus = 12;
    c.topology = t;
    CHECK(build_error(c).find("cluster.topology.scale_up.domain_gpus") != std::string::npos);
  }
  SECTION("oversubscription below 1") {
    auto c = hgx(2);
    TopologySpec t;
    t.network.oversubscription = 0.5;
    c.topology = t;
    CHECK(build_error(c).find("cluster.topology.network.oversubscription") != std::string::npos);
  }
  SECTION("more ranks than GPUs") {
    const auto f = fabric(hgx(2));
    auto p = place(*f, {.tp = 8, .dp = 4});
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().path == "layout");
    CHECK(p.error().message.find("32 ranks but the cluster has 16 GPUs") != std::string::npos);
    auto prof = f->profile(strided_pattern(32, 1, 32));
    REQUIRE_FALSE(prof.has_value());
    CHECK(prof.error().path == "layout");
  }
}
