#include "model/ops.hpp"

namespace clustersim::model {

namespace {

Op gemm(const char* name, Pass pass, double m, double n, double k, double batch = 1.0, bool core = false) {
  Op op;
  op.name = name;
  op.kind = OpKind::gemm;
  op.pass = pass;
  op.flops = 2.0 * m * n * k * batch;  // one multiply-add = 2 FLOPs
  op.executed_flops = op.flops;
  op.gemm = GemmShape{m, n, k, batch};
  op.attention_core = core;
  return op;
}

Op mem(const char* name, MemoryOpKind kind, Pass pass, double bytes, double flops = 0.0, bool core = false) {
  Op op;
  op.memory_kind = kind;
  op.name = name;
  op.kind = OpKind::memory_bound;
  op.pass = pass;
  op.bytes = bytes;
  op.flops = flops;
  op.executed_flops = flops;
  op.attention_core = core;
  return op;
}

// A linear layer X(T x k) W(k x n): forward one GEMM; backward the data gradient dX = dY W^T
// (T x k from a reduction over n) and the weight gradient dW = X^T dY (k x n from a reduction over T).
void linear(std::vector<Op>& out, const char* name, Pass pass, double tokens, double n, double k) {
  if (pass == Pass::forward) {
    out.push_back(gemm(name, pass, tokens, n, k));
  } else {
    out.push_back(gemm(name, pass, tokens, k, n));   // dgrad
    out.push_back(gemm(name, pass, k, n, tokens));   // wgrad
    out.back().weight_grad = true;
  }
}

}  // namespace

std::vector<Op> layer_ops(const Model& m, const ShardContext& c, Pass pass) {
  const auto& s = m.spec();
  const double t = c.tp;
  const double b = static_cast<double>(c.micro_batch);
  const double seq = static_cast<double>(c.seq_length);
  const double T = b * seq;                                   // tokens through the GEMMs of this rank
  const double Tn = c.sequence_parallel ? T / t : T;          // tokens through norms/dropout/residuals
  const double h = static_cast<double>(s.hidden);
  const double q = static_cast<double>(m.q_width()) / t;      // query width on this rank
  const double kv = static_cast<double>(m.kv_width()) / t;    // key (= value) width on this rank
  const double f = static_cast<double>(s.ffn_hidden) / t;     // FFN width on this rank
  const double heads = s.heads / t;
  const double d = static_cast<double>(m.head_dim());
  const double e = c.activation_bytes;
  const bool fwd = pass == Pass::forward;
  const double dir = fwd ? 1.0 : 2.0;  // memory-bound backward reads the saved input and the gradient
  std::vector<Op> ops;
  ops.reserve(24);

  // Eager-mode traffic per element, from the ATen op sequences (Llama reference / torchtitan code):
  // RMSNorm: to(fp32) 2+4, pow 4+4, mean 4, mul 4+4, to(bf16) 4+2, mul(weight) 2+2 = 36 bytes against a
  // fused kernel's 4 (x9, in 6 kernels); rotary: to(fp32) 2+4, complex mul 4+4, to(bf16) 4+2 = 20 against
  // 4 (x5, 3 kernels); SwiGLU: silu 2+2, mul 4+2 = 10 against 6 (x5/3, 2 kernels). LayerNorm has a
  // native fused kernel in eager mode too.
  const bool eager = c.eager_elementwise;
  const bool eager_norm = eager && s.norm == NormKind::rmsnorm;
  auto norm_op = [&](const char* name) {
    ops.push_back(mem(name, eager_norm ? MemoryOpKind::rmsnorm_eager : MemoryOpKind::norm, pass,
                      dir * 2.0 * Tn * h * e * (eager_norm ? 9.0 : 1.0), 0.0));
    if (eager_norm) for (int i = 0; i < 5; ++i) ops.push_back(mem("norm_eager_kernel", MemoryOpKind::rmsnorm_eager, pass, 0.0));
  };

  // --- attention block ---
  norm_op("input_norm");
  linear(ops, "qkv_proj", pass, T, q + 2.0 * kv, h);
  if (s.position == PositionKind::rope) {
    ops.push_back(mem("rotary", MemoryOpKind::other, pass, 2.0 * T * (q + kv) * e * (eager ? 5.0 : 1.0)));
    if (eager) for (int i = 0; i < 2; ++i) ops.push_back(mem("rotary_eager_kernel", MemoryOpKind::other, pass, 0.0));
  }
  if (c.attention == AttentionImpl::flash) {
    // FlashAttention: QK^T and PV per head, 4 b s^2 (a d)/t FLOPs forward by the non-causal convention.
    Op op;
    op.name = "flash_attention";
    op.kind = OpKind::flash_attention;
    op.pass = pass;
    op.attention_core = true;
    const double conv = 4.0 * b * seq * seq * q;
    const double causal_share = c.causal ? 0.5 : 1.0;
    // Backward recomputes QK^T and runs dV, dP, dQ, dK: 5 matmuls against the forward's 2
    // (Dao 2023, FlashAttention-2 Sec. 3.1.2), i.e. 2.5x the forward work.
    op.flops = fwd ? conv : 2.0 * conv;
    op.executed_flops = (fwd ? 1.0 : 2.5) * conv * causal_share;
    op.bytes = (fwd ? 1.0 : 2.0) * T * (2.0 * q + 2.0 * kv) * e;
    op.gemm.n = d;  // head size: the kernel's efficiency depends on it
    op.gemm.m = seq;  // sequence length (calibrated attention tables are by it)
    op.gemm.batch = b * heads;
    ops.push_back(op);
  } else {
    // Materialised: scores S = QK^T (b*heads batched s x s x d), softmax (+mask, scale, dropout), PV.
    const double batch = b * heads;
    if (fwd) {
      ops.push_back(gemm("attention_scores", pass, seq, seq, d, batch, true));
      // fused scale-mask-softmax reads scores and writes probabilities; dropout reads them and writes
      // the output and a 1-byte mask (Megatron FusedScaleMaskSoftmax + dropout).
      const double elems = batch * seq * seq;
      if (eager) {
        // Eager PyTorch scales and masks the scores in two kernels of their own before the softmax.
        for (int i = 0; i < 2; ++i) ops.push_back(mem("attention_scale_mask", MemoryOpKind::elementwise, pass, elems * 2.0 * e, 0.0, true));
      }
      ops.push_back(mem("softmax", MemoryOpKind::softmax, pass, elems * 2.0 * e, 0.0, true));
      if (s.dropout) ops.push_back(mem("attention_dropout", MemoryOpKind::elementwise, pass, elems * (2.0 * e + 1.0), 0.0, true));
      ops.push_back(gemm("attention_context", pass, seq, d, seq, batch, true));
    } else {
      ops.push_back(gemm("attention_context", pass, seq, seq, d, batch, true));  // dP = dO V^T
      ops.push_back(gemm("attention_context", pass, seq, d, seq, batch, true));  // dV = P^T dO
      const double elems = batch * seq * seq;
      if (s.dropout) ops.push_back(mem("attention_dropout", MemoryOpKind::elementwise, pass, elems * (2.0 * e + 1.0), 0.0, true));
      ops.push_back(mem("softmax", MemoryOpKind::softmax, pass, elems * 3.0 * e, 0.0, true));
      if (eager)
        for (int i = 0; i < 2; ++i) ops.push_back(mem("attention_scale_mask", MemoryOpKind::elementwise, pass, elems * 2.0 * e, 0.0, true));
      ops.push_back(gemm("attention_scores", pass, seq, d, seq, batch, true));   // dQ = dS K
      ops.push_back(gemm("attention_scores", pass, seq, d, seq, batch, true));   // dK = dS^T Q
    }
  }
  if (eager) {
    // Eager attention moves heads between (b, s, a, d) and (b, a, s, d): the batched matmuls of a
    // materialised attention need contiguous Q, K and V (copies of the transposed views), and the
    // attention output is transposed back into a contiguous (b, s, h) tensor; backward copies the
    // gradients the same way (ATen reshape/contiguous).
    if (c.attention == AttentionImpl::materialized)
      ops.push_back(mem("qkv_head_transpose", MemoryOpKind::copy, pass, 2.0 * T * (q + 2.0 * kv) * e, 0.0, true));
    ops.push_back(mem("head_transpose", MemoryOpKind::copy, pass, 2.0 * T * q * e));
  }
  linear(ops, "out_proj", pass, T, h, q);
  // bias + dropout + residual add: reads the projection output and the residual, writes the sum (+mask).
  ops.push_back(mem("residual_add", MemoryOpKind::elementwise, pass, dir * Tn * h * (3.0 * e + (s.dropout ? 1.0 : 0.0))));

  // --- MLP block ---
  norm_op("post_attention_norm");
  if (m.gated()) {
    linear(ops, "mlp_gate_up", pass, T, 2.0 * f, h);
    ops.push_back(mem("swiglu", MemoryOpKind::swiglu, pass, dir * 3.0 * T * f * e * (eager ? 5.0 / 3.0 : 1.0)));  // reads gate and up, writes f
    if (eager) ops.push_back(mem("swiglu_eager_kernel", MemoryOpKind::swiglu, pass, 0.0));
  } else {
    linear(ops, "mlp_up", pass, T, f, h);
    ops.push_back(mem("activation", MemoryOpKind::gelu, pass, dir * 2.0 * T * f * e));  // reads f, writes f
  }
  linear(ops, "mlp_down", pass, T, h, f);
  ops.push_back(mem("residual_add", MemoryOpKind::elementwise, pass, dir * Tn * h * (3.0 * e + (s.dropout ? 1.0 : 0.0))));
  return ops;
}

std::vector<Op> embedding_ops(const Model& m, const ShardContext& c, Pass pass) {
  const auto& s = m.spec();
  const double T = static_cast<double>(c.micro_batch) * static_cast<double>(c.seq_length);
  const double h = static_cast<double>(s.hidden);
  const double e = c.activation_bytes;
  std::vector<Op> ops;
  // Vocab-parallel lookup: each rank gathers its rows and writes a T x h output that is then all-reduced
  // (or reduce-scattered with SP); learned positions add a second gather and an add.
  double bytes = 2.0 * T * h * e;
  if (s.position == PositionKind::learned) bytes += 3.0 * T * h * e;
  // Backward scatters the output gradient into the embedding gradient rows.
  ops.push_back(mem("embedding", MemoryOpKind::copy, pass, pass == Pass::forward ? bytes : 2.0 * bytes));
  return ops;
}

std::vector<Op> head_ops(const Model& m, const ShardContext& c, Pass pass) {
  const auto& s = m.spec();
  const double t = c.tp;
  const double T = static_cast<double>(c.micro_batch) * static_cast<double>(c.seq_length);
  const double Tn = c.sequence_parallel ? T / t : T;
  const double h = static_cast<double>(s.hidden);
  const double V = static_cast<double>(s.vocab) / t;
  const double e = c.activation_bytes;
  const bool fwd = pass == Pass::forward;
  std::vector<Op> ops;
  // The final norm, an eager chain as the layers' (see layer_ops) when eager PyTorch runs RMSNorm.
  const bool eager_norm = c.eager_elementwise && s.norm == NormKind::rmsnorm;
  ops.push_back(mem("final_norm", eager_norm ? MemoryOpKind::rmsnorm_eager : MemoryOpKind::norm, pass,
                    (fwd ? 1.0 : 2.0) * 2.0 * Tn * h * e * (eager_norm ? 9.0 : 1.0)));
  if (eager_norm) for (int i = 0; i < 5; ++i) ops.push_back(mem("norm_eager_kernel", MemoryOpKind::rmsnorm_eager, pass, 0.0));
  linear(ops, "logits", pass, T, V, h);
  // Cross-entropy: Megatron's vocab-parallel one reads the bf16 logits, writes an fp32 copy and the fp32
  // exp/softmax (2 + 4 + 4 bytes per element); backward reads the softmax and writes bf16 grads (4 + 2).
  // ShardContext carries the figures of other implementations.
  ops.push_back(mem("cross_entropy", MemoryOpKind::log_softmax, pass, T * V * (fwd ? c.loss_bytes_forward : c.loss_bytes_backward)));
  return ops;
}

double total_flops(const std::vector<Op>& ops) {
  double f = 0;
  for (const auto& op : ops) f += op.flops;
  return f;
}

double model_flops_per_iteration(const Model& m, std::int64_t global_batch, std::int64_t seq_length) {
  ShardContext c;
  c.micro_batch = 1;
  c.seq_length = seq_length;
  double per_sequence = 0;
  for (Pass p : {Pass::forward, Pass::backward}) {
    per_sequence += m.spec().layers * total_flops(layer_ops(m, c, p));
    per_sequence += total_flops(head_ops(m, c, p));
    per_sequence += total_flops(embedding_ops(m, c, p));
  }
  return per_sequence * static_cast<double>(global_batch);
}

double megatron_formula_flops(const Model& m, std::int64_t global_batch, std::int64_t seq_length) {
  const auto& s = m.spec();
  const double B = static_cast<double>(global_batch), S = static_cast<double>(seq_length);
  const double L = s.layers, h = static_cast<double>(s.hidden);
  const double q_ratio = static_cast<double>(m.q_width()) / h;  // query_projection_to_hidden_size_ratio
  const double gamma = m.gated() ? 1.5 : 1.0;
  double k = 1.0, f = static_cast<double>(s.ffn_hidden), shared = 0.0;
  if (s.moe) {
    k = s.moe->top_k;
    f = static_cast<double>(s.moe->expert_ffn_hidden);
    shared = s.moe->shared_experts * static_cast<double>(s.moe->expert_ffn_hidden);
  }
  const double g_over_a = static_cast<double>(s.kv_heads) / s.heads;
  // Megatron-LM training.py: expansion 12 = 3 (fwd + 2x bwd) x 2 (FLOPs per MAC) x 2 (QK^T and PV / h).
  return 12.0 * B * S * L * h * h *
         ((1.0 + g_over_a + S / h) * q_ratio + (f / h) * k * gamma + (shared / h) * gamma +
          static_cast<double>(s.vocab) / (2.0 * L * h));
}

}  // namespace clustersim::model
