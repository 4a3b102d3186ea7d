#include "sim/des.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "sim/analytical.hpp"
#include "sim/des_network.hpp"

namespace clustersim::sim {

using engine::EdgeKind;
using engine::TaskId;
using strategies::OpKind;
using strategies::Part;
using strategies::Plan;
using strategies::PlanOp;
using strategies::Stream;

Expected<Straggler> parse_straggler(std::string_view text) {
  const std::string shown(text);
  auto bad = [&](const std::string& why) {
    return invalid("straggler", "'" + shown + "': " + why + " (expected gpu=ID:FACTOR, link=nic:ID:FACTOR or link=nvlink:ID:FACTOR)");
  };
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) return bad("no '='");
  const auto key = text.substr(0, eq);
  auto rest = text.substr(eq + 1);
  Straggler s;
  if (key == "gpu") {
    s.kind = Straggler::Kind::gpu;
  } else if (key == "link") {
    const auto colon = rest.find(':');
    const auto port = rest.substr(0, colon);
    if (port == "nic") s.kind = Straggler::Kind::nic;
    else if (port == "nvlink") s.kind = Straggler::Kind::nvlink;
    else return bad("the link must be nic or nvlink, got '" + std::string(port) + "'");
    if (colon == std::string_view::npos) return bad("no GPU id after the link");
    rest = rest.substr(colon + 1);
  } else {
    return bad("unknown kind '" + std::string(key) + "'");
  }
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos) return bad("no ':FACTOR'");
  const auto id = rest.substr(0, colon);
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), s.gpu);
  if (ec != std::errc() || end != id.data() + id.size() || s.gpu < 0) return bad("the GPU id must be a whole number >= 0");
  const std::string factor(rest.substr(colon + 1));
  char* fend = nullptr;
  s.factor = std::strtod(factor.c_str(), &fend);
  if (factor.empty() || fend != factor.c_str() + factor.size() || !std::isfinite(s.factor) || s.factor <= 0)
    return bad("FACTOR must be a positive number");
  return s;
}

std::string to_string(const Straggler& s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s.factor);
  switch (s.kind) {
    case Straggler::Kind::gpu: return "gpu=" + std::to_string(s.gpu) + ":" + buf;
    case Straggler::Kind::nic: return "link=nic:" + std::to_string(s.gpu) + ":" + buf;
    case Straggler::Kind::nvlink: return "link=nvlink:" + std::to_string(s.gpu) + ":" + buf;
  }
  return "?";
}

void TimeByKind::add(OpKind kind, double seconds) {
  switch (kind) {
    case OpKind::forward:
    case OpKind::backward:
    case OpKind::backward_input:
    case OpKind::weight_grad: compute += seconds; break;
    case OpKind::recompute: recompute += seconds; break;
    case OpKind::optimizer: optimizer += seconds; break;
    case OpKind::tp_comm: tp_comm += seconds; break;
    case OpKind::pp_send: pp_comm += seconds; break;
    case OpKind::grad_reduce:
    case OpKind::param_gather: dp_comm += seconds; break;
  }
}

namespace {

constexpr bool is_compute_kernel(OpKind k) { return !strategies::is_communication(k); }
constexpr bool is_group_comm(OpKind k) {
  return k == OpKind::tp_comm || k == OpKind::grad_reduce || k == OpKind::param_gather;
}

std::string describe(const PlanOp& op, int stage) {
  std::string s = strategies::to_string(op.kind);
  if (op.part != Part::layer && op.part != Part::stage) s += std::string(" ") + strategies::to_string(op.part);
  s += " stage " + std::to_string(stage);
  if (op.micro_batch >= 0) s += " mb " + std::to_string(op.micro_batch);
  if (op.chunk >= 0 && op.part == Part::layer) s += " chunk " + std::to_string(op.chunk);
  if (op.layer >= 0) s += " layer " + std::to_string(op.layer);
  return s;
}

// One simulation: the engine graph built from the plan, the memory accounting, and the results read
// back from the finished engine.
//
// Representative mode simulates one GPU per stage. Consecutive ops of one stream that nothing else
// waits on in between (no dependency enters after the first, none leaves before the last) run back to
// back whatever happens elsewhere, so they become one engine task (a "run"): a forward pass of a stage
// is typically one task. Their times are recovered op by op after the run, exactly. Full mode simulates
// every GPU; a collective is one task held by the streams of all its members (a rendezvous) whose
// transfers load their links.
class Simulation final : public engine::TaskObserver {
 public:
  Simulation(const strategies::Scenario& sc, const Plan& plan, const SimulateOptions& opt)
      : sc_(sc), plan_(plan), opt_(opt) {}

