#pragma once
// Sweep files (INTERFACES.md "Sweep file") read into a sim::SweepSpec, and sweep rows and summaries
// written as CSV, JSON Lines and JSON. Reading names every bad field ("axes.tp[2]", "constraints.max_tp")
// with the reason and, for a misspelt name, the closest known one; nothing is ignored silently.
//
// Row columns, in order: index, cluster, gpu, nodes, gpus, seq_length, global_batch, tp, pp, dp, cp, ep,
// sequence_parallel, micro_batch, micro_batches, virtual_stages, schedule, zero, recompute, attention,
// feasible, reason, iteration_time_s, tokens_per_s, tflops_per_gpu, mfu, memory_peak_bytes,
// cost_per_token, gpu_hours, cost_usd. Figures of infeasible rows, prices without a price and GPU-hours
// without training.tokens are empty (CSV) or null (JSON). Numbers are written in the shortest form that
// reads back to the same double.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/budget.hpp"
#include "sim/sweep.hpp"

namespace clustersim::presets {

// The sweep file to a spec (bases expanded from the outer axes, axes, constraints, objectives).
Expected<sim::SweepSpec> sweep_from_json(const nlohmann::json& j);
// sweep_from_json and SweepSpace::make together.
Expected<sim::SweepSpace> sweep_space_from_json(const nlohmann::json& j);

// A digest of what decides the rows of a sweep file (64-bit FNV-1a of its canonical dump, in hex), so
// that --resume refuses to continue a run of a different file.
std::string sweep_fingerprint(const nlohmann::json& j);

// The price of `gpu` from the file's "price_per_gpu_hour": USD per GPU-hour as a number, or a price preset
// name or amount as a string ("aws-h100-sxm", "$2.5"), for every GPU; or an object of those by GPU preset
// name. Where the file gives none for the GPU, the GPU preset's default dated price (presets/prices_json),
// if it has one. The one place a sweep resolves a price.
Expected<std::optional<sim::Price>> price_for_gpu(const nlohmann::json& price, const hardware::GpuSpec& gpu,
                                                  const std::string& path);

// Writes rows as text without I/O, without allocating per row once `out` has grown: the per-base
// columns are formatted once. Thread-safe (const).
class SweepRowFormat {
 public:
  enum class Kind { csv, jsonl };
  SweepRowFormat(const sim::SweepSpace& space, Kind kind);

  [[nodiscard]] Kind kind() const { return kind_; }
  [[nodiscard]] std::string header() const;  // the CSV header line ("" for JSON Lines)
  void append(std::string& out, const sim::SweepRow& row) const;  // one line with its '\n'

 private:
  const sim::SweepSpace* space_;
  Kind kind_;
  std::vector<std::string> base_columns_;  // per base: cluster .. global_batch, formatted
};

// A row as a JSON object with the columns above (summaries), and a row of a resume state back.
nlohmann::ordered_json row_to_json(const sim::SweepSpace& space, const sim::SweepRow& row);
// The compact form a resume state keeps (the point is recomputed from the index) and its inverse; the
// inverse checks that the index is an evaluable layout of `space`.
nlohmann::json row_to_state(const sim::SweepRow& row);
Expected<sim::SweepRow> row_from_state(const sim::SweepSpace& space, const nlohmann::json& j);

nlohmann::json counts_to_json(const sim::SweepCounts& c);
Expected<sim::SweepCounts> counts_from_json(const nlohmann::json& j);

// The summary of a run (INTERFACES.md: layouts_total, invalid, infeasible, evaluated, seconds,
// layouts_per_second, top, pareto; and excluded, feasible, reasons by kind, objectives).
struct SweepSummaryInfo {
  std::uint64_t begin = 0, end = 0;  // the index range of this run (a shard or the whole space)
  std::uint64_t resumed_from = 0;    // where this process started (== begin unless resumed)
  double seconds = 0;                // this process's time
  bool interrupted = false;
  std::string output;                // the rows file ("" when rows are not written)
  bool all_rows = false;             // rows for infeasible layouts too
  std::string shard;                 // "i/n" or ""
};
nlohmann::ordered_json summary_to_json(const sim::SweepSpace& space, const sim::SweepTally& tally,
                                       const SweepSummaryInfo& info);

}  // namespace clustersim::presets
