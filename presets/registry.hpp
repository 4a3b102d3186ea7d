#pragma once
// The bundled presets (presets/data/<kind>/<name>.json, embedded in the binary), found by name or alias.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/expected.hpp"

namespace clustersim::presets {

enum class PresetKind { gpu, cluster, model };
const char* to_string(PresetKind k);           // "gpu", "cluster", "model"

struct PresetEntry {
  PresetKind kind;
  std::string name;
  std::vector<std::string> aliases;
  std::string description;
  std::string file;                             // e.g. "gpus/h100-sxm.json"
  nlohmann::json json;
};

const std::vector<PresetEntry>& all_presets();
std::vector<const PresetEntry*> presets_of(PresetKind kind);

// By name or alias (case-insensitive); the error names the field and suggests the closest name.
Expected<const PresetEntry*> find_preset(PresetKind kind, std::string_view name, const std::string& path);

}  // namespace clustersim::presets
