#pragma once
// Small sweep spaces built in code, and the brute-force reference they are checked against: the full
// cartesian product in the documented index order (tp, sequence_parallel, pp, cp, dp, ep, schedule,
// virtual_stages, micro_batch, zero, recompute, attention; bases outermost), each point passed through
// validate_scenario().
#include <catch2/catch.hpp>

#include <functional>
#include <vector>

#include "../support/scenarios.hpp"
#include "sim/sweep.hpp"

namespace clustersim::testing {

using sim::AxisMode;
using strategies::Recompute;
using strategies::Schedule;

// A GQA model whose divisibility rules all bite on 12 GPUs: 12 layers, 12 heads, 4 kv_heads, ffn 3072.
inline model::Model gqa_model() {
  model::ModelSpec s;
  s.name = "gqa-test";
  s.layers = 12;
  s.hidden = 768;
  s.heads = 12;
  s.kv_heads = 4;
  s.ffn_hidden = 3072;
  s.mlp = model::MlpKind::swiglu;
  s.vocab = 32000;
  s.position = model::PositionKind::rope;
  s.norm = model::NormKind::rmsnorm;
  auto m = model::validate_model(s);
  REQUIRE(m.has_value());
  return *m;
}

// 3 nodes of 4 A100s (12 GPUs).
inline hardware::ClusterSpec small_cluster(int nodes = 3, int gpus_per_node = 4) {
  auto c = preset_cluster("dgx-a100", nodes);
  c.gpus_per_node = gpus_per_node;
  return c;
}

inline strategies::TrainingSpec training(std::int64_t seq, std::int64_t batch, double tokens = 0) {
  strategies::TrainingSpec t;
  t.seq_length = seq;
  t.global_batch = batch;
  t.tokens = tokens;
  return t;
}

template <class T>
sim::Axis<T> list(std::vector<T> v) {
  return sim::Axis<T>{AxisMode::list, std::move(v)};
}
template <class T>
sim::Axis<T> automatic() {
  return sim::Axis<T>{AxisMode::automatic, {}};
}

// A space with invalid values on every axis (tp 3 and 8 break heads/kv_heads, pp 5 the layer split, cp 2 is
// not modelled, micro_batch 5 the batch, ...).
inline sim::SweepSpec messy_spec() {
  sim::SweepSpec s;
  s.bases.push_back(sim::SweepBase{gqa_model(), small_cluster(), training(1024, 24), 0.0, "a"});
  auto& A = s.axes;
  A.tp = list<int>({1, 2, 3, 4, 8});
  A.sequence_parallel = automatic<bool>();
  A.pp = list<int>({1, 2, 3, 4, 5});
  A.cp = list<int>({1, 2});
  A.dp = automatic<int>();
  A.schedule = automatic<Schedule>();
  A.virtual_stages = list<int>({1, 2, 4});
  A.micro_batch = list<int>({1, 2, 3, 5});
  A.zero = list<int>({0, 3});
  A.recompute = automatic<Recompute>();
  A.attention = automatic<model::AttentionImpl>();
  return s;
}

// The value lists of one base as SweepSpace::make resolves "auto", rebuilt independently here.
struct RefAxes {
  std::vector<int> tp, pp, cp, dp, ep, virtual_stages, micro_batch, zero;
  std::vector<bool> sp;
  std::vector<Schedule> schedule;
  std::vector<Recompute> recompute;
  std::vector<model::AttentionImpl> attention;
};

inline std::vector<int> brute_divisors(std::int64_t n) {
  std::vector<int> d;
  for (std::int64_t i = 1; i <= n; ++i)
    if (n % i == 0) d.push_back(static_cast<int>(i));
  return d;
}

inline RefAxes reference_axes(const sim::SweepSpec& spec, const sim::SweepBase& b) {
  const auto& A = spec.axes;
  const auto& L = spec.layout;
  const auto& ms = b.model.spec();
  const int gpus = b.cluster.total_gpus();
  const int units = ms.layers + (L.embedding_as_layer ? 1 : 0) + (L.loss_as_layer ? 1 : 0);
  auto pick = [](const auto& axis, auto fixed, auto automatic) {
    using T = std::decay_t<decltype(fixed)>;
    if (axis.mode == AxisMode::fixed) return std::vector<T>{fixed};
    if (axis.mode == AxisMode::list) return std::vector<T>(axis.values.begin(), axis.values.end());
    return automatic;
  };
  RefAxes r;
  std::vector<int> tp_auto, pp_auto;
  for (int d : brute_divisors(gpus)) {
    if (ms.heads % d == 0 && ms.kv_heads % d == 0 && ms.ffn_hidden % d == 0) tp_auto.push_back(d);
    if (units % d == 0) pp_auto.push_back(d);
  }
  r.tp = pick(A.tp, L.tp, tp_auto);
  r.sp = pick(A.sequence_parallel, L.sequence_parallel, std::vector<bool>{false, true});
  r.pp = pick(A.pp, L.pp, pp_auto);
  r.cp = pick(A.cp, L.cp, std::vector<int>{1});
  r.dp = pick(A.dp, L.dp, std::vector<int>{0});
  r.ep = pick(A.ep, L.ep, std::vector<int>{1});
  r.schedule = pick(A.schedule, L.schedule,
                    std::vector<Schedule>{Schedule::gpipe, Schedule::one_f_one_b, Schedule::interleaved_1f1b,
                                          Schedule::zero_bubble_h1});
  r.virtual_stages = pick(A.virtual_stages, L.virtual_stages, brute_divisors(units));
  r.micro_batch = pick(A.micro_batch, L.micro_batch, brute_divisors(b.training.global_batch));
  r.zero = pick(A.zero, L.zero, std::vector<int>{0, 1, 2, 3});
  r.recompute = pick(A.recompute, L.recompute, std::vector<Recompute>{Recompute::none, Recompute::selective, Recompute::selective_op, Recompute::full});
  r.attention = pick(A.attention, L.attention,
                     std::vector<model::AttentionImpl>{model::AttentionImpl::flash, model::AttentionImpl::materialized});
  return r;
}

// Every point of the product in index order: visit(index, base, layout as a user would write it (dp 0 when
// derived), whether validate_scenario accepts it).
inline std::uint64_t brute_force(const sim::SweepSpec& spec,
                                 const std::function<void(std::uint64_t, std::uint32_t, const strategies::LayoutSpec&,
                                                          const Expected<strategies::Scenario>&)>& visit) {
  std::uint64_t index = 0;
  for (std::uint32_t bi = 0; bi < spec.bases.size(); ++bi) {
    const auto& b = spec.bases[bi];
    const auto r = reference_axes(spec, b);
    for (int tp : r.tp)
      for (bool sp : r.sp)
        for (int pp : r.pp)
          for (int cp : r.cp)
            for (int dp : r.dp)
              for (int ep : r.ep)
                for (auto sch : r.schedule)
                  for (int v : r.virtual_stages)
                    for (int mb : r.micro_batch)
                      for (int z : r.zero)
                        for (auto rc : r.recompute)
                          for (auto at : r.attention) {
                            strategies::LayoutSpec L = spec.layout;
                            L.tp = tp;
                            L.sequence_parallel = sp;
                            L.pp = pp;
                            L.cp = cp;
                            L.dp = dp;
                            L.ep = ep;
                            L.schedule = sch;
                            L.virtual_stages = v;
                            L.micro_batch = mb;
                            L.zero = z;
                            L.recompute = rc;
                            L.attention = at;
                            visit(index++, bi, L, strategies::validate_scenario(b.model, b.cluster, b.training, L));
                          }
  }
  return index;
}

// Whether a valid layout breaks a degree constraint of the spec.
inline bool breaks_constraints(const sim::SweepSpec& spec, const sim::SweepBase& b, const strategies::Scenario& sc) {
  const auto& C = spec.constraints;
  const auto& L = sc.layout;
  auto out = [](int v, const sim::DegreeRange& r) { return v < r.min || v > r.max; };
  return out(L.tp, C.tp) || out(L.pp, C.pp) || out(L.dp, C.dp) || out(L.micro_batch, C.micro_batch) ||
         out(L.virtual_stages, C.virtual_stages) || (C.tp_within_node && L.tp > b.cluster.gpus_per_node);
}

// Collects every row of a run in order.
class RowCollector : public sim::SweepSink {
 public:
  void format(const sim::SweepChunk&, std::string&) const override {}
  std::optional<Error> consume(const sim::SweepChunk& chunk, const std::string&, const sim::SweepTally&) override {
    rows.insert(rows.end(), chunk.rows.begin(), chunk.rows.end());
    ++chunks;
    return std::nullopt;
  }
  std::vector<sim::SweepRow> rows;
  int chunks = 0;
};

// Stops the run after `after` chunks, as Ctrl-C would.
class StopAfter : public sim::SweepObserver {
 public:
  explicit StopAfter(int after) : after_(after) {}
  void on_progress(const sim::SweepProgress&) override { ++seen_; }
  [[nodiscard]] bool stop_requested() const override { return seen_ >= after_; }

