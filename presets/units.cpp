#include "presets/units.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace clustersim::presets {

namespace {

struct UnitDef {
  const char* name;
  Dimension dim;
  double factor;
};

// Decimal prefixes for SI units (GB = 1e9 B), binary for the IEC ones (GiB = 2^30 B); bits are 1/8 byte.
const std::vector<UnitDef>& units() {
  static const std::vector<UnitDef> u = {
      {"B", Dimension::bytes, 1}, {"KB", Dimension::bytes, 1e3}, {"kB", Dimension::bytes, 1e3},
      {"MB", Dimension::bytes, 1e6}, {"GB", Dimension::bytes, 1e9}, {"TB", Dimension::bytes, 1e12},
      {"KiB", Dimension::bytes, 1024.0}, {"MiB", Dimension::bytes, 1048576.0},
      {"GiB", Dimension::bytes, 1073741824.0}, {"TiB", Dimension::bytes, 1099511627776.0},
      {"s", Dimension::seconds, 1}, {"ms", Dimension::seconds, 1e-3}, {"us", Dimension::seconds, 1e-6},
      {"µs", Dimension::seconds, 1e-6}, {"ns", Dimension::seconds, 1e-9}, {"min", Dimension::seconds, 60},
      {"h", Dimension::seconds, 3600}, {"d", Dimension::seconds, 86400}, {"days", Dimension::seconds, 86400},
      {"FLOP/s", Dimension::flop_rate, 1}, {"GFLOP/s", Dimension::flop_rate, 1e9},
      {"TFLOP/s", Dimension::flop_rate, 1e12}, {"PFLOP/s", Dimension::flop_rate, 1e15},
      {"TFLOPS", Dimension::flop_rate, 1e12}, {"PFLOPS", Dimension::flop_rate, 1e15},
      {"B/s", Dimension::byte_rate, 1}, {"MB/s", Dimension::byte_rate, 1e6}, {"GB/s", Dimension::byte_rate, 1e9},
      {"TB/s", Dimension::byte_rate, 1e12}, {"GiB/s", Dimension::byte_rate, 1073741824.0},
      {"bit/s", Dimension::byte_rate, 0.125}, {"Mbit/s", Dimension::byte_rate, 1e6 / 8},
      {"Gbit/s", Dimension::byte_rate, 1e9 / 8}, {"Gb/s", Dimension::byte_rate, 1e9 / 8},
      {"Gbps", Dimension::byte_rate, 1e9 / 8}, {"Tbit/s", Dimension::byte_rate, 1e12 / 8},
      {"Tb/s", Dimension::byte_rate, 1e12 / 8},
      {"W", Dimension::watts, 1}, {"kW", Dimension::watts, 1e3}, {"MW", Dimension::watts, 1e6},
  };
  return u;
}

const char* dim_name(Dimension d) {
  switch (d) {
    case Dimension::bytes: return "bytes (e.g. \"80 GiB\")";
    case Dimension::seconds: return "a time (e.g. \"5 us\")";
    case Dimension::flop_rate: return "a FLOP rate (e.g. \"989 TFLOP/s\")";
    case Dimension::byte_rate: return "a bandwidth (e.g. \"450 GB/s\", \"400 Gbit/s\")";
    case Dimension::watts: return "a power (e.g. \"700 W\")";
    case Dimension::count: return "a number";
  }
  return "?";
}

}  // namespace

Expected<double> parse_quantity(std::string_view text, Dimension dim, const std::string& path) {
  std::string s(text);
  const char* begin = s.c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(v))
    return invalid(path, "'" + s + "' is not " + dim_name(dim));
  std::string unit(end);
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.front()))) unit.erase(unit.begin());
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back()))) unit.pop_back();
  if (unit.empty()) return v;
  for (const auto& u : units()) {
    if (unit == u.name) {
      if (u.dim != dim) return invalid(path, "unit '" + unit + "' is not " + dim_name(dim));
      return v * u.factor;
    }
  }
  return invalid(path, "unknown unit '" + unit + "' in '" + s + "'; expected " + dim_name(dim));
}

namespace {
std::string fmt2(double v, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, unit);
  return buf;
}
}  // namespace

std::string format_bytes(double b) {
  const double a = std::fabs(b);
  if (a >= 1073741824.0 * 1024) return fmt2(b / 1099511627776.0, "TiB");
  if (a >= 1073741824.0) return fmt2(b / 1073741824.0, "GiB");
  if (a >= 1048576.0) return fmt2(b / 1048576.0, "MiB");
  if (a >= 1024.0) return fmt2(b / 1024.0, "KiB");
  return fmt2(b, "B");
}

std::string format_seconds(double s) {
  const double a = std::fabs(s);
  if (a == 0) return "0 s";
  if (a >= 86400 * 2) return fmt2(s / 86400, "days");
  if (a >= 1) return fmt2(s, "s");
  if (a >= 1e-3) return fmt2(s * 1e3, "ms");
  return fmt2(s * 1e6, "us");
}

std::string format_rate(double r) {
  if (r >= 1e12) return fmt2(r / 1e12, "TB/s");
  if (r >= 1e9) return fmt2(r / 1e9, "GB/s");
  return fmt2(r / 1e6, "MB/s");
}

}  // namespace clustersim::presets
