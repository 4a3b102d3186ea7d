#pragma once
// Time of one operation on one GPU: a roofline with shape-aware GEMM efficiency.
//
//   GEMM:   t = max(F / (P * e_max * e_wave * e_k), bytes / (B_hbm * e_hbm)) + t_kernel
//           e_wave: tile/wave quantisation (tiles of 128 x 128 spread over the SMs; the last, partial
//                   wave idles SMs; split-K fills the GPU when there are fewer tiles than SMs),
//           e_k:    short reduction dimensions pay the pipeline prologue/epilogue, K / (K + 64).
//   Fused attention: t = F_executed / (P_16bit * e_flash) (backward at 0.85 of the forward efficiency:
//           FlashAttention-2 reaches up to 73 % of peak forward, 63 % backward, Dao 2023 Sec. 4.1).
//   Memory-bound: t = bytes / (B_hbm * e_hbm) + t_kernel.
// P is the dense peak of the GEMM precision, B_hbm the HBM bandwidth, e_* the GPU's efficiencies.
// A calibrated GPU (GpuSpec::calibration) takes a kernel's time from its measured tables instead,
// where they cover the kernel's kind and precision (a GEMM still divided by gemm_sustained).
#include <array>
#include <optional>
#include <string_view>

#include "hardware/gpu.hpp"

namespace clustersim::hardware {

enum class KernelKind { gemm, fused_attention, memory_bound };
// What a memory-bound kernel does, for calibrated devices whose measured bandwidth differs by kernel
// (an exp-heavy softmax streams slower than a copy, most of all on CPUs). The names are tools/measure's.
// rmsnorm is eager PyTorch's RMSNorm chain measured as one unit (bytes: the chain's traffic, 18 N e).
enum class MemoryKernel { generic, copy, add, layernorm, rmsnorm, softmax, log_softmax, gelu, swiglu };
inline constexpr std::array<MemoryKernel, 9> kAllMemoryKernels{
    MemoryKernel::generic, MemoryKernel::copy,    MemoryKernel::add,         MemoryKernel::layernorm,
    MemoryKernel::rmsnorm, MemoryKernel::softmax, MemoryKernel::log_softmax, MemoryKernel::gelu,
    MemoryKernel::swiglu};
const char* to_string(MemoryKernel k);
std::optional<MemoryKernel> parse_memory_kernel(std::string_view s);

// What the device model needs to know of a kernel (the model layer's ops are lowered to this).
struct Kernel {
  KernelKind kind = KernelKind::memory_bound;
  bool backward = false;
  double flops = 0;              // executed FLOPs
  double bytes = 0;              // HBM bytes (memory-bound and fused attention kernels)
  MemoryKernel memory_kernel = MemoryKernel::generic;  // memory-bound kernels
  double m = 0, n = 0, k = 0, batch = 1;  // GEMM C(m x n) = A(m x k) B(k x n), batched;
                                          // fused attention: m = sequence, n = head size
};

struct ComputePrecision {
  Precision gemm = Precision::bf16;        // precision the matrix multiplies run in (fp8 for FP8 training)
  Precision attention = Precision::bf16;   // fused attention and everything else stays 16-bit
  double gemm_input_bytes = 2.0;           // bytes per GEMM operand element
  // FP8 operands scaled by their current amax: a reduction pass over the 16-bit operand before the cast
  // (strategies::Fp8Scaling::dynamic); delayed scaling casts in one pass.
  bool fp8_dynamic_scaling = false;
};

// Seconds for one op. The GPU must have a peak for the precisions used (validated with the scenario).
Seconds kernel_time(const Kernel& kernel, const GpuSpec& gpu, const ComputePrecision& precision);

// The efficiency factors of a GEMM shape (e_wave * e_k), for tests and reports.
double gemm_shape_efficiency(const Kernel& gemm, const GpuSpec& gpu);

}  // namespace clustersim::hardware
