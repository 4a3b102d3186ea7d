#pragma once
// Per-GPU memory of each pipeline rank: model states, activations, buffers, and the peak.
//
// Order of the model (memory-modelling notes): tensors the framework allocates (weights, gradients,
// optimizer states, activations of the in-flight micro-batches, logits/loss buffers, workspaces), whose
// peak over the phases of the step is torch's max_memory_allocated; then the caching allocator's reserve
// (max_memory_reserved); then the device-level extras outside the allocator (CUDA context, NCCL buffers),
// what nvidia-smi shows. Each step is explicit and overridable in TrainingSpec::memory.
#include <string>
#include <vector>

#include "strategies/layout.hpp"

namespace clustersim::strategies {

// Activation bytes of one transformer layer for one micro-batch on one TP rank (Korthikanti et al. 2022
// Table 2, generalised to GQA, gated MLPs, any FFN width, dropout on/off and FlashAttention).
struct LayerActivations {
  double stored = 0;     // kept for backward under the layout's recompute policy
  double full = 0;       // kept without any recomputation (what a recomputed layer re-creates)
  double quadratic = 0;  // the s^2 part of `full` (materialised attention scores)
};
LayerActivations layer_activations(const Scenario& sc);

// Layers of a pipeline rank (with `rank_layers` layers) whose activations follow the recompute policy;
// the others keep everything (partial full recomputation, LayoutSpec::recompute_layers).
int recomputed_layers(const Scenario& sc, int rank_layers);

// Parameters of one transformer layer on one GPU: TP shards all but the replicated ones (norms, biases
// of row-parallel layers).
double layer_params_per_gpu(const Scenario& sc);

// FSDP under pipeline parallelism keeps each unit's gathered parameters from the first micro-batch's
// forward to the last one's backward and reduce-scatters the accumulated gradients only there
// (torchtitan apply_fsdp: reshard_after_forward = False with PP; torch.distributed.pipelining runs all
// but the last backward with set_requires_gradient_sync(False)).
bool fsdp_keeps_unsharded(const Scenario& sc);

struct StageMemory {
  int stage = 0;
  double params = 0;              // parameters held by this GPU (before ZeRO sharding)
  Bytes weights, gradients, optimizer, activations, other;
  Bytes logits;                   // part of `other`: logits and loss buffers (last stage)
  Bytes workspace;                // part of `other`
  int inflight_microbatches = 0;  // micro-batches whose activations are held at the peak
  double inflight_chunks = 0;     // model chunks in flight (interleaving)
  Bytes allocated_peak, reserved_peak, device_peak;
  std::string peak_phase;         // "forward (loss)", "backward (recompute)", "optimizer step"
};

struct MemoryReport {
  std::vector<StageMemory> stages;
  Bytes peak_allocated, peak_reserved, peak_device;  // maxima over stages
  int peak_stage = 0;
  Bytes capacity;
  bool fits = true;
};

MemoryReport memory_report(const Scenario& sc);

// Padded vocabulary as Megatron pads it: a multiple of 128 x tp (make-vocab-size-divisible-by = 128).
std::int64_t padded_vocab(std::int64_t vocab, int tp);

}  // namespace clustersim::strategies
