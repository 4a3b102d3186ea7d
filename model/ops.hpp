#pragma once
// The operations of one transformer layer (and of the embedding and the LM head) for one micro-batch on
// one tensor-parallel rank, with their FLOPs, HBM bytes and GEMM shapes.
//
// Sharding follows Megatron-LM (Shoeybi et al. 2019): QKV and MLP up/gate are column-parallel (output
// split by t), the attention output and MLP down projections row-parallel (input split by t); attention
// heads split by t. With sequence parallelism (Korthikanti et al. 2022) norms, dropout and residual adds
// run on s/t tokens. FLOP convention: a multiply-add is 2 FLOPs; attention scores and context are counted
// over the full s x s matrix (non-causal), as Megatron-LM's num_floating_point_operations and Korthikanti
// Eq. 7 count them. `executed_flops` is what the kernel really does: a causal FlashAttention kernel skips
// the masked upper triangle (about half), a materialized attention computes all of it.
#include <cstdint>
#include <vector>

#include "model/transformer.hpp"

namespace clustersim::model {

enum class OpKind {
  gemm,             // dense matrix multiply, shape (m, n, k) x batch
  flash_attention,  // fused attention kernel (scores + softmax + context, never materialised)
  memory_bound,     // norms, softmax, activations, dropout, residual adds, rotary, embedding lookup, loss
};
enum class Pass { forward, backward };
enum class AttentionImpl { flash, materialized };

// What a memory-bound op does: devices calibrated per kernel kind (hardware/calibration.hpp) cost each
// by its own measured curve. rmsnorm_eager is eager PyTorch's RMSNorm chain (casts, pow, mean, rsqrt,
// two muls) as one measured unit: its bytes are the chain's traffic, its extra kernels carry none.
enum class MemoryOpKind { other, copy, elementwise, norm, rmsnorm_eager, softmax, log_softmax, gelu, swiglu };

// C(m x n) = A(m x k) * B(k x n), repeated `batch` times.
struct GemmShape {
  double m = 0, n = 0, k = 0, batch = 1;
};

struct Op {
  const char* name = "";
  OpKind kind = OpKind::memory_bound;
  Pass pass = Pass::forward;
  double flops = 0;           // by the reporting convention above
  double executed_flops = 0;  // what the kernel executes (drives time)
  double bytes = 0;           // HBM bytes read + written (drives time of memory-bound ops)
  GemmShape gemm;             // for OpKind::gemm
  bool attention_core = false;  // part of softmax(QK^T)V: the work selective recompute repeats
  bool weight_grad = false;     // a weight-gradient GEMM (the "W" pass zero-bubble schedules defer)
  MemoryOpKind memory_kind = MemoryOpKind::other;  // for OpKind::memory_bound
};

// How the ops of one rank are shaped.
struct ShardContext {
  std::int64_t micro_batch = 1;   // b, sequences
  std::int64_t seq_length = 0;    // s (per context-parallel rank when cp > 1)
  int tp = 1;                     // t
  bool sequence_parallel = false;
  AttentionImpl attention = AttentionImpl::flash;
  bool causal = true;             // causal mask (decoder LM)
  double activation_bytes = 2.0;  // bytes per activation element (bf16/fp16)
  // HBM bytes the loss moves per logit, forward and backward. Megatron's fused vocab-parallel
  // cross-entropy: 10 + 6. PyTorch's cross_entropy under autocast (eager FSDP stacks) upcasts the logits
  // to fp32, writes log_softmax, reads it for the NLL, and backward writes fp32 then casts back:
  // 18 + 18 (ATen ops: to(float32), log_softmax, nll_loss and their backwards).
  // Eager PyTorch runs RMSNorm, rotary embeddings and SwiGLU as chains of ATen ops (fp32 upcasts and
  // one kernel per op) instead of fused kernels: more HBM traffic and more kernels (see layer_ops).
  bool eager_elementwise = false;
  double loss_bytes_forward = 10.0;
  double loss_bytes_backward = 6.0;
};

// Forward or backward ops of one transformer layer.
std::vector<Op> layer_ops(const Model& m, const ShardContext& c, Pass pass);
// Token (+ position) embedding lookup (first stage).
std::vector<Op> embedding_ops(const Model& m, const ShardContext& c, Pass pass);
// Final norm, logits GEMM and the vocab-parallel cross-entropy (last stage).
std::vector<Op> head_ops(const Model& m, const ShardContext& c, Pass pass);

// Sum of `flops` of a list.
double total_flops(const std::vector<Op>& ops);

// Model FLOPs of one training iteration (forward + backward = 3 x forward; no recomputation) over all
// GPUs, from the op lists (t = 1). Equals Megatron-LM's num_floating_point_operations:
// 12 B s L h^2 (1 + (f/h) k gamma + g/a + s/h + V/(2 L h)) for d = h/a, counted the same way.
double model_flops_per_iteration(const Model& m, std::int64_t global_batch, std::int64_t seq_length);

// Megatron-LM's closed formula (training/training.py num_floating_point_operations), for tests and docs.
double megatron_formula_flops(const Model& m, std::int64_t global_batch, std::int64_t seq_length);

}  // namespace clustersim::model
