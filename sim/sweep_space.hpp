#pragma once
// The space of a layout sweep (INTERFACES.md "Sweep file"): a list of bases (model + cluster + training,
// the product of the outer axes gpu, cluster, nodes, seq_length, global_batch) times the product of the
// layout axes. Every point of that product has an index; points are enumerated in index order by nested
// loops that reject a value as soon as a rule of validate_scenario() fails for it, counting the whole
// subtree under it as invalid at once, so that invalid layouts are never built.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "strategies/layout.hpp"

namespace clustersim::sim {

using strategies::Recompute;
using strategies::Schedule;

// One layout axis: not swept (the base layout's value), an explicit list, or "auto" (every value that can
// be valid for some combination of the other axes, resolved per base).
enum class AxisMode { fixed, list, automatic };
template <class T>
struct Axis {
  AxisMode mode = AxisMode::fixed;
  std::vector<T> values;  // for AxisMode::list
};

// The twelve layout axes of a sweep (the outer axes are expanded into SweepSpec::bases).
struct LayoutAxes {
  Axis<int> tp, pp, dp, cp, ep, micro_batch, virtual_stages, zero;
  Axis<Schedule> schedule;
  Axis<Recompute> recompute;
  Axis<bool> sequence_parallel;
  Axis<model::AttentionImpl> attention;
};

// One base of the sweep: everything but the layout. `price_per_gpu_hour` (USD, 0 = none known) prices
// cost_per_token and cost_usd, `price_source` says where it came from ("aws-p4de-on-demand (2026-11-09)",
// "user"); `label` says which outer-axis values made the base (for messages).
struct SweepBase {
  model::Model model;
  hardware::ClusterSpec cluster;
  strategies::TrainingSpec training;
  double price_per_gpu_hour = 0;
  std::string label;
  std::string price_source;
};

// Limits on the layouts a user wants to see. Degree limits exclude layouts (counted apart from invalid
// ones); memory limits make a layout infeasible like running out of memory does.
struct DegreeRange {
  int min = 1;
  int max = 1 << 30;
};
struct SweepConstraints {
  DegreeRange tp, pp, dp, micro_batch, virtual_stages;
  bool tp_within_node = false;                // tp <= gpus_per_node (TP over the scale-up fabric only)
  std::optional<double> max_memory_fraction;  // peak device memory <= fraction x capacity, in (0, 1]
  std::optional<Bytes> min_free_memory;       // capacity - peak device memory >= this
};

enum class Objective { iteration_time_s, tokens_per_s, mfu, memory_peak_bytes, cost_per_token };
const char* to_string(Objective o);
std::optional<Objective> parse_objective(std::string_view s);
bool maximised(Objective o);  // tokens_per_s and mfu are maximised, the others minimised
inline constexpr std::array<Objective, 5> kAllObjectives{Objective::iteration_time_s, Objective::tokens_per_s,
                                                         Objective::mfu, Objective::memory_peak_bytes,
                                                         Objective::cost_per_token};

enum class Evaluator { estimate, simulate };
const char* to_string(Evaluator e);
std::optional<Evaluator> parse_evaluator(std::string_view s);
// Whether sweeps can evaluate with `e` in this build (both evaluators are; sweep.cpp's
// evaluate_scenario() makes the call).
bool evaluator_available(Evaluator e);

// What a sweep file describes, in plain structs (presets/sweep_json.cpp reads it from JSON; tests build
// it in code). SweepSpace::make() checks and resolves it.
struct SweepSpec {
  std::vector<SweepBase> bases;        // in index order (outer axes nested gpu/cluster, nodes, seq, batch)
  strategies::LayoutSpec layout;       // fixed fields; the value of every axis that is not swept
  LayoutAxes axes;
  SweepConstraints constraints;
  Evaluator evaluator = Evaluator::estimate;
  std::vector<Objective> objectives{Objective::iteration_time_s, Objective::memory_peak_bytes};
  int top_k = 10;
};

// Why a point of the product is not a valid layout: the first rule of validate_scenario() the nested loops
// find broken (loops run tp, sp, pp, cp, dp, ep, schedule, virtual_stages, micro_batch, zero, recompute,
// attention, outermost first).
enum class InvalidRule {
  tp_divides_model,
  sp_needs_tp,
  sp_seq_length,
  layers_split,
  cp_not_modelled,
  degrees_divide_gpus,
  degrees_product,
  ep_not_modelled,
  interleaved_needs_pp,
  interleaved_needs_virtual,
  virtual_needs_interleaved,
  batch_divisible,
  interleaved_needs_microbatches,
  recompute_layers_needs_full,
  count_
};
// Which constraint excluded a valid layout (the first broken, in the same loop order).
enum class ExcludedRule { tp_range, tp_within_node, pp_range, dp_range, virtual_stages_range, micro_batch_range, count_ };
// The verdict on an evaluated layout.
enum class RowStatus : std::uint8_t {
  feasible,
  oom_forward,
  oom_backward,
  oom_optimizer,
  oom_other,
  over_memory_fraction,
  under_free_memory,
  count_
};
inline constexpr int kInvalidRules = static_cast<int>(InvalidRule::count_);
inline constexpr int kExcludedRules = static_cast<int>(ExcludedRule::count_);
inline constexpr int kRowStatuses = static_cast<int>(RowStatus::count_);

const char* to_string(InvalidRule r);   // human reason, e.g. "global_batch not divisible by dp x micro_batch"
const char* key_of(InvalidRule r);      // JSON key, e.g. "batch_divisible"
const char* to_string(ExcludedRule r);  // e.g. "constraints.max_tp / min_tp"
const char* key_of(ExcludedRule r);
const char* to_string(RowStatus s);     // "" for feasible, e.g. "out of memory in backward"
const char* key_of(RowStatus s);

// How many points of an index range fell in each class. layouts = invalid + excluded + evaluated, and
// evaluated = infeasible + feasible. Counts of disjoint ranges add up.
struct SweepCounts {
  std::array<std::uint64_t, kInvalidRules> invalid{};
  std::array<std::uint64_t, kExcludedRules> excluded{};
  std::array<std::uint64_t, kRowStatuses> status{};  // status[feasible] = feasible layouts