  Expected<SimResult> run() {
    const auto& L = sc_.layout;
    t_ = L.tp;
    d_ = L.dp;
    p_ = L.pp;
    for (const auto& s : opt_.stragglers) {
      if (s.gpu >= sc_.gpus)
        return invalid("straggler", to_string(s) + ": GPU " + std::to_string(s.gpu) + " does not exist (the cluster has " +
                                        std::to_string(sc_.gpus) + " GPUs, numbered from 0)");
      if (s.kind != Straggler::Kind::gpu && !opt_.full)
        return invalid("straggler", to_string(s) + ": a slow link needs the full simulation (--full); the representative "
                                                   "mode costs collectives without individual links");
    }
    if (opt_.full) build_full();
    else build_representative();
    const std::size_t n = result_.ranks.size();
    cur_.resize(n);
    peak_.resize(n);
    peak_op_.assign(n, kNoOp);
    for (std::size_t i = 0; i < n; ++i) peak_[i] = cur_[i] = plan_.stages[result_.ranks[i].stage].static_bytes;
    if (opt_.trace && !merged_)
      for (std::uint32_t i = 0; i < n; ++i) result_.memory.push_back({i, 0.0, cur_[i]});
    auto stats = engine_.run(merged_ ? nullptr : this, opt_.progress);
    if (!stats) return stats.error();
    result_.full = opt_.full;
    result_.stragglers = opt_.stragglers;
    result_.stats.ranks = n;
    result_.stats.tasks = engine_.task_count();
    result_.stats.events = stats->events;
    result_.stats.flows = stats->flows;
    result_.stats.largest_component = stats->largest_component;
    makespan_ = stats->makespan;
    op_times();
    if (merged_) memory_walk();
    read_back();
    return std::move(result_);
  }

  // Memory accounting while the engine runs (when allocations happen on several streams).
  void on_start(TaskId t, double now) override { account(t, now, true); }
  void on_end(TaskId t, double now) override { account(t, now, false); }

 private:
  static constexpr std::uint32_t kNoOp = 0xffffffffu;

  [[nodiscard]] const PlanOp& op(std::uint32_t rank, std::uint32_t i) const {
    return plan_.stages[result_.ranks[rank].stage].ops[i];
  }
  [[nodiscard]] int gpu_of(int tp, int dp, int stage) const { return tp + t_ * (dp + d_ * stage); }
  [[nodiscard]] std::size_t key(std::uint32_t rank, std::uint32_t i) const { return rank_op_base_[rank] + i; }

  // The members of the collective that task `t` runs (full mode), as ranks (= GPU ids).
  template <class F>
  void for_members(TaskId t, F&& f) const {
    const auto first = task_rank_[t];
    const auto& o = op(first, task_op_[t]);
    if (opt_.full && is_group_comm(o.kind)) {
      const bool tp_group = plan_.comms[o.comm].group == strategies::CommGroup::tp;
      const int size = tp_group ? t_ : d_, stride = tp_group ? 1 : t_;
      for (int k = 0; k < size; ++k) f(first + static_cast<std::uint32_t>(k * stride));
    } else {
      f(first);
    }
  }

  void account(TaskId t, double now, bool starting) {
    const auto& o = op(task_rank_[t], task_op_[t]);
    const double delta = starting ? o.alloc : -o.release;
    if (delta == 0) return;
    for_members(t, [&](std::uint32_t r) {
      cur_[r] += delta;
      if (cur_[r] > peak_[r]) {
        peak_[r] = cur_[r];
        result_.ranks[r].peak_time = now;
        peak_op_[r] = task_op_[t];
      }
      if (opt_.trace) result_.memory.push_back({r, now, cur_[r]});
    });
  }

