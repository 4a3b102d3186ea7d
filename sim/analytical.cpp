#include "sim/analytical.hpp"

#include <algorithm>

#include "strategies/costs.hpp"

namespace clustersim::sim {

using strategies::Recompute;
using strategies::Schedule;

Report estimate(const strategies::Scenario& sc) { return estimate(sc, strategies::memory_report(sc)); }

Report estimate(const strategies::Scenario& sc, strategies::MemoryReport memory) {
  Report rep;
  const auto& L = sc.layout;
  const auto& T = sc.training;
  const int p = L.pp, v = L.virtual_stages, m = sc.micro_batches;
  const auto ranks = strategies::rank_costs(sc, memory);
  rep.memory = std::move(memory);
  rep.gpus = sc.gpus;
  rep.micro_batches = m;

  // --- pipeline ---
  int bott = 0;
  double sum = 0, mx = 0;
  for (int r = 0; r < p; ++r) {
    const double tr = ranks[r].per_microbatch().value;
    sum += tr;
    if (tr > mx) { mx = tr; bott = r; }
  }
  double pipe = 0;
  if (p == 1) {
    pipe = m * mx;
  } else if (L.schedule == Schedule::interleaved_1f1b) {
    pipe = m * mx + (sum - mx) / v;
  } else if (L.schedule == Schedule::zero_bubble_h1) {
    // ZB-H1 (Qi et al. 2023 sec. 3.1): the bubble shrinks from (p-1)(T_F + T_B + T_W) to
    // (p-1)(T_F + T_B - T_W), the deferred weight-gradient passes filling the rest.
    double fill = 0;
    for (int r = 0; r < p; ++r) {
      const double tr = ranks[r].per_microbatch().value;
      const double w = ranks[r].weight_grad.value;
      fill += std::max(0.0, tr - 2.0 * w);
    }
    const double fill_max = std::max(0.0, mx - 2.0 * ranks[bott].weight_grad.value);
    pipe = m * mx + std::max(0.0, fill - fill_max);
  } else {
    pipe = (m - 1) * mx + sum;
  }
  const auto& B = ranks[bott];

  // --- iteration tail: DP reduction and optimizer, per rank, after its last backward ---
  double tail = 0, lag = 0;
  int tail_rank = 0;
  for (int r = 0; r < p; ++r) {
    const double end = (ranks[r].dp_exposed + ranks[r].dp_contention).value + ranks[r].optimizer.value - lag;
    if (r == 0 || end > tail) { tail = end; tail_rank = r; }
    lag += (ranks[r].backward + ranks[r].recompute + ranks[r].tp_exposed).value;
  }
  tail = std::max(tail, 0.0);
  const double opt_part = std::min(ranks[tail_rank].optimizer.value, tail);
  const double dp_part = tail - opt_part;

  rep.iteration_time_s = pipe + tail;
  rep.bottleneck_stage = bott;
  auto& tb = rep.time;
  tb.compute = (B.forward + B.backward) * static_cast<double>(m);
  tb.recompute = B.recompute * static_cast<double>(m);
  tb.tp_comm = B.tp_comm * static_cast<double>(m);
  tb.pp_comm = B.pp_send * (2.0 * m);
  tb.dp_comm = B.dp_reduce + B.dp_gather + B.zero3_comm * static_cast<double>(m);
  tb.bubble = Seconds(pipe - m * mx);
  tb.optimizer = Seconds(opt_part);
  // Compute slowed by overlapped collectives is counted as exposed communication: it is their cost.
  tb.exposed_comm = (B.tp_exposed + B.zero3_exposed + B.contention + B.pp_send * 2.0) * static_cast<double>(m) + Seconds(dp_part);

  // --- FLOPs and rates ---
  rep.params_total = sc.model.total_params();
  for (const auto& st : rep.memory.stages) rep.params_per_gpu_max = std::max(rep.params_per_gpu_max, st.params);
  const double dp = L.dp;
  double model_flops = 0, recompute_flops = 0;
  for (const auto& r : ranks) {
    model_flops += r.model_flops;
    recompute_flops += r.recompute_flops;
  }
  // Per-GPU FLOPs per micro-batch summed over pipeline ranks, times TP ranks, DP replicas, micro-batches.
  const double scale = static_cast<double>(L.tp) * dp * m;
  rep.model_flops = model::model_flops_per_iteration(sc.model, T.global_batch, T.seq_length);
  rep.hardware_flops = rep.model_flops + recompute_flops * scale;
  (void)model_flops;
  const auto peak = sc.cluster.gpu.peak_for(T.precision);
  rep.peak_flops_per_gpu = peak ? peak->value : 0.0;
  const double tokens = static_cast<double>(T.global_batch) * static_cast<double>(T.seq_length);
  rep.tokens_per_s = tokens / rep.iteration_time_s;
  rep.tflops_per_gpu = rep.model_flops / rep.iteration_time_s / sc.gpus / 1e12;
  rep.mfu = rep.model_flops / (rep.iteration_time_s * sc.gpus * rep.peak_flops_per_gpu);
  rep.hfu = rep.hardware_flops / (rep.iteration_time_s * sc.gpus * rep.peak_flops_per_gpu);
  for (const auto& r : ranks) {
    rep.traffic_tp = std::max(rep.traffic_tp, r.tp_bytes * m);
    rep.traffic_pp = std::max(rep.traffic_pp, r.pp_bytes);
    rep.traffic_dp = std::max(rep.traffic_dp, r.dp_bytes);
  }
  if (T.tokens > 0) {
    rep.tokens_target = T.tokens;
    const double seconds = T.tokens / rep.tokens_per_s;
    rep.train_days = seconds / 86400.0;
    rep.gpu_hours = seconds / 3600.0 * sc.gpus;
  }
  rep.notes.push_back("attention FLOPs counted non-causal (full s x s), as Megatron-LM does; causal kernels execute half");
  if (sc.model.spec().vocab != strategies::padded_vocab(sc.model.spec().vocab, L.tp))
    rep.notes.push_back("vocabulary padded to " + std::to_string(strategies::padded_vocab(sc.model.spec().vocab, L.tp)) +
                        " (multiple of 128 x tp) for memory and time");
  return rep;
}

}  // namespace clustersim::sim
