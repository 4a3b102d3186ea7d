#include "hardware/calibration.hpp"

#include <algorithm>
#include <cmath>

#include "common/format.hpp"

namespace clustersim::hardware {

namespace {

// Position of x on an ascending axis in log2 space: the lower index and the weight of the upper one.
// x is clamped into the axis (the callers handle what lies outside).
std::pair<std::size_t, double> bracket(const std::vector<double>& axis, double x) {
  if (axis.size() == 1 || x <= axis.front()) return {0, 0.0};
  if (x >= axis.back()) return {axis.size() - 2, 1.0};
  const auto it = std::upper_bound(axis.begin(), axis.end(), x);
  const std::size_t i = static_cast<std::size_t>(it - axis.begin()) - 1;
  const double w = (std::log2(x) - std::log2(axis[i])) / (std::log2(axis[i + 1]) - std::log2(axis[i]));
  return {i, w};
}

std::optional<Error> check_axis(const std::vector<double>& a, const std::string& path) {
  if (a.empty()) return invalid(path, "is empty");
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] > 0) || !std::isfinite(a[i])) return invalid(path + "[" + std::to_string(i) + "]", "must be positive, got " + num(a[i]));
    if (i > 0 && !(a[i] > a[i - 1]))
      return invalid(path + "[" + std::to_string(i) + "]", "must be larger than the value before it (ascending axis)");
  }
  return std::nullopt;
}

std::optional<Error> check_curve(const SizeCurve& c, const std::string& path) {
  if (c.empty()) return std::nullopt;
  if (c.size.size() != c.value.size()) return invalid(path, "sizes and values differ in length");
  if (auto e = check_axis(c.size, path + ".size")) return e;
  for (std::size_t i = 0; i < c.value.size(); ++i)
    if (!(c.value[i] > 0) || !std::isfinite(c.value[i]))
      return invalid(path + ".value[" + std::to_string(i) + "]", "must be positive, got " + num(c.value[i]));
  return std::nullopt;
}

}  // namespace

double interpolate_time(const SizeCurve& c, double size) {
  if (size <= c.size.front()) return c.value.front();  // launch floor: never faster than measured
  if (size >= c.size.back()) return c.value.back() * size / c.size.back();  // the largest size's bandwidth
  const auto [i, w] = bracket(c.size, size);
  return std::exp2((1.0 - w) * std::log2(c.value[i]) + w * std::log2(c.value[i + 1]));
}

const GemmTable* Calibration::gemm_table(Precision p) const {
  for (const auto& t : gemm)
    if (t.precision == p) return &t;
  return nullptr;
}

std::optional<Seconds> Calibration::gemm_time(Precision p, double m, double n, double k, double batch) const {
  const GemmTable* t = gemm_table(p);
  if (!t || m <= 0 || n <= 0 || k <= 0) return std::nullopt;
  const bool loop_batch = device_kind == "cpu";  // see the header: CPU BLAS loops over the batch
  const double q[3] = {loop_batch ? m : m * std::max(1.0, batch), n, k};
  const std::vector<double>* axes[3] = {&t->m, &t->n, &t->k};
  std::size_t idx[3];
  double w[3];
  double scale = 1.0;
  for (int d = 0; d < 3; ++d) {
    const auto& a = *axes[d];
    // Above the grid: the edge's throughput, time growing with the size; below: the edge's time.
    if (q[d] > a.back()) scale *= q[d] / a.back();
    auto [i, wt] = bracket(a, std::clamp(q[d], a.front(), a.back()));
    idx[d] = i;
    w[d] = wt;
  }
  auto at = [&](int di, int dj, int dl) {
    const std::size_t i = std::min(idx[0] + di, t->m.size() - 1);
    const std::size_t j = std::min(idx[1] + dj, t->n.size() - 1);
    const std::size_t l = std::min(idx[2] + dl, t->k.size() - 1);
    return std::log2(t->at(i, j, l));
  };
  double log_t = 0;
  for (int di = 0; di < 2; ++di)
    for (int dj = 0; dj < 2; ++dj)
      for (int dl = 0; dl < 2; ++dl) {
        const double weight = (di ? w[0] : 1 - w[0]) * (dj ? w[1] : 1 - w[1]) * (dl ? w[2] : 1 - w[2]);
        if (weight > 0) log_t += weight * at(di, dj, dl);
      }
  return Seconds(std::exp2(log_t) * scale * (loop_batch ? std::max(1.0, batch) : 1.0));
}