  double stage_factor(int stage) const {
    double f = 1.0;
    for (const auto& s : opt_.stragglers)
      if (s.kind == Straggler::Kind::gpu && s.gpu / (t_ * d_) == stage) f = std::max(f, s.factor);
    return f;
  }
  double gpu_factor(int gpu) const {
    double f = 1.0;
    for (const auto& s : opt_.stragglers)
      if (s.kind == Straggler::Kind::gpu && s.gpu == gpu) f = std::max(f, s.factor);
    return f;
  }
  double duration(const PlanOp& o, double factor) const {
    return is_compute_kernel(o.kind) ? o.duration * factor : o.duration;
  }

  void build_representative() {
    std::size_t total = 0;
    for (int r = 0; r < p_; ++r) {
      SimRank sr;
      sr.gpu = gpu_of(0, 0, r);
      sr.stage = r;
      result_.ranks.push_back(sr);
      rank_op_base_.push_back(static_cast<std::uint32_t>(total));
      total += plan_.stages[r].ops.size();
    }
    // Runs are safe only when every allocation is on the compute stream (its ops then run in program
    // order, so memory can be replayed from their times); ZeRO-3's gathers allocate on the DP stream.
    merged_ = true;
    for (const auto& st : plan_.stages)
      for (const auto& o : st.ops)
        if (o.stream != Stream::compute && (o.alloc != 0 || o.release != 0)) merged_ = false;
    // Which ops others wait for (their end, or their start).
    std::vector<char> waited_end(total, 0), waited_start(total, 0);
    for (int r = 0; r < p_; ++r)
      for (const auto& dep : plan_.stages[r].deps)
        (dep.kind == strategies::DepKind::start ? waited_start : waited_end)[rank_op_base_[dep.stage] + dep.op] = 1;
    op_task_.assign(total, engine::kNone);
    engine_.reserve(merged_ ? total / 4 : total, total);
    run_first_.push_back(0);
    for (int r = 0; r < p_; ++r) {
      const auto& ops = plan_.stages[r].ops;
      const double factor = stage_factor(r);
      for (int s = 0; s < strategies::kStreams; ++s) {
        const auto res = engine_.add_resource();
        std::uint32_t open = kNoOp;  // last op of the run being built
        double run_duration = 0;
        auto close = [&] {
          if (open == kNoOp) return;
          engine_.add_task(run_duration, res);
          task_rank_.push_back(static_cast<std::uint32_t>(r));
          task_op_.push_back(run_ops_[run_first_.back()]);
          run_first_.push_back(static_cast<std::uint32_t>(run_ops_.size()));
          open = kNoOp;
          run_duration = 0;
        };
        for (std::uint32_t i = 0; i < ops.size(); ++i) {
          if (static_cast<int>(ops[i].stream) != s) continue;
          const bool joins = merged_ && open != kNoOp && !waited_end[rank_op_base_[r] + open] && ops[i].deps == 0 &&
                             !waited_start[rank_op_base_[r] + i];
          if (!joins) close();
          op_task_[rank_op_base_[r] + i] = static_cast<TaskId>(engine_.task_count());
          run_ops_.push_back(i);
          run_duration += duration(ops[i], factor);
          open = i;
        }
        close();
      }
    }
    for (int r = 0; r < p_; ++r) {
      const auto& prog = plan_.stages[r];
      for (std::uint32_t i = 0; i < prog.ops.size(); ++i) {
        const auto& o = prog.ops[i];
        for (std::uint32_t k = 0; k < o.deps; ++k) {
          const auto& dep = prog.deps[o.first_dep + k];
          engine_.add_edge(op_task_[rank_op_base_[dep.stage] + dep.op], op_task_[rank_op_base_[r] + i],
                           dep.kind == strategies::DepKind::start ? EdgeKind::start_to_start : EdgeKind::finish_to_start);
        }
      }
    }
  }

