#include "strategies/layout.hpp"

#include <numeric>

#include "common/format.hpp"

namespace clustersim::strategies {

const char* to_string(Schedule s) {
  switch (s) {
    case Schedule::gpipe: return "gpipe";
    case Schedule::one_f_one_b: return "1f1b";
    case Schedule::interleaved_1f1b: return "interleaved-1f1b";
    case Schedule::zero_bubble_h1: return "zb-h1";
  }
  return "?";
}
const char* to_string(Recompute r) {
  switch (r) {
    case Recompute::none: return "none";
    case Recompute::selective: return "selective";
    case Recompute::selective_op: return "selective-op";
    case Recompute::full: return "full";
  }
  return "?";
}
const char* to_string(AttentionImpl a) { return a == AttentionImpl::flash ? "flash" : "materialized"; }

const char* to_string(Framework f) {
  switch (f) {
    case Framework::megatron: return "megatron";
    case Framework::deepspeed: return "deepspeed";
    case Framework::fsdp: return "fsdp";
    case Framework::pytorch: return "pytorch";
  }
  return "?";
}
std::optional<Framework> parse_framework(std::string_view s) {
  if (s == "megatron" || s == "nemo") return Framework::megatron;
  if (s == "deepspeed") return Framework::deepspeed;
  if (s == "fsdp" || s == "torchtitan" || s == "fsdp2") return Framework::fsdp;
  if (s == "pytorch" || s == "ddp") return Framework::pytorch;
  return std::nullopt;
}

const char* to_string(Fp8Scaling s) { return s == Fp8Scaling::delayed ? "delayed" : "dynamic"; }
std::optional<Fp8Scaling> parse_fp8_scaling(std::string_view s) {
  if (s == "delayed") return Fp8Scaling::delayed;
  if (s == "dynamic" || s == "current" || s == "tensorwise") return Fp8Scaling::dynamic;
  return std::nullopt;
}

std::optional<Schedule> parse_schedule(std::string_view s) {
  if (s == "gpipe") return Schedule::gpipe;
  if (s == "1f1b" || s == "one-f-one-b" || s == "pipedream-flush") return Schedule::one_f_one_b;
  if (s == "interleaved-1f1b" || s == "interleaved") return Schedule::interleaved_1f1b;
  if (s == "zb-h1" || s == "zero-bubble-h1" || s == "zb") return Schedule::zero_bubble_h1;
  return std::nullopt;
}
std::optional<Recompute> parse_recompute(std::string_view s) {
  if (s == "none") return Recompute::none;
  if (s == "selective") return Recompute::selective;
  if (s == "selective-op" || s == "op-sac") return Recompute::selective_op;
  if (s == "full") return Recompute::full;
  return std::nullopt;
}
std::optional<AttentionImpl> parse_attention(std::string_view s) {
  if (s == "flash") return AttentionImpl::flash;
  if (s == "materialized" || s == "materialised" || s == "unfused") return AttentionImpl::materialized;
  return std::nullopt;
}

namespace {

std::string str(std::int64_t v) { return std::to_string(v); }

// An uneven split that puts the remainder on the middle stages (first and last keep fewer layers, as
// Llama 3 405B did: 126 layers on 16 stages = 7 + 14 x 8 + 7).
std::vector<int> suggest_split(int layers, int chunks) {
  std::vector<int> split(chunks, layers / chunks);
  int rem = layers % chunks;
  for (int i = 1; i < chunks - 1 && rem > 0; ++i, --rem) ++split[i];
  for (int i = 0; rem > 0; i = chunks - 1, --rem) ++split[i];
  return split;
}

std::string list(const std::vector<int>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

Expected<Scenario> validate_scenario(const model::Model& model, const hardware::ClusterSpec& cluster_in,
                                     const TrainingSpec& training, const LayoutSpec& layout_in) {
  auto cluster = hardware::validate_cluster(cluster_in);
  if (!cluster) return cluster.error();
  const auto& ms = model.spec();
  LayoutSpec L = layout_in;
  const TrainingSpec& T = training;

  // --- training ---
  if (T.seq_length <= 0) return invalid("training.seq_length", "must be positive, got " + str(T.seq_length));
  if (T.global_batch <= 0) return invalid("training.global_batch", "must be positive, got " + str(T.global_batch));
  if (T.tokens < 0) return invalid("training.tokens", "must not be negative");
  if (!cluster->gpu.peak_for(T.precision)) {
    std::vector<std::string> have;
    for (auto p : hardware::kAllPrecisions)
      if (cluster->gpu.peak_for(p)) have.emplace_back(hardware::to_string(p));
    return invalid("training.precision", std::string(hardware::to_string(T.precision)) + " is not supported by " +
                                             cluster->gpu.name + " (it has " + join(have) + ")");
  }
  if (T.precision == Precision::tf32)
    return invalid("training.precision", "tf32 is a GEMM mode, not a training precision: use fp32");
  if (T.optimizer_bytes_per_param < 0) return invalid("training.optimizer_bytes_per_param", "must not be negative");
  if (T.memory.allocator_reserve < 0) return invalid("training.memory.allocator_reserve", "must not be negative");
  if (ms.position == model::PositionKind::learned && T.seq_length > ms.max_seq_length)
    return invalid("training.seq_length", str(T.seq_length) + " exceeds the model's learned position table (" +
                                              str(ms.max_seq_length) + ")");

  // --- degrees ---
  for (auto [v, f] : {std::pair<int, const char*>{L.tp, "tp"}, {L.pp, "pp"}, {L.cp, "cp"}, {L.ep, "ep"},
                      {L.micro_batch, "micro_batch"}, {L.virtual_stages, "virtual_stages"}}) {
    if (v <= 0) return invalid(std::string("layout.") + f, "must be positive, got " + str(v));
  }
  if (L.dp < 0) return invalid("layout.dp", "must be positive, got " + str(L.dp));
  if (L.zero < 0 || L.zero > 3) return invalid("layout.zero", "must be 0, 1, 2 or 3, got " + str(L.zero));
  if (L.attention_efficiency < 0 || L.attention_efficiency > 1)
    return invalid("layout.attention_efficiency", "must be in [0, 1] (0 = the GPU preset's), got " + num(L.attention_efficiency));
  if (L.recompute_layers < 0) return invalid("layout.recompute_layers", "must not be negative");
  if (L.recompute_layers > 0 && L.recompute != Recompute::full)
    return invalid("layout.recompute_layers", "applies to recompute 'full' only");
  if (T.nccl_channels < 0) return invalid("training.nccl_channels", "must not be negative");
  if (T.deferred_head_wgrad < 0)
    return invalid("training.deferred_head_wgrad", "must not be negative (micro-batches whose LM-head weight gradient waits for the pipeline flush; 0 = off)");
  if (T.loss_bytes_per_logit < 0) return invalid("training.loss_bytes_per_logit", "must not be negative");
  if (L.cp != 1)
    return invalid("layout.cp", "context parallelism is not modelled yet (only cp = 1); got " + str(L.cp));
  if (L.ep != 1)
    return invalid("layout.ep", "expert parallelism is not modelled yet (only ep = 1); got " + str(L.ep));
  if (ms.moe) return invalid("model.moe", "mixture-of-experts models are not modelled yet by the cost model");

  const int gpus = cluster->total_gpus();
  const std::int64_t model_par = static_cast<std::int64_t>(L.tp) * L.pp * L.cp;
  if (L.dp == 0) {
    if (gpus % model_par != 0)
      return invalid("layout", "tp x pp x cp = " + str(model_par) + " does not divide the " + str(gpus) + " GPUs");
    L.dp = static_cast<int>(gpus / model_par);
  } else if (model_par * L.dp != gpus) {
    return invalid("layout", "tp x pp x cp x dp = " + str(L.tp) + " x " + str(L.pp) + " x " + str(L.cp) + " x " +
                                 str(L.dp) + " = " + str(model_par * L.dp) + " but the cluster has " + str(gpus) +
                                 " GPUs (" + str(cluster->nodes) + " nodes x " + str(cluster->gpus_per_node) + ")");
  }
  if (ms.heads % L.tp != 0)
    return invalid("layout.tp", str(L.tp) + " does not divide " + str(ms.heads) + " attention heads");
  if (ms.kv_heads % L.tp != 0)
    return invalid("layout.tp", str(L.tp) + " does not divide " + str(ms.kv_heads) + " kv_heads (query groups)");
  if (ms.ffn_hidden % L.tp != 0)
    return invalid("layout.tp", str(L.tp) + " does not divide ffn_hidden " + str(ms.ffn_hidden));
  if (L.sequence_parallel && L.tp == 1)
    return invalid("layout.sequence_parallel", "needs tensor parallelism (tp > 1)");
  if (L.sequence_parallel && T.seq_length % L.tp != 0)
    return invalid("layout.sequence_parallel", "seq_length " + str(T.seq_length) + " is not divisible by tp " + str(L.tp));

  // --- schedule ---
  if (L.schedule == Schedule::interleaved_1f1b) {
    if (L.pp == 1) return invalid("layout.schedule", "interleaved-1f1b needs pipeline parallelism (pp > 1)");
    if (L.virtual_stages < 2)
      return invalid("layout.virtual_stages", "interleaved-1f1b needs at least 2 virtual stages, got " + str(L.virtual_stages));
  } else if (L.virtual_stages != 1) {
    return invalid("layout.virtual_stages", str(L.virtual_stages) + " virtual stages need schedule interleaved-1f1b (schedule is " +
                                                std::string(to_string(L.schedule)) + ")");
  }

  // --- batch ---
  const std::int64_t per_step = static_cast<std::int64_t>(L.dp) * L.micro_batch;
  if (T.global_batch % per_step != 0)
    return invalid("training.global_batch", str(T.global_batch) + " is not divisible by dp x micro_batch = " +
                                                str(L.dp) + " x " + str(L.micro_batch) + " = " + str(per_step));
  const int m = static_cast<int>(T.global_batch / per_step);
  if (L.schedule == Schedule::interleaved_1f1b && m < L.pp)
    return invalid("training.global_batch", "interleaved-1f1b needs at least pp = " + str(L.pp) +
                                                " micro-batches per pipeline, got " + str(m) +
                                                " (global_batch / (dp x micro_batch)); Megatron rejects fewer");

  // --- stage split ---
  const int chunks = L.pp * L.virtual_stages;
  std::vector<int> chunk_layers;
  if (!L.stage_layers.empty()) {
    if (static_cast<int>(L.stage_layers.size()) != chunks)
      return invalid("layout.stage_layers", "has " + str(static_cast<std::int64_t>(L.stage_layers.size())) +
                                                " entries but pp x virtual_stages = " + str(chunks));
    int sum = 0;
    for (std::size_t i = 0; i < L.stage_layers.size(); ++i) {
      if (L.stage_layers[i] < 0)
        return invalid("layout.stage_layers[" + std::to_string(i) + "]", "must not be negative");
      sum += L.stage_layers[i];
    }
    if (sum != ms.layers)
      return invalid("layout.stage_layers", "sums to " + str(sum) + " but the model has " + str(ms.layers) + " layers");
    chunk_layers = L.stage_layers;
  } else {
    const int extra = (L.embedding_as_layer ? 1 : 0) + (L.loss_as_layer ? 1 : 0);
    const int units = ms.layers + extra;
    if (units % chunks != 0) {
      return invalid("layout.pp", str(ms.layers) + " layers" +
                                      (extra ? " (+" + str(extra) + " for embedding/loss)" : std::string()) +
                                      " do not split evenly over pp x virtual_stages = " + str(chunks) +
                                      " stages; give layout.stage_layers, e.g. " + list(suggest_split(ms.layers, chunks)));
    }
    chunk_layers.assign(chunks, units / chunks);
    if (L.embedding_as_layer) --chunk_layers.front();
    if (L.loss_as_layer) --chunk_layers.back();
    if (chunks == 1 && extra) chunk_layers.front() = ms.layers;
  }

  Scenario sc{model, *cluster, T, L, {}, gpus, m};
  sc.stages.resize(L.pp);
  for (int r = 0; r < L.pp; ++r) {
    for (int j = 0; j < L.virtual_stages; ++j) sc.stages[r].chunk_layers.push_back(chunk_layers[j * L.pp + r]);
  }
  sc.stages.front().has_embedding = true;
  sc.stages.back().has_head = true;
  for (int r = 0; r < L.pp; ++r) {
    if (sc.stages[r].layers() == 0 && !sc.stages[r].has_embedding && !sc.stages[r].has_head)
      return invalid("layout.stage_layers", "pipeline rank " + str(r) + " has no layers");
  }
  return sc;
}

std::optional<Error> place_layout(Scenario& sc, const std::shared_ptr<const hardware::Fabric>& fabric) {
  if (!fabric) {
    sc.fabric.reset();
    sc.placement = hardware::Placement();
    return std::nullopt;
  }
  if (fabric->gpu_count() != sc.gpus)
    return Error{ErrorCode::internal, "cluster", "the fabric has " + std::to_string(fabric->gpu_count()) +
                                                     " GPUs, the scenario " + std::to_string(sc.gpus)};
  const auto& L = sc.layout;
  hardware::ParallelDegrees deg{.tp = L.tp, .cp = L.cp, .ep = L.ep, .dp = L.dp, .pp = L.pp};
  auto placement = hardware::place(*fabric, deg);
  if (!placement) return placement.error();
  sc.fabric = fabric;
  sc.placement = std::move(*placement);
  return std::nullopt;
}

Expected<Scenario> place_on_fabric(Scenario sc, std::shared_ptr<const hardware::Fabric> fabric) {
  if (auto e = place_layout(sc, fabric)) return *e;
  return sc;
}

}  // namespace clustersim::strategies
