#pragma once
// One accelerator: peak throughput per precision, HBM, power, and the global efficiency parameters of
// its generation that the compute-time model uses. Numbers come from presets (presets/data/gpus/*.json,
// each with its source) or are built in code by tests.
#include <array>
#include <memory>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "common/units.hpp"

namespace clustersim::hardware {

struct Calibration;  // hardware/calibration.hpp

enum class Precision { fp32, tf32, bf16, fp16, fp8 };
inline constexpr std::array<Precision, 5> kAllPrecisions{Precision::fp32, Precision::tf32, Precision::bf16,
                                                         Precision::fp16, Precision::fp8};
const char* to_string(Precision p);
std::optional<Precision> parse_precision(std::string_view s);

// Global efficiencies of a GPU generation (named, sourced in the preset, overridable).
struct GpuEfficiency {
  double gemm_max = 0.8;         // best achievable GEMM FLOP/s / dense peak (MAMF / peak), 16-bit
  double gemm_max_fp8 = 0;       // the same for FP8 GEMMs (0 = same as gemm_max)
  double hbm = 0.85;             // achievable fraction of HBM bandwidth for streaming kernels
  double flash_attention = 0.5;  // fused attention kernel FLOP/s / dense 16-bit peak
  // Share of the isolated-benchmark GEMM ceiling (gemm_max) kept when GEMMs run back to back with the
  // rest of a training step: sustained power and clocks, L2 and HBM shared with other kernels, library
  // tile choices for real shapes. A per-generation parameter (source in the preset).
  double gemm_sustained = 1.0;
  Seconds kernel_overhead = microseconds(4.0);  // fixed launch + tail cost per kernel on the GPU
};

struct GpuSpec {
  std::string name;
  std::string description;
  std::array<std::optional<FlopRate>, 5> peak{};  // dense peak by Precision (index = enum value)
  Bytes hbm_capacity;
  ByteRate hbm_bandwidth;
  Watts tdp;
  Watts power_limit;               // 0 = runs at its TDP; lower = a power-capped part (clocks drop)
  int sm_count = 0;                // streaming multiprocessors / compute units (wave quantisation)
  GpuEfficiency efficiency;
  Bytes cuda_context = mib(600);   // device memory the driver context takes (outside PyTorch's allocator)
  Bytes workspace = mib(64);       // cuBLAS/cuDNN workspaces allocated through the caching allocator
  // Measured kernel tables (`clustersim calibrate`); when present they replace the efficiency curves for
  // the kernels and precisions they cover (hardware/calibration.hpp). Shared: copies of a GPU are cheap.
  std::shared_ptr<const Calibration> calibration;

  [[nodiscard]] std::optional<FlopRate> peak_for(Precision p) const { return peak[static_cast<int>(p)]; }
  // Tensor-core throughput share left under a power cap: dynamic power ~ f V^2 with V ~ f, so the
  // sustainable clock scales as (P_cap / P_TDP)^(1/3) (CMOS dynamic-power scaling, e.g. Weste & Harris,
  // CMOS VLSI Design, sec. 5.1).
  [[nodiscard]] double power_clock_factor() const;
};

// Checks that capacities, rates and efficiencies are positive and in range; names the field.
Expected<GpuSpec> validate_gpu(const GpuSpec& spec, const std::string& path = "cluster.gpu");

}  // namespace clustersim::hardware
