// The sweep runner: rows bit-identical to sim::estimate on validate_scenario's scenario, the memory
// bound deciding feasibility, determinism across thread counts and chunk sizes, top k and Pareto front
// against brute force, and a stopped run resumed to the same result.
#include <algorithm>
#include <cmath>

#include "fixtures.hpp"
#include "sim/analytical.hpp"
#include "sim/des.hpp"

using namespace clustersim;
using namespace clustersim::testing;

namespace {

// The messy space on GPUs of 3 GiB: a 12-layer, 768-wide model (about 110 M parameters, 16 bytes each
// for weights, fp32 gradients and Adam without ZeRO = 1.8 GB) fits only with some sharding or pipelining.
sim::SweepSpec tight_spec() {
  auto spec = messy_spec();
  auto& b = spec.bases[0];
  b.cluster.gpu.hbm_capacity = gib(3);
  b.training.tokens = 1e9;
  b.price_per_gpu_hour = 2.0;
  return spec;
}

struct Run {
  std::vector<sim::SweepRow> rows;
  sim::SweepResult result;
};

Run run(const sim::SweepSpace& space, sim::SweepRunOptions o, sim::SweepObserver* observer = nullptr) {
  RowCollector sink;
  auto r = sim::run_sweep(space, o, &sink, observer);
  if (!r) FAIL(r.error().what());
  return {sink.rows, *r};
}

std::vector<std::uint64_t> indices(const std::vector<sim::SweepRow>& rows) {
  std::vector<std::uint64_t> v;
  for (const auto& r : rows) v.push_back(r.point.index);
  return v;
}

double sign_key(const sim::SweepRow& r, sim::Objective o) {
  const double v = sim::objective_value(r, o);
  return sim::maximised(o) ? -v : v;
}

}  // namespace

TEST_CASE("every evaluated row equals sim::estimate on the scenario validate_scenario builds, on the fabric") {
  const auto spec = tight_spec();
  const auto space = make_space(spec);
  sim::SweepRunOptions o;
  o.jobs = 2;
  o.chunk_layouts = 37;
  o.keep_infeasible_rows = true;
  o.verify = true;  // also checks the sweep's own scenario against validate_scenario's, field by field
  const auto r = run(space, o);
  const auto& b = spec.bases[0];
  std::uint64_t feasible = 0, infeasible = 0;
  for (const auto& row : r.rows) {
    auto L = space.layout_of(row.point);
    if (row.point.dp_derived) L.dp = 0;
    // The scenario validate_scenario builds, placed on the base's fabric as the sweep places it.
    const auto sc = strategies::place_on_fabric(scenario(b.model, b.cluster, b.training, L), space.fabric(0));
    REQUIRE(sc.has_value());
    const auto rep = sim::estimate(*sc);
    INFO("index " << row.point.index);
    CHECK(row.memory_peak_bytes == std::round(rep.memory.peak_device.value));
    if (!rep.memory.fits) {
      ++infeasible;
      CHECK_FALSE(row.feasible());
      const auto& phase = rep.memory.stages[rep.memory.peak_stage].peak_phase;
      const auto expected = phase == "backward"         ? sim::RowStatus::oom_backward
                            : phase == "forward (loss)" ? sim::RowStatus::oom_forward
                            : phase == "optimizer step" ? sim::RowStatus::oom_optimizer
                                                        : sim::RowStatus::oom_other;
      CHECK(row.status == expected);
      continue;
    }
    ++feasible;
    REQUIRE(row.feasible());
    CHECK(row.iteration_time_s == rep.iteration_time_s);
    CHECK(row.tokens_per_s == rep.tokens_per_s);
    CHECK(row.tflops_per_gpu == rep.tflops_per_gpu);
    CHECK(row.mfu == rep.mfu);
    CHECK(row.gpu_hours == rep.gpu_hours);
    // cost per token = USD/GPU-hour x GPUs x hours per iteration / tokens per iteration; 12 GPUs, 1024 x 24.
    CHECK(row.cost_per_token == Approx(2.0 * 12 * rep.iteration_time_s / 3600.0 / (1024.0 * 24.0)).epsilon(1e-12));
    CHECK(row.cost_usd == Approx(2.0 * rep.gpu_hours).epsilon(1e-12));
  }
  // The space must exercise both verdicts for this test to mean anything.
  REQUIRE(feasible > 50);
  REQUIRE(infeasible > 50);
  CHECK(r.result.tally.counts.feasible() == feasible);
  CHECK(r.result.tally.counts.infeasible_total() == infeasible);
  CHECK(r.result.tally.counts.layouts() == space.size());
  CHECK_FALSE(r.result.interrupted);
}

