#pragma once
// Measured training runs (the schema of shared/validation/published-runs.json) mapped to scenarios,
// predicted with the closed form, and compared like with like.
//
// Each record is mapped field by field: GPU type to a GPU preset, interconnect text and gpus_per_node to
// a cluster, the model shape and layout to specs; where a field is null and the framework's documented
// default is known, that default is used and named in `assumptions`. A record that cannot be expressed
// (missing shape, context or expert parallelism, TPU, MoE, ...) is skipped with its reason. Metrics:
// iteration time, else tokens/s per GPU, else TFLOP/s per GPU by the record's FLOP formula
// (`tflops_kind`: model FLOPs, or hardware FLOPs counting recomputation), else MFU; memory by
// `memory_kind` (torch allocated peak of the last rank, reserved peak, or steady static memory).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/report.hpp"
#include "strategies/layout.hpp"

namespace clustersim::presets {

enum class MetricKind { time, memory, static_memory };

struct MetricRow {
  std::string id;
  std::string group;
  std::string verification;   // read_from_source | read_from_secondary_source | recalled_unverified | analytical
  std::string metric;         // iteration_time_s | tokens_per_s_per_gpu | tflops_per_gpu | mfu | peak_memory_gib | static_memory_gib
  MetricKind kind = MetricKind::time;
  double predicted = 0;
  double measured = 0;
  double error_pct = 0;       // signed: 100 (predicted - measured) / measured
  bool in_target = true;      // counted in summary.time / summary.memory (see validate's documentation)
  std::string note;           // why excluded from the target, or what was compared
};

struct SkippedRecord {
  std::string id;
  std::string reason;
};

struct RecordResult {
  std::vector<MetricRow> rows;
  std::vector<std::string> assumptions;
  std::optional<SkippedRecord> skipped;
};

// How records are mapped beyond their own fields.
struct ValidateOptions {
  // A calibrated GPU preset (`clustersim calibrate`): records measured on its device (gpu_type names
  // calibration.device) run on it; records of other devices are skipped with that reason.
  const nlohmann::json* calibrated_gpu = nullptr;
};

// The scenario JSON a record maps to (what `validate --show ID` prints), with the assumptions made.
Expected<nlohmann::json> record_scenario(const nlohmann::json& record, std::vector<std::string>* assumptions,
                                         const ValidateOptions& options = {});

// Maps, predicts and compares one record. Never throws on bad data: a wrong type in a field gives a
// skip whose reason names the record and the field.
RecordResult validate_record(const nlohmann::json& record, const ValidateOptions& options = {});

// The verification class of a record's free-text `verification` field.
std::string verification_class(const std::string& verification);

}  // namespace clustersim::presets
