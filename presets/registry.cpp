#include "presets/registry.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "common/format.hpp"
#include "presets/embedded.hpp"

namespace clustersim::presets {

const char* to_string(PresetKind k) {
  switch (k) {
    case PresetKind::gpu: return "gpu";
    case PresetKind::cluster: return "cluster";
    case PresetKind::model: return "model";
  }
  return "?";
}

namespace {
std::string lower(std::string_view s) { return to_lower(s); }

std::vector<PresetEntry> load() {
  std::vector<PresetEntry> out;
  for (const auto& f : embedded_files()) {
    const std::string path = f.path;
    PresetEntry e;
    if (path.rfind("gpus/", 0) == 0) e.kind = PresetKind::gpu;
    else if (path.rfind("clusters/", 0) == 0) e.kind = PresetKind::cluster;
    else if (path.rfind("models/", 0) == 0) e.kind = PresetKind::model;
    else continue;  // other bundled data (prices, laws) has its own readers
    e.file = path;
    // Bundled files are checked by the preset tests; a broken one is a build defect.
    e.json = nlohmann::json::parse(f.text);
    e.name = e.json.at("name").get<std::string>();
    if (e.json.contains("aliases"))
      for (const auto& a : e.json["aliases"]) e.aliases.push_back(a.get<std::string>());
    if (e.json.contains("description")) e.description = e.json["description"].get<std::string>();
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.name < b.name;
  });
  return out;
}
}  // namespace

const std::vector<PresetEntry>& all_presets() {
  static const std::vector<PresetEntry> entries = load();
  return entries;
}

std::vector<const PresetEntry*> presets_of(PresetKind kind) {
  std::vector<const PresetEntry*> out;
  for (const auto& e : all_presets())
    if (e.kind == kind) out.push_back(&e);
  return out;
}

Expected<const PresetEntry*> find_preset(PresetKind kind, std::string_view name, const std::string& path) {
  const std::string key = lower(name);
  std::vector<std::string> names;
  for (const auto* e : presets_of(kind)) {
    if (lower(e->name) == key) return e;
    for (const auto& a : e->aliases)
      if (lower(a) == key) return e;
    names.push_back(e->name);
  }
  std::string msg = "unknown " + std::string(to_string(kind)) + " preset '" + std::string(name) + "'";
  const auto close = closest_match(key, names);
  if (!close.empty()) msg += "; did you mean '" + close + "'?";
  msg += " (clustersim presets list shows all)";
  return invalid(path, msg);
}

}  // namespace clustersim::presets
