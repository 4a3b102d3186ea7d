#pragma once
// Quantities in scenario and preset files: a number in SI base units, or a string with a unit
// ("80 GiB", "900 GB/s", "25 Gbit/s", "5 us", "989 TFLOP/s", "700 W"). Parsed once into strong types.
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace clustersim::presets {

enum class Dimension { bytes, seconds, flop_rate, byte_rate, watts, count };

// Parses "80 GiB" (for Dimension::bytes) etc. `path` names the field in errors.
Expected<double> parse_quantity(std::string_view text, Dimension dim, const std::string& path);

// Human form of bytes ("79.1 GiB"), seconds ("12.3 ms"), rates ("450 GB/s").
std::string format_bytes(double bytes);
std::string format_seconds(double seconds);
std::string format_rate(double bytes_per_s);

}  // namespace clustersim::presets
