#pragma once
// How JSON values are named in error messages, shared by every reader in presets/.
#include <string>

#include <nlohmann/json.hpp>

namespace clustersim::presets {

// "null", "a boolean", "an integer", "a number", "a string", "a list", "an object".
const char* json_type_name(const nlohmann::json& j);

// The value as JSON text, cut to 40 characters.
std::string json_shown(const nlohmann::json& j);

}  // namespace clustersim::presets