 private:
  int after_;
  int seen_ = 0;
};

inline sim::SweepSpace make_space(sim::SweepSpec spec) {
  auto s = sim::SweepSpace::make(std::move(spec));
  if (!s) FAIL(s.error().what());
  return std::move(*s);
}

inline bool same_row(const sim::SweepRow& a, const sim::SweepRow& b) {
  const auto& p = a.point;
  const auto& q = b.point;
  return p.index == q.index && p.base == q.base && p.tp == q.tp && p.pp == q.pp && p.dp == q.dp && p.cp == q.cp &&
         p.ep == q.ep && p.micro_batch == q.micro_batch && p.virtual_stages == q.virtual_stages && p.zero == q.zero &&
         p.schedule == q.schedule && p.recompute == q.recompute && p.sequence_parallel == q.sequence_parallel &&
         p.attention == q.attention && p.micro_batches == q.micro_batches && a.status == b.status &&
         a.iteration_time_s == b.iteration_time_s && a.tokens_per_s == b.tokens_per_s &&
         a.tflops_per_gpu == b.tflops_per_gpu && a.mfu == b.mfu && a.memory_peak_bytes == b.memory_peak_bytes &&
         a.cost_per_token == b.cost_per_token && a.gpu_hours == b.gpu_hours && a.cost_usd == b.cost_usd;
}

}  // namespace clustersim::testing