TEST_CASE("memory constraints make layouts infeasible like running out of memory") {
  auto spec = tight_spec();
  spec.constraints.max_memory_fraction = 0.8;
  spec.constraints.min_free_memory = mib(700);
  const auto space = make_space(spec);
  sim::SweepRunOptions o;
  o.keep_infeasible_rows = true;
  const auto r = run(space, o);
  const auto& b = spec.bases[0];
  const double cap = b.cluster.gpu.hbm_capacity.value;
  std::array<std::uint64_t, sim::kRowStatuses> seen{};
  for (const auto& row : r.rows) {
    auto L = space.layout_of(row.point);
    const auto mem = strategies::memory_report(scenario(b.model, b.cluster, b.training, L));
    const double peak = mem.peak_device.value;
    sim::RowStatus expected = sim::RowStatus::feasible;
    if (!mem.fits) {
      // The phase of an out-of-memory verdict is checked in the test above.
      CHECK((row.status == sim::RowStatus::oom_forward || row.status == sim::RowStatus::oom_backward ||
             row.status == sim::RowStatus::oom_optimizer || row.status == sim::RowStatus::oom_other));
      expected = row.status;
    } else if (peak > 0.8 * cap) expected = sim::RowStatus::over_memory_fraction;
    else if (cap - peak < 700.0 * kMiB) expected = sim::RowStatus::under_free_memory;
    INFO("index " << row.point.index << " peak " << peak / kGiB << " GiB");
    CHECK(row.status == expected);
    ++seen[static_cast<int>(row.status)];
  }
  CHECK(seen[static_cast<int>(sim::RowStatus::feasible)] > 0);
  CHECK(seen[static_cast<int>(sim::RowStatus::over_memory_fraction)] > 0);
  CHECK(seen[static_cast<int>(sim::RowStatus::under_free_memory)] > 0);
}

TEST_CASE("results do not depend on the thread count or the chunk size") {
  const auto space = make_space(tight_spec());
  sim::SweepRunOptions base;
  base.keep_infeasible_rows = true;
  base.jobs = 1;
  base.chunk_layouts = 2048;
  const auto ref = run(space, base);
  REQUIRE(ref.rows.size() > 100);
  for (auto [jobs, chunk] : {std::pair<int, std::uint64_t>{2, 7}, {4, 1}, {3, 64}}) {
    auto o = base;
    o.jobs = jobs;
    o.chunk_layouts = chunk;
    const auto r = run(space, o);
    INFO("jobs " << jobs << " chunk " << chunk);
    REQUIRE(r.rows.size() == ref.rows.size());
    for (std::size_t i = 0; i < r.rows.size(); ++i) REQUIRE(same_row(r.rows[i], ref.rows[i]));
    CHECK(r.result.tally.counts == ref.result.tally.counts);
    CHECK(indices(r.result.tally.leaders.top()) == indices(ref.result.tally.leaders.top()));
    CHECK(indices(r.result.tally.leaders.pareto()) == indices(ref.result.tally.leaders.pareto()));
  }
}

