// The closed form costs each parallel dimension's collectives on the scenario's fabric: every group of
// the dimension at once, sharing the links they cross.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "hardware/topology.hpp"
#include "presets/scenario_json.hpp"
#include "strategies/costs.hpp"

using namespace clustersim;
using nlohmann::json;

namespace {

// GPT-style 1.3B-ish model on `nodes` DGX H100 nodes, data parallel over nodes with TP inside a node.
json scenario_json(int nodes, const json& topology_patch, int tp) {
  json cluster = {{"base", "dgx-h100"}, {"nodes", nodes}};
  if (!topology_patch.is_null()) cluster["topology"] = topology_patch;
  return {{"model", {{"layers", 24}, {"hidden", 2048}, {"heads", 16}, {"ffn_hidden", 8192}, {"vocab", 50304}}},
          {"cluster", cluster},
          {"training", {{"seq_length", 2048}, {"global_batch", 8 * nodes * 8 / tp}}},
          {"layout", {{"tp", tp}, {"micro_batch", 1}}}};
}

strategies::Scenario make(const json& j) {
  auto sc = presets::scenario_from_json(j);
  if (!sc) FAIL(sc.error().what());
  return *sc;
}

}  // namespace

TEST_CASE("scenarios from JSON carry the fabric and the placement of their layout") {
  const auto sc = make(scenario_json(4, nullptr, 2));
  REQUIRE(sc.fabric != nullptr);
  CHECK(sc.fabric->gpu_count() == 32);
  CHECK(sc.placement.size(hardware::ParallelDim::tp) == 2);
  CHECK(sc.placement.size(hardware::ParallelDim::dp) == 16);
  // TP innermost: GPUs 0 and 1 form a TP group; GPU 0's DP group strides by 2.
  CHECK(sc.placement.group_of(hardware::ParallelDim::tp, 0) == std::vector<int>{0, 1});
  CHECK(sc.placement.group_of(hardware::ParallelDim::dp, 0)[1] == 2);
}

TEST_CASE("DP gradient reduction is the fabric's cost of all DP groups at once") {
  const auto sc = make(scenario_json(4, nullptr, 2));
  const auto rc = strategies::rank_costs(sc);
  // fp32 main grads (Megatron default) of every parameter, all-reduced over the 16-member DP groups.
  const Bytes grads(rc[0].params * 4.0);
  const auto direct = sc.fabric->cost(hardware::Collective::all_reduce, grads, sc.placement, hardware::ParallelDim::dp);
  CHECK(rc[0].dp_reduce.value == Approx(direct.time.value).epsilon(1e-12));
  // Without the fabric the same scenario falls back to the two-level profile of one uncontended group.
  auto plain = sc;
  plain.fabric.reset();
  const auto rc_plain = strategies::rank_costs(plain);
  CHECK(rc_plain[0].dp_reduce.value > 0);
}

TEST_CASE("an oversubscribed, non-rail fabric slows the DP reduction that crosses leaf switches") {
  // 64 nodes x 8 NICs = 512 NICs over 16-port-down leaves: DP rings of all 8 TP ranks of a node share
  // leaf uplinks; 4:1 oversubscription leaves a quarter of the bandwidth up the tree.
  const json base_topology = {{"network", {{"kind", "fat-tree"}, {"rail_optimized", false}, {"switch_radix", 32}}}};
  json oversubscribed = base_topology;
  oversubscribed["network"]["oversubscription"] = 4;
  const auto full = make(scenario_json(64, base_topology, 8));
  const auto thin = make(scenario_json(64, oversubscribed, 8));
  const auto a = strategies::rank_costs(full)[0].dp_reduce.value;
  const auto b = strategies::rank_costs(thin)[0].dp_reduce.value;
  INFO("non-blocking " << a << " s, 4:1 " << b << " s");
  // Rings cross a leaf boundary once per pair of nodes, so they lose less than the 4x of the uplinks
  // (all-to-all traffic loses more: tests/hardware), but they do lose.
  CHECK(b > 1.2 * a);
  CHECK(b < 4.0 * a);
}

TEST_CASE("ZeRO-3 gathers and reduce-scatters one unit at a time: every layer pays its collectives' latency") {
  // FSDP/ZeRO-3 over 16 DP ranks (tp 2): per micro-batch each of the 24 layers is gathered twice and
  // its gradients reduce-scattered once; the embedding and head (the root unit) the same, once.
  auto j = scenario_json(4, nullptr, 2);
  j["layout"]["zero"] = 3;
  const auto sc = make(j);
  const auto rc = strategies::rank_costs(sc)[0];
  const double layer = (sc.model.layer_params() - sc.model.layer_replicated_params()) / 2 + sc.model.layer_replicated_params();
  const double root = rc.params - 24 * layer;
  REQUIRE(root > 0);
  const auto cost = [&](hardware::Collective op, double bytes) {
    return sc.fabric->cost(op, Bytes(bytes), sc.placement, hardware::ParallelDim::dp).time.value;
  };
  using C = hardware::Collective;
  // 16-bit weights gathered, fp32 main gradients reduced (Megatron's default grad precision).
  const double per_layer = 2 * cost(C::all_gather, layer * 2.0) + cost(C::reduce_scatter, layer * 4.0);
  const double per_root = 2 * cost(C::all_gather, root * 2.0) + cost(C::reduce_scatter, root * 4.0);
  CHECK(rc.zero3_comm.value == Approx(24 * per_layer + per_root).epsilon(1e-9));
  // One collective of the whole stage would pay the ring latency once instead of 25 times.
  const double whole = 2 * cost(C::all_gather, rc.params * 2.0) + cost(C::reduce_scatter, rc.params * 4.0);
  CHECK(rc.zero3_comm.value > whole);
}

