#pragma once
// EventQueue: the clock of a discrete-event simulation. Events come out ordered by time, then by the
// order they were pushed (a sequence number), so that two runs of the same input process the same
// events in the same order: the simulation is deterministic, whatever the heap does with ties.
//
// An event is plain data (a type tag, a target id and a version the owner uses to recognise stale
// events, as SimGrid's actions do when their completion date moves); the queue knows nothing of what
// the events mean. No global state: every engine owns its queue.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace clustersim::sim::engine {

struct Event {
  double time = 0;
  std::uint64_t seq = 0;     // insertion order: the tie-breaker that makes runs deterministic
  std::uint32_t type = 0;
  std::uint32_t target = 0;
  std::uint32_t version = 0;
};

class EventQueue {
 public:
  void reserve(std::size_t n) { heap_.reserve(n); }
  void push(double time, std::uint32_t type, std::uint32_t target, std::uint32_t version = 0) {
    heap_.push_back(Event{time, next_seq_++, type, target, version});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  [[nodiscard]] bool empty() const { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const { return heap_.size(); }
  [[nodiscard]] const Event& top() const { return heap_.front(); }
  Event pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    Event e = heap_.back();
    heap_.pop_back();
    return e;
  }

 private:
  // std::*_heap keep the "largest" on top; "largest" here is the earliest (time, seq).
  static bool later(const Event& a, const Event& b) {
    return a.time > b.time || (a.time == b.time && a.seq > b.seq);
  }
  std::vector<Event> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace clustersim::sim::engine
