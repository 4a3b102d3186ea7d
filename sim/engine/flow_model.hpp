#pragma once
// FlowModel: flow-level bandwidth sharing between concurrent transfers on shared links.
//
// A link has a capacity (units per second: bytes/s for networks). A flow moves `amount` units over a set
// of links; on each link it puts `weight` units per unit of its own progress (1 for a point-to-point
// transfer; a collective modelled as one flow puts its per-member bytes on every member's links, as
// SimGrid's parallel-task model L07 does). Rates are max-min fair by progressive filling (Bertsekas &
// Gallager, Data Networks, sec. 6.5.2; the sharing rule of SimGrid's LMM solver): every unfrozen flow
// rises at the same pace until a link saturates or the flow hits its own `bound`; the flows through that
// link freeze; repeat. A flow's rate changes only when a flow starts or finishes; then only the flows
// connected to it through shared links (its component) are re-solved, and the caller re-schedules the
// completion of those listed by changed(): the engine jumps from completion to completion, as SimGrid's
// models do (Model::next_occurring_event), instead of stepping time.
//
// Invariants: every link capacity is positive; a flow's `remaining` is exact as of `last`, the time its
// rate last changed; version() grows whenever a flow's completion date moves, so stale completion events
// can be recognised and dropped. The caller keeps the LinkUse arrays alive while their flows run.
#include <cstdint>
#include <limits>
#include <vector>

namespace clustersim::sim::engine {

using LinkId = std::uint32_t;
using FlowId = std::uint32_t;

struct LinkUse {
  LinkId link = 0;
  double weight = 1.0;  // units on this link per unit of the flow's progress
};

class FlowModel {
 public:
  static constexpr double kUnbounded = std::numeric_limits<double>::infinity();

  LinkId add_link(double capacity);
  [[nodiscard]] double capacity(LinkId l) const { return capacity_[l]; }
  [[nodiscard]] std::size_t link_count() const { return capacity_.size(); }

  // Starts a flow at `now`; the rates of its component are re-solved (changed() lists the flows whose
  // rate moved, the new one included). `uses` must stay valid until the flow finishes.
  FlowId start(double now, double amount, double bound, const LinkUse* uses, std::uint32_t n_uses);
  // Removes a flow (its completion was reached, or it is abandoned) and re-solves its component.
  void finish(double now, FlowId f);

  [[nodiscard]] double rate(FlowId f) const { return flows_[f].rate; }
  // When the flow completes at its current rate (infinity if it has none).
  [[nodiscard]] double completion(FlowId f) const;
  [[nodiscard]] std::uint32_t version(FlowId f) const { return flows_[f].version; }
  [[nodiscard]] const std::vector<FlowId>& changed() const { return changed_; }
  [[nodiscard]] std::size_t active() const { return active_; }
  // Largest component solved so far (flows), for diagnostics and benchmarks.
  [[nodiscard]] std::size_t largest_component() const { return largest_component_; }

 private:
  struct Flow {
    double remaining = 0;
    double rate = 0;
    double last = 0;
    double bound = kUnbounded;
    double next_rate = 0;
    const LinkUse* uses = nullptr;
    std::uint32_t n_uses = 0;
    std::uint32_t version = 0;
    std::uint32_t stamp = 0;
    bool active = false;
    bool fixed = false;
  };

  void reshare(double now, const LinkUse* seeds, std::uint32_t n_seeds);
  void solve();

  std::vector<double> capacity_;
  std::vector<std::vector<FlowId>> on_link_;
  std::vector<Flow> flows_;
  std::vector<FlowId> free_;
  std::size_t active_ = 0;
  std::size_t largest_component_ = 0;
  // Scratch of one re-solve.
  std::uint32_t stamp_ = 0;
  std::vector<std::uint32_t> link_stamp_;
  std::vector<double> rem_, wsum_;
  std::vector<std::uint32_t> unfixed_on_;
  std::vector<char> saturated_;
  std::vector<LinkId> comp_links_;
  std::vector<FlowId> comp_flows_, newly_fixed_, changed_;
};

}  // namespace clustersim::sim::engine
