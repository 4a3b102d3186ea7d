#include "sim/engine/flow_model.hpp"

#include <algorithm>
#include <cassert>

namespace clustersim::sim::engine {

LinkId FlowModel::add_link(double capacity) {
  assert(capacity > 0 && "FlowModel: a link needs a positive capacity");
  capacity_.push_back(capacity);
  on_link_.emplace_back();
  link_stamp_.push_back(0);
  rem_.push_back(0);
  wsum_.push_back(0);
  unfixed_on_.push_back(0);
  saturated_.push_back(0);
  return static_cast<LinkId>(capacity_.size() - 1);
}

double FlowModel::completion(FlowId f) const {
  const auto& fl = flows_[f];
  if (fl.remaining <= 0) return fl.last;
  if (fl.rate <= 0) return kUnbounded;
  return fl.last + fl.remaining / fl.rate;
}

FlowId FlowModel::start(double now, double amount, double bound, const LinkUse* uses, std::uint32_t n_uses) {
  FlowId id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<FlowId>(flows_.size());
    flows_.emplace_back();
  }
  auto& f = flows_[id];
  f.remaining = std::max(0.0, amount);
  f.rate = 0;
  f.last = now;
  f.bound = bound > 0 ? bound : kUnbounded;
  f.uses = uses;
  f.n_uses = n_uses;
  f.active = true;
  ++f.version;
  ++active_;
  for (std::uint32_t i = 0; i < n_uses; ++i) on_link_[uses[i].link].push_back(id);
  reshare(now, uses, n_uses);
  if (n_uses == 0) {
    // No link: only its bound limits it (an unbounded flow with no link completes at once).
    f.rate = f.bound;
    f.version++;
    changed_.assign(1, id);
  }
  return id;
}

void FlowModel::finish(double now, FlowId id) {
  auto& f = flows_[id];
  assert(f.active && "FlowModel::finish on a finished flow");
  for (std::uint32_t i = 0; i < f.n_uses; ++i) {
    auto& v = on_link_[f.uses[i].link];
    auto it = std::find(v.begin(), v.end(), id);
    if (it != v.end()) {
      *it = v.back();
      v.pop_back();
    }
  }
  f.active = false;
  f.remaining = 0;
  f.rate = 0;
  ++f.version;
  --active_;
  free_.push_back(id);
  reshare(now, f.uses, f.n_uses);
}

void FlowModel::reshare(double now, const LinkUse* seeds, std::uint32_t n_seeds) {
  changed_.clear();
  comp_links_.clear();
  comp_flows_.clear();
  ++stamp_;
  // The component: every flow reachable from the seed links through shared links.
  for (std::uint32_t i = 0; i < n_seeds; ++i) {
    const LinkId l = seeds[i].link;
    if (link_stamp_[l] != stamp_) {
      link_stamp_[l] = stamp_;
      comp_links_.push_back(l);
    }
  }
  for (std::size_t li = 0; li < comp_links_.size(); ++li) {
    for (FlowId fid : on_link_[comp_links_[li]]) {
      auto& f = flows_[fid];
      if (f.stamp == stamp_) continue;
      f.stamp = stamp_;
      comp_flows_.push_back(fid);
      for (std::uint32_t u = 0; u < f.n_uses; ++u) {
        const LinkId l = f.uses[u].link;
        if (link_stamp_[l] != stamp_) {
          link_stamp_[l] = stamp_;
          comp_links_.push_back(l);
        }
      }
    }
  }
  if (comp_flows_.empty()) return;
  largest_component_ = std::max(largest_component_, comp_flows_.size());
  // Deterministic order whatever the link lists' order: flows by id.
  std::sort(comp_flows_.begin(), comp_flows_.end());
  solve();
  for (FlowId fid : comp_flows_) {
    auto& f = flows_[fid];
    if (f.next_rate == f.rate) continue;
    f.remaining = std::max(0.0, f.remaining - f.rate * (now - f.last));
    f.last = now;
    f.rate = f.next_rate;
    ++f.version;
    changed_.push_back(fid);
  }
}

void FlowModel::solve() {
  // Progressive filling over the component (Bertsekas & Gallager sec. 6.5.2).
  for (LinkId l : comp_links_) {
    rem_[l] = capacity_[l];
    wsum_[l] = 0;
    unfixed_on_[l] = 0;
    saturated_[l] = 0;
  }
  for (FlowId fid : comp_flows_) {
    auto& f = flows_[fid];
    f.fixed = false;
    for (std::uint32_t u = 0; u < f.n_uses; ++u) {
      wsum_[f.uses[u].link] += f.uses[u].weight;
      ++unfixed_on_[f.uses[u].link];
    }
  }
  std::size_t unfixed = comp_flows_.size();
  while (unfixed > 0) {
    double level = kUnbounded;
    for (LinkId l : comp_links_)
      if (unfixed_on_[l] > 0 && wsum_[l] > 0) level = std::min(level, rem_[l] / wsum_[l]);
    for (FlowId fid : comp_flows_) {
      const auto& f = flows_[fid];
      if (!f.fixed) level = std::min(level, f.bound);
    }
    const double tol = level * 1e-12;
    for (LinkId l : comp_links_)
      saturated_[l] = unfixed_on_[l] > 0 && wsum_[l] > 0 && rem_[l] / wsum_[l] <= level + tol;
    newly_fixed_.clear();
    for (FlowId fid : comp_flows_) {
      auto& f = flows_[fid];
      if (f.fixed) continue;
      bool fix = f.bound <= level + tol;
      for (std::uint32_t u = 0; u < f.n_uses && !fix; ++u) fix = saturated_[f.uses[u].link] != 0;
      if (fix) newly_fixed_.push_back(fid);
    }
    if (newly_fixed_.empty()) {
      // Only reachable through rounding: freeze everything left at the current level.
      for (FlowId fid : comp_flows_)
        if (!flows_[fid].fixed) newly_fixed_.push_back(fid);
    }
    for (FlowId fid : newly_fixed_) {
      auto& f = flows_[fid];
      f.fixed = true;
      f.next_rate = level;
      --unfixed;
      for (std::uint32_t u = 0; u < f.n_uses; ++u) {
        const LinkId l = f.uses[u].link;
        rem_[l] = std::max(0.0, rem_[l] - f.uses[u].weight * level);
        if (--unfixed_on_[l] == 0) wsum_[l] = 0;
        else wsum_[l] -= f.uses[u].weight;
      }
    }
  }
}

}  // namespace clustersim::sim::engine