  void build_full() {
    const int gpus = sc_.gpus;
    std::vector<LinkSlowdown> slow;
    for (const auto& s : opt_.stragglers)
      if (s.kind != Straggler::Kind::gpu) slow.push_back({s.gpu, s.kind == Straggler::Kind::nic, s.factor});
    network_ = std::make_unique<PerGpuLinks>(engine_, sc_.cluster, slow);
    std::size_t total = 0;
    for (int g = 0; g < gpus; ++g) {
      SimRank sr;
      sr.gpu = g;
      sr.tp = g % t_;
      sr.dp = (g / t_) % d_;
      sr.stage = g / (t_ * d_);
      result_.ranks.push_back(sr);
      rank_op_base_.push_back(static_cast<std::uint32_t>(total));
      total += plan_.stages[sr.stage].ops.size();
      for (int s = 0; s < strategies::kStreams; ++s) engine_.add_resource();
    }
    op_task_.assign(total, engine::kNone);
    engine_.reserve(total, total + total / 2);
    std::vector<engine::ResourceId> res;
    std::map<std::pair<std::int32_t, int>, TaskId> templates;  // (comm spec, first member) -> task with its phases
    auto stream_res = [](int g, Stream s) {
      return static_cast<engine::ResourceId>(strategies::kStreams * g + static_cast<int>(s));
    };
    // Ops in program order, stage by stage: every stream's queue gets its ops in that order.
    for (int r = 0; r < p_; ++r) {
      const auto& ops = plan_.stages[r].ops;
      for (std::uint32_t i = 0; i < ops.size(); ++i) {
        const auto& o = ops[i];
        if (is_group_comm(o.kind) && o.comm >= 0) {
          const auto& spec = plan_.comms[o.comm];
          const bool tp_group = spec.group == strategies::CommGroup::tp;
          const int groups = tp_group ? d_ : t_, size = tp_group ? t_ : d_;
          for (int gi = 0; gi < groups; ++gi) {
            res.clear();
            members_.clear();
            for (int k = 0; k < size; ++k) {
              const int g = tp_group ? gpu_of(k, gi, r) : gpu_of(gi, k, r);
              members_.push_back(g);
              res.push_back(stream_res(g, o.stream));
            }
            const auto w = engine_.add_task(0.0, res);
            const auto [it, fresh] = templates.try_emplace({o.comm, members_.front()}, w);
            if (fresh) {
              for (int pc = 0; pc < spec.pieces; ++pc)
                network_->add_collective(engine_, spec.piece[pc].op, spec.piece[pc].bytes, members_, spec.scale);
            } else {
              engine_.share_transfers(it->second);
            }
            task_rank_.push_back(static_cast<std::uint32_t>(members_.front()));
            task_op_.push_back(i);
            for (int g : members_) op_task_[key(g, i)] = w;
          }
          continue;
        }
        for (int dp = 0; dp < d_; ++dp) {
          for (int tp = 0; tp < t_; ++tp) {
            const int g = gpu_of(tp, dp, r);
            const bool send = o.kind == OpKind::pp_send && o.comm >= 0;
            const auto task = engine_.add_task(send ? 0.0 : duration(o, gpu_factor(g)), stream_res(g, o.stream));
            if (send) {
              const auto [it, fresh] = templates.try_emplace({o.comm, g}, task);
              if (fresh) {
                const auto& spec = plan_.comms[o.comm];
                const int peer = spec.group == strategies::CommGroup::pp_next ? (r + 1) % p_ : (r - 1 + p_) % p_;
                network_->add_send(engine_, spec.piece[0].bytes, g, gpu_of(tp, dp, peer));
              } else {
                engine_.share_transfers(it->second);
              }
            }
            task_rank_.push_back(static_cast<std::uint32_t>(g));
            task_op_.push_back(i);
            op_task_[key(g, i)] = task;
          }
        }
      }
    }
    for (int g = 0; g < gpus; ++g) {
      const auto& me = result_.ranks[g];
      const auto& prog = plan_.stages[me.stage];
      for (std::uint32_t i = 0; i < prog.ops.size(); ++i) {
        const auto& o = prog.ops[i];
        const auto to = op_task_[key(g, i)];
        for (std::uint32_t k = 0; k < o.deps; ++k) {
          const auto& dep = prog.deps[o.first_dep + k];
          const int src_gpu = gpu_of(me.tp, me.dp, dep.stage);
          const auto from = op_task_[key(src_gpu, dep.op)];
          // A collective waiting on another collective of the same group: one edge, not one per member.
          if (is_group_comm(o.kind) && task_rank_[to] != static_cast<std::uint32_t>(g) && task_rank_[from] == task_rank_[to] &&
              is_group_comm(plan_.stages[dep.stage].ops[dep.op].kind))
            continue;
          engine_.add_edge(from, to, dep.kind == strategies::DepKind::start ? EdgeKind::start_to_start : EdgeKind::finish_to_start);
        }
      }
    }
  }

