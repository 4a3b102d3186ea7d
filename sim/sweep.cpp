#include "sim/sweep.hpp"

#include "sim/des.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>

#include "sim/analytical.hpp"
#include "strategies/memory.hpp"

namespace clustersim::sim {

double objective_value(const SweepRow& r, Objective o) {
  switch (o) {
    case Objective::iteration_time_s: return r.iteration_time_s;
    case Objective::tokens_per_s: return r.tokens_per_s;
    case Objective::mfu: return r.mfu;
    case Objective::memory_peak_bytes: return r.memory_peak_bytes;
    case Objective::cost_per_token: return r.cost_per_token;
  }
  return 0.0;
}

// ---------------------------------------------------------------------------------------------------
// Leaders

namespace {
double key(const SweepRow& r, Objective o) { return maximised(o) ? -objective_value(r, o) : objective_value(r, o); }
}  // namespace

SweepLeaders::SweepLeaders(std::vector<Objective> objectives, int top_k)
    : objectives_(std::move(objectives)), top_k_(top_k) {}

void SweepLeaders::reset(const std::vector<Objective>& objectives, int top_k) {
  objectives_ = objectives;
  top_k_ = top_k;
  top_.clear();
  front_.clear();
}

bool SweepLeaders::before(const SweepRow& a, const SweepRow& b) const {
  for (auto o : objectives_) {
    const double ka = key(a, o), kb = key(b, o);
    if (ka < kb) return true;
    if (kb < ka) return false;
  }
  return a.point.index < b.point.index;
}

bool SweepLeaders::dominates(const SweepRow& a, const SweepRow& b) const {
  bool strictly = false;
  for (auto o : objectives_) {
    const double ka = key(a, o), kb = key(b, o);
    if (ka > kb) return false;
    if (ka < kb) strictly = true;
  }
  return strictly;
}

void SweepLeaders::add(const SweepRow& row) {
  if (!row.feasible()) return;
  // Top k: a sorted list no longer than k.
  if (static_cast<int>(top_.size()) < top_k_ || before(row, top_.back())) {
    const auto it = std::lower_bound(top_.begin(), top_.end(), row,
                                     [this](const SweepRow& a, const SweepRow& b) { return before(a, b); });
    if (it == top_.end() || it->point.index != row.point.index) {
      top_.insert(it, row);
      if (static_cast<int>(top_.size()) > top_k_) top_.pop_back();
    }
  }
  // Pareto front: drop the row if a member dominates it (or it is already there), else drop the members
  // it dominates and keep it.
  for (const auto& f : front_)
    if (f.point.index == row.point.index || dominates(f, row)) return;
  front_.erase(std::remove_if(front_.begin(), front_.end(), [&](const SweepRow& f) { return dominates(row, f); }),
               front_.end());
  front_.push_back(row);
}

void SweepLeaders::merge(const SweepLeaders& other) {
  for (const auto& r : other.top_) add(r);
  for (const auto& r : other.front_) add(r);
}

std::vector<SweepRow> SweepLeaders::pareto() const {
  auto out = front_;
  std::sort(out.begin(), out.end(), [this](const SweepRow& a, const SweepRow& b) { return before(a, b); });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// One layout

Expected<Report> evaluate_scenario(Evaluator e, const strategies::Scenario& sc) {
  return evaluate_scenario(e, sc, strategies::memory_report(sc));
}

Expected<Report> evaluate_scenario(Evaluator e, const strategies::Scenario& sc, const strategies::MemoryReport& memory) {
  switch (e) {
    case Evaluator::estimate: return estimate(sc, memory);
    case Evaluator::simulate: {
      auto r = simulate(sc);
      if (!r) return r.error();
      return std::move(r->report);
    }
  }
  return Error{ErrorCode::internal, "evaluator", std::string(to_string(e)) + " is not available in this build"};
}

LayoutEvaluator::LayoutEvaluator(const SweepSpace& space, bool verify)
    : space_(&space), verify_(verify), scenarios_(space.spec().bases.size()) {}

strategies::Scenario* LayoutEvaluator::scenario_for(const LayoutPoint& p) {
  const auto& base = space_->spec().bases[p.base];
  auto& slot = scenarios_[p.base];
  if (!slot) {
    // The first layout of this base on this thread goes through validate_scenario; later ones only
    // rewrite the fields a layout decides.
    auto L = space_->layout_of(p);
    if (p.dp_derived) L.dp = 0;
    auto sc = strategies::validate_scenario(base.model, base.cluster, base.training, L);
    if (!sc) {
      if (!error_)
        error_ = Error{ErrorCode::internal, "sweep",
                       "layout " + std::to_string(p.index) + " was enumerated but validate_scenario rejects it: " +
                           sc.error().what()};
      return nullptr;
    }
    slot.emplace(std::move(*sc));
  }
  auto& sc = *slot;
  // The fields validate_scenario decides from the layout (layout.cpp: degrees, dp filled in, the batch
  // split, and the even stage split with the embedding/loss counted as layers).
  auto& L = sc.layout;
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
  sc.micro_batches = p.micro_batches;
  const int layers = base.model.spec().layers;
  const int extra = (L.embedding_as_layer ? 1 : 0) + (L.loss_as_layer ? 1 : 0);
  const int chunks = p.pp * p.virtual_stages;
  const int per_chunk = (layers + extra) / chunks;
  sc.stages.resize(p.pp);
  for (int r = 0; r < p.pp; ++r) {
    auto& st = sc.stages[r];
    st.chunk_layers.resize(p.virtual_stages);
    for (int j = 0; j < p.virtual_stages; ++j) {
      const int c = j * p.pp + r;
      int n = per_chunk;
      if (c == 0 && L.embedding_as_layer) --n;
      if (c == chunks - 1 && L.loss_as_layer) --n;
      if (chunks == 1 && extra) n = layers;
      st.chunk_layers[j] = n;
    }
    st.has_embedding = r == 0;
    st.has_head = r == p.pp - 1;
  }
  // The ranks of this layout on the base's fabric (shared, built once by the space).
  if (auto e = strategies::place_layout(sc, space_->fabric(p.base))) {
    if (!error_) error_ = *e;
    return nullptr;
  }
  return &sc;
}

void LayoutEvaluator::verify(const LayoutPoint& p, const strategies::Scenario& sc) {
  const auto& base = space_->spec().bases[p.base];
  auto L = space_->layout_of(p);
  if (p.dp_derived) L.dp = 0;
  const auto ref = strategies::validate_scenario(base.model, base.cluster, base.training, L);
  auto fail = [&](const std::string& what) {
    if (!error_)
      error_ = Error{ErrorCode::internal, "sweep",
                     "layout " + std::to_string(p.index) + ": the sweep and validate_scenario disagree: " + what};
  };
  if (!ref) return fail("validate_scenario rejects it: " + ref.error().what());
  const auto& a = ref->layout;
  const auto& b = sc.layout;
  if (a.tp != b.tp || a.pp != b.pp || a.dp != b.dp || a.cp != b.cp || a.ep != b.ep || a.micro_batch != b.micro_batch ||
      a.virtual_stages != b.virtual_stages || a.zero != b.zero || a.schedule != b.schedule ||
      a.recompute != b.recompute || a.sequence_parallel != b.sequence_parallel || a.attention != b.attention)
    return fail("layout fields");
  if (ref->micro_batches != sc.micro_batches) return fail("micro_batches");
  if (ref->gpus != sc.gpus) return fail("gpus");
  if (ref->stages.size() != sc.stages.size()) return fail("number of stages");
  for (std::size_t r = 0; r < sc.stages.size(); ++r) {
    const auto& x = ref->stages[r];
    const auto& y = sc.stages[r];
    if (x.chunk_layers != y.chunk_layers || x.has_embedding != y.has_embedding || x.has_head != y.has_head)
      return fail("stage split of pipeline rank " + std::to_string(r));
  }
}

namespace {
RowStatus oom_status(const strategies::MemoryReport& mem) {
  const auto& phase = mem.stages[mem.peak_stage].peak_phase;
  if (phase == "forward (loss)") return RowStatus::oom_forward;
  if (phase == "backward") return RowStatus::oom_backward;
  if (phase == "optimizer step") return RowStatus::oom_optimizer;
  return RowStatus::oom_other;
}
}  // namespace

SweepRow LayoutEvaluator::evaluate(const LayoutPoint& p) {
  SweepRow row;
  row.point = p;
  auto* scp = scenario_for(p);
  if (!scp) {
    row.status = RowStatus::oom_other;  // never written: the chunk carries error() and the run fails
    return row;
  }
  auto& sc = *scp;
  current_ = scp;
  if (verify_) verify(p, sc);
  const auto& spec = space_->spec();
  const auto& base = spec.bases[p.base];
  const auto& C = spec.constraints;
  // The cheap bound first: the memory model alone decides feasibility; only layouts that fit are timed.
  const auto mem = strategies::memory_report(sc);
  const double peak = mem.peak_device.value, capacity = mem.capacity.value;
  row.memory_peak_bytes = std::round(peak);
  if (!mem.fits) {
    row.status = oom_status(mem);
  } else if (C.max_memory_fraction && peak > *C.max_memory_fraction * capacity) {
    row.status = RowStatus::over_memory_fraction;
  } else if (C.min_free_memory && capacity - peak < C.min_free_memory->value) {
    row.status = RowStatus::under_free_memory;
  } else {
    const auto evaluated = evaluate_scenario(spec.evaluator, sc, mem);
    if (!evaluated) {
      if (!error_) error_ = evaluated.error();
      row.status = RowStatus::oom_other;  // never written: the chunk carries error() and the run fails
      return row;
    }
    const Report& rep = *evaluated;
    // The evaluator's own memory is the row's (the same as the check above for the closed form; the
    // simulated timeline's peak for the discrete-event evaluator, which may not fit after all).
    row.memory_peak_bytes = std::round(rep.memory.peak_device.value);
    if (!rep.memory.fits) {
      row.status = oom_status(rep.memory);
      return row;
    }
    row.status = RowStatus::feasible;
    row.iteration_time_s = rep.iteration_time_s;
    row.tokens_per_s = rep.tokens_per_s;
    row.tflops_per_gpu = rep.tflops_per_gpu;
    row.mfu = rep.mfu;
    row.gpu_hours = rep.gpu_hours;
    const double price = base.price_per_gpu_hour;
    if (price > 0) {
      // Cost per token = price x GPUs x iteration hours / tokens per iteration (shared reference sec. 6:
      // prices are per GPU-hour).
      const double tokens = static_cast<double>(sc.training.global_batch) * static_cast<double>(sc.training.seq_length);
      row.cost_per_token = price * sc.gpus * (rep.iteration_time_s / 3600.0) / tokens;
      row.cost_usd = price * rep.gpu_hours;
    }
  }
  return row;
}

void evaluate_chunk(const SweepSpace& space, std::uint64_t begin, std::uint64_t end, bool keep_infeasible_rows,
                    LayoutEvaluator& evaluator, SweepChunk& chunk) {
  chunk.begin = begin;
  chunk.end = end;
  chunk.rows.clear();
  chunk.counts = SweepCounts{};
  chunk.leaders.reset(space.spec().objectives, space.spec().top_k);
  space.for_each(begin, end, chunk.counts, [&](const LayoutPoint& p) {
    const SweepRow row = evaluator.evaluate(p);
    ++chunk.counts.status[static_cast<int>(row.status)];
    if (row.feasible()) chunk.leaders.add(row);
    if (row.feasible() || keep_infeasible_rows) chunk.rows.push_back(row);
  });
}

// ---------------------------------------------------------------------------------------------------
// The runner

std::pair<std::uint64_t, std::uint64_t> shard_range(const SweepSpace& space, int i, int n) {
  const std::uint64_t total = space.count(0, space.size()).feasible();
  const auto nn = static_cast<std::uint64_t>(n);
  // The k-th evaluable layout that starts shard j: floor(total x j / n), without overflow.
  auto cut = [&](std::uint64_t j) { return (total / nn) * j + (total % nn) * j / nn; };
  const std::uint64_t lo = i == 0 ? 0 : space.locate(0, cut(static_cast<std::uint64_t>(i)));
  const std::uint64_t hi = i == n - 1 ? space.size() : space.locate(0, cut(static_cast<std::uint64_t>(i) + 1));
  return {lo, hi};
}

Expected<SweepResult> run_sweep(const SweepSpace& space, const SweepRunOptions& options, SweepSink* sink,
                                SweepObserver* observer) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const auto& spec = space.spec();
  const std::uint64_t end = std::min(options.end, space.size());
  const std::uint64_t begin = std::min(options.begin, end);
  const std::uint64_t per_chunk = std::max<std::uint64_t>(1, options.chunk_layouts);
  // More threads than TBB's cores would not run anyway (TBB caps its workers and warns on stderr).
  const int cores = tbb::info::default_concurrency();
  const int threads = options.jobs > 0 ? std::min(options.jobs, cores) : cores;

  SweepResult result;
  result.tally.begin = begin;
  result.tally.next_index = begin;
  result.tally.leaders.reset(spec.objectives, spec.top_k);
  SweepProgress progress;
  progress.to_evaluate = space.count(begin, end).feasible();
  progress.next_index = begin;
  progress.end_index = end;

  // Chunks in flight: a fixed pool, so memory stays bounded whatever the size of the space.
  struct Job {
    SweepChunk chunk;
    std::string bytes;
    std::optional<Error> error;
  };
  const std::size_t tokens = 2 * static_cast<std::size_t>(threads) + 2;
  std::vector<std::unique_ptr<Job>> jobs;
  std::vector<Job*> free_jobs;
  for (std::size_t i = 0; i < tokens; ++i) {
    jobs.push_back(std::make_unique<Job>());
    free_jobs.push_back(jobs.back().get());
  }
  std::mutex free_mutex;
  std::atomic<bool> stop{false};
  std::optional<Error> failure;
  std::uint64_t next = begin;
  tbb::enumerable_thread_specific<LayoutEvaluator> evaluators(
      [&] { return LayoutEvaluator(space, options.verify); });

  tbb::task_arena arena(threads);
  try {
    arena.execute([&] {
      tbb::parallel_pipeline(
          tokens,
          tbb::make_filter<void, Job*>(tbb::filter_mode::serial_in_order,
                                       [&](tbb::flow_control& fc) -> Job* {
                                         if (next >= end || stop.load() || (observer && observer->stop_requested())) {
                                           fc.stop();
                                           return nullptr;
                                         }
                                         Job* job = nullptr;
                                         {
                                           std::lock_guard<std::mutex> lock(free_mutex);
                                           job = free_jobs.back();
                                           free_jobs.pop_back();
                                         }
                                         job->chunk.begin = next;
                                         job->chunk.end = std::min(end, space.locate(next, per_chunk));
                                         next = job->chunk.end;
                                         return job;
                                       }) &
              tbb::make_filter<Job*, Job*>(tbb::filter_mode::parallel,
                                           [&](Job* job) {
                                             auto& ev = evaluators.local();
                                             evaluate_chunk(space, job->chunk.begin, job->chunk.end,
                                                            options.keep_infeasible_rows, ev, job->chunk);
                                             job->error = ev.error();
                                             job->bytes.clear();
                                             if (sink && !job->error) sink->format(job->chunk, job->bytes);
                                             return job;
                                           }) &
              tbb::make_filter<Job*, void>(tbb::filter_mode::serial_in_order, [&](Job* job) {
                if (!failure) {
                  if (job->error) {
                    failure = job->error;
                  } else {
                    auto& tally = result.tally;
                    tally.counts.add(job->chunk.counts);
                    tally.leaders.merge(job->chunk.leaders);
                    tally.next_index = job->chunk.end;
                    if (sink) failure = sink->consume(job->chunk, job->bytes, tally);
                    if (observer) {
                      progress.evaluated = tally.counts.evaluated();
                      progress.next_index = tally.next_index;
                      progress.seconds = std::chrono::duration<double>(clock::now() - t0).count();
                      observer->on_progress(progress);
                    }
                  }
                  if (failure) stop = true;
                }
                std::lock_guard<std::mutex> lock(free_mutex);
                free_jobs.push_back(job);
              }));
    });
  } catch (const std::exception& e) {
    return Error{ErrorCode::internal, "sweep", e.what()};
  }
  if (failure) return *failure;
  result.interrupted = result.tally.next_index < end;
  result.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  return result;
}

}  // namespace clustersim::sim
