#pragma once
// The nested loops of SweepSpace (included by sim/sweep_space.hpp; not included directly).
//
// Each level loops over the values of one axis that fall into the requested index range, checks the
// rules of validate_scenario() that the values chosen so far decide, and either counts the whole subtree
// under a value as invalid (its size clipped to the range, without visiting it) or descends. A broken
// constraint is remembered and the walk goes on down, so that a layout counts as excluded only when it is
// also valid. Below micro_batch no rule remains (unless base.layout.recompute_layers is set), so such
// subtrees are counted whole: excluded ones always, and every one when only counting.
//
// These checks mirror validate_scenario() (strategies/layout.cpp) rule by rule: a rule added there must be
// added here (and to InvalidRule). tests/sweep compares the two on every point of small spaces, and
// LayoutEvaluator's verify mode on every evaluated layout, so a missing rule fails the tests.
#include <algorithm>
#include <type_traits>

namespace clustersim::sim::detail {

// kCount: count evaluable layouts in bulk through visit.bulk(first_index, n) (which returns false to
// stop the walk) instead of calling visit(const LayoutPoint&) for each.
template <bool kCount, class Visit>
class SweepWalker {
 public:
  SweepWalker(const SweepSpec& spec, const ResolvedAxes& ax, std::uint32_t base, std::uint64_t lo, std::uint64_t hi,
              SweepCounts& counts, Visit& visit)
      : spec_(spec), ax_(ax), lo_(lo), hi_(hi), counts_(counts), visit_(visit) {
    const auto& b = spec.bases[base];
    const auto& ms = b.model.spec();
    heads_ = ms.heads;
    kv_heads_ = ms.kv_heads;
    ffn_ = ms.ffn_hidden;
    units_ = ms.layers + (spec.layout.embedding_as_layer ? 1 : 0) + (spec.layout.loss_as_layer ? 1 : 0);
    gpus_ = b.cluster.total_gpus();
    gpus_per_node_ = b.cluster.gpus_per_node;
    seq_ = b.training.seq_length;
    batch_ = b.training.global_batch;
    p_.base = base;
    // Rules below micro_batch: only recompute_layers (which needs recompute full).
    free_below_ = spec.layout.recompute_layers <= 0;
  }

  // Walks the base's local index range [lo, hi); returns false when visit stopped it.
  bool run() {
    if (lo_ < hi_) level<0>(0);
    return !stopped_;
  }

 private:
  template <int L>
  void level(std::uint64_t start) {
    const std::uint64_t stride = ax_.stride[L];
    const std::uint64_t first = lo_ > start ? (lo_ - start) / stride : 0;
    const std::uint64_t last = std::min<std::uint64_t>(ax_.radix[L] - 1, (hi_ - 1 - start) / stride);
    for (std::uint64_t i = first; i <= last && !stopped_; ++i) {
      const std::uint64_t sb = start + i * stride;
      const std::uint64_t n = std::min(sb + stride, hi_) - std::max(sb, lo_);
      const int saved_excluded = excluded_;
      const int broken = check<L>(i);
      if (broken >= 0) {
        counts_.invalid[broken] += n;
      } else if (L == kLevels - 1 || (L == 8 && free_below_)) {
        // A leaf, or a subtree in which every point is valid: excluded, counted, or visited.
        if (excluded_ >= 0) {
          counts_.excluded[excluded_] += n;
        } else if constexpr (kCount) {
          counts_.status[0] += n;
          if (!visit_.bulk(ax_.offset + std::max(sb, lo_), n)) stopped_ = true;
        } else if constexpr (L == kLevels - 1) {
          p_.index = ax_.offset + sb;
          visit_(static_cast<const LayoutPoint&>(p_));
        } else {
          level<L + 1>(sb);
        }
      } else if constexpr (L < kLevels - 1) {
        level<L + 1>(sb);
      }
      excluded_ = saved_excluded;
    }
  }

  void exclude(ExcludedRule r) {
    if (excluded_ < 0) excluded_ = static_cast<int>(r);
  }
  static bool outside(int v, const DegreeRange& r) { return v < r.min || v > r.max; }

