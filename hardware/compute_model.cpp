#include "hardware/compute_model.hpp"

#include "hardware/calibration.hpp"

#include <algorithm>
#include <cmath>

namespace clustersim::hardware {

namespace {
constexpr double kTile = 128.0;      // output tile edge of the common cuBLAS/CUTLASS kernels
constexpr double kHalfK = 64.0;      // reduction length at which a GEMM reaches half its K-efficiency
constexpr double kMinSplitK = 256.0; // split-K slices shorter than this do not pay off
// FA2: 63 % of A100 peak backward vs 73 % forward (Dao 2023).
constexpr double kFlashBackwardShare = 0.85;
// Head size at which the attention kernel reaches half its asymptote: FlashAttention-2 forward+backward
// on A100 at 16k tokens reaches ~176 TFLOP/s with head dim 64 and ~203 with 128 (Dao 2023 Fig. 4;
// flash-attention README benchmark), a ratio of 0.87 = (64/(64+K)) / (128/(128+K)) for K = 24.
constexpr double kHeadDimHalf = 24.0;
}  // namespace

double gemm_shape_efficiency(const Kernel& g, const GpuSpec& gpu) {
  const double sms = std::max(1, gpu.sm_count);
  double tiles = std::ceil(g.m / kTile) * std::ceil(g.n / kTile) * std::max(1.0, g.batch);
  if (tiles < sms) {
    // Split-K: cuBLAS splits the reduction to occupy idle SMs when the output has few tiles.
    const double split = std::max(1.0, std::min(std::floor(sms / tiles), std::floor(g.k / kMinSplitK)));
    tiles *= split;
  }
  const double waves = std::ceil(tiles / sms);
  const double wave_eff = tiles / (waves * sms);
  const double k_eff = g.k / (g.k + kHalfK);
  return wave_eff * k_eff;
}

const char* to_string(MemoryKernel k) {
  switch (k) {
    case MemoryKernel::generic: return "generic";
    case MemoryKernel::copy: return "copy";
    case MemoryKernel::add: return "add";
    case MemoryKernel::layernorm: return "layernorm";
    case MemoryKernel::rmsnorm: return "rmsnorm";
    case MemoryKernel::softmax: return "softmax";
    case MemoryKernel::log_softmax: return "log_softmax";
    case MemoryKernel::gelu: return "gelu";
    case MemoryKernel::swiglu: return "swiglu";
  }
  return "?";
}

std::optional<MemoryKernel> parse_memory_kernel(std::string_view s) {
  for (auto k : kAllMemoryKernels)
    if (s == to_string(k)) return k;
  return std::nullopt;
}

namespace {
// A kernel's time from the GPU's measured tables, when they cover it (hardware/calibration.hpp).
std::optional<Seconds> calibrated_time(const Kernel& op, const GpuSpec& gpu, const ComputePrecision& pr) {
  const Calibration& cal = *gpu.calibration;
  switch (op.kind) {
    case KernelKind::gemm:
      if (pr.gemm == Precision::fp8) return std::nullopt;  // FP8 casts and scaling: the default model
      if (auto t = cal.gemm_time(pr.gemm, op.m, op.n, op.k, op.batch))
        return *t / gpu.efficiency.gemm_sustained;  // the step keeps this share of the isolated benchmark
      return std::nullopt;
    case KernelKind::fused_attention: return cal.attention_time(op.backward, op.m, op.flops);
    case KernelKind::memory_bound:
      // The extra kernels of a measured eager chain are inside its measured time.
      if (op.memory_kernel == MemoryKernel::rmsnorm && op.bytes <= 0 &&
          !cal.memory_kernels[static_cast<int>(MemoryKernel::rmsnorm)].empty())
        return Seconds(0);
      return cal.memory_time(op.bytes, op.memory_kernel);
  }
  return std::nullopt;
}
}  // namespace

Seconds kernel_time(const Kernel& op, const GpuSpec& gpu, const ComputePrecision& pr) {
  if (gpu.calibration)
    if (auto t = calibrated_time(op, gpu, pr)) return *t;
  const double bw = gpu.hbm_bandwidth.value * gpu.efficiency.hbm;
  switch (op.kind) {
    case KernelKind::gemm: {
      const auto peak = gpu.peak_for(pr.gemm);
      const double p = peak ? peak->value : gpu.peak_for(Precision::fp32).value_or(FlopRate(1.0)).value;
      const bool fp8 = pr.gemm == Precision::fp8;
      const double ceiling = fp8 && gpu.efficiency.gemm_max_fp8 > 0 ? gpu.efficiency.gemm_max_fp8 : gpu.efficiency.gemm_max;
      const double eff = ceiling * gpu.efficiency.gemm_sustained * gpu.power_clock_factor() * gemm_shape_efficiency(op, gpu);
      const double compute = op.flops / (p * eff);
      const auto& g = op;
      // Operands are read once and the output written once (16-bit output for fp8 inputs too).
      const double bytes = g.batch * ((g.m * g.k + g.k * g.n) * pr.gemm_input_bytes + g.m * g.n * 2.0);
      Seconds t = Seconds(std::max(compute, bytes / bw)) + gpu.efficiency.kernel_overhead;
      if (fp8) {
        // FP8 GEMMs need their 16-bit input cast (with amax and scale) first: read 2 bytes, write 1 per
        // element of the activation/gradient operand, one more kernel (Micikevicius et al. 2022, FP8
        // formats for deep learning: per-tensor scaling; time-modelling notes: casts and scaling).
        t += Seconds(3.0 * g.batch * g.m * g.k / bw) + gpu.efficiency.kernel_overhead;
        // Dynamic (current) scaling reduces the operand's amax first: one more read of its 2 bytes per
        // element, one more kernel.
        if (pr.fp8_dynamic_scaling) t += Seconds(2.0 * g.batch * g.m * g.k / bw) + gpu.efficiency.kernel_overhead;
      }
      return t;
    }
    case KernelKind::fused_attention: {
      const auto peak = gpu.peak_for(pr.attention);
      const double p = peak ? peak->value : gpu.peak_for(Precision::fp16).value_or(FlopRate(1.0)).value;
      // The preset's efficiency is for head size 128; smaller heads do less work per loaded K/V block
      // (FlashAttention-2, Dao 2023 Fig. 4: head dim 64 reaches about 0.87 of head dim 128's FLOP/s).
      const double d = op.n > 0 ? op.n : 128.0;
      double eff = gpu.efficiency.flash_attention * (d / (d + kHeadDimHalf)) / (128.0 / (128.0 + kHeadDimHalf));
      eff = std::min(eff, 1.0) * gpu.power_clock_factor();
      if (op.backward) eff *= kFlashBackwardShare;
      const double compute = op.flops / (p * eff);
      return Seconds(std::max(compute, op.bytes / bw)) + gpu.efficiency.kernel_overhead;
    }
    case KernelKind::memory_bound:
      return Seconds(op.bytes / bw) + gpu.efficiency.kernel_overhead;
  }
  return Seconds(0);
}

}  // namespace clustersim::hardware
