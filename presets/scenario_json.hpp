#pragma once
// Scenario, model, GPU, cluster, training and layout from JSON (INTERFACES.md "Scenario file").
// Every part may be a preset name or an inline object; an inline object may start from a preset with
// "base". Unknown fields, wrong types and bad units are errors that name the field (with a suggestion
// for near-miss spellings); nothing is ignored silently.
#include <nlohmann/json.hpp>

#include "presets/registry.hpp"
#include "strategies/layout.hpp"

namespace clustersim::presets {

using nlohmann::json;

// Resolves a preset name or {"base": name, ...overrides} to one JSON object.
Expected<json> resolve(PresetKind kind, const json& j, const std::string& path);

Expected<model::ModelSpec> model_from_json(const json& j, const std::string& path = "model");
Expected<hardware::GpuSpec> gpu_from_json(const json& j, const std::string& path = "cluster.gpu");
Expected<hardware::ClusterSpec> cluster_from_json(const json& j, const std::string& path = "cluster");
Expected<strategies::TrainingSpec> training_from_json(const json& j, const std::string& path = "training");
Expected<strategies::LayoutSpec> layout_from_json(const json& j, const std::string& path = "layout");

// The whole scenario, validated (validate_model + validate_scenario).
Expected<strategies::Scenario> scenario_from_json(const json& j);

// JSON of the specs (what `presets show` prints, and a scenario a user can save and load again).
json model_to_json(const model::ModelSpec& m);

}  // namespace clustersim::presets
