#include "gui/timeline_model.hpp"

#include <algorithm>
#include <deque>

#include "strategies/costs.hpp"

namespace clustersim::gui {

using strategies::Schedule;

const char* to_string(BlockKind k) {
  switch (k) {
    case BlockKind::forward: return "forward";
    case BlockKind::backward: return "backward";
    case BlockKind::weight_grad: return "weight gradient";
    case BlockKind::recompute: return "recompute";
    case BlockKind::send: return "send";
    case BlockKind::dp_comm: return "data-parallel reduction";
    case BlockKind::optimizer: return "optimizer step";
  }
  return "?";
}

namespace {

enum class Pass { f, b, w };
struct Op {
  Pass pass;
  int mb;
  int chunk;
};

// Megatron's interleaved order (schedules.py get_model_chunk_id): the k-th forward of a rank runs model
// chunk (k / p) % v of micro-batch (k / (p v)) p + k % p; backwards walk the chunks in reverse.
std::vector<Op> interleaved_sequence(Pass pass, int p, int v, int m) {
  std::vector<Op> seq;
  const int groups = (m + p - 1) / p;
  for (int k = 0; k < groups * p * v; ++k) {
    const int c = (k / p) % v;
    const int mb = (k / (p * v)) * p + k % p;
    if (mb >= m) continue;
    seq.push_back({pass, mb, pass == Pass::f ? c : v - 1 - c});
  }
  return seq;
}

std::vector<Op> rank_order(Schedule s, int r, int p, int v, int m) {
  std::vector<Op> ops;
  if (s == Schedule::gpipe) {
    for (int i = 0; i < m; ++i) ops.push_back({Pass::f, i, 0});
    for (int i = 0; i < m; ++i) ops.push_back({Pass::b, i, 0});
    return ops;
  }
  if (s == Schedule::interleaved_1f1b && v > 1) {
    const auto f = interleaved_sequence(Pass::f, p, v, m);
    const auto b = interleaved_sequence(Pass::b, p, v, m);
    const int total = static_cast<int>(f.size());
    const int warmup = std::min((p - r - 1) * 2 + (v - 1) * p, total);
    for (int i = 0; i < warmup; ++i) ops.push_back(f[i]);
    for (int i = 0; i < total - warmup; ++i) {
      ops.push_back(f[warmup + i]);
      ops.push_back(b[i]);
    }
    for (int i = total - warmup; i < total; ++i) ops.push_back(b[i]);
    return ops;
  }
  // 1F1B (PipeDream-Flush): p - r - 1 warm-up forwards, then one forward and one backward, then drain.
  const int warmup = std::min(p - r - 1, m);
  const bool zb = s == Schedule::zero_bubble_h1;
  std::deque<int> pending_w;
  auto backward = [&](int i) {
    ops.push_back({Pass::b, i, 0});
    if (zb) pending_w.push_back(i);
  };
  // ZB-H1 (Qi et al. 2023 sec. 3.1): weight-gradient passes wait up to `warmup` slots and fill the
  // drain, where 1F1B idles while the gradients come back from later stages.
  auto flush_w = [&](std::size_t keep) {
    while (pending_w.size() > keep) {
      ops.push_back({Pass::w, pending_w.front(), 0});
      pending_w.pop_front();
    }
  };
  for (int i = 0; i < warmup; ++i) ops.push_back({Pass::f, i, 0});
  for (int i = 0; i < m - warmup; ++i) {
    ops.push_back({Pass::f, warmup + i, 0});
    backward(i);
    if (zb) flush_w(static_cast<std::size_t>(warmup));
  }
  for (int i = m - warmup; i < m; ++i) {
    if (zb && !pending_w.empty()) flush_w(pending_w.size() - 1);
    backward(i);
  }
  flush_w(0);
  return ops;
}

}  // namespace

TimelineData timeline_from_estimate(const strategies::Scenario& sc, JobControl* ctl) {
  TimelineData out;
  out.source = "closed-form per-rank costs laid out in schedule order";
  const auto ranks = strategies::rank_costs(sc);
  const int p = sc.layout.pp;
  const int v = sc.layout.schedule == Schedule::interleaved_1f1b ? sc.layout.virtual_stages : 1;
  const int m = sc.micro_batches;
  const Schedule sched = sc.layout.schedule;
  const bool zb = sched == Schedule::zero_bubble_h1;
  const int last = p * v - 1;

  for (int r = 0; r < p; ++r) {
    out.lanes.push_back({"stage " + std::to_string(r) + " compute", r, Stream::compute});
    out.lanes.push_back({"stage " + std::to_string(r) + " comm", r, Stream::comm});
  }

  // Per chunk and micro-batch durations; exposed TP and ZeRO-3 communication is shared out over the
  // passes in proportion to their kernel time (it runs inline on the compute stream).
  struct Durations {
    double f = 0, b = 0, w = 0, rec = 0, send = 0;
  };
  std::vector<Durations> dur(p);
  for (int r = 0; r < p; ++r) {
    const auto& rc = ranks[r];
    const double kernels = (rc.forward + rc.backward + rc.recompute).value;
    const double exposed = (rc.tp_exposed + rc.zero3_exposed).value;
    const auto share = [&](Seconds t) { return kernels > 0 ? t.value + exposed * t.value / kernels : 0.0; };
    auto& d = dur[r];
    d.f = share(rc.forward) / v;
    d.rec = share(rc.recompute) / v;
    d.b = share(rc.backward) / v;
    if (zb) {
      d.w = share(rc.weight_grad) / v;
      d.b -= d.w;
    }
    d.send = rc.pp_send.value;
  }

  std::vector<std::vector<Op>> order(p);
  for (int r = 0; r < p; ++r) order[r] = rank_order(sched, r, p, v, m);

  // Times at which the output of a pass is available to the next (or previous) virtual stage.
  const auto idx = [&](int mb, int kv) { return static_cast<std::size_t>(mb) * (last + 1) + kv; };
  std::vector<double> f_done((last + 1) * static_cast<std::size_t>(m), -1), f_avail(f_done), b_avail(f_done);
  std::vector<double> free_at(p, 0.0), comm_free(p, 0.0);
  std::vector<std::size_t> next(p, 0);
  std::int64_t scheduled = 0, total = 0;
  for (const auto& o : order) total += static_cast<std::int64_t>(o.size());

  auto send = [&](int r, double ready, int mb, int chunk) {
    const double s = std::max(ready, comm_free[r]);
    comm_free[r] = s + dur[r].send;
    out.blocks.push_back({2 * r + 1, s, comm_free[r], BlockKind::send, mb, chunk});
    return comm_free[r];
  };

  bool progress = true;
  while (scheduled < total && progress) {
    progress = false;
    if (ctl && ctl->stop_requested()) return out;
    for (int r = 0; r < p; ++r) {
      while (next[r] < order[r].size()) {
        const Op op = order[r][next[r]];
        const int kv = op.chunk * p + r;
        double ready = 0;
        if (op.pass == Pass::f && kv > 0) {
          ready = f_avail[idx(op.mb, kv - 1)];
        } else if (op.pass == Pass::b) {
          ready = kv == last ? f_done[idx(op.mb, kv)] : b_avail[idx(op.mb, kv + 1)];
        }
        if (ready < 0) break;  // waits for another rank
        double start = std::max(free_at[r], ready);
        const auto& d = dur[r];
        if (op.pass == Pass::f) {
          const double end = start + d.f;
          out.blocks.push_back({2 * r, start, end, BlockKind::forward, op.mb, op.chunk});
          f_done[idx(op.mb, kv)] = end;
          f_avail[idx(op.mb, kv)] = kv < last ? send(r, end, op.mb, op.chunk) : end;
          free_at[r] = end;
        } else if (op.pass == Pass::b) {
          if (d.rec > 0) {
            out.blocks.push_back({2 * r, start, start + d.rec, BlockKind::recompute, op.mb, op.chunk});
            start += d.rec;
          }
          const double end = start + d.b;
          out.blocks.push_back({2 * r, start, end, BlockKind::backward, op.mb, op.chunk});
          b_avail[idx(op.mb, kv)] = kv > 0 ? send(r, end, op.mb, op.chunk) : end;
          free_at[r] = end;
        } else {
          const double end = start + d.w;
          out.blocks.push_back({2 * r, start, end, BlockKind::weight_grad, op.mb, op.chunk});
          free_at[r] = end;
        }
        ++next[r];
        ++scheduled;
        progress = true;
      }
    }
    if (ctl) ctl->on_progress(scheduled, total, "laying out the pipeline schedule");
  }
  if (scheduled < total) out.notes.push_back("the schedule order deadlocked; the timeline is partial");

  // Each rank's data-parallel reduction (its hidden part overlaps the last backwards) and optimizer step.
  for (int r = 0; r < p; ++r) {
    const auto& rc = ranks[r];
    const double t_last = free_at[r];
    const double dp_total = (rc.dp_reduce + rc.dp_gather).value;
    const double dp_end = t_last + rc.dp_exposed.value;
    const double dp_start = std::max({dp_end - dp_total, comm_free[r], 0.0});
    if (dp_total > 0 && dp_end > dp_start) out.blocks.push_back({2 * r + 1, dp_start, dp_end, BlockKind::dp_comm, -1, 0});
    if (rc.optimizer.value > 0)
      out.blocks.push_back({2 * r, dp_end, dp_end + rc.optimizer.value, BlockKind::optimizer, -1, 0});
  }
  for (const auto& b : out.blocks) out.makespan_s = std::max(out.makespan_s, b.end_s);
  std::stable_sort(out.blocks.begin(), out.blocks.end(), [](const TimelineBlock& a, const TimelineBlock& b) {
    return a.lane != b.lane ? a.lane < b.lane : a.start_s < b.start_s;
  });

  out.notes.push_back("compute blocks include the exposed tensor-parallel communication of their pass");
  out.notes.push_back("pipeline sends run on the communication stream; the closed form serialises them with compute");
  if (zb) out.notes.push_back("ZB-H1: weight-gradient passes deferred into the drain, as in Qi et al. 2023 sec. 3.1");
  return out;
}

}  // namespace clustersim::gui
