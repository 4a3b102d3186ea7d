#pragma once
// Measured kernel times of one device (from tools/measure's profile, fitted by `clustersim calibrate`),
// used by the compute model in place of its default efficiency curves.
//
//   GEMM:          a full grid of (M, N, K) per precision; log(time) interpolated trilinearly in log2 M,
//                  log2 N, log2 K (exact for a constant-throughput GEMM, whose time is proportional to
//                  M N K). Outside the grid it extrapolates conservatively: above the largest measured
//                  size the throughput stays at the edge's (no extrapolated gains); below the smallest
//                  the time stays at the edge's (never faster than a measured kernel).
//   Memory-bound:  time by bytes moved, per kernel kind (copy, add, layernorm, rmsnorm (eager PyTorch's
//                  chain as one unit), softmax, log_softmax (the loss, over vocabulary rows), gelu,
//                  swiglu) and
//                  as the median over kinds at each size (for other kernels), log-log
//                  interpolation; below the smallest size the smallest time (launch floor), above the
//                  largest the largest size's bandwidth.
//   Optimizer:     the same for the optimizer step (bytes the Adam update moves).
//   Fused attention: achieved FLOP/s by sequence length per pass (forward/backward), log-linear in s.
// Batched GEMMs: a GPU runs the batch as one kernel whose tiles fill the SMs together (batch folded into
// M); a CPU BLAS runs one GEMM per batch entry (ATen's bmm on CPU loops over the batch), so a CPU
// device ("cpu" kind) costs batch x t(M, N, K).
// Times are what a framework call costs end to end (launch and dispatch included), so no separate
// kernel overhead is added to a calibrated kernel.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "common/units.hpp"
#include "hardware/compute_model.hpp"
#include "hardware/gpu.hpp"

namespace clustersim::hardware {

// Seconds over a size axis, both sorted ascending (size strictly), positive.
struct SizeCurve {
  std::vector<double> size;     // bytes (memory-bound, optimizer) or sequence length (attention)
  std::vector<double> value;    // seconds (memory-bound, optimizer) or FLOP/s (attention)
  [[nodiscard]] bool empty() const { return size.empty(); }
};

struct GemmTable {
  Precision precision = Precision::bf16;
  std::vector<double> m, n, k;  // grid axes, ascending
  std::vector<double> seconds;  // m.size() x n.size() x k.size(), index (i * n.size() + j) * k.size() + l
  [[nodiscard]] double at(std::size_t i, std::size_t j, std::size_t l) const {
    return seconds[(i * n.size() + j) * k.size() + l];
  }
};

struct Calibration {
  std::string device;                 // the measured device's name (profile device.name)
  std::string device_kind;            // "cuda" | "cpu"
  std::string measured;               // when and with what (profile created, torch version)
  std::vector<GemmTable> gemm;        // one per precision measured
  SizeCurve memory_bound;             // seconds by bytes (median over the measured kernel kinds)
  std::array<SizeCurve, kAllMemoryKernels.size()> memory_kernels;  // seconds by bytes per MemoryKernel (empty = not measured)
  SizeCurve optimizer;                // seconds by bytes
  SizeCurve attention_forward;        // FLOP/s by sequence length (fused attention)
  SizeCurve attention_backward;
  // Materialised attention as the framework runs it (batched QK^T, scale, mask, softmax, PV; backward):
  // seconds per (sequence x head) by sequence length, measured at head size `materialized_head_dim`.
  SizeCurve materialized_forward, materialized_backward;
  double materialized_head_dim = 0;
  // The eager framework's own time (Python, autograd, dispatch) that no kernel timing holds, fitted from
  // tiny measured steps against this calibration's prediction of them: per transformer layer (forward +
  // backward + its optimizer tensors) and per step. On a CPU it adds to the kernels (same cores); on a
  // GPU the host runs ahead, so a layer takes at least `framework_dispatch_per_layer` (the raw slope).
  double framework_per_layer = 0, framework_per_step = 0, framework_dispatch_per_layer = 0;

  [[nodiscard]] const GemmTable* gemm_table(Precision p) const;
  // Seconds of C(m x n) = A(m x k) B(k x n) x batch (batch folded into m), if `p` was measured.
  [[nodiscard]] std::optional<Seconds> gemm_time(Precision p, double m, double n, double k, double batch) const;
  // By the kernel's own curve when measured, else the median curve.
  [[nodiscard]] std::optional<Seconds> memory_time(double bytes, MemoryKernel kind = MemoryKernel::generic) const;
  [[nodiscard]] std::optional<Seconds> optimizer_time(double bytes) const;
  [[nodiscard]] std::optional<Seconds> attention_time(bool backward, double seq, double flops) const;
  // The attention core of `batch_heads` (micro-batch x heads on this rank) sequences: quadratic in the
  // sequence outside the measured range (never faster than the shortest measured), and scaled with the
  // FLOPs for another head size (conservative: the softmax part does not grow with it).
  [[nodiscard]] std::optional<Seconds> materialized_attention_time(bool backward, double seq, double batch_heads,
                                                                   double head_dim) const;
};

// Checks axes (ascending, positive, grid complete) and values (positive); names the field under `path`.
Expected<Calibration> validate_calibration(const Calibration& c, const std::string& path);

// Log-log interpolation of a time curve with the conservative ends described above (exposed for tests).
double interpolate_time(const SizeCurve& curve, double size);

}  // namespace clustersim::hardware
