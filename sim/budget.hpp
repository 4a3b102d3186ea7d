#pragma once
// Budgets: from a compute, dollar, GPU-hour or deadline budget (or a fixed model and token count) to the
// model a scaling law says to train, the best layouts on a cluster, and what the run costs in days,
// GPU-hours, dollars, energy and CO2.
//
// The pieces are usable alone: dense_model_for_params() builds a model of N parameters by a documented
// shape rule, best_layouts() finds the fastest layouts that fit, training_cost() turns a run time into
// money, energy and CO2, and make_plan() joins them with a ScalingLaw. All of it is arithmetic over
// sim::estimate; prices and laws arrive as plain structs (presets/ reads them from JSON).
#include <optional>
#include <string>
#include <vector>

#include "sim/report.hpp"
#include "sim/scaling_laws.hpp"
#include "strategies/layout.hpp"

namespace clustersim::sim {

// Uncertainty band of a predicted run time: the p90 of |predicted - measured| / measured time or throughput
// over the published runs, as docs/validation.md reports it (26.0 % over 181 records when this was
// written; `clustersim validate ../shared/validation/published-runs.json` recomputes it). Keep in step.
inline constexpr double kIterationTimeErrorP90 = 0.26;

// A price per GPU-hour in US dollars, with where and when it was read.
struct Price {
  std::string name;             // preset name, or "user" for a number given on the command line
  double usd_per_gpu_hour = 0;
  std::string date;             // when the price was read ("" for a user price)
  std::string pricing;          // on-demand | reserved | spot | user
  std::string description;      // provider, instance, region
  std::string source;
};

// E = GPUs x TDP x utilisation x node overhead x hours x PUE; CO2 = E x grid intensity
// (shared reference formulas-specs-prices.md sec. 6).
struct EnergyAssumptions {
  double pue = 1.2;               // data-centre power usage effectiveness (>= 1)
  double grid_kg_per_kwh = 0.39;  // grid carbon intensity (US 2022, EIA)
  double utilisation = 1.0;       // average GPU power / TDP (0, 1]
  double node_overhead = 1.0;     // node power / GPU power (>= 1: CPUs, NICs, storage)
};
Expected<EnergyAssumptions> validate_energy(const EnergyAssumptions& e);

// What a run of `seconds` on `gpus` GPUs costs.
struct TrainingCost {
  int gpus = 0;
  double seconds = 0;
  double days = 0;
  double gpu_hours = 0;
  bool priced = false;
  double cost_usd = 0;            // gpu_hours x price (0 when not priced)
  double energy_kwh = 0;
  double co2_kg = 0;
};
TrainingCost training_cost(int gpus, double seconds, Watts gpu_tdp, const std::optional<Price>& price,
                           const EnergyAssumptions& energy);

// The shape rule that turns a parameter count into a dense decoder (Llama / Chinchilla family):
// head size 128 with heads = hidden / 128 (multi-head attention), heads a multiple of 8 (so tensor
// parallelism up to 8 divides them; a multiple of 2 below hidden 1024), SwiGLU MLP of width 8h/3 rounded
// up to a multiple of 256, RMSNorm, rotary positions, untied embeddings of a 32000-token vocabulary.
// Among such hidden sizes and layer counts (multiples of 4 from 32 layers on, for pipeline splits), the
// pair whose exact parameter count is within 5 % of N with the aspect ratio hidden/layers closest to 128
// wins (else the closest count).
// A layer then holds 12 h^2 parameters, so N ~ 12 l h^2 + 2 V h.
struct ShapeRule {
  std::int64_t vocab = 32000;
  std::int64_t head_dim = 128;
  int head_multiple = 8;          // heads a multiple of this (of 2 for hidden sizes below 1024)
  double aspect_ratio = 128;      // hidden / layers
  int layer_multiple = 4;         // from 32 layers on
  double tolerance = 0.05;        // accepted relative parameter error before the aspect ratio decides
};
std::string describe(const ShapeRule& rule);
inline constexpr double kShapeRuleMinParams = 1e7;
inline constexpr double kShapeRuleMaxParams = 1e14;
// A model of about `params` parameters (total, or non-embedding when the law counts those).
Expected<model::Model> dense_model_for_params(double params, const ShapeRule& rule = {}, bool non_embedding = false);

// Model FLOPs per token of `m` at sequence length `seq` (model_flops_per_iteration / tokens).
double model_flops_per_token(const model::Model& m, std::int64_t seq_length);

// C counted from the exact FLOPs of the shape rule's model of N parameters (N scaled, so the count is
// smooth in N), at sequence length `seq`.
ComputeCounting model_flops_counting(const ShapeRule& rule, std::int64_t seq_length, bool non_embedding);

// One layout and its estimate.
struct LayoutCandidate {
  strategies::LayoutSpec layout;
  Report report;
};

// The best k layouts for (model, cluster, training): fastest iteration first, all fitting in memory.
struct LayoutSearch {
  std::vector<LayoutCandidate> best;
  int candidates = 0;             // layouts tried
  int invalid = 0;                // rejected by validate_scenario
  int out_of_memory = 0;          // valid but over the GPU's memory
  std::string reason;             // why none fit, when `best` is empty
};
// The grid is tp (powers of two within a node) x pp (divisors of the layer count) x micro-batch {1, 2, 4}
// x ZeRO {0, 1, 2, 3} x recompute {none, selective, full}, sequence parallelism whenever tp > 1, and
// 1F1B or interleaved 1F1B with 2 virtual stages; each candidate is costed with sim::estimate.
LayoutSearch best_layouts(const model::Model& model, const hardware::ClusterSpec& cluster,
                          const strategies::TrainingSpec& training, int k);

// The best layout at each of several cluster sizes (node counts), for a fixed model and training.
struct ClusterSizeOption {
  int nodes = 0;
  int gpus = 0;
  std::optional<LayoutCandidate> best;  // empty when nothing fits
  std::string reason;
  TrainingCost cost;                    // for training.tokens (zero when no layout fits)
};
std::vector<ClusterSizeOption> compare_cluster_sizes(const model::Model& model, const hardware::ClusterSpec& cluster,
                                                     const strategies::TrainingSpec& training,
                                                     const std::vector<int>& node_counts,
                                                     const std::optional<Price>& price, const EnergyAssumptions& energy);

// Global batch in sequences from a batch law's tokens: the nearest power of two (at least 1).
std::int64_t global_batch_for_tokens(double batch_tokens, std::int64_t seq_length);

// What `clustersim plan` asks. Exactly one budget: compute_flops, budget_usd, gpu_hours, deadline_days
// (alone), target_loss, or a fixed model (model or params) with optional tokens. deadline_days may
// accompany budget_usd, gpu_hours or compute_flops: it then sizes the cluster (node counts in powers of two).
struct PlanRequest {
  ScalingLaw law;
  bool exact_flops = false;       // count C from the model's FLOPs instead of 6ND
  std::optional<double> compute_flops, budget_usd, gpu_hours, deadline_days, target_loss;
  std::optional<model::Model> model;
  std::optional<double> params;
  std::optional<double> tokens;
  std::optional<double> unique_tokens;
  std::optional<hardware::ClusterSpec> cluster;
  bool nodes_given = false;       // cluster.nodes chosen by the user (else sized to the deadline or as preset)
  std::optional<Price> price;
  EnergyAssumptions energy;
  ShapeRule shape;
  std::int64_t seq_length = 4096;
  std::optional<std::int64_t> global_batch;
  hardware::Precision precision = hardware::Precision::bf16;
  int top_k = 3;
};

// The part of a plan that needs a cluster.
struct ClusterPlan {
  hardware::ClusterSpec cluster;
  strategies::TrainingSpec training;
  LayoutSearch search;            // best layouts (search.best non-empty)
  TrainingCost cost;              // for the best layout
  double tokens_per_s = 0;
  int budget_iterations = 0;      // fixed-point steps that matched compute to a time or money budget
};

struct PlanResult {
  std::string budget;             // "compute", "usd", "gpu_hours", "days", "target_loss", "model"
  std::string counting;           // "6ND" or the exact-FLOPs description
  Allocation allocation;          // the law's params, tokens, compute, loss
  std::optional<model::Model> model;  // the model that is costed (shape rule or fixed); always set
  bool shaped = false;            // built by the shape rule
  std::optional<RepeatedData> data;  // with unique tokens
  std::optional<HyperParameters> hyper;
  std::optional<ClusterPlan> run;
  std::vector<std::string> notes;
};

Expected<PlanResult> make_plan(const PlanRequest& request);

}  // namespace clustersim::sim
