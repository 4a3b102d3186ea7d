#pragma once
// One accelerator: peak throughput per precision, HBM, power, and the global efficiency parameters of
// its generation that the compute-time model uses. Numbers come from presets (presets/data/gpus/*.json,
// each with its source) or are built in code by tests.
#include <array>
#include <optional>
#include <string>

#include "common/expected.hpp"
#include "common/units.hpp"

namespace clustersim::hardware {

enum class Precision { fp32, tf32, bf16, fp16, fp8 };
inline constexpr std::array<Precision, 5> kAllPrecisions{Precision::fp32, Precision::tf32, Precision::bf16,
                                                         Precision::fp16, Precision::fp8};
const char* to_string(Precision p);
std::optional<Precision> parse_precision(std::string_view s);

// Global efficiencies of a GPU generation (named, sourced in the preset, overridable).
struct GpuEfficiency {
  double gemm_max = 0.8;         // best achievable GEMM FLOP/s / dense peak (MAMF / peak)
  double hbm = 0.85;             // achievable fraction of HBM bandwidth for streaming kernels
  double flash_attention = 0.5;  // fused attention kernel FLOP/s / dense 16-bit peak
  Seconds kernel_overhead = microseconds(4.0);  // fixed launch + tail cost per kernel on the GPU
};

struct GpuSpec {
  std::string name;
  std::string description;
  std::array<std::optional<FlopRate>, 5> peak{};  // dense peak by Precision (index = enum value)
  Bytes hbm_capacity;
  ByteRate hbm_bandwidth;
  Watts tdp;
  int sm_count = 0;                // streaming multiprocessors / compute units (wave quantisation)
  GpuEfficiency efficiency;
  Bytes cuda_context = mib(600);   // device memory the driver context takes (outside PyTorch's allocator)
  Bytes workspace = mib(64);       // cuBLAS/cuDNN workspaces allocated through the caching allocator

  [[nodiscard]] std::optional<FlopRate> peak_for(Precision p) const { return peak[static_cast<int>(p)]; }
};

// Checks that capacities, rates and efficiencies are positive and in range; names the field.
Expected<GpuSpec> validate_gpu(const GpuSpec& spec, const std::string& path = "cluster.gpu");

}  // namespace clustersim::hardware
