#pragma once
// Lowering a validated scenario to a Plan: what one GPU of each pipeline stage does in one training
// iteration, op by op, on its streams, with the dependencies between ops (on the same GPU and across
// pipeline stages), the collective each communication op runs, and the bytes each op allocates and frees.
//
// Every DP and TP replica of a stage runs the same program (the layout is symmetric), so the plan holds
// one StageProgram per pipeline stage; the discrete-event evaluator (sim/des.hpp) runs it for one
// representative GPU per stage, or instantiates it for every GPU of the cluster (--full).
//
// What the lowering encodes:
// - the pipeline schedule's order of forward (F), backward (B) and, for ZB-H1, weight-gradient (W)
//   passes per stage: GPipe (all F, then all B; Huang et al. 2019), 1F1B (p - r - 1 warm-up forwards;
//   PipeDream-Flush, Narayanan et al. 2021), interleaved 1F1B (Megatron-LM's schedule table and warm-up
//   of 2 (p - r - 1) + (v - 1) g chunks, g = p when p divides m; Narayanan et al. 2021 sec. 2.2.2), ZB-H1 (1F1B with the weight
//   gradients split off and delayed by r passes on stage r, Qi et al. 2023 sec. 3.1, the order of PyTorch's
//   pipelining ZB schedules);
// - per pass, one op per transformer layer (and the embedding and LM head), preceded by recomputation
//   where the layout recomputes, each followed by its TP collectives: inline on the compute stream, or
//   with tp_comm_overlap split into a hidden part on the TP stream and an exposed 1/t on the compute stream;
// - PP sends on the compute stream after each pass (Megatron's p2p is blocking in 1F1B), on which the
//   next stage's pass waits;
// - DP gradient reduction in buckets (Megatron DDP: max(40M, 1M x dp) parameters, filled in backward
//   order) on the DP stream, each launched when the last micro-batch's backward of its layers is done
//   (overlap_grad_reduce), else after the last backward on the compute stream; ZeRO >= 1 parameter
//   all-gathers per bucket at the iteration start, each forward waiting for its bucket
//   (overlap_param_gather), else after the optimizer; ZeRO-3 gathers per layer and pass, prefetched one
//   layer ahead, and a gradient reduce-scatter after each layer's backward (FSDP under PP: each unit
//   gathered once per iteration and reduce-scattered after the last micro-batch only); gathers and
//   reductions on separate streams; the optimizer step last;
// - memory: what each op allocates when it starts and frees when it ends (activations of a layer from its
//   forward to its backward, or to its W for ZB-H1, which keeps the GEMM inputs the weight gradient
//   needs; recomputed activations; the backward's transient gradients; logits; gathered parameters), on
//   top of the stage's static bytes (weights, gradients, optimizer states, workspaces).
#include <array>
#include <cstdint>
#include <vector>

#include "hardware/comm_model.hpp"
#include "strategies/layout.hpp"

