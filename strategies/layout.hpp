#pragma once
// A parallel layout and a training configuration, and their validation against a model and a cluster.
//
// validate_scenario() checks every rule once (degrees multiply to the GPU count, heads and kv_heads
// divisible by tp, layers split over pp x virtual stages, batch divisible by dp x micro-batch, ...) and
// returns a Scenario: a sealed, consistent object whose stage split and micro-batch count are known.
// Errors name the field ("layout.tp") and the reason; nothing is clamped or guessed silently.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "hardware/cluster.hpp"
#include "hardware/placement.hpp"
#include "hardware/topology.hpp"
#include "model/ops.hpp"
#include "model/transformer.hpp"

namespace clustersim::strategies {

using model::AttentionImpl;
using hardware::Precision;

// gpipe (Huang et al. 2019), 1f1b (PipeDream-Flush, Narayanan et al. 2021), interleaved-1f1b (Narayanan
// et al. 2021 sec. 2.2.2), zb-h1 (Qi et al. 2023, arXiv:2401.10241: backward split into input-gradient B
// and weight-gradient W passes, W deferred into the bubble; 1F1B memory).
enum class Schedule { gpipe, one_f_one_b, interleaved_1f1b, zero_bubble_h1 };
// none; selective (Korthikanti et al. 2022: the attention core); selective-op (torchtitan's per-op
// selective checkpointing: keeps every other matmul output and the attention output, recomputes the
// rest of the layer); full (only the layer input is kept).
enum class Recompute { none, selective, selective_op, full };

const char* to_string(Schedule s);
const char* to_string(Recompute r);
const char* to_string(AttentionImpl a);
std::optional<Schedule> parse_schedule(std::string_view s);
std::optional<Recompute> parse_recompute(std::string_view s);
std::optional<AttentionImpl> parse_attention(std::string_view s);

struct LayoutSpec {
  int tp = 1;
  int pp = 1;
  int dp = 0;                     // 0 = GPUs / (tp * pp * cp)
  int cp = 1;                     // context parallel (accepted only as 1 until the CP cost model lands)
  int ep = 1;                     // expert parallel (accepted only as 1 until the MoE cost model lands)
  bool sequence_parallel = false;
  int micro_batch = 1;
  int virtual_stages = 1;         // model chunks per pipeline rank (interleaved 1F1B)
  Schedule schedule = Schedule::one_f_one_b;
  int zero = 0;                   // 0: DDP, 1: optimizer states (= Megatron distributed optimizer), 2: + grads, 3: + params (FSDP)
  Recompute recompute = Recompute::none;
  int recompute_layers = 0;       // with full recompute: layers per pipeline rank recomputed (0 = all;
                                  // Megatron --recompute-num-layers with the block method, torchtitan's
                                  // every-k-th-layer checkpointing as layers / k)
  AttentionImpl attention = AttentionImpl::flash;
  double attention_efficiency = 0;  // fused-attention FLOP/s / peak of the kernel used (0 = the GPU
                                    // preset's FlashAttention-2 figure; e.g. FA3 or cuDNN are faster,
                                    // Triton FlashAttention slower)
  std::vector<int> stage_layers;  // transformer layers per (virtual) stage, in pipeline order; empty = even
  bool embedding_as_layer = false;
  bool loss_as_layer = false;
  bool overlap_grad_reduce = true;   // DP gradient reduction overlapped with backward (Megatron/DDP buckets)
  bool overlap_param_gather = true;  // ZeRO-3 / distributed-optimizer parameter gathers prefetched
  bool tp_comm_overlap = false;      // TP collectives hidden behind GEMMs (TE userbuffers, async TP)
};

// The training framework, for the memory behaviours that differ between them (memory-modelling notes
// sec. 3): Megatron keeps 16-bit weights beside the fp32 master in the optimizer; FSDP2 (torchtitan) and
// DeepSpeed ZeRO-3 shard the parameters, FSDP keeping only the fp32 shard (the master) and gathering
// 16-bit copies per layer.
// pytorch: plain PyTorch (eager modules, DDP), e.g. tools/measure's harness model.
enum class Framework { megatron, deepspeed, fsdp, pytorch };
const char* to_string(Framework f);
std::optional<Framework> parse_framework(std::string_view s);

// Precision of the gradient buffers that are reduced and kept between micro-batches.
enum class GradPrecision { fp32, bf16 };

// How FP8 GEMM operands are scaled (Micikevicius et al. 2022, per-tensor scaling): delayed, from an amax
// history, in the same pass as the cast (Transformer Engine's default DelayedScaling); or dynamic
// ("current", torchao Float8's tensorwise default, TE's current scaling), whose amax must be reduced
// over the tensor before it is cast: one more read of the 16-bit operand.
enum class Fp8Scaling { delayed, dynamic };
const char* to_string(Fp8Scaling s);
std::optional<Fp8Scaling> parse_fp8_scaling(std::string_view s);

// Caching-allocator and device-level memory on top of what tensors occupy (memory-modelling notes, sec. 1).
struct MemoryOverheads {
  double allocator_reserve = 0.08;     // reserved / allocated - 1 (PyTorch caching allocator; a few to 20 %)
  std::optional<Bytes> cuda_context;   // default: the GPU preset's
  std::optional<Bytes> nccl_buffers;   // default: 4 MiB x channels x communicators (see memory.cpp)
  // Library workspaces inside torch's allocated memory (cuBLAS per handle, a framework's own GEMM
  // workspace): default the GPU preset's, which assumes PyTorch's default cuBLAS workspace size.
  std::optional<Bytes> workspace;
};

struct TrainingSpec {
  std::int64_t seq_length = 0;
  std::int64_t global_batch = 0;       // sequences per iteration
  Precision precision = Precision::bf16;  // bf16 | fp16 | fp8 (fp8 GEMMs, bf16 elsewhere) | fp32
  double tokens = 0;                   // training target (0 = not given)
  GradPrecision grad_precision = GradPrecision::fp32;  // Megatron keeps fp32 main grads (memory notes 2)
  double optimizer_bytes_per_param = 12.0;  // Adam: fp32 master 4 + momentum 4 + variance 4 (ZeRO sec. 3.1)
  bool master_weights = true;          // fp32 master copy counted in the optimizer bytes above
  Framework framework = Framework::megatron;
  // Bytes per logit held at the loss peak (memory-modelling notes sec. 2): Megatron's vocab-parallel
  // cross-entropy keeps the 16-bit logits and an fp32 copy (6); eager torchtitan up to 12; compiled 4.
  double loss_bytes_per_logit = 6.0;
  // SMs a running collective holds (NCCL runs one CTA per channel; 16 channels is its usual count on
  // NVLink/InfiniBand systems, NCCL_MIN/MAX_NCHANNELS): overlapped communication slows compute by this share.
  int nccl_channels = 16;
  // Elementwise ops fused (Megatron/TE kernels, torch.compile) or run as eager PyTorch op chains.
  bool fused_elementwise = true;
  // Megatron's --defer-embedding-wgrad-compute: the LM head's weight gradient waits for the pipeline
  // flush, and the last stage holds each deferred micro-batch's logits gradient and head input until
  // then, up to --wgrad-deferral-limit micro-batches (0: not deferred).
  int deferred_head_wgrad = 0;
  Fp8Scaling fp8_scaling = Fp8Scaling::delayed;  // with precision fp8
  MemoryOverheads memory;
};

// One pipeline rank: the (virtual) stages it runs.
struct StageSplit {
  std::vector<int> chunk_layers;  // transformer layers of each of its v chunks
  bool has_embedding = false;
  bool has_head = false;
  [[nodiscard]] int layers() const {
    int n = 0;
    for (int l : chunk_layers) n += l;
    return n;
  }
};

// A validated scenario: everything later code reads, consistent by construction.
struct Scenario {
  model::Model model;
  hardware::ClusterSpec cluster;
  TrainingSpec training;
  LayoutSpec layout;           // dp filled in
  std::vector<StageSplit> stages;  // one per pipeline rank
  int gpus = 0;
  int micro_batches = 0;       // per pipeline flush: global_batch / (dp * micro_batch)
  // The cluster as a graph and the ranks placed on it (place_on_fabric). With them, the closed form
  // costs each parallel dimension's collectives with all of its groups running at once on the graph
  // (shared NICs, rails, switch uplinks); without, on the two-level profile of one uncontended group.
  std::shared_ptr<const hardware::Fabric> fabric;
  hardware::Placement placement;
};

Expected<Scenario> validate_scenario(const model::Model& model, const hardware::ClusterSpec& cluster,
                                     const TrainingSpec& training, const LayoutSpec& layout);

// Places the scenario's ranks on a fabric built for its cluster (Megatron's order, TP innermost). The
// fabric is shared: build it once per cluster (hardware::Fabric::build) and place every layout on it.
Expected<Scenario> place_on_fabric(Scenario sc, std::shared_ptr<const hardware::Fabric> fabric);
// The same, in place, for evaluators that rewrite a scenario's layout (sweeps).
std::optional<Error> place_layout(Scenario& sc, const std::shared_ptr<const hardware::Fabric>& fabric);

}  // namespace clustersim::strategies
