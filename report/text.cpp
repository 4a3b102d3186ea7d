#include "report/text.hpp"

#include <fmt/format.h>

#include <cmath>

namespace clustersim::report {

std::string count(double v) {
  const double a = std::abs(v);
  if (a >= 1e12) return fmt::format("{:.3g}T", v / 1e12);
  if (a >= 1e9) return fmt::format("{:.3g}B", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:.3g}k", v / 1e3);
  return fmt::format("{:.4g}", v);
}

std::string scientific(double v) {
  if (v == 0) return "0";
  const int e = static_cast<int>(std::floor(std::log10(std::abs(v))));
  double m = v / std::pow(10.0, e);
  std::string ms = fmt::format("{:.3g}", m);
  if (ms == "10") return fmt::format("1e{}", e + 1);
  return fmt::format("{}e{}", ms, e);
}

std::string grouped(double v) {
  const auto n = static_cast<long long>(std::llround(std::abs(v)));
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 && n != 0 ? "-" : "") + out;
}

std::string money(double usd) {
  if (std::abs(usd) < 1000) return fmt::format("${:.2f}", usd);
  return "$" + grouped(usd);
}

std::string duration_days(double d) {
  if (d < 1.0) return fmt::format("{:.3g} hours", d * 24.0);
  return fmt::format("{:.3g} days", d);
}

std::string energy(double kwh) {
  if (kwh >= 1e6) return fmt::format("{:.3g} GWh", kwh / 1e6);
  if (kwh >= 1e3) return fmt::format("{:.3g} MWh", kwh / 1e3);
  return fmt::format("{:.3g} kWh", kwh);
}

std::string mass_co2(double kg) {
  if (kg >= 1e3) return fmt::format("{:.3g} t", kg / 1e3);
  return fmt::format("{:.3g} kg", kg);
}

std::string percent(double f) { return fmt::format("{:.1f} %", f * 100.0); }

std::string layout(const strategies::LayoutSpec& l) {
  std::string s = fmt::format("tp {}, pp {}, dp {}", l.tp, l.pp, l.dp);
  if (l.sequence_parallel) s += ", sp";
  s += fmt::format(", mb {}, {}", l.micro_batch, strategies::to_string(l.schedule));
  if (l.virtual_stages > 1) s += fmt::format(" v{}", l.virtual_stages);
  s += fmt::format(", ZeRO {}, recompute {}", l.zero, strategies::to_string(l.recompute));
  return s;
}

}  // namespace clustersim::report
