#include "sim/validation_stats.hpp"

#include <algorithm>
#include <cmath>

namespace clustersim::sim {

double signed_error_pct(double predicted, double measured) { return 100.0 * (predicted - measured) / measured; }

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = static_cast<std::size_t>(std::ceil(pos));
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

ErrorStats error_stats(const std::vector<double>& errors) {
  ErrorStats s;
  s.n = static_cast<int>(errors.size());
  if (errors.empty()) return s;
  std::vector<double> ape;
  double sum = 0;
  for (double e : errors) {
    ape.push_back(std::fabs(e));
    sum += e;
  }
  s.median_ape_pct = percentile(ape, 0.5);
  s.p90_ape_pct = percentile(ape, 0.9);
  s.mean_signed_pct = sum / static_cast<double>(errors.size());
  return s;
}

}  // namespace clustersim::sim
