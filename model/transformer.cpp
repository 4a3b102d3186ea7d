#include "model/transformer.hpp"

#include <string>

namespace clustersim::model {

namespace {
double norm_size(NormKind k, std::int64_t width) {
  // LayerNorm has a weight and a bias; RMSNorm only a weight (Zhang & Sennrich 2019).
  return k == NormKind::layernorm ? 2.0 * static_cast<double>(width) : static_cast<double>(width);
}
double mlp_matrices(MlpKind k) { return k == MlpKind::swiglu ? 3.0 : 2.0; }  // gate+up+down vs up+down
double mlp_bias(MlpKind k, std::int64_t f, std::int64_t h) {
  return (k == MlpKind::swiglu ? 2.0 * static_cast<double>(f) : static_cast<double>(f)) + static_cast<double>(h);
}
}  // namespace

double Model::attention_params() const {
  const double h = static_cast<double>(spec_.hidden);
  const double q = static_cast<double>(q_width());
  const double kv = static_cast<double>(kv_width());
  // Q: h x (a d), K and V: h x (g d) each, output: (a d) x h (Megatron: 2 h^2 (1 + g/a) for d = h/a).
  double p = h * q + 2.0 * h * kv + q * h;
  if (spec_.linear_bias) p += q + 2.0 * kv + h;
  return p;
}

double Model::mlp_params() const {
  const double h = static_cast<double>(spec_.hidden);
  auto dense = [&](std::int64_t f) {
    double p = mlp_matrices(spec_.mlp) * h * static_cast<double>(f);
    if (spec_.linear_bias) p += mlp_bias(spec_.mlp, f, spec_.hidden);
    return p;
  };
  if (!spec_.moe) return dense(spec_.ffn_hidden);
  // Megatron MoE: E routed experts + shared experts + a router of h x E (formulas-specs-prices.md 3.4).
  const auto& m = *spec_.moe;
  return m.experts * dense(m.expert_ffn_hidden) + m.shared_experts * dense(m.expert_ffn_hidden) +
         h * m.experts;
}

double Model::layer_norm_params() const { return 2.0 * norm_size(spec_.norm, spec_.hidden); }

double Model::layer_params() const { return attention_params() + mlp_params() + layer_norm_params(); }

double Model::layer_replicated_params() const {
  // Megatron: norms and the biases of row-parallel linears (out projection, MLP down) are not split.
  double p = layer_norm_params();
  if (spec_.linear_bias) p += 2.0 * static_cast<double>(spec_.hidden);
  return p;
}

double Model::embedding_params() const {
  const double h = static_cast<double>(spec_.hidden);
  double p = static_cast<double>(spec_.vocab) * h;
  if (spec_.position == PositionKind::learned) p += static_cast<double>(spec_.max_seq_length) * h;
  if (spec_.embedding_norm) p += norm_size(spec_.norm, spec_.hidden);
  return p;
}

double Model::output_params() const {
  return spec_.tied_embeddings ? 0.0 : static_cast<double>(spec_.vocab) * static_cast<double>(spec_.hidden);
}

double Model::final_norm_params() const { return norm_size(spec_.norm, spec_.hidden); }

double Model::total_params() const {
  return embedding_params() + spec_.layers * layer_params() + final_norm_params() + output_params();
}

double Model::non_embedding_params() const { return spec_.layers * layer_params() + final_norm_params(); }

double Model::active_params() const {
  if (!spec_.moe) return total_params();
  const auto& m = *spec_.moe;
  const double h = static_cast<double>(spec_.hidden);
  const double per_expert = mlp_matrices(spec_.mlp) * h * static_cast<double>(m.expert_ffn_hidden);
  const double inactive = static_cast<double>(m.experts - m.top_k) * per_expert;
  return total_params() - spec_.layers * inactive;
}

Expected<Model> validate_model(const ModelSpec& in) {
  ModelSpec s = in;
  auto positive = [](std::int64_t v, const char* field) -> std::optional<Error> {
    if (v <= 0) return invalid(std::string("model.") + field, "must be positive, got " + std::to_string(v));
    return std::nullopt;
  };
  for (auto [v, f] : {std::pair<std::int64_t, const char*>{s.layers, "layers"}, {s.hidden, "hidden"},
                      {s.heads, "heads"}, {s.kv_heads, "kv_heads"}, {s.vocab, "vocab"}}) {
    if (auto e = positive(v, f)) return *e;
  }
  if (!s.moe) {
    if (auto e = positive(s.ffn_hidden, "ffn_hidden")) return *e;
  }
  if (s.head_dim < 0) return invalid("model.head_dim", "must be positive, got " + std::to_string(s.head_dim));
  if (s.head_dim == 0) {
    if (s.hidden % s.heads != 0)
      return invalid("model.heads", std::to_string(s.heads) + " does not divide hidden size " +
                                        std::to_string(s.hidden) + " (give head_dim explicitly)");
    s.head_dim = s.hidden / s.heads;
  }
  if (s.kv_heads > s.heads)
    return invalid("model.kv_heads", std::to_string(s.kv_heads) + " exceeds heads " + std::to_string(s.heads));
  if (s.heads % s.kv_heads != 0)
    return invalid("model.kv_heads", std::to_string(s.kv_heads) + " does not divide " +
                                         std::to_string(s.heads) + " attention heads");
  if (s.position == PositionKind::learned && s.max_seq_length <= 0)
    return invalid("model.max_seq_length", "learned position embeddings need a positive max_seq_length");
  if (s.moe) {
    const auto& m = *s.moe;
    if (m.experts <= 0) return invalid("model.moe.experts", "must be positive, got " + std::to_string(m.experts));
    if (m.top_k <= 0 || m.top_k > m.experts)
      return invalid("model.moe.top_k", "must be between 1 and experts (" + std::to_string(m.experts) +
                                            "), got " + std::to_string(m.top_k));
    if (m.shared_experts < 0) return invalid("model.moe.shared_experts", "must not be negative");
    if (m.expert_ffn_hidden <= 0)
      return invalid("model.moe.expert_ffn_hidden", "must be positive, got " + std::to_string(m.expert_ffn_hidden));
  }
  return Model(std::move(s));
}

const char* to_string(MlpKind k) {
  switch (k) {
    case MlpKind::gelu: return "gelu";
    case MlpKind::swiglu: return "swiglu";
    case MlpKind::relu: return "relu";
    case MlpKind::squared_relu: return "squared-relu";
  }
  return "?";
}
const char* to_string(NormKind k) { return k == NormKind::layernorm ? "layernorm" : "rmsnorm"; }
const char* to_string(PositionKind k) {
  switch (k) {
    case PositionKind::learned: return "learned";
    case PositionKind::rope: return "rope";
    case PositionKind::alibi: return "alibi";
    case PositionKind::none: return "none";
  }
  return "?";
}

}  // namespace clustersim::model
