#pragma once
// Scaling-law presets (presets/data/laws/*.json, embedded in the binary) and their JSON form.
//
// A law file holds the constants of one published fit with a source for each. Allocation-only laws name
// the law whose loss they borrow ("loss_from"); every law may borrow the repetition-decay constants
// ("repetition_from") and the batch / learning-rate laws ("hyper_from") of another. find_law() resolves
// these one level deep and returns a validated sim::ScalingLaw.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scaling_laws.hpp"

namespace clustersim::presets {

// The default law: Chinchilla's form with the Epoch AI refit (about 20 tokens per parameter).
inline constexpr const char* kDefaultLaw = "chinchilla-epoch2024";

struct LawPreset {
  std::string name;
  std::vector<std::string> aliases;
  std::string title;
  std::string description;
  std::string file;               // e.g. "laws/kaplan2020.json"
  nlohmann::json json;
};

// Every bundled law, sorted by name.
const std::vector<LawPreset>& law_presets();

// One law from its JSON object, as written (borrowed parts not resolved); errors name `path`.field.
Expected<sim::ScalingLaw> law_from_json(const nlohmann::json& j, const std::string& path);

// A bundled law by name or alias (case-insensitive), borrowed parts resolved and validated; the error
// names `path` and suggests the closest name.
Expected<sim::ScalingLaw> find_law(std::string_view name, const std::string& path = "plan.law");

// The constants of a law as JSON (for plan --json and reports).
nlohmann::json law_to_json(const sim::ScalingLaw& law);

}  // namespace clustersim::presets
