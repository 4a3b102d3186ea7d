#include "sim/sweep_space.hpp"

#include <limits>
#include <numeric>
#include <set>

#include "common/format.hpp"

namespace clustersim::sim {

const char* to_string(Objective o) {
  switch (o) {
    case Objective::iteration_time_s: return "iteration_time_s";
    case Objective::tokens_per_s: return "tokens_per_s";
    case Objective::mfu: return "mfu";
    case Objective::memory_peak_bytes: return "memory_peak_bytes";
    case Objective::cost_per_token: return "cost_per_token";
  }
  return "?";
}
std::optional<Objective> parse_objective(std::string_view s) {
  for (auto o : kAllObjectives)
    if (s == to_string(o)) return o;
  if (s == "memory" || s == "memory_peak") return Objective::memory_peak_bytes;
  if (s == "time" || s == "iteration_time") return Objective::iteration_time_s;
  if (s == "throughput") return Objective::tokens_per_s;
  return std::nullopt;
}
bool maximised(Objective o) { return o == Objective::tokens_per_s || o == Objective::mfu; }

const char* to_string(Evaluator e) { return e == Evaluator::estimate ? "estimate" : "simulate"; }
std::optional<Evaluator> parse_evaluator(std::string_view s) {
  if (s == "estimate") return Evaluator::estimate;
  if (s == "simulate") return Evaluator::simulate;
  return std::nullopt;
}
bool evaluator_available(Evaluator) { return true; }  // the closed form and the discrete-event simulator

const char* to_string(InvalidRule r) {
  switch (r) {
    case InvalidRule::tp_divides_model: return "tp does not divide the attention heads, kv_heads or ffn_hidden";
    case InvalidRule::sp_needs_tp: return "sequence_parallel needs tp > 1";
    case InvalidRule::sp_seq_length: return "sequence_parallel needs seq_length divisible by tp";
    case InvalidRule::layers_split: return "layers do not split evenly over pp x virtual_stages";
    case InvalidRule::cp_not_modelled: return "cp > 1 is not modelled yet";
    case InvalidRule::degrees_divide_gpus: return "tp x pp x cp does not divide the GPU count";
    case InvalidRule::degrees_product: return "tp x pp x cp x dp differs from the GPU count";
    case InvalidRule::ep_not_modelled: return "ep > 1 is not modelled yet";
    case InvalidRule::interleaved_needs_pp: return "interleaved-1f1b needs pp > 1";
    case InvalidRule::interleaved_needs_virtual: return "interleaved-1f1b needs virtual_stages >= 2";
    case InvalidRule::virtual_needs_interleaved: return "virtual_stages > 1 need schedule interleaved-1f1b";
    case InvalidRule::batch_divisible: return "global_batch not divisible by dp x micro_batch";
    case InvalidRule::interleaved_needs_microbatches: return "interleaved-1f1b needs at least pp micro-batches";
    case InvalidRule::recompute_layers_needs_full: return "layout.recompute_layers needs recompute full";
    case InvalidRule::count_: break;
  }
  return "?";
}
const char* key_of(InvalidRule r) {
  switch (r) {
    case InvalidRule::tp_divides_model: return "tp_divides_model";
    case InvalidRule::sp_needs_tp: return "sp_needs_tp";
    case InvalidRule::sp_seq_length: return "sp_seq_length";
    case InvalidRule::layers_split: return "layers_split";
    case InvalidRule::cp_not_modelled: return "cp_not_modelled";
    case InvalidRule::degrees_divide_gpus: return "degrees_divide_gpus";
    case InvalidRule::degrees_product: return "degrees_product";
    case InvalidRule::ep_not_modelled: return "ep_not_modelled";
    case InvalidRule::interleaved_needs_pp: return "interleaved_needs_pp";
    case InvalidRule::interleaved_needs_virtual: return "interleaved_needs_virtual";
    case InvalidRule::virtual_needs_interleaved: return "virtual_needs_interleaved";
    case InvalidRule::batch_divisible: return "batch_divisible";
    case InvalidRule::interleaved_needs_microbatches: return "interleaved_needs_microbatches";
    case InvalidRule::recompute_layers_needs_full: return "recompute_layers_needs_full";
    case InvalidRule::count_: break;
  }
  return "?";
}
const char* to_string(ExcludedRule r) {
  switch (r) {
    case ExcludedRule::tp_range: return "constraints.min_tp / max_tp";
    case ExcludedRule::tp_within_node: return "constraints.tp_within_node";
    case ExcludedRule::pp_range: return "constraints.min_pp / max_pp";
    case ExcludedRule::dp_range: return "constraints.min_dp / max_dp";
    case ExcludedRule::virtual_stages_range: return "constraints.min_virtual_stages / max_virtual_stages";
    case ExcludedRule::micro_batch_range: return "constraints.min_micro_batch / max_micro_batch";
    case ExcludedRule::count_: break;
  }
  return "?";
}
const char* key_of(ExcludedRule r) {
  switch (r) {
    case ExcludedRule::tp_range: return "tp_range";
    case ExcludedRule::tp_within_node: return "tp_within_node";
    case ExcludedRule::pp_range: return "pp_range";
    case ExcludedRule::dp_range: return "dp_range";
    case ExcludedRule::virtual_stages_range: return "virtual_stages_range";
    case ExcludedRule::micro_batch_range: return "micro_batch_range";
    case ExcludedRule::count_: break;
  }
  return "?";
}
const char* to_string(RowStatus s) {
  switch (s) {
    case RowStatus::feasible: return "";
    case RowStatus::oom_forward: return "out of memory in forward (loss)";
    case RowStatus::oom_backward: return "out of memory in backward";
    case RowStatus::oom_optimizer: return "out of memory in optimizer step";
    case RowStatus::oom_other: return "out of memory";
    case RowStatus::over_memory_fraction: return "peak memory above constraints.max_memory_fraction";
    case RowStatus::under_free_memory: return "free memory below constraints.min_free_memory";
    case RowStatus::count_: break;
  }
  return "?";
}
const char* key_of(RowStatus s) {
  switch (s) {
    case RowStatus::feasible: return "feasible";
    case RowStatus::oom_forward: return "oom_forward";
    case RowStatus::oom_backward: return "oom_backward";
    case RowStatus::oom_optimizer: return "oom_optimizer";
    case RowStatus::oom_other: return "oom_other";
    case RowStatus::over_memory_fraction: return "over_memory_fraction";
    case RowStatus::under_free_memory: return "under_free_memory";
    case RowStatus::count_: break;
  }
  return "?";
}

void SweepCounts::add(const SweepCounts& o) {
  for (int i = 0; i < kInvalidRules; ++i) invalid[i] += o.invalid[i];
  for (int i = 0; i < kExcludedRules; ++i) excluded[i] += o.excluded[i];
  for (int i = 0; i < kRowStatuses; ++i) status[i] += o.status[i];
}
std::uint64_t SweepCounts::invalid_total() const { return std::accumulate(invalid.begin(), invalid.end(), std::uint64_t{0}); }
std::uint64_t SweepCounts::excluded_total() const {
  return std::accumulate(excluded.begin(), excluded.end(), std::uint64_t{0});
}
std::uint64_t SweepCounts::infeasible_total() const {
  return std::accumulate(status.begin() + 1, status.end(), std::uint64_t{0});
}

namespace {

// Largest index space a sweep may have (2^62 points): products below it never overflow 64 bits.
constexpr std::uint64_t kMaxSpace = std::uint64_t{1} << 62;
// Largest value of a degree or batch axis (keeps tp x pp x cp x dp inside 64-bit integers).
constexpr int kMaxAxisValue = 1 << 20;

std::vector<int> divisors(std::int64_t n) {
  std::vector<int> lo, hi;
  for (std::int64_t d = 1; d * d <= n; ++d) {
    if (n % d != 0) continue;
    lo.push_back(static_cast<int>(d));
    if (d != n / d && n / d <= kMaxAxisValue) hi.push_back(static_cast<int>(n / d));
  }
  lo.insert(lo.end(), hi.rbegin(), hi.rend());
  return lo;
}

template <class T>
std::string show(const T& v) {
  if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
  else if constexpr (std::is_same_v<T, int>) return std::to_string(v);
  else {
    using strategies::to_string;
    return to_string(v);
  }
}

template <class T>
std::string show_list(const std::vector<T>& values) {
  std::vector<std::string> parts;
  for (const auto& v : values) parts.push_back(show(v));
  return "[" + join(parts) + "]";
}

// Positive (or 0..3 for zero), bounded and distinct list values.
template <class T>
std::optional<Error> check_list(const Axis<T>& axis, const std::string& path, int min_value, int max_value) {
  if (axis.mode != AxisMode::list) return std::nullopt;
  if (axis.values.empty()) return invalid(path, "is an empty list; give at least one value or \"auto\"");
  for (std::size_t i = 0; i < axis.values.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if constexpr (std::is_same_v<T, int>) {
      const int v = axis.values[i];
      if (v < min_value || v > max_value)
        return invalid(at, "must be in " + std::to_string(min_value) + ".." + std::to_string(max_value) + ", got " +
                               std::to_string(v));
    }
    for (std::size_t j = 0; j < i; ++j)
      if (axis.values[j] == axis.values[i])
        return invalid(at, show(axis.values[i]) + " is listed twice (also at index " + std::to_string(j) + ")");
  }
  return std::nullopt;
}

template <class T>
std::vector<T> resolve(const Axis<T>& axis, const T& fixed, const std::vector<T>& automatic) {
  switch (axis.mode) {
    case AxisMode::fixed: return {fixed};
    case AxisMode::list: return axis.values;
    case AxisMode::automatic: return automatic;
  }
  return {fixed};
}

std::optional<Error> check_range(const DegreeRange& r, const char* name) {
  const std::string lo = std::string("constraints.min_") + name, hi = std::string("constraints.max_") + name;
  if (r.min < 1) return invalid(lo, "must be at least 1, got " + std::to_string(r.min));
  if (r.max < 1) return invalid(hi, "must be at least 1, got " + std::to_string(r.max));
  if (r.min > r.max)
    return invalid(lo, std::to_string(r.min) + " is above " + hi + " (" + std::to_string(r.max) +
                           "): the constraints contradict each other");
  return std::nullopt;
}

// A degree constraint that no value of its axis satisfies in any base leaves nothing to sweep.
std::optional<Error> check_reachable(const std::vector<ResolvedAxes>& axes, std::vector<int> ResolvedAxes::*member,
                                     const DegreeRange& r, const char* name, const Axis<int>& axis) {
  std::set<int> all;
  for (const auto& ax : axes) all.insert((ax.*member).begin(), (ax.*member).end());
  for (int v : all)
    if (v >= r.min && v <= r.max) return std::nullopt;
  const bool below = !all.empty() && *all.begin() < r.min;
  const bool above = !all.empty() && *all.rbegin() > r.max;
  const std::string min_name = std::string("constraints.min_") + name, max_name = std::string("constraints.max_") + name;
  const std::string values = show_list(std::vector<int>(all.begin(), all.end()));
  const std::string what =
      (axis.mode == AxisMode::fixed ? std::string(" excludes base.layout.") + name + " " + values
       : axis.mode == AxisMode::automatic ? std::string(" excludes the values \"auto\" gives for axes.") + name + " " + values
                                          : std::string(" excludes every value of axes.") + name + " " + values) +
      ": nothing is left to sweep";
  if (below && above)
    return invalid(min_name, std::to_string(r.min) + " with " + max_name + " " + std::to_string(r.max) + what);
  if (below) return invalid(min_name, std::to_string(r.min) + what);
  return invalid(max_name, std::to_string(r.max) + what);
}

}  // namespace

Expected<SweepSpace> SweepSpace::make(SweepSpec spec) {
  if (spec.bases.empty()) return invalid("base", "the sweep has no base scenario");
  if (!evaluator_available(spec.evaluator))
    return invalid("evaluator", std::string("'") + to_string(spec.evaluator) +
                                    "' is not available yet: sweeps do not run the discrete-event evaluator in "
                                    "this build; use \"estimate\"");
  if (spec.objectives.empty()) return invalid("objectives", "is empty; name at least one objective");
  for (std::size_t i = 0; i < spec.objectives.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (spec.objectives[i] == spec.objectives[j])
        return invalid("objectives[" + std::to_string(i) + "]", std::string(to_string(spec.objectives[i])) + " is listed twice");
  for (auto o : spec.objectives) {
    if (o != Objective::cost_per_token) continue;
    for (const auto& b : spec.bases)
      if (!(b.price_per_gpu_hour > 0))
        return invalid("objectives", "cost_per_token needs a price for every GPU of the sweep; " + b.cluster.gpu.name +
                                         " has none (give price_per_gpu_hour: USD per GPU-hour or a price preset)");
  }
  if (spec.top_k < 1) return invalid("top_k", "must be at least 1, got " + std::to_string(spec.top_k));
  if (!spec.layout.stage_layers.empty())
    return invalid("base.layout.stage_layers",
                   "uneven stage splits cannot be swept; remove it (even splits are, with embedding_as_layer and "
                   "loss_as_layer)");

  // --- axis values ---
  const auto& A0 = spec.axes;
  if (auto e = check_list(A0.tp, "axes.tp", 1, kMaxAxisValue)) return *e;
  if (auto e = check_list(A0.pp, "axes.pp", 1, kMaxAxisValue)) return *e;
  if (auto e = check_list(A0.dp, "axes.dp", 1, kMaxAxisValue)) return *e;
  if (auto e = check_list(A0.cp, "axes.cp", 1, kMaxAxisValue)) return *e;
  if (auto e = check_list(A0.ep, "axes.ep", 1, kMaxAxisValue)) return *e;
  if (auto e = check_list(A0.micro_batch, "axes.micro_batch", 1, kMaxAxisValue)) return *e;
  if (auto e = check_list(A0.virtual_stages, "axes.virtual_stages", 1, kMaxAxisValue)) return *e;
  if (auto e = check_list(A0.zero, "axes.zero", 0, 3)) return *e;
  if (auto e = check_list(A0.schedule, "axes.schedule", 0, 0)) return *e;
  if (auto e = check_list(A0.recompute, "axes.recompute", 0, 0)) return *e;
  if (auto e = check_list(A0.sequence_parallel, "axes.sequence_parallel", 0, 0)) return *e;
  if (auto e = check_list(A0.attention, "axes.attention", 0, 0)) return *e;

  // --- constraints ---
  const auto& C0 = spec.constraints;
  if (auto e = check_range(C0.tp, "tp")) return *e;
  if (auto e = check_range(C0.pp, "pp")) return *e;
  if (auto e = check_range(C0.dp, "dp")) return *e;
  if (auto e = check_range(C0.micro_batch, "micro_batch")) return *e;
  if (auto e = check_range(C0.virtual_stages, "virtual_stages")) return *e;
  if (C0.max_memory_fraction && !(*C0.max_memory_fraction > 0.0 && *C0.max_memory_fraction <= 1.0))
    return invalid("constraints.max_memory_fraction", "must be in (0, 1], got " + num(*C0.max_memory_fraction));
  if (C0.min_free_memory) {
    if (C0.min_free_memory->value < 0) return invalid("constraints.min_free_memory", "must not be negative");
    double largest = 0;
    for (const auto& b : spec.bases) largest = std::max(largest, b.cluster.gpu.hbm_capacity.value);
    if (C0.min_free_memory->value >= largest)
      return invalid("constraints.min_free_memory", "is not below the memory of any GPU of the sweep (" +
                                                        num(largest / kGiB) + " GiB): nothing can fit");
  }

  // --- bases: what fails for the plainest layout fails for every layout (training, model, cluster) ---
  for (const auto& b : spec.bases) {
    auto T = b.training;
    if (T.global_batch > 0) T.global_batch = b.cluster.total_gpus();  // dp = GPUs, micro_batch 1 divides it
    strategies::LayoutSpec plain;
    plain.embedding_as_layer = spec.layout.embedding_as_layer;
    plain.loss_as_layer = spec.layout.loss_as_layer;
    auto sc = strategies::validate_scenario(b.model, b.cluster, T, plain);
    if (!sc && sc.error().path.rfind("layout", 0) != 0) {
      auto e = sc.error();
      if (!b.label.empty()) e.message += " (sweep base: " + b.label + ")";
      return e;
    }
  }

  SweepSpace space(std::move(spec));
  const auto& S = space.spec_;
  const auto& L = S.layout;
  const auto& A = S.axes;         // (the spec moved: read it from the space from here on)
  const auto& C = S.constraints;
  std::uint64_t offset = 0;
  for (const auto& b : S.bases) {
    const auto& ms = b.model.spec();
    const std::int64_t gpus = b.cluster.total_gpus();
    const std::int64_t units = ms.layers + (L.embedding_as_layer ? 1 : 0) + (L.loss_as_layer ? 1 : 0);
    ResolvedAxes ax;
    std::vector<int> tp_auto;
    for (int d : divisors(gpus))
      if (ms.heads % d == 0 && ms.kv_heads % d == 0 && ms.ffn_hidden % d == 0) tp_auto.push_back(d);
    ax.tp = resolve(A.tp, L.tp, tp_auto);
    const auto sp = resolve(A.sequence_parallel, L.sequence_parallel, {false, true});
    ax.sequence_parallel.assign(sp.begin(), sp.end());
    ax.pp = resolve(A.pp, L.pp, divisors(std::gcd(gpus, units)));
    ax.cp = resolve(A.cp, L.cp, {1});  // the only value validate_scenario accepts until CP is modelled
    ax.dp = resolve(A.dp, L.dp, {0});  // 0: derived from the GPU count
    ax.ep = resolve(A.ep, L.ep, {1});  // the only value validate_scenario accepts until EP is modelled
    ax.schedule = resolve(A.schedule, L.schedule,
                          {Schedule::gpipe, Schedule::one_f_one_b, Schedule::interleaved_1f1b, Schedule::zero_bubble_h1});
    ax.virtual_stages = resolve(A.virtual_stages, L.virtual_stages, divisors(units));
    ax.micro_batch = resolve(A.micro_batch, L.micro_batch, divisors(b.training.global_batch));
    ax.zero = resolve(A.zero, L.zero, {0, 1, 2, 3});
    ax.recompute = resolve(A.recompute, L.recompute, {Recompute::none, Recompute::selective, Recompute::selective_op, Recompute::full});
    ax.attention = resolve(A.attention, L.attention, {model::AttentionImpl::flash, model::AttentionImpl::materialized});
    ax.radix = {ax.tp.size(),       ax.sequence_parallel.size(), ax.pp.size(),          ax.cp.size(),
                ax.dp.size(),       ax.ep.size(),                ax.schedule.size(),    ax.virtual_stages.size(),
                ax.micro_batch.size(), ax.zero.size(),           ax.recompute.size(),   ax.attention.size()};
    std::uint64_t size = 1;
    for (int l = kLevels - 1; l >= 0; --l) {
      ax.stride[l] = size;
      if (ax.radix[l] == 0) return invalid("axes", "resolves to no value for base " + b.label);
      if (size > kMaxSpace / ax.radix[l]) return invalid("axes", "the sweep has more than 2^62 points; narrow the axes");
      size *= ax.radix[l];
    }
    ax.offset = offset;
    ax.size = size;
    if (offset > kMaxSpace - size) return invalid("axes", "the sweep has more than 2^62 points; narrow the axes");
    offset += size;
    space.axes_.push_back(std::move(ax));
  }
  space.size_ = offset;

  // --- the fixed fields of base.layout: the first layout of the sweep must pass validate_scenario ---
  if (const auto first = space.locate(0, 0); first < space.size_) {
    const auto p = *space.point_at(first);
    auto Lp = space.layout_of(p);
    if (p.dp_derived) Lp.dp = 0;
    const auto& b = S.bases[p.base];
    auto sc = strategies::validate_scenario(b.model, b.cluster, b.training, Lp);
    if (!sc) {
      auto e = sc.error();
      if (e.path.rfind("layout", 0) == 0) e.path = "base." + e.path;
      e.message += " (in the first layout of the sweep, index " + std::to_string(first) + ")";
      return e;
    }
  }

  // --- constraints that leave nothing to sweep ---
  if (auto e = check_reachable(space.axes_, &ResolvedAxes::tp, C.tp, "tp", A.tp)) return *e;
  if (auto e = check_reachable(space.axes_, &ResolvedAxes::pp, C.pp, "pp", A.pp)) return *e;
  if (auto e = check_reachable(space.axes_, &ResolvedAxes::micro_batch, C.micro_batch, "micro_batch", A.micro_batch))
    return *e;
  if (auto e = check_reachable(space.axes_, &ResolvedAxes::virtual_stages, C.virtual_stages, "virtual_stages",
                               A.virtual_stages))
    return *e;
  // One fabric per base (17 ms for 16,384 GPUs, bench/README.md), shared by its layouts and threads.
  for (const auto& base : S.bases) {
    auto built = hardware::Fabric::build(base.cluster);
    if (!built) return invalid("base.cluster", built.error().what());
    space.fabrics_.push_back(std::move(*built));
  }
  if (C.tp_within_node) {
    bool any = false;
    for (std::size_t b = 0; b < space.axes_.size(); ++b)
      for (int t : space.axes_[b].tp) any = any || t <= S.bases[b].cluster.gpus_per_node;
    if (!any)
      return invalid("constraints.tp_within_node", "excludes every value of axes.tp " + show_list(space.axes_[0].tp) +
                                                       " (all above gpus_per_node): nothing is left to sweep");
  }
  return space;
}

namespace {
// Counts evaluable layouts in bulk; stops at the k-th for locate().
struct Locator {
  std::uint64_t k = 0;
  std::uint64_t seen = 0;
  std::optional<std::uint64_t> found;
  bool bulk(std::uint64_t first, std::uint64_t n) {
    if (seen + n > k) {
      found = first + (k - seen);
      return false;
    }
    seen += n;
    return true;
  }
};
}  // namespace

SweepCounts SweepSpace::count(std::uint64_t begin, std::uint64_t end) const {
  SweepCounts counts;
  end = std::min(end, size_);
  Locator all;
  all.k = std::numeric_limits<std::uint64_t>::max();
  for (std::uint32_t b = 0; b < axes_.size() && begin < end; ++b) {
    const auto& ax = axes_[b];
    if (ax.offset + ax.size <= begin) continue;
    if (ax.offset >= end) break;
    const std::uint64_t lo = begin > ax.offset ? begin - ax.offset : 0;
    const std::uint64_t hi = std::min(end - ax.offset, ax.size);
    detail::SweepWalker<true, Locator> w(spec_, ax, b, lo, hi, counts, all);
    w.run();
  }
  return counts;
}

std::uint64_t SweepSpace::locate(std::uint64_t from, std::uint64_t k) const {
  Locator loc;
  loc.k = k;
  SweepCounts scratch;
  for (std::uint32_t b = 0; b < axes_.size(); ++b) {
    const auto& ax = axes_[b];
    if (ax.offset + ax.size <= from) continue;
    const std::uint64_t lo = from > ax.offset ? from - ax.offset : 0;
    detail::SweepWalker<true, Locator> w(spec_, ax, b, lo, ax.size, scratch, loc);
    if (!w.run()) return *loc.found;
  }
  return size_;
}

std::optional<LayoutPoint> SweepSpace::point_at(std::uint64_t index) const {
  std::optional<LayoutPoint> out;
  SweepCounts scratch;
  for_each(index, index + 1, scratch, [&](const LayoutPoint& p) { out = p; });
  return out;
}

strategies::LayoutSpec SweepSpace::layout_of(const LayoutPoint& p) const {
  strategies::LayoutSpec L = spec_.layout;
  L.tp = p.tp;
  L.pp = p.pp;
  L.dp = p.dp;
  L.cp = p.cp;
  L.ep = p.ep;
  L.micro_batch = p.micro_batch;
  L.virtual_stages = p.virtual_stages;
  L.zero = p.zero;
  L.schedule = p.schedule;
  L.recompute = p.recompute;
  L.sequence_parallel = p.sequence_parallel;
  L.attention = p.attention;
  return L;
}

}  // namespace clustersim::sim
