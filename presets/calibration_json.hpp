#pragma once
// Calibration profiles (tools/measure/README.md, schema clustersim.calibration-profile/1) fitted into a
// calibrated GPU preset, and the "calibration" block of GPU presets read back (hardware/calibration.hpp).
//
// A calibrated preset is the base preset's JSON with efficiency.gemm_sustained measured (profile
// gemm_interleaved: GEMMs right after a memory-bound kernel, as in a step) and:
//   "calibration": {
//     "device", "device_kind", "measured",
//     "gemm": [{"dtype", "m": [..], "n": [..], "k": [..], "seconds": [m x n x k, k fastest]}],
//     "memory_bound": {"bytes": [..], "seconds": [..]},  "optimizer": {"bytes": [..], "seconds": [..]},
//     "attention": {"forward": {"seq": [..], "flops_per_s": [..]}, "backward": {...}},
//     "materialized_attention": {"head_dim", "forward": {"seq": [..], "seconds_per_head": [..]}, "backward": {...}},
//     "collectives": [ topology.calibration entries: {op, ranks, ranks_per_node, points: [{size, busbw}]} ]
//   }
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.hpp"
#include "hardware/calibration.hpp"

namespace clustersim::presets {

// The "calibration" block of a GPU preset (errors name the field under `path`).
Expected<hardware::Calibration> calibration_from_json(const nlohmann::json& j, const std::string& path);

struct CalibrationFit {
  nlohmann::json preset;              // the calibrated GPU preset (base preset + "calibration")
  hardware::Calibration calibration;  // what the preset's block reads back as
  std::vector<std::string> warnings;  // entries left out or doubtful, each naming the entry
  nlohmann::json summary;             // per table: points, ranges, best achieved vs the preset's peaks
};

// Fits a profile against a base GPU preset (its resolved JSON). Bad entries (missing fields,
// non-positive times, a dtype the preset lacks, faster than the preset's peak) are warnings naming the
// entry, and the rest is used; a profile of another device than the preset, or one with nothing usable,
// is an error.
Expected<CalibrationFit> fit_profile(const nlohmann::json& profile, const nlohmann::json& base_gpu,
                                     const std::string& name);

// Does a measured device name (profile device.name, a record's gpu_type) name the same device?
bool same_device(const std::string& a, const std::string& b);

}  // namespace clustersim::presets