namespace clustersim::strategies {

enum class OpKind : std::uint8_t {
  forward,         // a forward pass of one unit (layer, embedding or head)
  backward,        // the whole backward of one unit
  backward_input,  // ZB-H1: the input-gradient part of the backward (B)
  weight_grad,     // ZB-H1: the weight-gradient part (W)
  recompute,       // the recomputed forward before a backward
  optimizer,       // the optimizer step
  tp_comm,         // TP collectives of one unit's pass
  pp_send,         // activation (forward) or gradient (backward) to the neighbouring stage
  grad_reduce,     // DP gradient all-reduce / reduce-scatter (a bucket, or one layer under ZeRO-3)
  param_gather,    // ZeRO parameter all-gather (a bucket, or one layer under ZeRO-3)
};
const char* to_string(OpKind k);
[[nodiscard]] constexpr bool is_communication(OpKind k) { return k >= OpKind::tp_comm; }

// A GPU's streams: kernels; TP collectives overlapped with them; parameter gathers; gradient
// reductions (separate from the gathers, as FSDP and Megatron's distributed optimizer keep them, so a
// reduce-scatter waiting for its backward never holds up the next layer's gather).
enum class Stream : std::uint8_t { compute, tp, dp_gather, dp_reduce };
inline constexpr int kStreams = 4;
const char* to_string(Stream s);

// What an op works on.
enum class Part : std::uint8_t { layer, embedding, head, stage };
const char* to_string(Part p);

enum class DepKind : std::uint8_t { finish, start };  // wait for the other op's end, or only its start

// A dependency on op `op` of stage `stage` (the same stage, or a neighbour for PP transfers).
struct OpDep {
  std::int32_t stage = 0;
  std::uint32_t op = 0;
  DepKind kind = DepKind::finish;
};

// The communicator a communication op runs on, seen from one GPU.
enum class CommGroup : std::uint8_t { tp, dp, pp_next, pp_prev };
// One collective of a communication op: `bytes` is the size of the whole array (nccl-tests' size).
struct CommPiece {
  hardware::Collective op = hardware::Collective::all_reduce;
  double bytes = 0;
};
struct CommSpec {
  CommGroup group = CommGroup::tp;
  std::uint8_t pieces = 0;
  std::array<CommPiece, 4> piece{};
  double scale = 1.0;  // share of the collectives' time this op takes (TP overlap splits one in two ops)
};

struct PlanOp {
  OpKind kind = OpKind::forward;
  Stream stream = Stream::compute;
  Part part = Part::layer;
  std::int32_t micro_batch = -1;  // -1: not tied to a micro-batch (buckets, optimizer)
  std::int16_t chunk = -1;        // model chunk (virtual stage) of this rank
  std::int16_t layer = -1;        // layer index within the chunk (Part::layer)
  double duration = 0;            // seconds in isolation: kernels, or the collective without contention
  double alloc = 0;               // bytes allocated when the op starts
  double release = 0;             // bytes freed when it ends
  std::int32_t comm = -1;         // index in Plan::comms (communication ops)
  std::uint32_t first_dep = 0, deps = 0;  // StageProgram::deps[first_dep, first_dep + deps)
};

struct StageProgram {
  int stage = 0;
  std::vector<PlanOp> ops;  // ops of one stream run in the order they appear here
  std::vector<OpDep> deps;
  double static_bytes = 0;  // weights, gradients, optimizer states, workspace: held the whole iteration
};

// The lowered iteration. Invariants: every dependency names an existing op; following stream order and
// dependencies never loops (the schedules are deadlock-free); allocations and frees balance per stage.
struct Plan {
  Schedule schedule = Schedule::one_f_one_b;
  int pp = 1, virtual_stages = 1, micro_batches = 1, tp = 1, dp = 1;
  std::vector<StageProgram> stages;
  std::vector<CommSpec> comms;
};

// The numbers the lowering uses, from the cost and memory models (plan_costs), or set by tests.
// Times are per micro-batch on one GPU; bytes are on one GPU.
struct PlanCosts {
  Seconds layer_forward, layer_backward_input, layer_weight_grad, layer_recompute;
  Seconds embedding_forward, embedding_backward;
  Seconds head_forward, head_backward_input, head_weight_grad;
  Seconds layer_tp, layer_recompute_tp, embedding_tp, head_tp;  // TP collectives of one pass
  Seconds pp_send;
  CommSpec layer_tp_comm, embedding_tp_comm, head_tp_comm, pp_comm;
  double layer_tp_exposed_share = 1.0;   // with tp_comm_overlap: UnitCosts::layer_tp_exposed_share
  std::vector<Seconds> optimizer;        // per stage
  // Memory
  double layer_stored = 0;        // activations a recomputed (or normal) layer keeps for its backward
  double layer_full = 0;          // what a layer keeps without recomputation
  double recompute_extra = 0;     // what recomputing a layer re-creates before its backward
  double weight_grad_keep = 0;    // ZB-H1: what a layer keeps from its B to its W (its GEMM inputs)
  double grad_transient = 0;      // input and output gradients of a layer during its backward
  double embedding_stored = 0, head_stored = 0, logits = 0;
  std::vector<int> recomputed_layers;   // per stage: layers that follow the recompute policy
  std::vector<double> static_bytes;     // per stage
  std::vector<double> optimizer_extra;  // per stage: fp32 gradient copy during the step
  // Parameters (per GPU, before ZeRO sharding) for DP buckets and ZeRO-3 gathers.
  double layer_params = 0;
  std::vector<double> stage_params;     // per stage
  double weight_bytes = 2, grad_bytes = 4;  // per parameter
};

PlanCosts plan_costs(const Scenario& sc);
Plan lower(const Scenario& sc, const PlanCosts& costs);
Plan lower(const Scenario& sc);

// The order of passes of one pipeline stage under a schedule: 'F' forward, 'B' backward (the whole
// backward, or only its input-gradient part under ZB-H1), 'W' weight gradient (ZB-H1).
struct Pass {
  char type = 'F';
  int micro_batch = 0;
  int chunk = 0;
};
std::vector<Pass> pass_order(Schedule schedule, int pp, int stage, int micro_batches, int virtual_stages);

// Interleaved 1F1B: how many micro-batches run through one chunk before the next (Megatron's
// microbatch_group_size_per_vp_stage): pp, or the smallest larger size that leaves no last group of
// fewer than pp micro-batches.
int interleaved_group_size(int pp, int micro_batches);

}  // namespace clustersim::strategies
