#pragma once
// The data behind the Sweep view: evaluated layouts, their Pareto front on (time, GPU-time), and the
// layout scan that produces them today.
//
// run_layout_scan() is a small, single-threaded stand-in for the sweep runner (sim/sweep.hpp): it walks a
// grid of node counts and layout degrees around the current scenario, evaluates each valid layout with
// sim::estimate, and checks JobControl::stop_requested() between evaluations. The lead points
// SweepView's job at sim::sweep through an adapter that returns the same SweepResult.
#include <cstdint>
#include <string>
#include <vector>

#include "gui/job_control.hpp"
#include "strategies/layout.hpp"

namespace clustersim::gui {

// One evaluated layout. Costs follow from the time and the GPU count, so that the price and the
// training target can change without re-running the sweep.
struct SweepRow {
  strategies::LayoutSpec layout;  // dp filled in
  int nodes = 0;
  int gpus = 0;
  int micro_batches = 0;
  double iteration_time_s = 0;
  double tokens_per_s = 0;
  double mfu = 0;
  double peak_bytes = 0;          // device peak on the fullest GPU
  double capacity_bytes = 0;
  bool fits = true;
  std::string evaluator = "estimate";

  [[nodiscard]] double gpu_hours_per_iteration() const { return iteration_time_s * gpus / 3600.0; }
  // Days and GPU-hours for `tokens` (0: per iteration instead).
  [[nodiscard]] double days(double tokens) const;
  [[nodiscard]] double gpu_hours(double tokens) const;
};

// SweepResult holds every layout the scan evaluated (fitting or not) and the counts of the rest.
// `pareto` indexes the fitting rows no other fitting row beats on both iteration time and GPU-hours.
struct SweepResult {
  std::vector<SweepRow> rows;
  std::vector<int> pareto;
  std::int64_t layouts_total = 0, invalid = 0, infeasible = 0, evaluated = 0;
  double seconds = 0;
  int base_nodes = 0;             // the scenario's node count when the scan ran
  std::vector<std::string> first_invalid_reasons;  // a few, to show why layouts were skipped
};

// The axes of the scan. Empty axes take the scenario's own value.
struct ScanSpec {
  std::vector<int> nodes;
  std::vector<int> tp;
  std::vector<int> pp;
  std::vector<int> micro_batch;
  std::vector<int> zero;
  std::vector<strategies::Recompute> recompute;
  std::vector<int> virtual_stages;  // 1 = plain 1F1B; > 1 = interleaved 1F1B
  [[nodiscard]] std::int64_t size() const;
  [[nodiscard]] std::string describe() const;
};

// The default scan around `base`: nodes x1/2, x1, x2; tp powers of two up to a node; pp the powers of
// two and divisors of the layer count up to 16; micro-batch 1, 2, 4; ZeRO 0, 1, 3; every recompute
// policy; plain or 2-way interleaved 1F1B; plus the scenario's own values on each axis, so its layout is
// one of the points. Sequence parallelism follows tp > 1.
ScanSpec default_scan(const strategies::Scenario& base);

SweepResult run_layout_scan(const strategies::Scenario& base, const ScanSpec& spec, JobControl& ctl);

// Indices of the points not dominated on (x, y), both minimised; sorted by x.
std::vector<int> pareto_front(const std::vector<double>& x, const std::vector<double>& y, const std::vector<bool>& eligible);

}  // namespace clustersim::gui
