#pragma once
// The shape of a decoder-only transformer, and its exact parameter count.
//
// ModelSpec is plain data (presets and tests build it directly); validate_model() checks it once and
// returns a Model, which is then known to be consistent (heads divide hidden or head_dim is given,
// kv_heads divides heads, ...). Parameter counts follow the layer structure of Megatron-LM / Hugging Face
// implementations, term by term, so that they match published model sizes exactly.
#include <cstdint>
#include <optional>
#include <string>

#include "common/expected.hpp"

namespace clustersim::model {

enum class MlpKind { gelu, swiglu, relu, squared_relu };
enum class NormKind { layernorm, rmsnorm };
enum class PositionKind { learned, rope, alibi, none };

// Mixture of experts (open for the expert-parallel work; parameter counts already honour it).
struct MoeSpec {
  int experts = 0;                  // routed experts per MoE layer
  int top_k = 0;                    // experts each token is routed to
  int shared_experts = 0;           // always-active experts
  std::int64_t expert_ffn_hidden = 0;
};

struct ModelSpec {
  std::string name;
  int layers = 0;
  std::int64_t hidden = 0;
  int heads = 0;
  int kv_heads = 0;                 // == heads for MHA, fewer for GQA, 1 for MQA
  std::int64_t head_dim = 0;        // 0 = hidden / heads
  std::int64_t ffn_hidden = 0;
  MlpKind mlp = MlpKind::gelu;
  std::int64_t vocab = 0;
  bool tied_embeddings = false;
  PositionKind position = PositionKind::rope;
  std::int64_t max_seq_length = 0;  // learned position table size (only used with PositionKind::learned)
  NormKind norm = NormKind::layernorm;
  bool linear_bias = false;         // biases on the QKV/out/MLP linears (GPT-2/3 style)
  bool dropout = false;             // dropout layers active in training (their masks are stored)
  bool embedding_norm = false;      // an extra norm after the embedding (BLOOM)
  std::optional<MoeSpec> moe;
  double published_params = 0;      // the size the authors published (for reference, not used in costs)
};

// A validated model. Members are read-only views of the spec with derived quantities.
class Model {
 public:
  [[nodiscard]] const ModelSpec& spec() const { return spec_; }
  [[nodiscard]] std::int64_t head_dim() const { return spec_.head_dim; }
  [[nodiscard]] std::int64_t q_width() const { return spec_.heads * spec_.head_dim; }     // a * d
  [[nodiscard]] std::int64_t kv_width() const { return spec_.kv_heads * spec_.head_dim; } // g * d
  [[nodiscard]] bool gated() const { return spec_.mlp == MlpKind::swiglu; }

  // Parameters of one transformer layer: attention, MLP (or MoE), norms, biases.
  [[nodiscard]] double layer_params() const;
  [[nodiscard]] double attention_params() const;
  [[nodiscard]] double mlp_params() const;
  [[nodiscard]] double layer_norm_params() const;   // the two per-layer norms
  // Parameters that every TP rank holds whole (norm weights and row-parallel biases).
  [[nodiscard]] double layer_replicated_params() const;
  [[nodiscard]] double embedding_params() const;     // token (+ learned position) embedding (+ its norm)
  [[nodiscard]] double output_params() const;        // LM head, 0 when tied (single stage)
  [[nodiscard]] double final_norm_params() const;
  [[nodiscard]] double total_params() const;
  // Parameters a token activates (top-k experts instead of all): the N of 6ND.
  [[nodiscard]] double active_params() const;
  [[nodiscard]] double non_embedding_params() const;

 private:
  friend Expected<Model> validate_model(const ModelSpec&);
  explicit Model(ModelSpec s) : spec_(std::move(s)) {}
  ModelSpec spec_;
};

// Checks every field (positive sizes, divisibility of heads, MoE consistency) and fills head_dim.
Expected<Model> validate_model(const ModelSpec& spec);

const char* to_string(MlpKind k);
const char* to_string(NormKind k);
const char* to_string(PositionKind k);

}  // namespace clustersim::model
