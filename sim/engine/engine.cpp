#include "sim/engine/engine.hpp"

#include <algorithm>
#include <cassert>

namespace clustersim::sim::engine {

void Engine::reserve(std::size_t tasks, std::size_t edges) {
  tasks_.reserve(tasks);
  res_list_.reserve(tasks);
  edges_.reserve(edges);
}

ResourceId Engine::add_resource(std::uint32_t capacity, Discipline discipline) {
  assert(capacity > 0 && "Engine: a resource needs a positive capacity");
  Resource r;
  r.capacity = capacity;
  r.discipline = discipline;
  resources_.push_back(std::move(r));
  return static_cast<ResourceId>(resources_.size() - 1);
}

TaskId Engine::add_task(double duration, ResourceId resource) {
  if (resource == kNone) return add_task(duration, std::span<const ResourceId>{});
  return add_task(duration, std::span<const ResourceId>(&resource, 1));
}

TaskId Engine::add_task(double duration, std::span<const ResourceId> resources) {
  assert(!ran_ && "Engine: tasks are added before run()");
  assert(duration >= 0 && "Engine: a task duration cannot be negative");
  assert(tasks_.size() < kTaskMask && "Engine: too many tasks");
  Task t;
  t.duration = duration;
  t.first_resource = static_cast<std::uint32_t>(res_list_.size());
  t.resources = static_cast<std::uint16_t>(resources.size());
  t.first_phase = static_cast<std::uint32_t>(phases_.size());
  for (auto r : resources) {
    assert(r < resources_.size() && "Engine: unknown resource");
    res_list_.push_back(r);
    ++resources_[r].count;
  }
  tasks_.push_back(t);
  return static_cast<TaskId>(tasks_.size() - 1);
}

std::uint32_t Engine::add_use_list(std::span<const LinkUse> uses) {
  use_lists_.push_back({static_cast<std::uint32_t>(uses_.size()), static_cast<std::uint32_t>(uses.size())});
  uses_.insert(uses_.end(), uses.begin(), uses.end());
  return static_cast<std::uint32_t>(use_lists_.size() - 1);
}

void Engine::add_transfer(double latency, double amount, double bound, std::uint32_t use_list) {
  assert(!tasks_.empty() && "Engine::add_transfer needs a task");
  assert(use_list < use_lists_.size() && "Engine::add_transfer: unknown link list");
  auto& t = tasks_.back();
  assert(t.first_phase + t.n_phases == phases_.size() && t.n_phases < 255 &&
         "Engine::add_transfer: phases follow their task");
  phases_.push_back({std::max(0.0, latency), std::max(0.0, amount), bound, use_list});
  ++t.n_phases;
}

void Engine::add_transfer(double latency, double amount, double bound, std::span<const LinkUse> uses) {
  add_transfer(latency, amount, bound, add_use_list(uses));
}

void Engine::share_transfers(TaskId from) {
  assert(!tasks_.empty() && from < tasks_.size() && tasks_.back().n_phases == 0 && "Engine::share_transfers");
  tasks_.back().first_phase = tasks_[from].first_phase;
  tasks_.back().n_phases = tasks_[from].n_phases;
}

void Engine::add_edge(TaskId from, TaskId to, EdgeKind kind) {
  assert(from < tasks_.size() && to < tasks_.size() && from != to && "Engine::add_edge: bad task ids");
  edges_.push_back({from, to | (static_cast<std::uint32_t>(kind) << kKindShift)});
  if (kind == EdgeKind::finish_to_finish) ++tasks_[to].pending_finish;
  else ++tasks_[to].pending_start;
}

Expected<RunStats> Engine::run(TaskObserver* observer, Progress* progress) {
  assert(!ran_ && "Engine::run runs once");
  ran_ = true;
  observer_ = observer;
  const std::size_t n = tasks_.size();

  // Outgoing edges per task, in insertion order (counting sort).
  out_first_.assign(n + 1, 0);
  for (const auto& e : edges_) ++out_first_[e.from + 1];
  for (std::size_t i = 0; i < n; ++i) out_first_[i + 1] += out_first_[i];
  out_.resize(edges_.size());
  {
    std::vector<std::uint32_t> pos(out_first_.begin(), out_first_.end() - 1);
    for (const auto& e : edges_) out_[pos[e.from]++] = e.to_kind;
  }
  std::vector<Edge>().swap(edges_);
  // Each in-order resource's tasks in the order they were added.
  {
    std::uint32_t acc = 0;
    for (auto& r : resources_) {
      r.first = acc;
      acc += r.count;
    }
    res_tasks_.resize(acc);
    std::vector<std::uint32_t> pos(resources_.size());
    for (std::size_t i = 0; i < resources_.size(); ++i) pos[i] = resources_[i].first;
    for (TaskId t = 0; t < n; ++t)
      for (std::uint32_t k = 0; k < tasks_[t].resources; ++k)
        res_tasks_[pos[res_list_[tasks_[t].first_resource + k]]++] = t;
  }
  flow_owner_.clear();
  events_.reserve(std::min<std::size_t>(n, 1 << 16));

  now_ = 0;
  for (TaskId t = 0; t < n; ++t)
    if (tasks_[t].pending_start == 0) work_.push_back({Item::ready, t});
  drain();

  RunStats stats;
  const std::size_t report_every = std::max<std::size_t>(1, n / 100);
  std::size_t next_report = report_every;
  while (!events_.empty()) {
    const Event ev = events_.pop();
    ++stats.events;
    now_ = ev.time;
    switch (ev.type) {
      case kWorkDone: next_phase(ev.target); break;
      case kLatencyDone: {
        auto& t = tasks_[ev.target];
        const auto& ph = phases_[t.first_phase + t.phase];
        if (ph.amount <= 0) {
          ++t.phase;
          next_phase(ev.target);
          break;
        }
        const auto& list = use_lists_[ph.use_list];
        const FlowId f = flows_.start(now_, ph.amount, ph.bound, uses_.data() + list.first, list.n);
        ++flows_started_;
        if (flow_owner_.size() <= f) flow_owner_.resize(f + 1, kNone);
        flow_owner_[f] = ev.target;
        for (FlowId c : flows_.changed()) events_.push(flows_.completion(c), kFlowDone, c, flows_.version(c));
        break;
      }
      case kFlowDone: {
        if (ev.version != flows_.version(ev.target)) break;  // its rate changed since: a later event stands
        const TaskId owner = flow_owner_[ev.target];
        flows_.finish(now_, ev.target);
        for (FlowId c : flows_.changed()) events_.push(flows_.completion(c), kFlowDone, c, flows_.version(c));
        ++tasks_[owner].phase;
        next_phase(owner);
        break;
      }
    }
    drain();
    if (progress && ended_ >= next_report) {
      next_report = ended_ + report_every;
      progress->on_progress(static_cast<double>(ended_) / static_cast<double>(std::max<std::size_t>(1, n)));
      if (progress->stop_requested()) return Error{ErrorCode::internal, "simulation", "stopped on request"};
    }
  }
  if (ended_ != n) {
    for (TaskId t = 0; t < n; ++t) {
      if (tasks_[t].state != State::done) {
        return Error{ErrorCode::internal, "simulation",
                     "task " + std::to_string(t) + " never " +
                         (tasks_[t].state == State::running ? "ended" : "started") + " (" +
                         std::to_string(n - ended_) + " of " + std::to_string(n) +
                         " tasks left: a dependency cycle or an in-order queue blocked behind a later task)"};
      }
    }
  }
  for (const auto& t : tasks_) stats.makespan = std::max(stats.makespan, t.end);
  stats.flows = flows_started_;
  stats.largest_component = flows_.largest_component();
  if (progress) progress->on_progress(1.0);
  return stats;
}

void Engine::drain() {
  while (work_head_ < work_.size()) {
    const auto [item, t] = work_[work_head_++];
    if (item == Item::ready) {
      auto& task = tasks_[t];
      if (task.resources == 0) {
        start(t, {task.start_kind, task.start_cause});
      } else {
        task.state = State::queued;
        for (std::uint32_t k = 0; k < task.resources; ++k) {
          const ResourceId r = res_list_[task.first_resource + k];
          if (resources_[r].discipline == Discipline::ready_order) resources_[r].ready.push_back(t);
          pump(r, t, {});
        }
      }
    } else {
      work_done(t);
    }
  }
  work_.clear();
  work_head_ = 0;
}

void Engine::make_ready(TaskId t, Cause cause) {
  auto& task = tasks_[t];
  task.start_kind = cause.kind;
  task.start_cause = cause.task;
  work_.push_back({Item::ready, t});
}

// A resource holds `t` from now; the cause of the last grant is the cause of its start.
void Engine::grant(TaskId t, Cause cause) {
  auto& task = tasks_[t];
  if (cause.kind != CauseKind::none) {
    task.start_kind = cause.kind;
    task.start_cause = cause.task;
  }
  if (++task.granted == task.resources) start(t, {task.start_kind, task.start_cause});
}

// Grants what the resource can hold now. `just_ready` is the task whose readiness triggered the call
// (its own cause stands); otherwise `release` is the task whose end freed the resource.
void Engine::pump(ResourceId rid, TaskId just_ready, Cause release) {
  auto& r = resources_[rid];
  if (r.discipline == Discipline::in_order) {
    TaskId previous = kNone;
    while (r.running < r.capacity && r.head < r.count) {
      const TaskId t = res_tasks_[r.first + r.head];
      if (tasks_[t].state != State::queued) break;
      ++r.head;
      ++r.running;
      Cause c{};
      if (t != just_ready) {
        if (release.kind != CauseKind::none) c = release;
        else if (previous != kNone) c = {CauseKind::start_of, previous};
      }
      grant(t, c);
      previous = t;
      release = {};
    }
  } else {
    while (r.running < r.capacity && r.ready_head < r.ready.size()) {
      const TaskId t = r.ready[r.ready_head++];
      ++r.running;
      grant(t, t != just_ready ? release : Cause{});
      release = {};
    }
  }
}

void Engine::start(TaskId t, Cause cause) {
  auto& task = tasks_[t];
  task.state = State::running;
  task.start = now_;
  task.start_kind = cause.kind;
  task.start_cause = cause.task;
  if (observer_) observer_->on_start(t, now_);
  for (std::uint32_t i = out_first_[t]; i < out_first_[t + 1]; ++i) {
    if (static_cast<EdgeKind>(out_[i] >> kKindShift) != EdgeKind::start_to_start) continue;
    const TaskId s = out_[i] & kTaskMask;
    if (--tasks_[s].pending_start == 0) make_ready(s, {CauseKind::start_of, t});
  }
  if (task.duration > 0) {
    events_.push(now_ + task.duration, kWorkDone, t);
  } else {
    next_phase(t);
  }
}

void Engine::next_phase(TaskId t) {
  auto& task = tasks_[t];
  while (task.phase < task.n_phases) {
    const auto& ph = phases_[task.first_phase + task.phase];
    if (ph.latency > 0) {
      events_.push(now_ + ph.latency, kLatencyDone, t);
      return;
    }
    if (ph.amount > 0) {
      events_.push(now_, kLatencyDone, t);  // start the flow through the queue, in event order
      return;
    }
    ++task.phase;
  }
  work_.push_back({Item::work_done, t});
}

void Engine::work_done(TaskId t) {
  auto& task = tasks_[t];
  task.work_done = true;
  if (task.pending_finish == 0) finish(t, {});
}

void Engine::finish(TaskId t, Cause cause) {
  auto& task = tasks_[t];
  task.state = State::done;
  task.end = now_;
  task.end_kind = cause.kind;
  task.end_cause = cause.task;
  ++ended_;
  if (observer_) observer_->on_end(t, now_);
  for (std::uint32_t i = out_first_[t]; i < out_first_[t + 1]; ++i) {
    const TaskId s = out_[i] & kTaskMask;
    auto& succ = tasks_[s];
    switch (static_cast<EdgeKind>(out_[i] >> kKindShift)) {
      case EdgeKind::finish_to_start:
        if (--succ.pending_start == 0) make_ready(s, {CauseKind::finish_of, t});
        break;
      case EdgeKind::finish_to_finish:
        if (--succ.pending_finish == 0 && succ.work_done) finish(s, {CauseKind::finish_of, t});
        break;
      case EdgeKind::start_to_start: break;
    }
  }
  for (std::uint32_t k = 0; k < task.resources; ++k) {
    const ResourceId r = res_list_[task.first_resource + k];
    --resources_[r].running;
    pump(r, kNone, {CauseKind::finish_of, t});
  }
}

std::vector<PathSegment> Engine::critical_path() const {
  std::vector<PathSegment> path;
  if (tasks_.empty()) return path;
  TaskId t = 0;
  for (TaskId i = 1; i < tasks_.size(); ++i)
    if (tasks_[i].end > tasks_[t].end) t = i;
  // Walk back: from a task's end to its start (or to the finish-to-finish partner that ended it), then
  // to whatever let it start. `at_start` means the path reaches `t` at its start, not its end.
  bool at_start = false;
  std::size_t guard = 0;
  while (t != kNone && guard++ <= 4 * tasks_.size()) {
    const auto& task = tasks_[t];
    if (!at_start) {
      if (task.end_kind == CauseKind::finish_of && task.end_cause != kNone) {
        t = task.end_cause;
        continue;
      }
      if (task.end > task.start) path.push_back({t, task.start, task.end});
    }
    at_start = false;
    switch (task.start_kind) {
      case CauseKind::none: t = kNone; break;
      case CauseKind::finish_of: t = task.start_cause; break;
      case CauseKind::start_of:
        t = task.start_cause;
        at_start = true;
        break;
    }
  }
  std::reverse(path.begin(), path.end());
  return path;
}

}  // namespace clustersim::sim::engine
