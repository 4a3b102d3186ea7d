#pragma once
// The sweep runner (issue 6): every layout of a SweepSpace evaluated in parallel with TBB, in chunks, and
// handed on in index order, so that results never depend on the thread count and a run can stop after
// any chunk and resume from the next index.
//
// Work per layout, cheapest first: the nested loops of SweepSpace never build invalid layouts; a valid
// one gets its memory (strategies::memory_report) and stops there when it does not fit; only the others
// are timed (sim::estimate). Each worker thread keeps one Scenario per base and rewrites only its layout
// fields and stage split, and reuses its chunk buffers, so that the runner itself allocates nothing per
// layout. The core does no I/O: rows go to a SweepSink (cli/ writes files), progress to a SweepObserver.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "sim/report.hpp"
#include "sim/sweep_space.hpp"

namespace clustersim::sim {

// One evaluated layout: its point in the space, the verdict, and the figures rows and objectives use.
// Plain data without heap members, so that chunks of rows move between threads and MPI ranks as bytes.
struct SweepRow {
  LayoutPoint point;
  RowStatus status = RowStatus::feasible;
  double iteration_time_s = 0;   // 0 unless feasible (as the next five)
  double tokens_per_s = 0;
  double tflops_per_gpu = 0;
  double mfu = 0;
  double cost_per_token = 0;     // USD per token; 0 when the base has no price
  double gpu_hours = 0;          // for training.tokens; 0 when no target is given
  double memory_peak_bytes = 0;  // device peak in whole bytes, for every evaluated row
  double cost_usd = 0;           // gpu_hours x price
  [[nodiscard]] bool feasible() const { return status == RowStatus::feasible; }
};

// The value of an objective for a row (as written, not sign-adjusted).
double objective_value(const SweepRow& row, Objective o);

// The best rows seen: the top k by the objectives in order (lexicographic; ties by index) and the Pareto
// front over all objectives (rows no other row beats on every objective). Both are sets defined by the
// rows alone, so merging partial leaders of any split of the space, in any order, gives the same result.
class SweepLeaders {
 public:
  SweepLeaders() = default;
  SweepLeaders(std::vector<Objective> objectives, int top_k);

  void reset(const std::vector<Objective>& objectives, int top_k);  // empty, keeping the buffers
  void add(const SweepRow& row);  // infeasible rows are ignored
  void merge(const SweepLeaders& other);

  [[nodiscard]] const std::vector<SweepRow>& top() const { return top_; }  // best first
  [[nodiscard]] std::vector<SweepRow> pareto() const;  // by the first objective, then index
  [[nodiscard]] const std::vector<Objective>& objectives() const { return objectives_; }
  [[nodiscard]] int top_k() const { return top_k_; }
  // a is ranked before b (strict total order: objectives in turn, then index).
  [[nodiscard]] bool before(const SweepRow& a, const SweepRow& b) const;
  // a is at least as good as b on every objective and better on one.
  [[nodiscard]] bool dominates(const SweepRow& a, const SweepRow& b) const;

 private:
  std::vector<Objective> objectives_;
  int top_k_ = 0;
  std::vector<SweepRow> top_;
  std::vector<SweepRow> front_;
};

// Evaluates single layouts of a space as sim::estimate(validate_scenario(...)) would, bit for bit, reusing
// one Scenario per base. One per thread: it is not thread-safe.
class LayoutEvaluator {
 public:
  explicit LayoutEvaluator(const SweepSpace& space, bool verify = false);
  SweepRow evaluate(const LayoutPoint& p);
  // The scenario of the last evaluated point (valid until the next call).
  [[nodiscard]] const strategies::Scenario& scenario() const { return *current_; }
  // In verify mode, the first disagreement between the sweep's scenario and validate_scenario's.
  [[nodiscard]] const std::optional<Error>& error() const { return error_; }

 private:
  strategies::Scenario* scenario_for(const LayoutPoint& p);  // nullptr (and error()) if it fails
  void verify(const LayoutPoint& p, const strategies::Scenario& sc);
  const SweepSpace* space_;
  bool verify_ = false;
  std::vector<std::optional<strategies::Scenario>> scenarios_;  // by base
  strategies::Scenario* current_ = nullptr;
  std::optional<Error> error_;
};

// The report of one scenario by the sweep's evaluator (the one place an evaluator is called).
Expected<Report> evaluate_scenario(Evaluator e, const strategies::Scenario& sc);
// The same with the scenario's memory report already computed (the runner's feasibility check).
Expected<Report> evaluate_scenario(Evaluator e, const strategies::Scenario& sc, const strategies::MemoryReport& memory);

// The results of an index range [begin, end): its rows (feasible ones, or every evaluated one), counts and
// leaders.
struct SweepChunk {
  std::uint64_t begin = 0, end = 0;
  std::vector<SweepRow> rows;
  SweepCounts counts;
  SweepLeaders leaders;
};

// Evaluates [begin, end) on the calling thread into `chunk` (its buffers are reused).
void evaluate_chunk(const SweepSpace& space, std::uint64_t begin, std::uint64_t end, bool keep_infeasible_rows,
                    LayoutEvaluator& evaluator, SweepChunk& chunk);

// What a run has done so far: [begin, next_index) is finished.
struct SweepTally {
  std::uint64_t begin = 0;
  std::uint64_t next_index = 0;
  SweepCounts counts;
  SweepLeaders leaders;
};

// Where rows go. format() runs on worker threads, several at once, and must do no I/O; consume() runs
// once per chunk, in index order, one at a time, with the tally up to and including the chunk.
class SweepSink {
 public:
  virtual ~SweepSink() = default;
  virtual void format(const SweepChunk& chunk, std::string& out) const = 0;
  virtual std::optional<Error> consume(const SweepChunk& chunk, const std::string& bytes, const SweepTally& so_far) = 0;
};

struct SweepProgress {
  std::uint64_t evaluated = 0;    // layouts evaluated in this run
  std::uint64_t to_evaluate = 0;  // evaluable layouts in the run's range
  std::uint64_t next_index = 0, end_index = 0;
  double seconds = 0;
};

// The narrow face the runner reports to (a progress bar, a Ctrl-C flag): on_progress after each chunk,
// stop_requested before each new one.
class SweepObserver {
 public:
  virtual ~SweepObserver() = default;
  virtual void on_progress(const SweepProgress& progress) = 0;
  [[nodiscard]] virtual bool stop_requested() const = 0;
};

struct SweepRunOptions {
  int jobs = 0;                 // threads; 0 = every core (more than the cores are not used)
  std::uint64_t begin = 0;      // index range of this run (a resumed run or a shard)
  std::uint64_t end = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t chunk_layouts = 2048;  // evaluable layouts per chunk
  bool keep_infeasible_rows = false;   // rows for infeasible layouts too (--all-rows)
  bool verify = false;  // check every layout against validate_scenario (tests; slower)
};

struct SweepResult {
  SweepTally tally;
  bool interrupted = false;  // stopped by the observer before the end of the range
  double seconds = 0;
};

Expected<SweepResult> run_sweep(const SweepSpace& space, const SweepRunOptions& options, SweepSink* sink,
                                SweepObserver* observer);

// Shard `i` of `n` of a range: contiguous index ranges holding equal numbers of evaluable layouts (to
// one layout), so that n independent jobs take about equal time and their rows, concatenated in shard
// order, are the rows of the whole range.
std::pair<std::uint64_t, std::uint64_t> shard_range(const SweepSpace& space, int i, int n);

}  // namespace clustersim::sim