  void add(const SweepCounts& o);
  [[nodiscard]] std::uint64_t invalid_total() const;
  [[nodiscard]] std::uint64_t excluded_total() const;
  [[nodiscard]] std::uint64_t feasible() const { return status[0]; }
  [[nodiscard]] std::uint64_t infeasible_total() const;
  [[nodiscard]] std::uint64_t evaluated() const { return feasible() + infeasible_total(); }
  [[nodiscard]] std::uint64_t layouts() const { return invalid_total() + excluded_total() + evaluated(); }
  friend bool operator==(const SweepCounts&, const SweepCounts&) = default;
};

// One valid layout of the space, as the nested loops produce it.
struct LayoutPoint {
  std::uint64_t index = 0;
  std::uint32_t base = 0;
  int tp = 1, pp = 1, dp = 1, cp = 1, ep = 1, micro_batch = 1, virtual_stages = 1, zero = 0;
  bool dp_derived = true;  // dp was not listed: it is GPUs / (tp x pp x cp)
  Schedule schedule = Schedule::one_f_one_b;
  Recompute recompute = Recompute::none;
  bool sequence_parallel = false;
  model::AttentionImpl attention = model::AttentionImpl::flash;
  int micro_batches = 1;
};

// The layout axes of one base, resolved to value lists, and where its points lie in the index space.
inline constexpr int kLevels = 12;  // tp, sp, pp, cp, dp, ep, schedule, virtual_stages, micro_batch, zero, recompute, attention
struct ResolvedAxes {
  std::vector<int> tp, pp, cp, dp, ep, virtual_stages, micro_batch, zero;  // dp: 0 = derived
  std::vector<char> sequence_parallel;
  std::vector<Schedule> schedule;
  std::vector<Recompute> recompute;
  std::vector<model::AttentionImpl> attention;
  std::array<std::uint64_t, kLevels> radix{};   // values per level, outermost first
  std::array<std::uint64_t, kLevels> stride{};  // points under one value of the level
  std::uint64_t offset = 0;                     // index of the base's first point
  std::uint64_t size = 0;                       // points of the base
};

// A checked, resolved sweep: immutable, shared read-only by every thread (and by every MPI rank, which
// each build it from the same file). Index order is base-major, then the levels above.
class SweepSpace {
 public:
  // Checks the spec (positive and distinct axis values, constraints that leave something to sweep, an
  // evaluator this build has, objectives that can be computed) and resolves "auto" per base.
  static Expected<SweepSpace> make(SweepSpec spec);

  [[nodiscard]] const SweepSpec& spec() const { return spec_; }
  [[nodiscard]] const std::vector<ResolvedAxes>& axes() const { return axes_; }
  [[nodiscard]] std::uint64_t size() const { return size_; }  // layouts_total

  // Counts of [begin, end) without evaluating anything (feasible() then holds the evaluable layouts:
  // valid and allowed by the constraints).
  [[nodiscard]] SweepCounts count(std::uint64_t begin, std::uint64_t end) const;
  // The index of the `k`-th (0-based) evaluable layout at or after `from`, or size() when there are
  // fewer. Chunks and shards are cut here, so that each holds a given number of layouts to evaluate.
  [[nodiscard]] std::uint64_t locate(std::uint64_t from, std::uint64_t k) const;
  // Calls visit(const LayoutPoint&) for every evaluable layout of [begin, end) in index order and adds
  // the invalid and excluded points to `counts`.
  template <class Visit>
  void for_each(std::uint64_t begin, std::uint64_t end, SweepCounts& counts, Visit&& visit) const;

  // The point at `index` if it is an evaluable layout.
  [[nodiscard]] std::optional<LayoutPoint> point_at(std::uint64_t index) const;

  // The LayoutSpec of a point (the base layout's fixed fields with the point's values).
  [[nodiscard]] strategies::LayoutSpec layout_of(const LayoutPoint& p) const;

  // The fabric of a base's cluster, built once by make() and shared by every layout and thread.
  [[nodiscard]] const std::shared_ptr<const hardware::Fabric>& fabric(std::size_t base) const { return fabrics_[base]; }

 private:
  explicit SweepSpace(SweepSpec spec) : spec_(std::move(spec)) {}
  SweepSpec spec_;
  std::vector<std::shared_ptr<const hardware::Fabric>> fabrics_;
  std::vector<ResolvedAxes> axes_;
  std::uint64_t size_ = 0;
};

}  // namespace clustersim::sim

#include "sim/sweep_walk.hpp"  // IWYU pragma: export (the template above)
