#pragma once
// The files and the summary of `clustersim sweep` (shared by the single-machine run in cmd_sweep.cpp and
// the MPI driver in mpi_sweep.cpp).
//
// Rows stream to OUT.partial, flushed after every chunk, so that a killed sweep keeps every finished
// row; OUT.resume.json beside it records (atomically, by rename) how far the rows go, the counts and the
// best rows so far. A finished run renames OUT.partial to OUT and removes the state. An existing OUT is
// replaced only with --force; an existing OUT.partial is continued only with --resume (which first cuts
// it back to the last recorded chunk, so that no row is written twice) or discarded with --force.
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "presets/sweep_json.hpp"
#include "sim/sweep.hpp"

namespace clustersim::cli {

// What `clustersim sweep` was asked to do.
struct SweepCommandOptions {
  std::string file;        // the sweep file
  std::string output;      // -o OUT.csv | OUT.jsonl ("" = summary only)
  int jobs = 0;            // threads per process; 0 = every core
  bool resume = false, force = false, all_rows = false, json = false, mpi = false;
  std::string shard;       // "i/n" or ""
  std::uint64_t stop_after_chunks = 0;  // hidden, for tests: behave as if Ctrl-C came after this many chunks
  std::uint64_t chunk_layouts = 2048;   // evaluable layouts per chunk
};

// The sweep file, its space, the index range of this run and the fingerprint a resume must match.
struct PreparedSweep {
  nlohmann::json file;
  std::unique_ptr<sim::SweepSpace> space;
  std::uint64_t begin = 0, end = 0;
  std::string fingerprint;
};
Expected<PreparedSweep> prepare_sweep(const SweepCommandOptions& options);

// The rows file and its resume state.
class SweepOutput : public sim::SweepSink {
 public:
  ~SweepOutput() override;

  // Opens OUT for this run (see above). `already_complete` is set, and nothing opened, when --resume finds
  // OUT finished and no partial run.
  static Expected<std::unique_ptr<SweepOutput>> open(const PreparedSweep& sweep, const SweepCommandOptions& options,
                                                      bool& already_complete);

  // What earlier runs finished (begin..next_index, counts, best rows); empty when starting afresh.
  [[nodiscard]] const sim::SweepTally& restored() const { return restored_; }
  [[nodiscard]] double restored_seconds() const { return restored_seconds_; }

  void format(const sim::SweepChunk& chunk, std::string& out) const override;
  std::optional<Error> consume(const sim::SweepChunk& chunk, const std::string& bytes,
                               const sim::SweepTally& so_far) override;

  // The tally of earlier runs and this one together.
  [[nodiscard]] sim::SweepTally combined(const sim::SweepTally& so_far) const;
  // Records the state of a run that stops early (kept for --resume).
  std::optional<Error> checkpoint(const sim::SweepTally& so_far);
  // Ends a finished run: OUT.partial becomes OUT, the state goes.
  std::optional<Error> finish();

  [[nodiscard]] const std::string& path() const { return final_path_; }

 private:
  SweepOutput() = default;
  [[nodiscard]] double elapsed() const;

  const PreparedSweep* sweep_ = nullptr;
  std::unique_ptr<presets::SweepRowFormat> format_;
  std::string final_path_, partial_path_, state_path_;
  std::FILE* file_ = nullptr;
  std::uint64_t bytes_ = 0;
  sim::SweepTally restored_;
  double restored_seconds_ = 0;
  double last_checkpoint_ = 0;
  double started_ = 0;  // steady clock, seconds
  bool all_rows_ = false;
};

// The summary of a run, merged with what earlier runs restored, as JSON.
nlohmann::ordered_json sweep_summary(const PreparedSweep& sweep, const sim::SweepTally& tally,
                                     const presets::SweepSummaryInfo& info);
// Prints the summary (text, or JSON with --json) and returns the exit code: 0 with a feasible layout,
// 1 when the run finished without one, 130 when it was interrupted.
int print_sweep_summary(const PreparedSweep& sweep, const sim::SweepTally& tally,
                        const presets::SweepSummaryInfo& info, bool as_json);

// A progress bar on stderr when it is a terminal (done/total, rate, ETA), quiet otherwise. It asks the
// runner to stop once `interrupt` is set (by the SIGINT handler) or after `stop_after_chunks` chunks.
class SweepProgressBar : public sim::SweepObserver {
 public:
  SweepProgressBar(const std::atomic<bool>& interrupt, bool draw, std::uint64_t stop_after_chunks)
      : interrupt_(interrupt), draw_(draw), stop_after_(stop_after_chunks) {}
  ~SweepProgressBar() override { clear(); }
  SweepProgressBar(const SweepProgressBar&) = delete;
  SweepProgressBar& operator=(const SweepProgressBar&) = delete;

  void on_progress(const sim::SweepProgress& p) override;
  [[nodiscard]] bool stop_requested() const override;
  void clear();  // erases the bar (before the summary)

 private:
  const std::atomic<bool>& interrupt_;
  bool draw_;
  std::uint64_t stop_after_;
  std::atomic<std::uint64_t> chunks_{0};
  double last_draw_ = -1.0;
  bool drawn_ = false;
};

// "i/n" -> (i, n), 0 <= i < n.
Expected<std::pair<int, int>> parse_shard(const std::string& text);

}  // namespace clustersim::cli