  // When each op of each simulated GPU started and ended. In a run, ops follow each other from the run's
  // start; a GPU's share of a collective starts when its stream reached it (its previous op on that stream
  // ended and its own dependencies were met) and ends with the collective.
  void op_times() {
    const std::size_t total = op_task_.size();
    op_start_.assign(total, 0.0);
    op_end_.assign(total, 0.0);
    if (!opt_.full) {
      for (TaskId t = 0; t < engine_.task_count(); ++t) {
        const auto r = task_rank_[t];
        const double factor = stage_factor(result_.ranks[r].stage);
        double at = engine_.start_time(t);
        for (auto k = run_first_[t]; k < run_first_[t + 1]; ++k) {
          const auto i = run_ops_[k];
          op_start_[key(r, i)] = at;
          at += duration(op(r, i), factor);
          op_end_[key(r, i)] = k + 1 == run_first_[t + 1] ? engine_.end_time(t) : at;
        }
      }
      return;
    }
    for (std::uint32_t r = 0; r < result_.ranks.size(); ++r) {
      const auto& rk = result_.ranks[r];
      const auto& prog = plan_.stages[rk.stage];
      std::array<double, strategies::kStreams> stream_free{};
      for (std::uint32_t i = 0; i < prog.ops.size(); ++i) {
        const auto& o = prog.ops[i];
        const auto t = op_task_[key(r, i)];
        double start = engine_.start_time(t);
        if (is_group_comm(o.kind)) {
          double arrival = stream_free[static_cast<int>(o.stream)];
          for (std::uint32_t k = 0; k < o.deps; ++k) {
            const auto& dep = prog.deps[o.first_dep + k];
            const auto src = op_task_[key(static_cast<std::uint32_t>(gpu_of(rk.tp, rk.dp, dep.stage)), dep.op)];
            arrival = std::max(arrival, dep.kind == strategies::DepKind::start ? engine_.start_time(src) : engine_.end_time(src));
          }
          start = std::min(start, arrival);
        }
        op_start_[key(r, i)] = start;
        op_end_[key(r, i)] = engine_.end_time(t);
        stream_free[static_cast<int>(o.stream)] = engine_.end_time(t);
      }
    }
  }

  // Representative mode with runs: every allocation is on the compute stream, whose ops run one after
  // another; replaying them in program order gives the exact timeline.
  void memory_walk() {
    for (std::uint32_t r = 0; r < result_.ranks.size(); ++r) {
      const auto& prog = plan_.stages[result_.ranks[r].stage];
      if (opt_.trace) result_.memory.push_back({r, 0.0, cur_[r]});
      for (std::uint32_t i = 0; i < prog.ops.size(); ++i) {
        const auto& o = prog.ops[i];
        if (o.stream != Stream::compute) continue;
        if (o.alloc != 0) {
          cur_[r] += o.alloc;
          if (cur_[r] > peak_[r]) {
            peak_[r] = cur_[r];
            result_.ranks[r].peak_time = op_start_[key(r, i)];
            peak_op_[r] = i;
          }
          if (opt_.trace) result_.memory.push_back({r, op_start_[key(r, i)], cur_[r]});
        }
        if (o.release != 0) {
          cur_[r] -= o.release;
          if (opt_.trace) result_.memory.push_back({r, op_end_[key(r, i)], cur_[r]});
        }
      }
    }
  }

