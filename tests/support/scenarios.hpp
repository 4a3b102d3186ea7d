#pragma once
// Shared helpers for tests: presets by name and scenarios built in code.
#include <catch2/catch.hpp>

#include "presets/scenario_json.hpp"
#include "strategies/layout.hpp"

namespace clustersim::testing {

inline model::Model preset_model(const std::string& name) {
  auto spec = presets::model_from_json(nlohmann::json(name));
  REQUIRE(spec.has_value());
  auto m = model::validate_model(*spec);
  REQUIRE(m.has_value());
  return *m;
}

inline hardware::ClusterSpec preset_cluster(const std::string& name, int nodes) {
  nlohmann::json j = {{"base", name}, {"nodes", nodes}};
  auto c = presets::cluster_from_json(j);
  REQUIRE(c.has_value());
  return *c;
}

// A GPT-style model of the Megatron papers: f = 4h, GELU, MHA, learned positions, biases, dropout.
inline model::Model gpt_model(int layers, std::int64_t hidden, int heads, std::int64_t vocab = 51200) {
  model::ModelSpec s;
  s.name = "gpt-test";
  s.layers = layers;
  s.hidden = hidden;
  s.heads = heads;
  s.kv_heads = heads;
  s.ffn_hidden = 4 * hidden;
  s.mlp = model::MlpKind::gelu;
  s.vocab = vocab;
  s.tied_embeddings = true;
  s.position = model::PositionKind::learned;
  s.max_seq_length = 2048;
  s.norm = model::NormKind::layernorm;
  s.linear_bias = true;
  s.dropout = true;
  auto m = model::validate_model(s);
  REQUIRE(m.has_value());
  return *m;
}

inline strategies::Scenario scenario(const model::Model& m, const hardware::ClusterSpec& c,
                                     const strategies::TrainingSpec& t, const strategies::LayoutSpec& l) {
  auto sc = strategies::validate_scenario(m, c, t, l);
  if (!sc) FAIL(sc.error().what());
  return *sc;
}

}  // namespace clustersim::testing