TEST_CASE("top k and Pareto front equal the brute-force ones") {
  auto spec = tight_spec();
  SECTION("two objectives (time, memory)") {
    spec.objectives = {sim::Objective::iteration_time_s, sim::Objective::memory_peak_bytes};
  }
  SECTION("three objectives, one maximised") {
    spec.objectives = {sim::Objective::cost_per_token, sim::Objective::memory_peak_bytes, sim::Objective::tokens_per_s};
  }
  SECTION("one objective") { spec.objectives = {sim::Objective::mfu}; }
  spec.top_k = 7;
  const auto space = make_space(spec);
  sim::SweepRunOptions o;
  o.jobs = 2;
  o.chunk_layouts = 50;
  const auto r = run(space, o);  // feasible rows only
  auto rows = r.rows;
  REQUIRE(rows.size() > 20);
  // Top k: sort by the objectives in turn, then by index.
  std::sort(rows.begin(), rows.end(), [&](const sim::SweepRow& a, const sim::SweepRow& b) {
    for (auto obj : spec.objectives)
      if (sign_key(a, obj) != sign_key(b, obj)) return sign_key(a, obj) < sign_key(b, obj);
    return a.point.index < b.point.index;
  });
  std::vector<std::uint64_t> top;
  for (int i = 0; i < spec.top_k; ++i) top.push_back(rows[static_cast<std::size_t>(i)].point.index);
  CHECK(indices(r.result.tally.leaders.top()) == top);
  // Pareto: rows no other row is at least as good as on every objective and better on one.
  std::vector<std::uint64_t> front;
  for (const auto& a : rows) {
    bool dominated = false;
    for (const auto& b : rows) {
      bool all = true, one = false;
      for (auto obj : spec.objectives) {
        all = all && sign_key(b, obj) <= sign_key(a, obj);
        one = one || sign_key(b, obj) < sign_key(a, obj);
      }
      dominated = dominated || (all && one);
    }
    if (!dominated) front.push_back(a.point.index);
  }
  CHECK(indices(r.result.tally.leaders.pareto()) == front);  // both in the order of the top-k sort
}

TEST_CASE("a stopped run resumed from its next index gives the rows, counts and leaders of a full run") {
  const auto space = make_space(tight_spec());
  sim::SweepRunOptions o;
  o.jobs = 2;
  o.chunk_layouts = 40;
  o.keep_infeasible_rows = true;
  const auto full = run(space, o);
  StopAfter stop(3);
  const auto first = run(space, o, &stop);
  REQUIRE(first.result.interrupted);
  REQUIRE(first.result.tally.next_index < space.size());
  CHECK(first.result.tally.counts.layouts() == first.result.tally.next_index);
  auto o2 = o;
  o2.begin = first.result.tally.next_index;
  const auto second = run(space, o2);
  REQUIRE_FALSE(second.result.interrupted);
  auto rows = first.rows;
  rows.insert(rows.end(), second.rows.begin(), second.rows.end());
  REQUIRE(rows.size() == full.rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) REQUIRE(same_row(rows[i], full.rows[i]));
  auto counts = first.result.tally.counts;
  counts.add(second.result.tally.counts);
  CHECK(counts == full.result.tally.counts);
  auto leaders = first.result.tally.leaders;
  leaders.merge(second.result.tally.leaders);
  CHECK(indices(leaders.top()) == indices(full.result.tally.leaders.top()));
  CHECK(indices(leaders.pareto()) == indices(full.result.tally.leaders.pareto()));
}

TEST_CASE("the simulate evaluator gives the discrete-event simulator's figures") {
  auto spec = tight_spec();
  spec.evaluator = sim::Evaluator::simulate;
  const auto space = make_space(spec);
  sim::SweepRunOptions o;
  o.jobs = 2;
  const auto r = run(space, o);
  const auto& b = spec.bases[0];
  REQUIRE(r.rows.size() > 10);
  for (std::size_t i = 0; i < r.rows.size(); i += r.rows.size() / 10) {
    const auto& row = r.rows[i];
    auto L = space.layout_of(row.point);
    if (row.point.dp_derived) L.dp = 0;
    const auto placed = strategies::place_on_fabric(scenario(b.model, b.cluster, b.training, L), space.fabric(0));
    REQUIRE(placed.has_value());
    const auto sim_result = sim::simulate(*placed);
    REQUIRE(sim_result.has_value());
    CHECK(row.iteration_time_s == sim_result->report.iteration_time_s);
  }
  CHECK(sim::evaluator_available(sim::Evaluator::simulate));
}