  // Busy times, breakdown, memory peaks, critical path and trace.
  void read_back() {
    auto& ranks = result_.ranks;
    for (std::uint32_t r = 0; r < ranks.size(); ++r) {
      auto& rk = ranks[r];
      const auto& prog = plan_.stages[rk.stage];
      for (std::uint32_t i = 0; i < prog.ops.size(); ++i) {
        const auto& o = prog.ops[i];
        rk.end = std::max(rk.end, op_end_[key(r, i)]);
        if (o.stream != Stream::compute) continue;
        (is_compute_kernel(o.kind) ? rk.compute_busy : rk.comm_blocking) += op_end_[key(r, i)] - op_start_[key(r, i)];
      }
      rk.peak_bytes = peak_[r];
      rk.peak_at = peak_op_[r] == kNoOp ? "static" : describe(prog.ops[peak_op_[r]], rk.stage);
      if (opt_.trace) trace_rank(r);
    }
    bottleneck_ = 0;
    for (std::uint32_t r = 1; r < ranks.size(); ++r)
      if (ranks[r].compute_busy + ranks[r].comm_blocking > ranks[bottleneck_].compute_busy + ranks[bottleneck_].comm_blocking)
        bottleneck_ = r;
    critical_path();
    report();
  }

  // The op whose end (or start) a task's start waited for: the last (or first) op of the task's run.
  [[nodiscard]] std::pair<std::uint32_t, std::uint32_t> cause_op(engine::Cause c) const {
    if (opt_.full) return {task_rank_[c.task], task_op_[c.task]};
    const auto k = c.kind == engine::CauseKind::finish_of ? run_first_[c.task + 1] - 1 : run_first_[c.task];
    return {task_rank_[c.task], run_ops_[k]};
  }

  // Whether a gap on the compute stream before op i of `rank` was a wait for the GPU's own communication
  // (exposed communication) rather than for another GPU (a pipeline bubble).
  [[nodiscard]] bool waited_on_own_comm(std::uint32_t rank, std::uint32_t i) const {
    const auto c = engine_.start_cause(op_task_[key(rank, i)]);
    if (c.kind == engine::CauseKind::none || c.task == engine::kNone) return false;
    const auto [r, src] = cause_op(c);
    const auto& o = op(r, src);
    if (!strategies::is_communication(o.kind) || o.stream == Stream::compute) return false;
    if (r == rank) return true;
    // A collective this GPU takes part in (full mode: attributed to its first member).
    bool member = false;
    for_members(op_task_[key(r, src)], [&](std::uint32_t m) { member = member || m == rank; });
    return member;
  }

  void trace_rank(std::uint32_t r) {
    const auto& rk = result_.ranks[r];
    const auto& prog = plan_.stages[rk.stage];
    double last_compute_end = 0;
    auto gap = [&](double from, double to, TraceCategory cat) {
      TraceEvent g;
      g.rank = r;
      g.category = cat;
      g.start = from;
      g.duration = to - from;
      result_.trace.push_back(g);
    };
    for (std::uint32_t i = 0; i < prog.ops.size(); ++i) {
      const auto& o = prog.ops[i];
      const double s = op_start_[key(r, i)], e = op_end_[key(r, i)];
      if (o.stream == Stream::compute) {
        if (s > last_compute_end)
          gap(last_compute_end, s, waited_on_own_comm(r, i) ? TraceCategory::wait : TraceCategory::bubble);
        last_compute_end = std::max(last_compute_end, e);
      }
      if (e <= s) continue;
      TraceEvent ev;
      ev.rank = r;
      ev.stream = o.stream;
      ev.kind = o.kind;
      ev.part = o.part;
      ev.micro_batch = o.micro_batch;
      ev.chunk = o.chunk;
      ev.layer = o.layer;
      ev.start = s;
      ev.duration = e - s;
      result_.trace.push_back(ev);
    }
    if (makespan_ > last_compute_end) gap(last_compute_end, makespan_, TraceCategory::bubble);
  }

