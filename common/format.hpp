#pragma once
// Small, dependency-free text helpers the core uses in error messages (the faces use fmt).
#include <string>
#include <string_view>
#include <vector>

namespace clustersim {

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` if it is close enough to be a plausible typo, else "".
std::string closest_match(std::string_view name, const std::vector<std::string>& candidates);

// ASCII lower case (preset names, record fields).
std::string to_lower(std::string_view s);

// "a, b, c" for messages.
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

// A short human number: 3 significant digits ("12.3", "0.0451").
std::string num(double v);

}  // namespace clustersim
