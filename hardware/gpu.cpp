#include "hardware/gpu.hpp"
#include "hardware/cluster.hpp"

#include <cmath>

#include "common/format.hpp"

namespace clustersim::hardware {

const char* to_string(Precision p) {
  switch (p) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::bf16: return "bf16";
    case Precision::fp16: return "fp16";
    case Precision::fp8: return "fp8";
  }
  return "?";
}

std::optional<Precision> parse_precision(std::string_view s) {
  for (auto p : kAllPrecisions)
    if (s == to_string(p)) return p;
  return std::nullopt;
}

double GpuSpec::power_clock_factor() const {
  if (power_limit.value <= 0 || tdp.value <= 0 || power_limit >= tdp) return 1.0;
  return std::cbrt(power_limit.value / tdp.value);
}

Expected<GpuSpec> validate_gpu(const GpuSpec& g, const std::string& path) {
  bool any = false;
  for (auto p : kAllPrecisions) {
    if (auto r = g.peak_for(p)) {
      any = true;
      if (r->value <= 0) return invalid(path + ".peak_flops." + to_string(p), "must be positive");
    }
  }
  if (!any) return invalid(path + ".peak_flops", "no precision given");
  if (g.hbm_capacity.value <= 0) return invalid(path + ".hbm_capacity", "must be positive");
  if (g.hbm_bandwidth.value <= 0) return invalid(path + ".hbm_bandwidth", "must be positive");
  if (g.tdp.value < 0) return invalid(path + ".tdp", "must not be negative");
  if (g.power_limit.value < 0) return invalid(path + ".power_limit", "must not be negative");
  if (!(g.efficiency.gemm_sustained > 0 && g.efficiency.gemm_sustained <= 1.0))
    return invalid(path + ".efficiency.gemm_sustained", "must be in (0, 1], got " + num(g.efficiency.gemm_sustained));
  if (g.sm_count <= 0) return invalid(path + ".sm_count", "must be positive, got " + std::to_string(g.sm_count));
  auto fraction = [&](double v, const char* f) -> std::optional<Error> {
    if (!(v > 0.0 && v <= 1.0))
      return invalid(path + ".efficiency." + f, "must be in (0, 1], got " + num(v));
    return std::nullopt;
  };
  if (auto e = fraction(g.efficiency.gemm_max, "gemm_max")) return *e;
  if (auto e = fraction(g.efficiency.hbm, "hbm")) return *e;
  if (g.efficiency.gemm_max_fp8 != 0)
    if (auto e = fraction(g.efficiency.gemm_max_fp8, "gemm_max_fp8")) return *e;
  if (auto e = fraction(g.efficiency.flash_attention, "flash_attention")) return *e;
  if (g.efficiency.kernel_overhead.value < 0) return invalid(path + ".efficiency.kernel_overhead", "must not be negative");
  if (g.cuda_context.value < 0) return invalid(path + ".memory_overheads.cuda_context", "must not be negative");
  if (g.workspace.value < 0) return invalid(path + ".memory_overheads.workspace", "must not be negative");
  return g;
}

Expected<ClusterSpec> validate_cluster(const ClusterSpec& c) {
  auto gpu = validate_gpu(c.gpu);
  if (!gpu) return gpu.error();
  if (c.gpus_per_node <= 0)
    return invalid("cluster.gpus_per_node", "must be positive, got " + std::to_string(c.gpus_per_node));
  if (c.nodes <= 0) return invalid("cluster.nodes", "must be positive, got " + std::to_string(c.nodes));
  for (auto [link, name] : {std::pair<const LinkSpec*, const char*>{&c.scale_up, "scale_up"}, {&c.scale_out, "scale_out"}}) {
    const std::string p = std::string("cluster.") + name;
    if (link->bandwidth.value <= 0) return invalid(p + ".bandwidth", "must be positive");
    if (link->pair_bandwidth.value <= 0) return invalid(p + ".pair_bandwidth", "must be positive");
    if (link->latency.value < 0) return invalid(p + ".latency", "must not be negative");
    if (!(link->efficiency > 0 && link->efficiency <= 1.0))
      return invalid(p + ".efficiency", "must be in (0, 1], got " + num(link->efficiency));
  }
  return c;
}

}  // namespace clustersim::hardware