  void add_to_path(std::uint32_t r, const PlanOp& o, double from, double to) {
    auto& cp = result_.critical_path;
    cp.time.add(o.kind, to - from);
    if (cp.steps.empty() || cp.steps.back().rank != r) {
      if (!cp.steps.empty() && result_.ranks[cp.steps.back().rank].stage != result_.ranks[r].stage) ++cp.stage_changes;
      PathStep st;
      st.rank = r;
      st.start = from;
      cp.steps.push_back(st);
    }
    auto& st = cp.steps.back();
    st.end = to;
    ++st.ops;
    st.time.add(o.kind, to - from);
    if (o.micro_batch >= 0) {
      if (st.first_micro_batch < 0) st.first_micro_batch = o.micro_batch;
      st.last_micro_batch = o.micro_batch;
    }
  }

  void critical_path() {
    result_.critical_path.length = makespan_;
    for (const auto& seg : engine_.critical_path()) {
      if (opt_.full) {
        // A collective is on the path for the member that arrived last (whose op let it start).
        std::uint32_t r = task_rank_[seg.task];
        const auto c = engine_.start_cause(seg.task);
        if (c.kind != engine::CauseKind::none && c.task != engine::kNone) {
          const auto cr = task_rank_[c.task];
          for_members(seg.task, [&](std::uint32_t m) { if (m == cr) r = cr; });
        }
        add_to_path(r, op(task_rank_[seg.task], task_op_[seg.task]), seg.from, seg.to);
        continue;
      }
      const auto r = task_rank_[seg.task];
      for (auto k = run_first_[seg.task]; k < run_first_[seg.task + 1]; ++k) {
        const auto i = run_ops_[k];
        const double from = std::max(seg.from, op_start_[key(r, i)]), to = std::min(seg.to, op_end_[key(r, i)]);
        if (to > from) add_to_path(r, op(r, i), from, to);
      }
    }
  }