TEST_CASE("FP8 training keeps the LM head's GEMMs in 16-bit") {
  auto j = scenario_json(1, nullptr, 1);
  j["layout"]["micro_batch"] = 8;  // GEMMs large enough for FP8 to pay for its casts
  j["training"]["global_batch"] = 64;
  j["training"]["precision"] = "fp8";
  const auto fp8 = strategies::unit_costs(make(j));
  j["training"]["precision"] = "bf16";
  const auto bf16 = strategies::unit_costs(make(j));
  // The head (final norm, logits GEMM, cross-entropy) costs the same; the layers' GEMMs got faster.
  CHECK(fp8.head_forward.time.value == Approx(bf16.head_forward.time.value).epsilon(1e-12));
  CHECK(fp8.head_backward.time.value == Approx(bf16.head_backward.time.value).epsilon(1e-12));
  CHECK(fp8.layer_forward.time.value < bf16.layer_forward.time.value);
}

TEST_CASE("overlapped TP collectives hide only behind the GEMM each one feeds or drains") {
  // TP 8 with sequence parallelism and tp_comm_overlap: each all-gather / reduce-scatter is split into
  // 8 chunks pipelined with its GEMM, so at least 1/8 of it stays exposed, and where the collective
  // outlasts its GEMM the difference shows too.
  auto j = scenario_json(1, nullptr, 8);
  j["layout"]["sequence_parallel"] = true;
  j["layout"]["tp_comm_overlap"] = true;
  j["layout"]["micro_batch"] = 4;
  j["training"]["global_batch"] = 4;
  auto at_bandwidth = [&](const char* bw) {
    auto k = j;
    k["cluster"]["scale_up"] = {{"bandwidth", bw}, {"pair_bandwidth", bw}};
    return strategies::unit_costs(make(k)).layer_tp_exposed_share;
  };
  // A fabric fast enough that every collective is shorter than its GEMM: exactly the first chunk.
  CHECK(at_bandwidth("100 TB/s") == Approx(1.0 / 8));
  // A slow one: the collectives outlast their GEMMs and more than 1/8 stays exposed, less than all.
  const double slow = at_bandwidth("20 GB/s");
  CHECK(slow > 0.5);
  CHECK(slow < 1.0);
  // Without sequence parallelism (all-reduces) the first of t chunks, as before.
  j["layout"]["sequence_parallel"] = false;
  CHECK(strategies::unit_costs(make(j)).layer_tp_exposed_share == Approx(1.0 / 8));
  // No overlap: everything exposed.
  j["layout"]["tp_comm_overlap"] = false;
  CHECK(strategies::unit_costs(make(j)).layer_tp_exposed_share == 1.0);
}

TEST_CASE("FSDP under pipeline parallelism moves each unit once per iteration, not per micro-batch") {
  auto j = scenario_json(4, nullptr, 2);
  j["layout"]["zero"] = 3;
  j["layout"]["pp"] = 2;
  j["training"]["global_batch"] = 64;  // dp 8: 8 micro-batches of 1
  j["training"]["framework"] = "fsdp";
  const auto fsdp = make(j);
  j["training"]["framework"] = "megatron";
  const auto zero3 = make(j);
  REQUIRE(fsdp.micro_batches == 8);
  const auto a = strategies::rank_costs(fsdp)[0], b = strategies::rank_costs(zero3)[0];
  // Megatron-style ZeRO-3 gathers twice and reduce-scatters once per micro-batch; FSDP + PP gathers and
  // reduce-scatters once per iteration (16-bit gradients under FSDP, fp32 main grads under Megatron).
  CHECK(b.dp_bytes > 8 * a.dp_bytes);
  CHECK(a.zero3_comm.value * 8 < b.zero3_comm.value);
  CHECK(a.zero3_exposed.value <= a.zero3_comm.value);
}

TEST_CASE("dynamic FP8 scaling reads each cast operand once more than delayed scaling") {
  // A 8192 x 8192 x 8192 FP8 GEMM on an H100: dynamic (current) scaling reduces the 16-bit operand's
  // amax before casting it, 2 more bytes per element of the m x k operand and one more kernel.
  const auto sc = make(scenario_json(1, nullptr, 8));
  const auto& gpu = sc.cluster.gpu;
  hardware::Kernel g;
  g.kind = hardware::KernelKind::gemm;
  g.m = g.n = g.k = 8192;
  g.flops = 2.0 * 8192.0 * 8192.0 * 8192.0;
  hardware::ComputePrecision pr;
  pr.gemm = hardware::Precision::fp8;
  pr.gemm_input_bytes = 1.0;
  const double delayed = hardware::kernel_time(g, gpu, pr).value;
  pr.fp8_dynamic_scaling = true;
  const double dynamic = hardware::kernel_time(g, gpu, pr).value;
  const double bw = gpu.hbm_bandwidth.value * gpu.efficiency.hbm;
  CHECK(dynamic - delayed == Approx(2.0 * 8192.0 * 8192.0 / bw + gpu.efficiency.kernel_overhead.value));
}
