#pragma once
// Engine: a deterministic discrete-event engine for task graphs. It knows nothing of GPUs.
//
// A task does work: a fixed duration, then zero or more transfer phases (a latency, then a flow of some
// amount over links, shared max-min fairly with every other flow on those links: FlowModel). A task may
// run on resources, servers of some capacity with a queue: `in_order` serves its tasks in the order they
// were added (a CUDA stream: a task that is not ready blocks those behind it), `ready_order` in the order
// they became ready (FIFO). A task on several resources is a rendezvous (one collective on the streams
// of all its GPUs): each resource holds it from the moment it reaches the head of that queue, and it
// starts once every one has; its start is then bound to the last to arrive. Edges order tasks:
// finish-to-start (the usual dependency), start-to-start (prefetch: may begin once the other began) and
// finish-to-finish (may not end before the other ended). A task starts when every start edge is
// satisfied and its resources grant it; it ends when its work is done and every finish-to-finish
// predecessor has ended.
//
// Events are ordered by time, then insertion sequence (EventQueue), and zero-time cascades run in FIFO
// order, so the same graph gives the same times, bit for bit. The engine records, for every task, what
// let it start and end (its binding predecessor), from which critical_path() walks back from the last
// task to time zero. No global state: an Engine is a plain object; many run side by side in threads.
//
// Usage: add resources, links and tasks (phases right after their task), add edges, run() once, read
// times. Tasks, resources and links are numbered from 0 in the order they were added. Transfer phases
// can be shared: share_transfers() gives the task added last the phases of an earlier one, and a link
// list registered once (add_use_list) serves any number of phases, so that thousands of identical
// collectives cost the memory of one.
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "sim/engine/event_queue.hpp"
#include "sim/engine/flow_model.hpp"

namespace clustersim::sim::engine {

using TaskId = std::uint32_t;
using ResourceId = std::uint32_t;
inline constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

enum class Discipline : std::uint8_t { in_order, ready_order };
enum class EdgeKind : std::uint8_t { finish_to_start, start_to_start, finish_to_finish };

// Why a task started or ended when it did.
enum class CauseKind : std::uint8_t {
  none,         // nothing held it: it started at time zero (or ended when its own work was done)
  finish_of,    // `task` ended (a finish-to-start edge, or the resource it waited for was released)
  start_of,     // `task` started (a start-to-start edge, or the task ahead of it in an in-order queue)
};
struct Cause {
  CauseKind kind = CauseKind::none;
  TaskId task = kNone;
};

// Watches tasks start and end (memory accounting, traces); called in simulation order.
class TaskObserver {
 public:
  virtual ~TaskObserver() = default;
  virtual void on_start(TaskId task, double time) = 0;
  virtual void on_end(TaskId task, double time) = 0;
};

// The narrow progress interface a face implements (a progress bar, a cancel button).
class Progress {
 public:
  virtual ~Progress() = default;
  virtual void on_progress(double fraction_done) = 0;
  [[nodiscard]] virtual bool stop_requested() const { return false; }
};

struct RunStats {
  double makespan = 0;            // end of the last task
  std::uint64_t events = 0;       // events popped from the queue
  std::uint64_t flows = 0;        // transfers started
  std::size_t largest_component = 0;  // most flows re-solved together
};

// One piece of the critical path: `task` is on it from `from` to `to`.
struct PathSegment {
  TaskId task = kNone;
  double from = 0, to = 0;
};

class Engine {
 public:
  Engine() = default;
  // Reserve room for `tasks` tasks and `edges` edges (optional; avoids reallocation in big runs).
  void reserve(std::size_t tasks, std::size_t edges);

  ResourceId add_resource(std::uint32_t capacity = 1, Discipline discipline = Discipline::in_order);
  LinkId add_link(double capacity) { return flows_.add_link(capacity); }
  [[nodiscard]] double link_capacity(LinkId l) const { return flows_.capacity(l); }

  TaskId add_task(double duration, ResourceId resource = kNone);
  // A task held by several resources at once (a rendezvous): it starts when it heads all their queues.
  TaskId add_task(double duration, std::span<const ResourceId> resources);
  // Registers a list of links (with weights) for transfer phases; returns its id.
  std::uint32_t add_use_list(std::span<const LinkUse> uses);
  // Appends a transfer phase to the task added last: wait `latency`, then move `amount` units over the
  // links of `use_list` at most at `bound` units/s (FlowModel::kUnbounded for none).
  void add_transfer(double latency, double amount, double bound, std::uint32_t use_list);
  // The same with the links given directly (registered as a new list).
  void add_transfer(double latency, double amount, double bound, std::span<const LinkUse> uses);
  // The task added last (which has no phases yet) gets the transfer phases of task `from`.
  void share_transfers(TaskId from);
  void add_edge(TaskId from, TaskId to, EdgeKind kind = EdgeKind::finish_to_start);

