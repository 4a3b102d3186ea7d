#include "strategies/costs.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "hardware/calibration.hpp"
#include "strategies/memory.hpp"

namespace clustersim::strategies {

using hardware::Collective;
constexpr auto TP = hardware::ParallelDim::tp;
constexpr auto PP = hardware::ParallelDim::pp;
constexpr auto DP = hardware::ParallelDim::dp;

hardware::Kernel to_kernel(const model::Op& op) {
  hardware::Kernel k;
  switch (op.kind) {
    case model::OpKind::gemm: k.kind = hardware::KernelKind::gemm; break;
    case model::OpKind::flash_attention: k.kind = hardware::KernelKind::fused_attention; break;
    case model::OpKind::memory_bound: k.kind = hardware::KernelKind::memory_bound; break;
  }
  if (op.kind == model::OpKind::memory_bound) {
    // What the kernel does, for devices calibrated per kernel kind (hardware::MemoryKernel).
    using MK = hardware::MemoryKernel;
    switch (op.memory_kind) {
      case model::MemoryOpKind::other: k.memory_kernel = MK::generic; break;
      case model::MemoryOpKind::copy: k.memory_kernel = MK::copy; break;
      case model::MemoryOpKind::elementwise: k.memory_kernel = MK::add; break;
      case model::MemoryOpKind::norm: k.memory_kernel = MK::layernorm; break;
      case model::MemoryOpKind::rmsnorm_eager: k.memory_kernel = MK::rmsnorm; break;
      case model::MemoryOpKind::softmax: k.memory_kernel = MK::softmax; break;
      case model::MemoryOpKind::log_softmax: k.memory_kernel = MK::log_softmax; break;
      case model::MemoryOpKind::gelu: k.memory_kernel = MK::gelu; break;
      case model::MemoryOpKind::swiglu: k.memory_kernel = MK::swiglu; break;
    }
  }
  k.backward = op.pass == model::Pass::backward;
  k.flops = op.executed_flops;
  k.bytes = op.bytes;
  k.m = op.gemm.m;
  k.n = op.gemm.n;
  k.k = op.gemm.k;
  k.batch = op.gemm.batch;
  return k;
}

double dp_bucket_params(int dp) { return std::max(40e6, 1e6 * dp); }

namespace {

// One collective on every group of a dimension: on the scenario's fabric (all groups at once, sharing
// links) when it has one, else on the two-level profile of one group (hardware/comm_model.hpp).
hardware::CollectiveCost collective(const Scenario& sc, Collective op, Bytes size, hardware::ParallelDim dim,
                                    hardware::GroupShape simple) {
  if (sc.fabric && sc.placement.size(dim) > 1) {
    const auto r = sc.fabric->cost(op, size, sc.placement, dim);
    return {r.time, hardware::to_string(r.algorithm), r.bytes_sent_per_rank, r.busbw};
  }
  return hardware::collective_cost(sc.cluster, op, size, simple);
}

PassCost cost_ops(const std::vector<model::Op>& ops, const hardware::GpuSpec& gpu,
                 const hardware::ComputePrecision& pr) {
  PassCost c;
  for (const auto& op : ops) {
    const auto t = hardware::kernel_time(to_kernel(op), gpu, pr);
    c.time += t;
    c.flops += op.flops;
    ++c.kernels;
    if (op.weight_grad) c.weight_grad_time += t;
    if (op.attention_core) {
      c.core_time += t;
      c.core_flops += op.flops;
    }
  }
  return c;
}

}  // namespace

UnitCosts unit_costs(const Scenario& sc) {
  const auto& m = sc.model;
  const auto& ms = m.spec();
  const auto& L = sc.layout;
  const auto& T = sc.training;
  const auto& cl = sc.cluster;
  // An attention kernel other than the GPU's default (layout.attention_efficiency) costs at its own rate.
  hardware::GpuSpec gpu_override;
  const hardware::GpuSpec* gpu_ptr = &cl.gpu;
  if (L.attention_efficiency > 0) {
    gpu_override = cl.gpu;
    gpu_override.efficiency.flash_attention = L.attention_efficiency;
    gpu_ptr = &gpu_override;
  }
  const auto& gpu = *gpu_ptr;
  const int t = L.tp, p = L.pp, d = L.dp;
  const double e = T.precision == Precision::fp32 ? 4.0 : 2.0;
  const double s = static_cast<double>(T.seq_length);
  const double b = L.micro_batch;
  const double h = static_cast<double>(ms.hidden);

  hardware::ComputePrecision pr;
  pr.gemm = T.precision;
  pr.gemm_input_bytes = T.precision == Precision::fp8 ? 1.0 : e;
  pr.fp8_dynamic_scaling = T.precision == Precision::fp8 && T.fp8_scaling == Fp8Scaling::dynamic;
  pr.attention = T.precision == Precision::fp32 ? Precision::fp32
                 : T.precision == Precision::fp16 ? Precision::fp16
                                                  : (gpu.peak_for(Precision::bf16) ? Precision::bf16 : Precision::fp16);
  if (T.precision == Precision::fp32) pr.gemm = gpu.peak_for(Precision::tf32) ? Precision::tf32 : Precision::fp32;

  model::ShardContext ctx;
  ctx.micro_batch = L.micro_batch;
  ctx.seq_length = T.seq_length;
  ctx.tp = t;
  ctx.sequence_parallel = L.sequence_parallel;
  ctx.attention = L.attention;
  ctx.activation_bytes = e;
  ctx.eager_elementwise = !T.fused_elementwise;
  if (T.framework != Framework::megatron) {
    // PyTorch's cross_entropy under autocast (see model/ops.hpp ShardContext).
    ctx.loss_bytes_forward = 18.0;
    ctx.loss_bytes_backward = 18.0;
    if (T.precision == Precision::fp32) {
      // Without autocast there is no cast: log_softmax reads and writes 4 bytes per logit; backward
      // writes the NLL gradient and log_softmax_backward reads it and the output and writes the result.
      ctx.loss_bytes_forward = 8.0;
      ctx.loss_bytes_backward = 16.0;
    }
  }

  // A model with the padded vocabulary for the embedding and LM head (Megatron pads to 128 x tp).
  model::ModelSpec padded = ms;
  padded.vocab = padded_vocab(ms.vocab, t);
  const auto padded_model = model::validate_model(padded);

  UnitCosts u;
  u.layer_forward = cost_ops(model::layer_ops(m, ctx, model::Pass::forward), gpu, pr);
  u.layer_backward = cost_ops(model::layer_ops(m, ctx, model::Pass::backward), gpu, pr);
  u.embedding_forward = cost_ops(model::embedding_ops(*padded_model, ctx, model::Pass::forward), gpu, pr);
  u.embedding_backward = cost_ops(model::embedding_ops(*padded_model, ctx, model::Pass::backward), gpu, pr);
  // FP8 recipes leave the output layer in 16-bit: Megatron's output layer is not a TE module,
  // torchtitan's Float8 conversion skips `output`, and a tied head multiplies by the 16-bit embedding.
  hardware::ComputePrecision head_pr = pr;
  if (T.precision == Precision::fp8) {
    head_pr.gemm = pr.attention;
    head_pr.gemm_input_bytes = 2.0;
  }
  u.head_forward = cost_ops(model::head_ops(*padded_model, ctx, model::Pass::forward), gpu, head_pr);
  u.head_backward = cost_ops(model::head_ops(*padded_model, ctx, model::Pass::backward), gpu, head_pr);

  // A device calibrated with measured materialised attention (QK^T, scale, mask, softmax, PV and their
  // backward as the framework runs them) takes the attention core's time from it.
  if (gpu.calibration && L.attention == AttentionImpl::materialized) {
    const double batch_heads = b * static_cast<double>(ms.heads) / t;
    const double d = static_cast<double>(m.head_dim());
    for (auto* pass : {&u.layer_forward, &u.layer_backward}) {
      const bool backward = pass == &u.layer_backward;
      if (auto measured = gpu.calibration->materialized_attention_time(backward, s, batch_heads, d)) {
        pass->time += *measured - pass->core_time;
        pass->core_time = *measured;
      }
    }
  }

  // An eager framework's own time per layer, as calibrated (hardware/calibration.hpp): on a CPU it adds
  // to the kernels; on a GPU the host runs ahead and only bounds the layer from below. Split as the
  // work is, a third forward and two thirds backward.
  if (gpu.calibration && !T.fused_elementwise) {
    const auto& cal = *gpu.calibration;
    if (cal.device_kind == "cpu") {
      u.layer_forward.time += Seconds(cal.framework_per_layer / 3.0);
      u.layer_backward.time += Seconds(cal.framework_per_layer * 2.0 / 3.0);
    } else if (cal.framework_dispatch_per_layer > 0) {
      u.layer_forward.time = std::max(u.layer_forward.time, Seconds(cal.framework_dispatch_per_layer / 3.0));
      u.layer_backward.time = std::max(u.layer_backward.time, Seconds(cal.framework_dispatch_per_layer * 2.0 / 3.0));
    }
  }

  // --- TP collectives per layer and micro-batch (Korthikanti 2022 sec. 4.2.2; shared reference 4.2) ---
  const auto tp_group = hardware::group_shape(cl, t, 1);
  const Bytes act_bytes(b * s * h * e);  // the full (gathered) activation of one micro-batch
  if (t > 1) {
    if (L.sequence_parallel) {
      // Forward: all-gather before QKV and MLP-up, reduce-scatter after out-proj and MLP-down.
      const auto ag = collective(sc, Collective::all_gather, act_bytes, TP, tp_group).time;
      const auto rs = collective(sc, Collective::reduce_scatter, act_bytes, TP, tp_group).time;
      u.layer_tp_forward = (ag + rs) * 2.0;
      u.embedding_tp = rs;
      u.head_tp = ag;
    } else {
      // Forward: all-reduce after the attention and after the MLP (the f/g operators of Megatron).
      const auto ar = collective(sc, Collective::all_reduce, act_bytes, TP, tp_group).time;
      u.layer_tp_forward = ar * 2.0;
      u.embedding_tp = ar;
      u.head_tp = Seconds(0);
    }
    // Vocab-parallel cross-entropy all-reduces max, sum-exp and target logit: 3 x s b fp32 values.
    u.head_tp += collective(sc, Collective::all_reduce, Bytes(3.0 * s * b * 4.0), TP, tp_group).time;
  }
  // TP communication overlap (TE userbuffers, PyTorch async TP): each collective is split into t chunks
  // pipelined with the GEMM it feeds (all-gather -> QKV / MLP-up; in backward the gathered output
  // gradient -> out-proj / MLP-down input gradient) or drains (out-proj / MLP-down -> reduce-scatter; in
  // backward QKV / MLP-up input gradient -> reduce-scatter) (Wang et al. 2022, "Overlap communication
  // with dependent computation"): the first chunk stays exposed, a collective longer than its GEMM
  // shows the difference, and it cannot hide behind attention or other kernels.
  if (L.tp_comm_overlap && t > 1) {
    if (L.sequence_parallel) {
      const auto fwd_ops = model::layer_ops(m, ctx, model::Pass::forward);
      const auto bwd_ops = model::layer_ops(m, ctx, model::Pass::backward);
      // The first GEMM of that name: the forward GEMM, or the backward's input-gradient GEMM.
      const auto gemm = [&](const std::vector<model::Op>& ops, std::string_view name) {
        for (const auto& op : ops)
          if (op.kind == model::OpKind::gemm && name == op.name) return hardware::kernel_time(to_kernel(op), gpu, pr);
        return Seconds(0);
      };
      const std::string_view up = m.gated() ? "mlp_gate_up" : "mlp_up";
      const auto ag = collective(sc, Collective::all_gather, act_bytes, TP, tp_group).time;
      const auto rs = collective(sc, Collective::reduce_scatter, act_bytes, TP, tp_group).time;
      // t chunks of transfer c = C/t and GEMM g = G/t in a pipeline: c + (t-1) max(c, g) + g, so the
      // communication adds max(C/t, C - G (t-1)/t) to the GEMM alone.
      const auto pair = [&](Seconds comm, Seconds g) {
        return Seconds(std::max(comm.value / t, comm.value - g.value * (t - 1.0) / t));
      };
      const Seconds exposed = pair(ag, gemm(fwd_ops, "qkv_proj")) + pair(ag, gemm(fwd_ops, up)) +
                              pair(rs, gemm(fwd_ops, "out_proj")) + pair(rs, gemm(fwd_ops, "mlp_down")) +
                              pair(ag, gemm(bwd_ops, "out_proj")) + pair(ag, gemm(bwd_ops, "mlp_down")) +
                              pair(rs, gemm(bwd_ops, "qkv_proj")) + pair(rs, gemm(bwd_ops, up));
      const double total = 4.0 * (ag + rs).value;
      u.layer_tp_exposed_share = total > 0 ? std::min(1.0, exposed.value / total) : 1.0;
    } else {
      u.layer_tp_exposed_share = 1.0 / t;  // all-reduces: the first of t chunks exposed
    }
  }
  // Bytes a TP rank sends for one forward collective of the full activation (ring: 2(t-1)/t for all-reduce
  // = one all-gather + one reduce-scatter).
  u.layer_tp_forward_bytes = t > 1 ? 2.0 * 2.0 * (t - 1.0) / t * act_bytes.value : 0.0;

  // --- PP point-to-point ---
  const auto pp_pair = hardware::group_shape(cl, 2, t * L.cp * d);
  // Megatron's scatter/gather optimisation: each TP rank sends 1/t of the activation (Narayanan 2021
  // sec. 4.1); with SP the activation is already 1/t.
  const Bytes pp_msg(act_bytes.value / t);
  u.pp_message_bytes = pp_msg.value;
  u.pp_send = p > 1 ? collective(sc, Collective::send_recv, pp_msg, PP, pp_pair).time : Seconds(0);

  switch (L.recompute) {
    case Recompute::none: break;
    case Recompute::selective_op:
      // Every other matmul and the memory-bound ops are recomputed: about half the GEMM work of the
      // forward plus its elementwise kernels (torchtitan op-SAC policy).
      u.layer_recompute = (u.layer_forward.time - u.layer_forward.core_time) * 0.5;
      u.layer_recompute_flops = (u.layer_forward.flops - u.layer_forward.core_flops) * 0.5;
      break;
    case Recompute::selective:
      // Only the attention core is recomputed (Korthikanti 2022 sec. 5); FlashAttention already
      // recomputes inside its backward kernel, so there is nothing extra to run.
      if (L.attention == AttentionImpl::materialized) {
        u.layer_recompute = u.layer_forward.core_time;
        u.layer_recompute_flops = u.layer_forward.core_flops;
      }
      break;
    case Recompute::full:
      u.layer_recompute = u.layer_forward.time;
      u.layer_recompute_flops = u.layer_forward.flops;
      u.layer_recompute_tp = u.layer_tp_forward;  // the recomputed forward repeats its collectives
      break;
  }
  (void)d;
  return u;
}

std::vector<RankCosts> rank_costs(const Scenario& sc) { return rank_costs(sc, memory_report(sc)); }

std::vector<RankCosts> rank_costs(const Scenario& sc, const MemoryReport& mem) {
  const auto& ms = sc.model.spec();
  const auto& L = sc.layout;
  const auto& T = sc.training;
  const auto& cl = sc.cluster;
  const auto& gpu = cl.gpu;
  const int t = L.tp, p = L.pp, d = L.dp, v = L.virtual_stages;
  (void)ms;
  const auto u = unit_costs(sc);
  const auto& layer_f = u.layer_forward;
  const auto& layer_b = u.layer_backward;
  const auto& emb_f = u.embedding_forward;
  const auto& emb_b = u.embedding_backward;
  const auto& head_f = u.head_forward;
  const auto& head_b = u.head_backward;
  const Seconds tp_layer_fwd = u.layer_tp_forward, tp_embed = u.embedding_tp, tp_head = u.head_tp;
  const double tp_layer_fwd_bytes = u.layer_tp_forward_bytes;
  const Seconds pp_send = u.pp_send;
  const Bytes pp_msg(u.pp_message_bytes);

  // --- DP ---
  const auto dp_group = hardware::group_shape(cl, d, t * L.cp);
  const double wbytes = T.precision == Precision::fp32 ? 4.0 : 2.0;
  const double gbytes = (T.precision == Precision::fp32 || T.grad_precision == GradPrecision::fp32) ? 4.0 : 2.0;

  const double sm_share = std::min(1.0, static_cast<double>(T.nccl_channels) / std::max(1, gpu.sm_count));
  std::vector<RankCosts> out;
  for (int r = 0; r < p; ++r) {
    const auto& st = sc.stages[r];
    RankCosts rc;
    rc.stage = r;
    const double layers = st.layers();
    rc.forward = layer_f.time * layers;
    rc.backward = layer_b.time * layers;
    rc.weight_grad = layer_b.weight_grad_time * layers;
    rc.kernels = static_cast<int>((layer_f.kernels + layer_b.kernels) * layers);
    rc.model_flops = (layer_f.flops + layer_b.flops) * layers;
    rc.tp_comm = tp_layer_fwd * (2.0 * layers);  // backward mirrors the forward collectives
    rc.tp_bytes = tp_layer_fwd_bytes * 2.0 * layers;
    if (st.has_embedding) {
      rc.forward += emb_f.time;
      rc.backward += emb_b.time;
      rc.kernels += emb_f.kernels + emb_b.kernels;
      rc.model_flops += emb_f.flops + emb_b.flops;
      rc.tp_comm += tp_embed;
    }
    if (st.has_head) {
      rc.forward += head_f.time;
      rc.backward += head_b.time;
      rc.weight_grad += head_b.weight_grad_time;
      rc.kernels += head_f.kernels + head_b.kernels;
      rc.model_flops += head_f.flops + head_b.flops;
      rc.tp_comm += tp_head * 2.0;
    }
    const double recomputed = recomputed_layers(sc, st.layers());
    rc.recompute = u.layer_recompute * recomputed;
    rc.recompute_flops = u.layer_recompute_flops * recomputed;
    if (L.recompute == Recompute::full) {
      rc.kernels += static_cast<int>(layer_f.kernels * recomputed);
      rc.tp_comm += u.layer_recompute_tp * recomputed;
      rc.tp_bytes += tp_layer_fwd_bytes * recomputed;
    }
    // TP collectives sit on the critical path between dependent GEMMs unless overlapped. With overlap
    // the layers' collectives keep their exposed share (unit_costs: what their GEMMs cannot hide), the
    // embedding's and head's the first of t chunks, and nothing hides more than the compute there is.
    if (L.tp_comm_overlap && t > 1) {
      const double compute = (rc.forward + rc.backward + rc.recompute).value;
      const double layer_comm = tp_layer_fwd.value * 2.0 * layers +
                                (L.recompute == Recompute::full ? u.layer_recompute_tp.value * recomputed : 0.0);
      const double other_comm = rc.tp_comm.value - layer_comm;
      rc.tp_exposed = Seconds(std::max(rc.tp_comm.value - compute,
                                       layer_comm * u.layer_tp_exposed_share + other_comm / t));
    } else {
      rc.tp_exposed = rc.tp_comm;
    }
    rc.pp_send = pp_send;
    rc.pp_bytes = p > 1 ? pp_msg.value * 2.0 * v * sc.micro_batches : 0.0;
    if (p > 1 && v > 1) rc.pp_send = pp_send * static_cast<double>(v);  // interleaving sends v times as often

    // --- data parallel and ZeRO ---
    rc.params = mem.stages[r].params;
    const Bytes grads(rc.params * gbytes);
    const Bytes weights(rc.params * wbytes);
    if (d > 1) {
      if (L.zero >= 3) {
        // Per micro-batch: gather parameters for forward and again for backward, reduce-scatter gradients
        // (ZeRO-3: 3 Psi traffic, 1.5x DDP; shared reference 4.3). FSDP and ZeRO-3 gather one unit (a
        // transformer layer; the embedding, head and norms form the root unit) at a time, so each layer
        // pays its own collectives' latency: n-1 ring steps, milliseconds on thousands of ranks.
        const double layer_params = layers > 0 ? layer_params_per_gpu(sc) : 0.0;
        const double root_params = std::max(0.0, rc.params - layers * layer_params);
        const auto unit = [&](double n_params) {
          const auto ag = collective(sc, Collective::all_gather, Bytes(n_params * wbytes), DP, dp_group);
          const auto rs = collective(sc, Collective::reduce_scatter, Bytes(n_params * gbytes), DP, dp_group);
          return std::pair{ag, rs};
        };
        Seconds first_gather, gathers, reduces;  // one pass's gathers and reduce-scatters over all units
        double gather_bytes = 0, reduce_bytes = 0;
        if (layers > 0) {
          const auto [ag, rs] = unit(layer_params);
          gathers += ag.time * layers;
          reduces += rs.time * layers;
          gather_bytes += ag.bytes_sent_per_rank.value * layers;
          reduce_bytes += rs.bytes_sent_per_rank.value * layers;
          first_gather = ag.time;
        }
        if (root_params > 0) {
          const auto [ag, rs] = unit(root_params);
          gathers += ag.time;
          reduces += rs.time;
          gather_bytes += ag.bytes_sent_per_rank.value;
          reduce_bytes += rs.bytes_sent_per_rank.value;
          if (st.has_embedding || layers == 0) first_gather = ag.time;  // the root unit runs first
        }
        rc.zero3_comm = gathers * 2.0 + reduces;
        const double sent = 2.0 * gather_bytes + reduce_bytes;
        const Seconds compute = rc.forward + rc.backward + rc.recompute;
        if (fsdp_keeps_unsharded(sc)) {
          // FSDP under pipeline parallelism gathers each unit once, in the first micro-batch's forward,
          // keeps it to the last backward, and reduce-scatters the accumulated gradients there
          // (memory.cpp, same sources): per iteration one gather and one reduce-scatter per unit, hidden
          // behind that one forward and that one backward. Spread over the micro-batches here, as the
          // iteration composes them.
          const double m = std::max(1, sc.micro_batches);
          const Seconds exposed = Seconds(std::max(0.0, gathers.value - rc.forward.value)) + first_gather +
                                  Seconds(std::max(0.0, reduces.value - (rc.backward + rc.recompute).value));
          rc.zero3_comm = (gathers + reduces) * (1.0 / m);
          rc.zero3_exposed = L.overlap_param_gather ? exposed * (1.0 / m) : rc.zero3_comm;
          rc.dp_bytes = gather_bytes + reduce_bytes;
        } else {
          rc.zero3_exposed = L.overlap_param_gather
                                 ? Seconds(std::max(0.0, rc.zero3_comm.value - compute.value)) +
                                       first_gather  // the first unit's gather is never hidden
                                 : rc.zero3_comm;
          rc.dp_bytes = sent * sc.micro_batches;
        }
      } else {
        const auto op = L.zero >= 1 ? Collective::reduce_scatter : Collective::all_reduce;
        const auto red = collective(sc, op, grads, DP, dp_group);
        rc.dp_reduce = red.time;
        rc.dp_bytes = red.bytes_sent_per_rank.value;
        if (L.zero >= 1) {
          const auto ag = collective(sc, Collective::all_gather, weights, DP, dp_group);
          rc.dp_gather = ag.time;
          rc.dp_bytes += ag.bytes_sent_per_rank.value;
        }
        const double buckets = std::max(1.0, std::ceil(rc.params / dp_bucket_params(d)));
        // Gradient buckets reduce while the last micro-batch's backward runs: only what outlasts that
        // backward, and at least the last bucket, is exposed (time-modelling notes: overlap is bounded).
        const double window = (rc.backward + rc.recompute + rc.tp_exposed).value * (buckets - 1.0) / buckets;
        const double red_exposed = L.overlap_grad_reduce ? std::max(rc.dp_reduce.value / buckets, rc.dp_reduce.value - window)
                                                         : rc.dp_reduce.value;
        // Parameter all-gathers overlap with the next forward when enabled (first bucket exposed).
        const double ag_exposed = L.overlap_param_gather ? rc.dp_gather.value / buckets : rc.dp_gather.value;
        rc.dp_exposed = Seconds(red_exposed + ag_exposed);
        rc.dp_contention = Seconds((rc.dp_reduce.value - red_exposed) * sm_share);
      }
    }
    // Overlap is not free: while a collective runs beside the compute, its NCCL kernels hold one SM per
    // channel, so the GEMMs run on the rest (NCCL: one CTA per channel).
    rc.contention = Seconds(((rc.tp_comm - rc.tp_exposed) + (rc.zero3_comm - rc.zero3_exposed)).value * sm_share);
    // --- optimizer step: fused Adam reads fp32 master, m, v and grad (16 B), writes master, m, v (12 B)
    // and the 16-bit weight (2 B); gradient-norm clipping reads the grads (4 B) and zeroing writes them
    // (4 B): 38 bytes per local parameter, memory-bound.
    const double opt_params = rc.params / (L.zero >= 1 ? d : 1);
    const std::optional<Seconds> measured = gpu.calibration ? gpu.calibration->optimizer_time(38.0 * opt_params) : std::nullopt;
    rc.optimizer = measured ? *measured
                            : Seconds(38.0 * opt_params / (gpu.hbm_bandwidth.value * gpu.efficiency.hbm)) +
                                  gpu.efficiency.kernel_overhead * 10.0;
    // The eager framework's per-step time (calibrated on a CPU, where it adds to the kernels).
    if (gpu.calibration && !T.fused_elementwise && gpu.calibration->device_kind == "cpu")
      rc.optimizer += Seconds(gpu.calibration->framework_per_step);
    out.push_back(rc);
  }
  return out;
}

}  // namespace clustersim::strategies
