// Parameter counts of the model presets against their published sizes, and the per-term structure.
#include <catch2/catch.hpp>

#include "../support/scenarios.hpp"

using namespace clustersim;
using clustersim::testing::preset_model;

TEST_CASE("preset parameter counts match the published model sizes") {
  // GPT-3 175B (Brown et al. 2020): 96 layers, h 12288, vocab 50257, 2048 learned positions, tied embeddings.
  // 12 l h^2 + 13 l h (biases, norms) + V h + 2048 h + 2h = 174.6e9.
  CHECK(preset_model("gpt3-175b").total_params() == Approx(174.6e9).epsilon(0.001));
  // Llama 3 8B (Meta model card): 8.03B; 70B: 70.6B; Llama 3.1 405B: 405.9B (GQA, SwiGLU, untied).
  CHECK(preset_model("llama3-8b").total_params() == Approx(8.03e9).epsilon(0.001));
  CHECK(preset_model("llama3-70b").total_params() == Approx(70.6e9).epsilon(0.001));
  CHECK(preset_model("llama3.1-405b").total_params() == Approx(405.9e9).epsilon(0.001));
}

TEST_CASE("every model preset is within 1 percent of its published size where one is given") {
  // Known exceptions, with their reasons in the preset files: Megatron 1.7B/3.6B (the paper rounds its own
  // Eq. 2 values 1.652B/3.562B up) and Chinchilla (relative position projections not modelled).
  for (const auto* e : presets::presets_of(presets::PresetKind::model)) {
    auto spec = presets::model_from_json(e->json);
    REQUIRE(spec.has_value());
    auto m = model::validate_model(*spec);
    REQUIRE(m.has_value());
    if (spec->published_params <= 0) continue;
    if (e->name == "megatron-1.7b" || e->name == "megatron-3.6b" || e->name == "chinchilla-70b") continue;
    INFO(e->name);
    CHECK(m->total_params() == Approx(spec->published_params).epsilon(0.01));
  }
}

TEST_CASE("Llama 3 8B parameter terms") {
  // h = 4096, 32 heads of 128, 8 KV heads, f = 14336, V = 128256, RMSNorm, no biases, untied.
  const auto m = preset_model("llama3-8b");
  // Attention: Q 4096^2 + K,V 2 x 4096 x 1024 + O 4096^2 = 41,943,040.
  CHECK(m.attention_params() == 41943040.0);
  // SwiGLU MLP: 3 x 4096 x 14336 = 176,160,768.
  CHECK(m.mlp_params() == 176160768.0);
  // Two RMSNorm weights per layer: 8192.
  CHECK(m.layer_norm_params() == 8192.0);
  CHECK(m.embedding_params() == 128256.0 * 4096);
  CHECK(m.output_params() == 128256.0 * 4096);
}

TEST_CASE("GQA shrinks K and V projections by kv_heads / heads") {
  model::ModelSpec s;
  s.layers = 2; s.hidden = 1024; s.heads = 16; s.kv_heads = 16; s.ffn_hidden = 4096; s.vocab = 1000;
  auto mha = model::validate_model(s);
  s.kv_heads = 4;
  auto gqa = model::validate_model(s);
  REQUIRE(mha.has_value());
  REQUIRE(gqa.has_value());
  // MHA attention: 4 h^2; GQA with g/a = 1/4: 2 h^2 (1 + g/a) = 2.5 h^2 (Megatron theoretical memory).
  CHECK(mha->attention_params() == 4.0 * 1024 * 1024);
  CHECK(gqa->attention_params() == 2.5 * 1024 * 1024);
}

TEST_CASE("invalid model shapes are rejected with the field named") {
  model::ModelSpec s;
  s.layers = 4; s.hidden = 1024; s.heads = 16; s.kv_heads = 16; s.ffn_hidden = 4096; s.vocab = 1000;
  SECTION("zero layers") {
    s.layers = 0;
    auto m = model::validate_model(s);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().path == "model.layers");
  }
  SECTION("negative hidden") {
    s.hidden = -1;
    auto m = model::validate_model(s);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().path == "model.hidden");
  }
  SECTION("heads do not divide hidden") {
    s.heads = 15;
    s.kv_heads = 15;
    auto m = model::validate_model(s);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().path == "model.heads");
  }
  SECTION("kv_heads do not divide heads") {
    s.kv_heads = 5;
    auto m = model::validate_model(s);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().path == "model.kv_heads");
    CHECK_THAT(m.error().message, Catch::Contains("does not divide 16"));
  }
}