  // Runs the graph to completion. Errors: a task that can never start (a cycle, or an in-order queue
  // whose head waits on a task behind it) is an internal error naming it; a stop request from
  // `progress` returns an error too.
  Expected<RunStats> run(TaskObserver* observer = nullptr, Progress* progress = nullptr);

  [[nodiscard]] std::size_t task_count() const { return tasks_.size(); }
  [[nodiscard]] double start_time(TaskId t) const { return tasks_[t].start; }
  [[nodiscard]] double end_time(TaskId t) const { return tasks_[t].end; }
  [[nodiscard]] Cause start_cause(TaskId t) const { return {tasks_[t].start_kind, tasks_[t].start_cause}; }
  [[nodiscard]] Cause end_cause(TaskId t) const { return {tasks_[t].end_kind, tasks_[t].end_cause}; }
  // The chain of tasks that determined the makespan, from time zero to the end, without gaps: each task
  // is on it while it runs its own work (or while it waits on a rendezvous that another task completes,
  // the path then follows that task).
  [[nodiscard]] std::vector<PathSegment> critical_path() const;

 private:
  enum class State : std::uint8_t { waiting, queued, running, done };
  struct Task {
    double duration = 0;
    double start = -1, end = -1;
    std::uint32_t first_resource = 0;  // res_list_[first_resource, first_resource + resources)
    std::uint32_t pending_start = 0;   // unsatisfied finish-to-start and start-to-start edges
    std::uint32_t first_phase = 0;
    std::uint32_t start_cause = kNone, end_cause = kNone;
    std::uint16_t pending_finish = 0;  // unsatisfied finish-to-finish edges
    std::uint16_t resources = 0, granted = 0;
    std::uint8_t n_phases = 0, phase = 0;
    State state = State::waiting;
    CauseKind start_kind = CauseKind::none, end_kind = CauseKind::none;
    bool work_done = false;
  };
  struct Phase {
    double latency = 0, amount = 0, bound = 0;
    std::uint32_t use_list = 0;
  };
  struct UseList {
    std::uint32_t first = 0, n = 0;
  };
  struct Resource {
    std::uint32_t capacity = 1;
    std::uint32_t running = 0;
    Discipline discipline = Discipline::in_order;
    std::uint32_t first = 0, count = 0, head = 0;  // in_order: its tasks in res_tasks_[first, first+count)
    std::vector<TaskId> ready;                    // ready_order: FIFO of ready tasks
    std::size_t ready_head = 0;
  };
  struct Edge {
    TaskId from;
    std::uint32_t to_kind;  // target task | kind << 30
  };
  static constexpr std::uint32_t kKindShift = 30, kTaskMask = (1u << kKindShift) - 1;
  enum EventType : std::uint32_t { kWorkDone, kLatencyDone, kFlowDone };
  enum class Item : std::uint8_t { ready, work_done };

  void make_ready(TaskId t, Cause cause);
  void pump(ResourceId r, TaskId just_ready, Cause release);
  void grant(TaskId t, Cause cause);
  void start(TaskId t, Cause cause);
  void next_phase(TaskId t);
  void work_done(TaskId t);
  void finish(TaskId t, Cause cause);
  void drain();

  std::vector<Task> tasks_;
  std::vector<ResourceId> res_list_;
  std::vector<Phase> phases_;
  std::vector<LinkUse> uses_;
  std::vector<UseList> use_lists_;
  std::vector<Resource> resources_;
  std::vector<Edge> edges_;
  // Built by run(): outgoing edges per task (CSR), in insertion order; in-order queues' task lists.
  std::vector<std::uint32_t> out_first_;
  std::vector<std::uint32_t> out_;  // target | kind << kKindShift
  std::vector<TaskId> res_tasks_;

  FlowModel flows_;
  std::vector<TaskId> flow_owner_;
  EventQueue events_;
  std::vector<std::pair<Item, TaskId>> work_;
  std::size_t work_head_ = 0;
  double now_ = 0;
  std::size_t ended_ = 0;
  std::uint64_t flows_started_ = 0;
  TaskObserver* observer_ = nullptr;
  bool ran_ = false;
};

}  // namespace clustersim::sim::engine
