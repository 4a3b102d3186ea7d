#pragma once
// Lowering a scenario to what one GPU of each pipeline rank does per micro-batch and per iteration:
// kernels (costed by the device model), TP collectives inline on the compute stream, PP sends, and the
// data-parallel / ZeRO traffic of the iteration (costed by the communication model). The evaluators in
// sim/ compose these into an iteration (closed form here; the discrete-event simulator later).
#include <vector>

#include "hardware/comm_model.hpp"
#include "hardware/compute_model.hpp"
#include "strategies/layout.hpp"
#include "strategies/memory.hpp"

namespace clustersim::strategies {

struct RankCosts {
  int stage = 0;
  // Per micro-batch, summed over this rank's model chunks:
  Seconds forward, backward, recompute;  // kernel time
  Seconds weight_grad;                   // the weight-gradient part of `backward`
  Seconds tp_comm;                       // TP collectives (forward, backward and recompute)
  Seconds tp_exposed;                    // what is not hidden behind GEMMs
  Seconds pp_send;                       // one activation (or gradient) transfer to the next stage
  Seconds zero3_comm;                    // ZeRO-3 parameter gathers + gradient reduce-scatter
  Seconds zero3_exposed;
  Seconds contention;                    // compute slowed by overlapped collectives (see costs.cpp)
  int kernels = 0;                       // kernels launched per micro-batch
  // Per iteration:
  Seconds dp_reduce;                     // gradient all-reduce / reduce-scatter
  Seconds dp_gather;                     // parameter all-gather (ZeRO >= 1 / distributed optimizer)
  Seconds dp_exposed;                    // what of the two is not overlapped
  Seconds dp_contention;                 // backward slowed by the hidden part of the DP reduction
  Seconds optimizer;                     // optimizer step (memory-bound)
  double params = 0;                     // parameters on this GPU (unsharded)
  // Bytes each GPU of this rank sends per iteration, by parallel dimension.
  double tp_bytes = 0, pp_bytes = 0, dp_bytes = 0;
  // Per micro-batch FLOPs executed by this GPU, by the reporting convention.
  double model_flops = 0, recompute_flops = 0;

  [[nodiscard]] Seconds per_microbatch() const {
    return forward + backward + recompute + tp_exposed + zero3_exposed + contention + (pp_send * 2.0);
  }
};

// The cost of each unit of work of one micro-batch on one GPU: a transformer layer, the embedding, the
// LM head (with loss), and the communication attached to them. rank_costs() aggregates these per
// pipeline rank; the discrete-event simulator schedules them one by one.
struct PassCost {
  Seconds time;          // kernel time
  Seconds core_time;     // attention-core kernels (what selective recompute repeats)
  double flops = 0;      // by the reporting convention
  double core_flops = 0;
  Seconds weight_grad_time;  // weight-gradient GEMMs (backward only)
  int kernels = 0;
};
struct UnitCosts {
  PassCost layer_forward, layer_backward;
  PassCost embedding_forward, embedding_backward;
  PassCost head_forward, head_backward;   // final norm, logits GEMM, cross-entropy
  Seconds layer_tp_forward;               // TP collectives of one layer's forward (backward mirrors it)
  // With tp_comm_overlap, the share of a layer's TP collective time left on the critical path: each
  // collective is split into t chunks pipelined with the GEMM it feeds or drains, so it hides only
  // behind that GEMM (see unit_costs); 1 without overlap.
  double layer_tp_exposed_share = 1.0;
  Seconds embedding_tp, head_tp;          // per pass
  double layer_tp_forward_bytes = 0;      // bytes a TP rank sends for one layer's forward collectives
  Seconds pp_send;                        // one activation/gradient transfer between adjacent stages
  double pp_message_bytes = 0;
  // Recomputation of one layer before its backward, by the layout's policy.
  Seconds layer_recompute;
  double layer_recompute_flops = 0;
  Seconds layer_recompute_tp;
};
UnitCosts unit_costs(const Scenario& sc);

std::vector<RankCosts> rank_costs(const Scenario& sc);
// The same with the scenario's memory report already computed (estimate and sweeps have it).
std::vector<RankCosts> rank_costs(const Scenario& sc, const MemoryReport& memory);

// The kernel the device model sees for a model op.
hardware::Kernel to_kernel(const model::Op& op);

// Gradient-reduction bucket size (Megatron DDP default bucket_size = max(40M, 1M x dp) parameters).
double dp_bucket_params(int dp);

}  // namespace clustersim::strategies