  // Sets the level's value; returns the broken rule (as an int) or -1.
  template <int L>
  int check(std::uint64_t i) {
    const auto& c = spec_.constraints;
    constexpr int ok = -1;
    auto bad = [](InvalidRule r) { return static_cast<int>(r); };
    if constexpr (L == 0) {
      const int t = p_.tp = ax_.tp[i];
      if (heads_ % t != 0 || kv_heads_ % t != 0 || ffn_ % t != 0) return bad(InvalidRule::tp_divides_model);
      if (outside(t, c.tp)) exclude(ExcludedRule::tp_range);
      if (c.tp_within_node && t > gpus_per_node_) exclude(ExcludedRule::tp_within_node);
    } else if constexpr (L == 1) {
      const bool sp = p_.sequence_parallel = ax_.sequence_parallel[i] != 0;
      if (sp && p_.tp == 1) return bad(InvalidRule::sp_needs_tp);
      if (sp && seq_ % p_.tp != 0) return bad(InvalidRule::sp_seq_length);
    } else if constexpr (L == 2) {
      const int p = p_.pp = ax_.pp[i];
      if (units_ % p != 0) return bad(InvalidRule::layers_split);
      if (outside(p, c.pp)) exclude(ExcludedRule::pp_range);
    } else if constexpr (L == 3) {
      p_.cp = ax_.cp[i];
      if (p_.cp != 1) return bad(InvalidRule::cp_not_modelled);
    } else if constexpr (L == 4) {
      const int d = ax_.dp[i];
      const std::int64_t model_par = static_cast<std::int64_t>(p_.tp) * p_.pp * p_.cp;
      p_.dp_derived = d == 0;
      if (d == 0) {
        if (gpus_ % model_par != 0) return bad(InvalidRule::degrees_divide_gpus);
        p_.dp = static_cast<int>(gpus_ / model_par);
      } else {
        if (model_par * d != gpus_) return bad(InvalidRule::degrees_product);
        p_.dp = d;
      }
      if (outside(p_.dp, c.dp)) exclude(ExcludedRule::dp_range);
    } else if constexpr (L == 5) {
      p_.ep = ax_.ep[i];
      if (p_.ep != 1) return bad(InvalidRule::ep_not_modelled);
    } else if constexpr (L == 6) {
      p_.schedule = ax_.schedule[i];
      if (p_.schedule == Schedule::interleaved_1f1b && p_.pp == 1) return bad(InvalidRule::interleaved_needs_pp);
    } else if constexpr (L == 7) {
      const int v = p_.virtual_stages = ax_.virtual_stages[i];
      if (p_.schedule == Schedule::interleaved_1f1b) {
        if (v < 2) return bad(InvalidRule::interleaved_needs_virtual);
      } else if (v != 1) {
        return bad(InvalidRule::virtual_needs_interleaved);
      }
      if (units_ % (static_cast<std::int64_t>(p_.pp) * v) != 0) return bad(InvalidRule::layers_split);
      if (outside(v, c.virtual_stages)) exclude(ExcludedRule::virtual_stages_range);
    } else if constexpr (L == 8) {
      const int mb = p_.micro_batch = ax_.micro_batch[i];
      const std::int64_t per_step = static_cast<std::int64_t>(p_.dp) * mb;
      if (batch_ % per_step != 0) return bad(InvalidRule::batch_divisible);
      p_.micro_batches = static_cast<int>(batch_ / per_step);
      if (p_.schedule == Schedule::interleaved_1f1b && p_.micro_batches < p_.pp)
        return bad(InvalidRule::interleaved_needs_microbatches);
      if (outside(mb, c.micro_batch)) exclude(ExcludedRule::micro_batch_range);
    } else if constexpr (L == 9) {
      p_.zero = ax_.zero[i];
    } else if constexpr (L == 10) {
      p_.recompute = ax_.recompute[i];
      if (spec_.layout.recompute_layers > 0 && p_.recompute != Recompute::full)
        return bad(InvalidRule::recompute_layers_needs_full);
    } else {
      p_.attention = ax_.attention[i];
    }
    return ok;
  }

  const SweepSpec& spec_;
  const ResolvedAxes& ax_;
  std::uint64_t lo_, hi_;
  SweepCounts& counts_;
  Visit& visit_;
  LayoutPoint p_;
  int excluded_ = -1;
  bool stopped_ = false;
  bool free_below_ = true;
  std::int64_t heads_ = 1, kv_heads_ = 1, ffn_ = 1, units_ = 1, gpus_ = 1, gpus_per_node_ = 1, seq_ = 1, batch_ = 1;
};

}  // namespace clustersim::sim::detail

namespace clustersim::sim {

template <class Visit>
void SweepSpace::for_each(std::uint64_t begin, std::uint64_t end, SweepCounts& counts, Visit&& visit) const {
  end = std::min(end, size_);
  for (std::uint32_t b = 0; b < axes_.size() && begin < end; ++b) {
    const auto& ax = axes_[b];
    if (ax.offset + ax.size <= begin) continue;
    if (ax.offset >= end) break;
    const std::uint64_t lo = begin > ax.offset ? begin - ax.offset : 0;
    const std::uint64_t hi = std::min(end - ax.offset, ax.size);
    detail::SweepWalker<false, std::remove_reference_t<Visit>> w(spec_, ax, b, lo, hi, counts, visit);
    w.run();
  }
}

}  // namespace clustersim::sim
