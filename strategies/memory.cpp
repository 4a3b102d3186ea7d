#include "strategies/memory.hpp"

#include <algorithm>
#include <cmath>

namespace clustersim::strategies {

std::int64_t padded_vocab(std::int64_t vocab, int tp) {
  const std::int64_t mult = 128LL * tp;
  return (vocab + mult - 1) / mult * mult;
}

namespace {
double weight_bytes(Precision p) { return p == Precision::fp32 ? 4.0 : 2.0; }  // fp8 keeps bf16 weights (TE)
double grad_bytes(const TrainingSpec& t) {
  if (t.precision == Precision::fp32) return 4.0;
  return t.grad_precision == GradPrecision::fp32 ? 4.0 : 2.0;
}
}  // namespace

double layer_params_per_gpu(const Scenario& sc) {
  const auto& m = sc.model;
  return (m.layer_params() - m.layer_replicated_params()) / sc.layout.tp + m.layer_replicated_params();
}

bool fsdp_keeps_unsharded(const Scenario& sc) {
  return sc.layout.zero >= 3 && sc.training.framework == Framework::fsdp && sc.layout.pp > 1;
}

int recomputed_layers(const Scenario& sc, int rank_layers) {
  const auto& L = sc.layout;
  if (L.recompute != Recompute::full) return rank_layers;  // none/selective: `stored` already says what is kept
  if (L.recompute_layers == 0) return rank_layers;
  return std::min(L.recompute_layers, rank_layers);
}

LayerActivations layer_activations(const Scenario& sc) {
  const auto& m = sc.model;
  const auto& ms = m.spec();
  const auto& L = sc.layout;
  const double s = static_cast<double>(sc.training.seq_length);
  const double b = L.micro_batch;
  const double h = static_cast<double>(ms.hidden);
  const double t = L.tp;
  const double a = ms.heads;
  const double sp = L.sequence_parallel ? t : 1.0;  // parts that SP shards
  const double sbh = s * b * h;
  const double qr = static_cast<double>(m.q_width()) / h;   // query width / hidden
  const double kvr = static_cast<double>(m.kv_width()) / h; // key (= value) width / hidden
  const double f = static_cast<double>(ms.ffn_hidden);
  const double e = sc.training.precision == Precision::fp32 ? 4.0 : 2.0;  // activations stay 16-bit under fp8
  const double mask = ms.dropout ? 1.0 : 0.0;

  // Korthikanti Table 2, term by term (bytes, e = 2): attention block 11sbh + 5as^2b, MLP 19sbh, norms 4sbh.
  double replicated = 0, sharded = 0;
  replicated += e * sbh;                 // input norm input
  replicated += e * sbh;                 // QKV GEMM input (norm output)
  sharded += e * sbh * qr;               // Q
  sharded += e * sbh * kvr;              // K (GQA: g/a of Q's size)
  sharded += e * sbh * kvr;              // V
  sharded += e * sbh * qr;               // attention output (out-projection input)
  replicated += mask * sbh;              // attention-output dropout mask
  replicated += e * sbh;                 // post-attention norm input
  replicated += e * sbh;                 // MLP up GEMM input
  const double up = m.gated() ? 2.0 * f : f;
  sharded += e * s * b * up;             // activation-function input (gate and up for SwiGLU)
  sharded += e * s * b * f;              // MLP down GEMM input
  replicated += mask * sbh;              // MLP dropout mask
  double linear_part = replicated / sp + sharded / t;

  // Softmax output (needed by PV), its dropout mask and dropout output: 5 a s^2 b with dropout, 2 a s^2 b
  // without. FlashAttention keeps only the fp32 log-sum-exp (4 a s b bytes) instead.
  double quadratic = 0;
  if (L.attention == AttentionImpl::materialized) {
    quadratic = (e + (ms.dropout ? 1.0 + e : 0.0)) * a * s * s * b / t;
  } else {
    linear_part += 4.0 * a * s * b / t;
  }
  LayerActivations out;
  out.full = linear_part + quadratic;
  out.quadratic = quadratic;
  switch (L.recompute) {
    case Recompute::none: out.stored = out.full; break;
    case Recompute::selective: out.stored = linear_part; break;  // softmax/dropout recomputed (Korthikanti 5.1)
    case Recompute::selective_op:
      // torchtitan op-SAC (torchtitan/models/llama3/parallelize.py, _save_list): the layer input, every
      // second matmul output (Q, V, the MLP gate and down outputs of the 7 per layer), the attention
      // output and its log-sum-exp.
      out.stored = (e * sbh + e * sbh * qr + e * sbh * kvr + e * s * b * f + e * sbh) / sp +
                   (e * sbh * qr + 4.0 * a * s * b) / t;
      out.stored = std::min(out.stored, linear_part);
      break;
    case Recompute::full: out.stored = e * sbh / sp; break;        // only the layer input (Korthikanti Table 2)
  }
  return out;
}

MemoryReport memory_report(const Scenario& sc) {
  const auto& m = sc.model;
  const auto& ms = m.spec();
  const auto& L = sc.layout;
  const auto& T = sc.training;
  const auto& gpu = sc.cluster.gpu;
  const int p = L.pp, v = L.virtual_stages, t = L.tp, d = L.dp;
  const int mb = sc.micro_batches;
  const double s = static_cast<double>(T.seq_length);
  const double b = L.micro_batch;
  const double h = static_cast<double>(ms.hidden);
  const double sp = L.sequence_parallel ? t : 1.0;
  const double e = T.precision == Precision::fp32 ? 4.0 : 2.0;
  const double Vp = static_cast<double>(padded_vocab(ms.vocab, t));
  const auto act = layer_activations(sc);

  const double per_layer_params = layer_params_per_gpu(sc);

  MemoryReport rep;
  rep.capacity = gpu.hbm_capacity;
  for (int r = 0; r < p; ++r) {
    const auto& st = sc.stages[r];
    StageMemory sm;
    sm.stage = r;
    double params = st.layers() * per_layer_params;
    if (st.has_embedding) {
      params += Vp * h / t;  // vocab-parallel embedding
      if (ms.position == model::PositionKind::learned) params += static_cast<double>(ms.max_seq_length) * h;
      if (ms.embedding_norm) params += m.final_norm_params();
    }
    if (st.has_head) {
      params += m.final_norm_params();
      // The LM head: its own weight when untied; a copy of the tied embedding when it sits on another stage.
      if (!ms.tied_embeddings || p > 1) params += Vp * h / t;
    }
    sm.params = params;

    // Model states (ZeRO paper Table 1; Megatron theoretical_memory_usage: 18 or 6 + 12/d bytes/param).
    const double wb = weight_bytes(T.precision), gb = grad_bytes(T);
    const double shard_opt = L.zero >= 1 ? d : 1.0;
    const double shard_grad = L.zero >= 2 ? d : 1.0;
    const double shard_w = L.zero >= 3 ? d : 1.0;
    // FSDP keeps only the fp32 shard (the master, counted with the optimizer) and gathers 16-bit copies.
    const bool fsdp_master_only = L.zero >= 3 && T.framework == Framework::fsdp && T.master_weights;
    sm.weights = Bytes(fsdp_master_only ? 0.0 : params * wb / shard_w);
    sm.gradients = Bytes(params * gb / shard_grad);
    sm.optimizer = Bytes(params * T.optimizer_bytes_per_param / shard_opt);
    double transient_params = 0;
    if (fsdp_keeps_unsharded(sc)) {
      // FSDP under pipeline parallelism keeps the gathered parameters from the first micro-batch's
      // forward to the last one's backward (torchtitan apply_fsdp: reshard_after_forward = False when PP
      // is enabled, "to avoid per-microbatch all-gathers"), and accumulates unsharded gradients in the
      // parameter dtype until the last micro-batch (torch.distributed.pipelining runs the backward of
      // all but the last micro-batch with FSDP's set_requires_gradient_sync(False)).
      sm.weights = Bytes(params * wb);
      sm.gradients = Bytes(params * wb);
    } else if (L.zero >= 3) {
      // FSDP/ZeRO-3 gathers one layer's full parameters (and prefetches the next) and its gradient.
      transient_params = 2.0 * per_layer_params * (wb + gb);
    }

    // In-flight micro-batches at the peak (memory notes sec. 2; Megatron schedules.py warm-up counts).
    double chunks_inflight = 0;  // in units of this rank's model chunks
    int inflight = 1;
    if (p == 1) {
      inflight = 1;  // gradient accumulation runs micro-batches one after another
      chunks_inflight = v;
    } else if (L.schedule == Schedule::gpipe) {
      inflight = mb;
      chunks_inflight = static_cast<double>(mb) * v;
    } else if (L.schedule == Schedule::one_f_one_b || L.schedule == Schedule::zero_bubble_h1) {
      // Stage r holds p - r (PipeDream-Flush); ZB-H1 keeps 1F1B's in-flight count (Qi et al. 2023 sec. 3.1).
      inflight = std::min(p - r, mb);
      chunks_inflight = inflight;
    } else {
      // Interleaved: warm-up of (p - r - 1) * 2 + (v - 1) * p chunks, plus the one in steady state.
      const int total = mb * v;
      chunks_inflight = std::min(total, (p - r - 1) * 2 + (v - 1) * p + 1);
      inflight = static_cast<int>(std::ceil(chunks_inflight / v));
    }
    sm.inflight_microbatches = inflight;
    sm.inflight_chunks = chunks_inflight;
    // This rank's layers in flight, in units of all its layers: the in-flight chunks times the layers
    // per chunk. Interleaved, the k-th forward runs chunk (k / p) mod v (Megatron's micro-batch groups
    // of p), so chunks of unequal depth (embedding or loss counted as layers) count as what they hold.
    double share = chunks_inflight / v;
    if (L.schedule == Schedule::interleaved_1f1b && v > 1 && st.layers() > 0) {
      double held = 0;
      for (int k = 0; k < static_cast<int>(chunks_inflight); ++k) held += st.chunk_layers[(k / p) % v];
      share = held / st.layers();
    }
    const int recomputed = recomputed_layers(sc, st.layers());
    double activations = share * (recomputed * act.stored + (st.layers() - recomputed) * act.full);
    if (st.has_embedding) {
      // Input ids (int64) and, with dropout, the embedding dropout mask, per in-flight micro-batch.
      activations += inflight * (8.0 * s * b + (ms.dropout ? s * b * h / sp : 0.0));
    }
    double logits = 0;
    if (st.has_head) {
      // The final norm's input and the LM-head GEMM's input (the norm output, kept for the weight
      // gradient) of the micro-batch in its loss; Megatron's theoretical memory counts both.
      activations += 2.0 * e * s * b * h / sp;
      // The loss holds the logits (Megatron's vocab-parallel cross-entropy: 16-bit logits and an fp32
      // copy together, 6 s b V / t; memory-modelling notes sec. 2; TrainingSpec::loss_bytes_per_logit).
      logits = T.loss_bytes_per_logit * s * b * Vp / t;
      // Deferred LM-head weight gradients (Megatron-Core LinearWithGradAccumulationAndAsyncCommunication
      // with defer_embedding_wgrad_compute): the 16-bit logits gradient and the gathered head input of up
      // to wgrad_deferral_limit micro-batches wait for the flush.
      const double deferred = std::min(T.deferred_head_wgrad, mb);
      activations += deferred * e * s * b * (Vp / t + h);
    }
    sm.activations = Bytes(activations);
    sm.logits = Bytes(logits);
    sm.workspace = T.memory.workspace ? *T.memory.workspace : gpu.workspace;

    const double states = sm.weights.value + sm.gradients.value + sm.optimizer.value;
    // Phases: forward through the loss; backward with one layer recomputed (full recompute re-creates a
    // whole layer's activations; selective the attention core); optimizer step (fp32 grad copy for fp16
    // loss scaling or bf16 grads: the optimizer needs fp32 gradients of its shard).
    const double base = states + sm.workspace.value + transient_params;
    const double fwd = base + activations + logits;
    double recompute_extra = 0;
    if (L.recompute == Recompute::full) recompute_extra = act.full - act.stored;
    if (L.recompute == Recompute::selective) recompute_extra = act.quadratic;
    if (L.recompute == Recompute::selective_op) recompute_extra = act.full - act.stored;
    // During backward a layer's input gradient and output gradient coexist with its activations.
    // Materialised attention adds the gradients of the probabilities and of the scores beside the saved
    // probabilities: Megatron's fused softmax backward writes into its input gradient (one s^2 buffer),
    // eager PyTorch allocates both (softmax_backward_data output beside the incoming gradient).
    double attention_grads = 0;
    if (L.attention == AttentionImpl::materialized)
      attention_grads = (T.fused_elementwise ? 1.0 : 2.0) * e * ms.heads * s * s * b / t;
    const double bwd = base + activations + recompute_extra + attention_grads + 2.0 * e * s * b * h / sp;
    double opt_extra = 0;
    if (T.precision == Precision::fp16 || gb < 4.0) opt_extra = params * 4.0 / shard_opt;
    const double opt = base + opt_extra;
    double peak = fwd;
    sm.peak_phase = "forward (loss)";
    if (bwd > peak) { peak = bwd; sm.peak_phase = "backward"; }
    if (opt > peak) { peak = opt; sm.peak_phase = "optimizer step"; }
    sm.other = Bytes(peak - states - activations);
    sm.allocated_peak = Bytes(peak);
    sm.reserved_peak = Bytes(peak * (1.0 + T.memory.allocator_reserve));
    // NCCL: about 4 MiB per channel and direction for each communicator the rank joins (NCCL_BUFFSIZE
    // default 4 MiB; 16 channels assumed on NVLink/IB systems) unless overridden.
    double nccl = 0;
    if (T.memory.nccl_buffers) {
      nccl = T.memory.nccl_buffers->value;
    } else {
      const int comms = (t > 1) + (p > 1) + (d > 1);
      nccl = comms * 2.0 * 16.0 * 4.0 * kMiB;
    }
    const double context = T.memory.cuda_context ? T.memory.cuda_context->value : gpu.cuda_context.value;
    sm.device_peak = Bytes(sm.reserved_peak.value + context + nccl);
    if (sm.device_peak > rep.peak_device) { rep.peak_device = sm.device_peak; rep.peak_stage = r; }
    rep.peak_allocated = std::max(rep.peak_allocated, sm.allocated_peak);
    rep.peak_reserved = std::max(rep.peak_reserved, sm.reserved_peak);
    rep.stages.push_back(sm);
  }
  rep.fits = rep.peak_device <= rep.capacity;
  return rep;
}

}  // namespace clustersim::strategies