  void report() {
    Report rep = estimate(sc_);
    const double closed = rep.iteration_time_s;
    const double T = makespan_;
    rep.evaluator = "simulate";
    rep.iteration_time_s = T;
    if (T > 0 && closed > 0) {
      // Every rate is per second of the iteration: rescale the closed form's by its time over ours.
      const double k = closed / T;
      rep.tokens_per_s *= k;
      rep.tflops_per_gpu *= k;
      rep.mfu *= k;
      rep.hfu *= k;
      rep.train_days /= k;
      rep.gpu_hours /= k;
    }
    // Breakdown on the busiest GPU: its compute stream's time, split by what it did or waited for.
    const auto R = bottleneck_;
    const auto& rk = result_.ranks[R];
    rep.bottleneck_stage = rk.stage;
    TimeBreakdown tb;
    const auto& prog = plan_.stages[rk.stage];
    double exposed = 0, last_end = 0;
    for (std::uint32_t i = 0; i < prog.ops.size(); ++i) {
      const auto& o = prog.ops[i];
      const double s = op_start_[key(R, i)], e = op_end_[key(R, i)];
      const Seconds dur(e - s);
      switch (o.kind) {
        case OpKind::forward:
        case OpKind::backward:
        case OpKind::backward_input:
        case OpKind::weight_grad: tb.compute += dur; break;
        case OpKind::recompute: tb.recompute += dur; break;
        case OpKind::optimizer: tb.optimizer += dur; break;
        case OpKind::tp_comm: tb.tp_comm += dur; break;
        case OpKind::pp_send: tb.pp_comm += dur; break;
        case OpKind::grad_reduce:
        case OpKind::param_gather: tb.dp_comm += dur; break;
      }
      if (o.stream != Stream::compute) continue;
      if (strategies::is_communication(o.kind)) exposed += dur.value;
      if (s > last_end && waited_on_own_comm(R, i)) exposed += s - last_end;
      last_end = std::max(last_end, e);
    }
    tb.exposed_comm = Seconds(exposed);
    tb.bubble = Seconds(std::max(0.0, T - (tb.compute + tb.recompute + tb.optimizer).value - exposed));
    rep.time = tb;

    // Memory: the peaks of the simulated allocation timeline, per stage the highest of its GPUs; the
    // allocator reserve and the device extras (CUDA context, NCCL buffers) as the memory model adds them.
    auto& mem = rep.memory;
    std::vector<double> stage_peak(p_, 0.0);
    std::vector<std::string> stage_at(p_);
    for (const auto& r : result_.ranks) {
      if (r.peak_bytes > stage_peak[r.stage]) {
        stage_peak[r.stage] = r.peak_bytes;
        stage_at[r.stage] = r.peak_at;
      }
    }
    mem.peak_allocated = mem.peak_reserved = mem.peak_device = Bytes(0);
    for (int s = 0; s < p_; ++s) {
      auto& sm = mem.stages[s];
      const double extras = sm.device_peak.value - sm.reserved_peak.value;
      sm.allocated_peak = Bytes(stage_peak[s]);
      sm.reserved_peak = Bytes(stage_peak[s] * (1.0 + sc_.training.memory.allocator_reserve));
      sm.device_peak = Bytes(sm.reserved_peak.value + extras);
      sm.peak_phase = stage_at[s];
      sm.other = Bytes(std::max(0.0, stage_peak[s] - (sm.weights + sm.gradients + sm.optimizer + sm.activations).value));
      if (sm.device_peak > mem.peak_device) {
        mem.peak_device = sm.device_peak;
        mem.peak_stage = s;
      }
      mem.peak_allocated = std::max(mem.peak_allocated, sm.allocated_peak);
      mem.peak_reserved = std::max(mem.peak_reserved, sm.reserved_peak);
    }
    mem.fits = mem.peak_device <= mem.capacity;

    if (opt_.full) {
      rep.notes.push_back("discrete-event simulation of all " + std::to_string(sc_.gpus) +
                          " GPUs; collectives share scale-up ports and NICs max-min fairly (one scale-up port per GPU, "
                          "NICs as the host topology says, non-blocking switches)");
    } else {
      rep.notes.push_back("discrete-event simulation of one GPU per pipeline stage; collectives costed alone (--full "
                          "simulates every GPU with link contention)");
    }
    for (const auto& s : opt_.stragglers) {
      std::string n = "straggler " + to_string(s);
      if (!opt_.full && s.kind == Straggler::Kind::gpu)
        n += ": in the representative mode its whole pipeline stage runs at its pace";
      rep.notes.push_back(n);
    }
    rep.notes.push_back("memory peaks from the simulated allocation timeline; 'other' is the peak beyond weights, "
                        "gradients, optimizer states and the closed form's in-flight activations");
    result_.report = std::move(rep);
  }

  const strategies::Scenario& sc_;
  const Plan& plan_;
  const SimulateOptions& opt_;
  int t_ = 1, d_ = 1, p_ = 1;
  engine::Engine engine_;
  std::unique_ptr<NetworkModel> network_;
  bool merged_ = false;                      // representative mode with runs (and replayed memory)
  std::vector<std::uint32_t> rank_op_base_;  // per GPU: its first op in the per-(GPU, op) arrays
  std::vector<TaskId> op_task_;              // per (GPU, op): the task that runs it
  std::vector<std::uint32_t> task_rank_;     // per task: its GPU (a collective: its first member)
  std::vector<std::uint32_t> task_op_;       // per task: its (first) op
  std::vector<std::uint32_t> run_first_, run_ops_;  // representative: task t runs run_ops_[run_first_[t], run_first_[t+1])
  std::vector<int> members_;
  std::vector<double> op_start_, op_end_;    // per (GPU, op)
  std::vector<double> cur_, peak_;
  std::vector<std::uint32_t> peak_op_;
  double makespan_ = 0;
  std::uint32_t bottleneck_ = 0;
  SimResult result_;
};

}  // namespace

Expected<SimResult> simulate_plan(const strategies::Scenario& sc, const Plan& plan, const SimulateOptions& options) {
  Simulation sim(sc, plan, options);
  return sim.run();
}

Expected<SimResult> simulate(const strategies::Scenario& sc, const SimulateOptions& options) {
  const auto plan = strategies::lower(sc);
  return simulate_plan(sc, plan, options);
}

}  // namespace clustersim::sim