std::optional<Seconds> Calibration::memory_time(double bytes, MemoryKernel kind) const {
  if (bytes <= 0) return std::nullopt;
  const SizeCurve& own = memory_kernels[static_cast<int>(kind)];
  if (!own.empty()) return Seconds(interpolate_time(own, bytes));
  if (memory_bound.empty()) return std::nullopt;
  return Seconds(interpolate_time(memory_bound, bytes));
}

std::optional<Seconds> Calibration::optimizer_time(double bytes) const {
  if (optimizer.empty() || bytes <= 0) return std::nullopt;
  return Seconds(interpolate_time(optimizer, bytes));
}

std::optional<Seconds> Calibration::attention_time(bool backward, double seq, double flops) const {
  const SizeCurve& c = backward ? attention_backward : attention_forward;
  if (c.empty() || seq <= 0 || flops <= 0) return std::nullopt;
  // FLOP/s by sequence length: log-linear inside, the edge's rate outside (shorter sequences are slower
  // per FLOP, so holding the shortest measured rate below it is the optimistic side: the kernel floor
  // below keeps it honest).
  double rate;
  if (seq <= c.size.front()) rate = c.value.front() * seq / c.size.front();
  else if (seq >= c.size.back()) rate = c.value.back();
  else {
    const auto [i, w] = bracket(c.size, seq);
    rate = std::exp2((1.0 - w) * std::log2(c.value[i]) + w * std::log2(c.value[i + 1]));
  }
  return Seconds(flops / rate);
}

std::optional<Seconds> Calibration::materialized_attention_time(bool backward, double seq, double batch_heads,
                                                                double head_dim) const {
  const SizeCurve& c = backward ? materialized_backward : materialized_forward;
  if (c.empty() || seq <= 0 || batch_heads <= 0 || materialized_head_dim <= 0) return std::nullopt;
  double per;
  if (seq <= c.size.front()) per = c.value.front();
  else if (seq >= c.size.back()) per = c.value.back() * (seq / c.size.back()) * (seq / c.size.back());
  else per = interpolate_time(c, seq);
  return Seconds(per * batch_heads * (head_dim > 0 ? head_dim / materialized_head_dim : 1.0));
}

Expected<Calibration> validate_calibration(const Calibration& c, const std::string& path) {
  for (std::size_t g = 0; g < c.gemm.size(); ++g) {
    const auto& t = c.gemm[g];
    const std::string p = path + ".gemm[" + std::to_string(g) + "]";
    for (std::size_t o = 0; o < g; ++o)
      if (c.gemm[o].precision == t.precision)
        return invalid(p + ".dtype", std::string("a second table for ") + to_string(t.precision));
    if (auto e = check_axis(t.m, p + ".m")) return *e;
    if (auto e = check_axis(t.n, p + ".n")) return *e;
    if (auto e = check_axis(t.k, p + ".k")) return *e;
    if (t.seconds.size() != t.m.size() * t.n.size() * t.k.size())
      return invalid(p + ".seconds", "has " + std::to_string(t.seconds.size()) + " values, the grid needs " +
                                         std::to_string(t.m.size() * t.n.size() * t.k.size()));
    for (std::size_t i = 0; i < t.seconds.size(); ++i)
      if (!(t.seconds[i] > 0) || !std::isfinite(t.seconds[i]))
        return invalid(p + ".seconds[" + std::to_string(i) + "]", "must be positive, got " + num(t.seconds[i]));
  }
  if (auto e = check_curve(c.memory_bound, path + ".memory_bound")) return *e;
  if (auto e = check_curve(c.optimizer, path + ".optimizer")) return *e;
  for (auto k : kAllMemoryKernels)
    if (auto e = check_curve(c.memory_kernels[static_cast<int>(k)], path + ".memory_bound.kernels." + to_string(k))) return *e;
  if (auto e = check_curve(c.attention_forward, path + ".attention_forward")) return *e;
  if (auto e = check_curve(c.attention_backward, path + ".attention_backward")) return *e;
  for (auto [v, name] : {std::pair{c.framework_per_layer, "per_layer_s"}, std::pair{c.framework_per_step, "per_step_s"},
                         std::pair{c.framework_dispatch_per_layer, "dispatch_per_layer_s"}})
    if (!(v >= 0) || !std::isfinite(v)) return invalid(path + ".framework." + name, "must not be negative, got " + num(v));
  if (auto e = check_curve(c.materialized_forward, path + ".materialized_attention.forward")) return *e;
  if (auto e = check_curve(c.materialized_backward, path + ".materialized_attention.backward")) return *e;
  if ((!c.materialized_forward.empty() || !c.materialized_backward.empty()) && !(c.materialized_head_dim > 0))
    return invalid(path + ".materialized_attention.head_dim", "must be positive, got " + num(c.materialized_head_dim));
  return c;
}

}  // namespace clustersim::hardware
