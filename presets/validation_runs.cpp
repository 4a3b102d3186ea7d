#include "presets/validation_runs.hpp"

#include "presets/calibration_json.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

#include "common/format.hpp"
#include "model/ops.hpp"
#include "presets/scenario_json.hpp"
#include "sim/analytical.hpp"
#include "sim/validation_stats.hpp"

namespace clustersim::presets {

using nlohmann::json;

namespace {

std::string lower(const std::string& s) { return to_lower(s); }
bool has(const std::string& text, const char* needle) { return lower(text).find(lower(needle)) != std::string::npos; }

// Typed access to a record: null and missing are "unknown"; a present value of the wrong type is an
// error that names the record and the field.
class Record {
 public:
  explicit Record(const json& j) : j_(j) { id_ = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : "?"; }
  const std::string& id() const { return id_; }

  std::optional<std::string> text(const char* f) {
    if (!present(f)) return std::nullopt;
    if (!j_[f].is_string()) return bad(f, "a string");
    return j_[f].get<std::string>();
  }
  std::optional<double> number(const char* f) {
    if (!present(f)) return std::nullopt;
    if (!j_[f].is_number()) return bad_num(f, "a number");
    return j_[f].get<double>();
  }
  std::optional<std::int64_t> integer(const char* f) {
    if (!present(f)) return std::nullopt;
    if (!j_[f].is_number() || std::floor(j_[f].get<double>()) != j_[f].get<double>()) return bad_int(f);
    return static_cast<std::int64_t>(j_[f].get<double>());
  }
  std::optional<bool> boolean(const char* f) {
    if (!present(f)) return std::nullopt;
    if (!j_[f].is_boolean()) {
      error_ = "record " + id_ + ": field '" + f + "' must be true, false or null";
      return std::nullopt;
    }
    return j_[f].get<bool>();
  }
  // A text field that may also be a boolean or number in some files (fsdp, zero_stage).
  std::string loose(const char* f) {
    if (!present(f)) return "";
    if (j_[f].is_string()) return j_[f].get<std::string>();
    return j_[f].dump();
  }
  const std::optional<std::string>& error() const { return error_; }

 private:
  bool present(const char* f) const { return j_.contains(f) && !j_[f].is_null(); }
  std::optional<std::string> bad(const char* f, const char* what) {
    error_ = "record " + id_ + ": field '" + f + "' must be " + what + " or null, got " + j_[f].dump();
    return std::nullopt;
  }
  std::optional<double> bad_num(const char* f, const char* what) {
    error_ = "record " + id_ + ": field '" + f + "' must be " + what + " or null, got " + j_[f].dump();
    return std::nullopt;
  }
  std::optional<std::int64_t> bad_int(const char* f) {
    error_ = "record " + id_ + ": field '" + f + "' must be an integer or null, got " + j_[f].dump();
    return std::nullopt;
  }
  const json& j_;
  std::string id_;
  std::optional<std::string> error_;
};

enum class Family { megatron_legacy, megatron_core, megatron_ci, deepspeed_zero3, composer_fsdp, torchtitan,
                    lightning_ddp, metaseq, harness, other };

Family family_of(const std::string& framework, const std::string& group) {
  if (has(group, "Megatron-LM CI")) return Family::megatron_ci;
  if (has(framework, "clustersim measure harness")) return Family::harness;
  if (has(framework, "torchtitan")) return Family::torchtitan;
  if (has(framework, "Composer")) return Family::composer_fsdp;
  if (has(framework, "DeepSpeed ZeRO-3")) return Family::deepspeed_zero3;
  if (has(framework, "Megatron-Core")) return Family::megatron_core;
  if (has(framework, "metaseq")) return Family::metaseq;
  if (has(framework, "Lightning")) return Family::lightning_ddp;
  if (has(framework, "Megatron") || has(framework, "PTD-P") || has(framework, "GPT-NeoX") || has(group, "Korthikanti"))
    return Family::megatron_legacy;
  return Family::other;
}

// Value of "key=value" in the record's notes (Megatron CI records list their flags there).
std::optional<std::string> note_flag(const std::string& notes, const std::string& key) {
  const auto pos = notes.find(key + "=");
  if (pos == std::string::npos) return std::nullopt;
  auto start = pos + key.size() + 1;
  auto end = notes.find_first_of(";, )", start);
  auto v = notes.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (v == "None") return std::nullopt;
  return v;
}

// Per-GPU scale-out bandwidth (bytes/s) from an interconnect description, if it states one.
std::optional<double> scale_out_per_gpu(const std::string& text, int gpus_per_node) {
  std::smatch m;
  static const std::regex count_rate(R"((\d+)\s*[xX×]\s*(\d+)\s*(?:Gb/s|Gbps|Gbit/s))");
  static const std::regex per_gpu(R"((\d+)\s*(?:Gb/s|Gbps|Gbit/s)[^;,]*per GPU)");
  static const std::regex per_node(R"((\d+)\s*(?:Gb/s|Gbps|Gbit/s))");
  static const std::regex hcas(R"((\d+)\s*[xX×]\s*ConnectX)");
  static const std::regex opa(R"((\d+)\s*[xX×]\s*Omni-Path)");
  if (std::regex_search(text, m, count_rate)) return std::stod(m[1]) * std::stod(m[2]) * 1e9 / 8 / gpus_per_node;
  if (std::regex_search(text, m, per_gpu)) return std::stod(m[1]) * 1e9 / 8;
  if (std::regex_search(text, m, hcas)) {
    const double rate = has(text, "NDR") ? 400 : has(text, "HDR") ? 200 : 100;  // InfiniBand generations, Gb/s
    return std::stod(m[1]) * rate * 1e9 / 8 / gpus_per_node;
  }
  if (std::regex_search(text, m, opa)) return std::stod(m[1]) * 100e9 / 8 / gpus_per_node;  // Omni-Path 100 Gb/s
  if (std::regex_search(text, m, per_node) && has(text, "node")) return std::stod(m[1]) * 1e9 / 8 / gpus_per_node;
  return std::nullopt;
}

struct Mapping {
  json scenario;
  std::vector<std::string> assumptions;
  Family family = Family::other;
};

// Builds the scenario JSON for a record, or the reason it cannot be expressed.
Expected<Mapping> map_record(Record& r, const json& raw, const ValidateOptions& opt) {
  Mapping out;
  auto& A = out.assumptions;
  const std::string group = raw.value("group", std::string());
  const std::string framework = r.loose("framework");
  const std::string notes = r.loose("notes");
  const std::string model_name = r.loose("model_name");
  const std::string id = r.id();
  out.family = family_of(framework, group);
  const Family fam = out.family;

  // --- model ---
  const auto layers = r.integer("num_layers");
  const auto hidden = r.integer("hidden_size");
  const auto heads = r.integer("num_attention_heads");
  if (r.error()) return invalid("", *r.error());
  if (!layers || !hidden || !heads) return invalid("", "model shape missing (num_layers, hidden_size or num_attention_heads is null)");
  json m = {{"name", model_name.empty() ? id : model_name}, {"layers", *layers}, {"hidden", *hidden}, {"heads", *heads}};
  const auto kv = r.integer("num_kv_heads");
  m["kv_heads"] = kv ? *kv : *heads;
  std::string mlp = lower(r.loose("mlp_type"));
  if (has(mlp, "parallel")) return invalid("", "parallel attention + MLP blocks are not modelled");
  const bool llama_like = has(model_name, "llama") || fam == Family::torchtitan;
  if (mlp.empty()) {
    mlp = llama_like ? "swiglu" : "gelu";
    A.push_back("mlp_type: " + mlp + " (model family)");
  }
  if (mlp != "gelu" && mlp != "swiglu" && mlp != "relu") return invalid("", "mlp_type '" + mlp + "' not modelled");
  m["mlp"] = mlp;
  auto ffn = r.integer("ffn_hidden_size");
  if (!ffn) {
    ffn = 4 * *hidden;
    A.push_back("ffn_hidden_size: 4h");
  }
  m["ffn_hidden"] = *ffn;
  auto vocab = r.integer("vocab_size");
  if (!vocab) {
    vocab = 51200;  // GPT-2 BPE 50257 padded, the Megatron papers' vocabulary
    A.push_back("vocab_size: 51200 (Megatron GPT-2 BPE, padded)");
  }
  m["vocab"] = *vocab;
  const auto seq = r.integer("seq_length");
  if (r.error()) return invalid("", *r.error());
  if (!seq) return invalid("", "seq_length missing");
  const std::string ci_name = fam == Family::megatron_ci ? model_name : "";
  if (llama_like) {
    m["position"] = "rope";
    m["norm"] = "rmsnorm";
    m["tied_embeddings"] = false;
    m["linear_bias"] = false;
    m["dropout"] = false;
  } else if (fam == Family::composer_fsdp) {
    // MPT benchmark configs: learned positions (the notes), LayerNorm, no biases, tied embeddings, no dropout.
    m["position"] = "learned";
    m["max_seq_length"] = *seq;
    m["norm"] = "layernorm";
    m["tied_embeddings"] = true;
    m["linear_bias"] = false;
    m["dropout"] = false;
    A.push_back("MPT: learned positions, tied embeddings, no biases, no dropout (llm-foundry benchmark config)");
  } else if (fam == Family::harness) {
    // tools/measure's step model (its README): GPT-2 style, learned positions, LayerNorm and biases,
    // the LM head tied to the embedding, no dropout.
    m["position"] = "learned";
    m["max_seq_length"] = *seq;
    m["norm"] = "layernorm";
    m["tied_embeddings"] = true;
    m["linear_bias"] = true;
    m["dropout"] = false;
  } else if (has(model_name, "BLOOM")) {
    m["position"] = "alibi";
    m["norm"] = "layernorm";
    m["embedding_norm"] = true;
    m["tied_embeddings"] = true;
    m["linear_bias"] = true;
    m["dropout"] = true;
  } else {
    // Megatron GPT defaults: learned absolute positions, LayerNorm, biases, dropout 0.1, tied embeddings.
    const bool rope = has(ci_name, "rope");
    m["position"] = rope ? "rope" : "learned";
    if (!rope) m["max_seq_length"] = *seq;
    m["norm"] = "layernorm";
    const auto untie = note_flag(notes, "untie_emb");
    m["tied_embeddings"] = !(untie && *untie == "true") && !has(ci_name, "untie");
    m["linear_bias"] = !has(ci_name, "disable_bias_linear");
    m["dropout"] = true;
  }
  if (has(ci_name, "mla") || has(model_name, "moe") || has(ci_name, "etp")) return invalid("", "MLA / MoE layers are not modelled yet");

  // --- cluster ---
  const std::string gpu_type = r.loose("gpu_type");
  std::string node, gpu;
  json gpu_patch;
  json calibrated;
  if (opt.calibrated_gpu) {
    const json& cal = opt.calibrated_gpu->at("calibration");
    const std::string device = cal.value("device", std::string());
    if (!same_device(gpu_type, device))
      return invalid("", "measured on '" + gpu_type + "'; the --calibration preset is for '" + device + "'");
    calibrated = *opt.calibrated_gpu;
    A.push_back("gpu: the calibrated preset " + calibrated.value("name", std::string("?")));
  }
  if (!calibrated.is_null() && calibrated["calibration"].value("device_kind", std::string()) == "cpu") {
    node = "cpu-host";
  } else if (has(gpu_type, "TPU")) {
    return invalid("", "TPU pods (torus topology) are not modelled yet");
  } else if (has(gpu_type, "A100")) {
    if (has(gpu_type, "40GB") || has(gpu_type, "40 GB")) node = "dgx-a100-40gb";
    else node = "dgx-a100";
  } else if (has(gpu_type, "H200")) {
    node = "dgx-h200";
  } else if (has(gpu_type, "H100")) {
    node = "dgx-h100";
    if (has(gpu_type, "96GB") || has(gpu_type, "95GB")) {
      // Meta's Grand Teton H100 with 96 GB HBM2e at 500 W: same tensor cores, all six HBM stacks (6 x 16 GB)
      // but HBM2e instead of HBM3: 6 x 1024 pins at HBM2e's 3.2-3.6 Gb/s = 2.46-2.76 TB/s, the middle
      // taken (the 80 GB HBM3 part: 3.35 TB/s on five stacks).
      gpu_patch = {{"base", "h100-sxm"}, {"hbm_capacity", "96 GB"}, {"hbm_bandwidth", "2.6 TB/s"}, {"power_limit", "500 W"}};
      A.push_back("gpu: h100-sxm with 96 GB HBM2e (2.6 TB/s), power-capped at 500 W (Grand Teton variant)");
    }
  } else if (has(gpu_type, "V100")) {
    node = "dgx-v100";
  } else {
    return invalid("", "gpu_type '" + gpu_type + "' has no preset");
  }
  const auto gpus = r.integer("num_gpus");
  auto gpn = r.integer("gpus_per_node");
  if (r.error()) return invalid("", *r.error());
  if (!gpus) return invalid("", "num_gpus missing");
  json cluster = {{"base", node}};
  if (!gpu_patch.is_null()) cluster["gpu"] = gpu_patch;
  if (!calibrated.is_null()) cluster["gpu"] = calibrated;
  auto node_preset = resolve(PresetKind::cluster, json(node), "cluster");
  const int preset_gpn = node_preset ? (*node_preset)["gpus_per_node"].get<int>() : 8;
  int per_node = gpn ? static_cast<int>(*gpn) : preset_gpn;
  if (*gpus < per_node) per_node = static_cast<int>(*gpus);
  if (*gpus % per_node != 0) return invalid("", "num_gpus not a multiple of gpus_per_node");
  cluster["gpus_per_node"] = per_node;
  if (per_node != preset_gpn) cluster["topology"] = nullptr;  // a partial node: the default fabric for its size
  cluster["nodes"] = *gpus / per_node;
  const std::string ic = r.loose("interconnect");
  if (auto bw = scale_out_per_gpu(ic, per_node)) {
    json so = (*node_preset)["scale_out"];
    so["bandwidth"] = *bw;
    cluster["scale_out"] = so;
    A.push_back("scale-out " + std::to_string(static_cast<int>(*bw * 8 / 1e9)) + " Gb/s per GPU from the interconnect text");
  }

  // --- training ---
  json training;
  training["seq_length"] = *seq;
  const std::string prec = lower(r.loose("precision"));
  if (fam == Family::harness && (has(prec, "fp32") || has(prec, "tf32"))) training["precision"] = "fp32";
  else if (has(prec, "fp8") && (has(prec, "rowwise") || has(prec, "row-wise")))
    return invalid("", "FP8 with row-wise scaling is not modelled (its scaled GEMMs and per-row amax run at their own, "
                       "unmeasured speed; clustersim's FP8 is per-tensor scaling)");
  else if (has(prec, "fp8")) {
    training["precision"] = "fp8";
    // torchao's Float8 training (torchtitan) scales tensorwise by the current amax; Megatron's
    // "current scaling" recipe likewise; Transformer Engine's default elsewhere is delayed scaling.
    if (fam == Family::torchtitan || has(ci_name, "current_scaling") || has(prec, "current")) {
      training["fp8_scaling"] = "dynamic";
      A.push_back("fp8: dynamic (current) tensorwise scaling");
    }
  }
  else if (has(prec, "bf16")) training["precision"] = "bf16";
  else if (has(prec, "fp16")) training["precision"] = "fp16";
  else {
    training["precision"] = has(gpu_type, "V100") ? "fp16" : "bf16";
    A.push_back("precision: " + training["precision"].get<std::string>());
  }
  if (has(gpu_type, "V100") && training["precision"] == "bf16") training["precision"] = "fp16";

  // --- layout ---
  json L;
  auto tp = r.integer("tp");
  auto pp = r.integer("pp");
  auto cp = r.integer("cp");
  auto dp = r.integer("dp");
  const auto ep = r.integer("ep");
  if (r.error()) return invalid("", *r.error());
  if (cp && *cp > 1) return invalid("", "context parallelism (cp = " + std::to_string(*cp) + ") is not modelled yet");
  if (ep && *ep > 1) return invalid("", "expert parallelism is not modelled yet");
  const bool fsdp_family = fam == Family::torchtitan || fam == Family::composer_fsdp || fam == Family::metaseq ||
                           fam == Family::deepspeed_zero3;
  if (!tp) {
    if (!fsdp_family) return invalid("", "tp missing and no framework default");
    tp = 1;
    A.push_back("tp: 1");
  }
  if (!pp) {
    if (!fsdp_family) return invalid("", "pp missing and no framework default");
    pp = 1;
    A.push_back("pp: 1 (FSDP framework without pipeline)");
  }
  L["tp"] = *tp;
  L["pp"] = *pp;
  const std::int64_t model_par = *tp * *pp;
  if (*gpus % model_par != 0) return invalid("", "tp x pp does not divide num_gpus");
  const std::int64_t dp_derived = *gpus / model_par;
  if (dp && *dp != dp_derived) return invalid("", "dp disagrees with num_gpus / (tp x pp)");
  L["dp"] = dp_derived;

  auto sp = r.boolean("sequence_parallel");
  if (!sp) {
    sp = (fam == Family::megatron_core || fam == Family::torchtitan) && *tp > 1;
    if (*tp > 1) A.push_back(std::string("sequence_parallel: ") + (*sp ? "on (framework default with TP)" : "off"));
  }
  L["sequence_parallel"] = *sp && *tp > 1;

  auto vpp = r.integer("virtual_pp");
  if (!vpp && fam == Family::megatron_ci) {
    // The CI test's name carries its --num-virtual-stages-per-pipeline-rank ("..._pp4_vp2_...").
    const auto pos = ci_name.find("_vp");
    if (pos != std::string::npos && pos + 3 < ci_name.size() && std::isdigit(static_cast<unsigned char>(ci_name[pos + 3]))) {
      vpp = std::stoll(ci_name.substr(pos + 3));
      if (*vpp > 1) A.push_back("virtual pipeline stages: " + std::to_string(*vpp) + " (from the CI test's name)");
    }
  }
  if (!vpp && fam == Family::torchtitan && *pp > 1 && has(notes, "Interleaved 1F1B")) {
    // torchtitan builds two stages per rank for its multi-stage schedules (generate_split_points:
    // num_stages_per_rank = 2 for PipelineScheduleMulti).
    vpp = 2;
    A.push_back("pipeline: interleaved 1F1B, 2 stages per rank (torchtitan's split for multi-stage schedules)");
  }
  if (vpp && *vpp > 1 && *pp > 1) {
    L["virtual_stages"] = *vpp;
    L["schedule"] = "interleaved-1f1b";
  }
  const std::int64_t chunks = *pp * (vpp && *vpp > 1 && *pp > 1 ? *vpp : 1);
  if (has(ci_name, "account_for_embedding")) {
    L["embedding_as_layer"] = true;
    L["loss_as_layer"] = true;
  } else if (*layers % chunks != 0 && (*layers + 2) % chunks == 0) {
    // Megatron-DeepSpeed's embedding-aware partitioning and torchtitan's pipeline splitter count the
    // embedding and the LM head as stage members, as NeMo's account-for-embedding/loss options do.
    L["embedding_as_layer"] = true;
    L["loss_as_layer"] = true;
    A.push_back("pipeline split: embedding and loss counted as layers (" + std::to_string(*layers + 2) + " units)");
  }
  if (has(ci_name, "uneven_pipeline")) return invalid("", "uneven pipeline split not given in the record");

  // Recomputation.
  std::string rc = lower(r.loose("recompute"));
  if (rc.empty()) {
    if (fam == Family::megatron_legacy || fam == Family::deepspeed_zero3 || fam == Family::metaseq) {
      rc = "full";
      A.push_back("recompute: full (the run's FLOP formula / era: activation checkpointing on)");
    } else if (fam == Family::megatron_core) {
      rc = "selective";
      A.push_back("recompute: selective (Megatron-Core default with TE)");
    } else {
      rc = "none";
      A.push_back("recompute: none");
    }
  }
  if (has(rc, "selective (layer)")) {
    // torchtitan selective layer AC checkpoints every second layer (ac_freq 2 in its configs).
    L["recompute"] = "full";
    L["recompute_layers"] = *layers / *pp / 2;
    A.push_back("torchtitan layer-selective AC: every 2nd layer fully recomputed");
  } else if (has(rc, "selective") && fam == Family::torchtitan) {
    // torchtitan's "selective" default is per-op SAC (selective_ac_option = "op").
    L["recompute"] = "selective-op";
  } else if (has(rc, "selective")) {
    L["recompute"] = "selective";
  } else if (has(rc, "full")) {
    L["recompute"] = "full";
  } else {
    L["recompute"] = "none";
  }

  // Attention kernel.
  bool flash = true;
  const auto backend = note_flag(notes, "attention_backend");
  if (fam == Family::megatron_ci) {
    // Transformer Engine's fused attention is the default; the local (non-TE) spec and an explicit
    // unfused backend materialise the scores.
    const bool local_spec = has(ci_name, "mcore_tp") || has(ci_name, "uninstall_te");
    flash = backend ? *backend != "unfused" && *backend != "local" : !local_spec;
  } else if (fam == Family::megatron_legacy || fam == Family::deepspeed_zero3 || fam == Family::metaseq) {
    flash = false;  // before FlashAttention (2022): fused scale-mask-softmax on materialised scores
  }
  if (fam == Family::harness) flash = r.loose("attention_impl") == "sdpa";
  if (fam == Family::megatron_ci && calibrated.is_null()) {
    // The CI's model_config.yaml sets CUBLAS_WORKSPACE_CONFIG=:4096:8 (deterministic mode): 8 x 4 MiB per
    // cuBLAS handle on every GPU, two handles (main and autograd threads); Transformer Engine adds its own
    // cuBLAS workspace, 32 MiB on Hopper and later, 4 MiB before (transformer_engine/pytorch
    // get_cublas_workspace_size_bytes). All are torch allocations, inside the allocated peak.
    const bool te = !(has(ci_name, "mcore_tp") || has(ci_name, "uninstall_te"));
    const bool hopper = !has(gpu_type, "A100") && !has(gpu_type, "V100");
    const double mib = 2.0 * 32.0 + (te ? (hopper ? 32.0 : 4.0) : 0.0);
    training["memory"]["workspace"] = std::to_string(static_cast<int>(mib)) + " MiB";
    A.push_back("workspaces: cuBLAS 2 x 32 MiB (CUBLAS_WORKSPACE_CONFIG=:4096:8)" +
                std::string(te ? " + Transformer Engine's" : ""));
  }
  if (has(ci_name, "cross_entropy_loss_fusion")) {
    // --cross-entropy-loss-fusion: the fused vocab-parallel loss upcasts the 16-bit logits (still held
    // by the caller) to fp32, and the compiled exp/sum step writes a fresh fp32 logits buffer instead of
    // working in place (torch.compile materialises mutated inputs that are also reduced; noted in
    // megatron/core/fusions/fused_cross_entropy.py, whose later versions compile the in-place steps
    // apart): 2 + 4 + 4 bytes per logit, against the unfused loss's 2 + 4.
    training["loss_bytes_per_logit"] = 10.0;
    A.push_back("fused cross-entropy: 10 bytes per logit (16-bit logits, fp32 copy, fp32 exp buffer)");
  }
  if (has(ci_name, "defer_embedding_wgrad")) {
    // The test's model_config.yaml: --defer-embedding-wgrad-compute with --wgrad-deferral-limit 2.
    training["deferred_head_wgrad"] = 2;
    A.push_back("deferred LM-head wgrad: 2 micro-batches (the test's --wgrad-deferral-limit)");
  }
  L["attention"] = flash ? "flash" : "materialized";
  if (fam == Family::composer_fsdp && node_preset) {
    // llm-foundry's benchmark configs run the Triton FlashAttention kernel. FlashAttention-2 is 1.3-1.5x
    // faster than it in the forward pass and about 2x in the backward (Dao 2023, sec. 4.1; 1.3-2.5x
    // overall in its introduction); the backward does 2.5x the forward's work, so one rate for both:
    // (1.4 + 2.5 x 2) / 3.5 = 1.8x slower than FlashAttention-2.
    constexpr double kTritonSlowdown = 1.8;
    auto gpu_json = resolve(PresetKind::gpu, (*node_preset)["gpu"], "cluster.gpu");
    if (gpu_json) {
      L["attention_efficiency"] = (*gpu_json)["efficiency"]["flash_attention"].get<double>() / kTritonSlowdown;
      A.push_back("attention kernel: Triton FlashAttention (FA2 / 1.8)");
    }
  }

  // ZeRO / FSDP / distributed optimizer.
  int zero = 0;
  const auto zs = r.integer("zero_stage");
  const std::string fsdp = r.loose("fsdp");
  const auto dist_opt = r.boolean("distributed_optimizer");
  if (r.error()) return invalid("", *r.error());
  if (zs) zero = static_cast<int>(*zs);
  if (!fsdp.empty() && fsdp != "false") zero = 3;
  if (dist_opt && *dist_opt) zero = std::max(zero, 1);
  if (fam == Family::megatron_core && !zs && !dist_opt) {
    zero = 1;
    A.push_back("distributed optimizer (Megatron-Core scripts)");
  }
  L["zero"] = zero;
  if (zero == 3 && (fam == Family::torchtitan || fam == Family::composer_fsdp)) training["framework"] = "fsdp";
  if (fam == Family::torchtitan && !has(framework, "compile")) {
    training["fused_elementwise"] = false;
    A.push_back("eager elementwise ops (no torch.compile)");
  }
  if (fam == Family::torchtitan) {
    // torchtitan's eager loss holds up to 12 s b V / t bytes, a compiled one 4 (memory-modelling notes
    // sec. 2). Its 2024 releases compiled the transformer blocks only, later ones the loss too.
    const bool loss_compiled = has(framework, "compile") && !has(group, "2024");
    training["loss_bytes_per_logit"] = loss_compiled ? 4.0 : 12.0;
    if (loss_compiled) A.push_back("loss compiled with torch.compile (torchtitan 2025)");
  }
  else if (fam == Family::deepspeed_zero3) training["framework"] = "deepspeed";
  if (fam == Family::harness) {
    // Plain PyTorch: Adam's two fp32 moments beside fp32 weights and grads (no master copy), eager ops,
    // and the eager fp32 loss at the start of backward: logits, log_softmax output and its gradient.
    training["framework"] = "pytorch";
    training["optimizer_bytes_per_param"] = 8.0;
    training["fused_elementwise"] = false;
    training["loss_bytes_per_logit"] = 12.0;
  }
  if (fam == Family::lightning_ddp || fam == Family::torchtitan || fam == Family::composer_fsdp) {
    if (!training.contains("framework")) training["framework"] = "fsdp";  // PyTorch-native stack (eager ops)
  }

  if (fam == Family::megatron_legacy && has(framework, "2020")) {
    // Megatron-LM 2020 (v1.x) all-reduced the fp16 gradients themselves (--fp32-allreduce off by
    // default); the fp32 main-gradient buffer came with the 2021 releases.
    training["grad_precision"] = "fp16";
    A.push_back("gradients: 16-bit, all-reduced as such (Megatron-LM 2020, --fp32-allreduce off)");
  }
  // Overlap of DP communication: Megatron 2020-22 reduced gradients after the backward; Megatron-Core,
  // DDP/FSDP overlap by default.
  const bool overlap = !(fam == Family::megatron_legacy);
  L["overlap_grad_reduce"] = overlap;
  L["overlap_param_gather"] = overlap;
  if (auto og = note_flag(notes, "overlap_grad")) L["overlap_grad_reduce"] = *og == "true";
  if (auto op = note_flag(notes, "overlap_param")) L["overlap_param_gather"] = *op == "true";
  if (has(framework, "AsyncTP") || has(framework, "async TP") || has(notes, "--tp-comm-overlap")) L["tp_comm_overlap"] = true;

  // Batch.
  auto mb = r.integer("micro_batch_size");
  auto gbs = r.integer("global_batch_size");
  const auto ga = r.integer("grad_accum_steps");
  if (r.error()) return invalid("", *r.error());
  if (!gbs && *pp > 1) return invalid("", "global_batch_size missing: the pipeline bubble depends on it");
  if (!mb) {
    if (gbs && has(framework, "2020") && *gbs % dp_derived == 0) {
      // Megatron-LM 2020 had no micro-batches: each replica ran its whole share of the batch at once.
      mb = *gbs / dp_derived;
      A.push_back("micro_batch: " + std::to_string(*mb) + " (Megatron 2020: the per-replica batch, no accumulation)");
    } else if (gbs && fam == Family::torchtitan && *pp > 1 && has(group, "2024") && *gbs % (dp_derived * *pp) == 0) {
      // torchtitan (2024) split each rank's batch into as many pipeline micro-batches as there are
      // stages (experimental.pipeline_parallel_microbatches defaulted to the PP degree); 2025 releases
      // switched to a micro-batch size of 1.
      mb = *gbs / (dp_derived * *pp);
      A.push_back("micro_batch: " + std::to_string(*mb) + " (torchtitan 2024: micro-batches = PP degree)");
    } else if (gbs && (fam == Family::lightning_ddp) && *gbs % dp_derived == 0) {
      // The FlashAttention repo's configs give each GPU its whole share (no accumulation) when it fits.
      mb = std::min<std::int64_t>(*gbs / dp_derived, 8);
      A.push_back("micro_batch: " + std::to_string(*mb) + " (per-GPU batch, capped at 8 as the repo's 80 GB configs)");
    } else {
      mb = 1;
      A.push_back("micro_batch: 1");
    }
  }
  if (!gbs) {
    gbs = *mb * dp_derived * (ga ? *ga : 1);
    A.push_back("global_batch: micro_batch x dp" + std::string(ga ? " x grad_accum" : ""));
  }
  L["micro_batch"] = *mb;
  training["global_batch"] = *gbs;
  out.scenario = {{"model", m}, {"cluster", cluster}, {"training", training}, {"layout", L}};
  return out;
}

// FLOPs of one iteration by Narayanan et al. 2021 Eq. 3 (with full recomputation):
// 96 B s l h^2 (1 + s/(6h) + V/(16 l h)), from the record's own shape.
double narayanan_eq3(double B, double s, double l, double h, double V) {
  return 96.0 * B * s * l * h * h * (1.0 + s / (6.0 * h) + V / (16.0 * l * h));
}

}  // namespace

std::string verification_class(const std::string& v) {
  if (has(v, "recalled_unverified")) return "recalled_unverified";
  if (has(v, "analytical")) return "analytical";
  if (has(v, "read_from_secondary_source")) return "read_from_secondary_source";
  if (has(v, "read_from_source")) return "read_from_source";
  return "unknown";
}

Expected<json> record_scenario(const json& raw, std::vector<std::string>* assumptions, const ValidateOptions& options) {
  if (!raw.is_object()) return invalid("", "record is not a JSON object");
  Record r(raw);
  auto mapped = map_record(r, raw, options);
  if (!mapped) return mapped.error();
  if (assumptions) *assumptions = mapped->assumptions;
  return mapped->scenario;
}

RecordResult validate_record(const json& raw, const ValidateOptions& options) {
  RecordResult res;
  if (!raw.is_object()) {
    res.skipped = SkippedRecord{"?", "record is not a JSON object"};
    return res;
  }
  Record r(raw);
  auto mapped = map_record(r, raw, options);
  if (!mapped) {
    res.skipped = SkippedRecord{r.id(), mapped.error().message};
    return res;
  }
  res.assumptions = mapped->assumptions;
  auto sc = scenario_from_json(mapped->scenario);
  if (!sc) {
    res.skipped = SkippedRecord{r.id(), "cannot build the scenario: " + sc.error().what()};
    return res;
  }
  const auto rep = sim::estimate(*sc);
  const std::string group = raw.value("group", std::string());
  const std::string verification = verification_class(r.loose("verification"));
  const bool counted_class = verification == "read_from_source" || verification == "read_from_secondary_source";
  const bool ci = mapped->family == Family::megatron_ci;
  auto row = [&](const std::string& metric, MetricKind kind, double predicted, double measured) {
    MetricRow m;
    m.id = r.id();
    m.group = group;
    m.verification = verification;
    m.metric = metric;
    m.kind = kind;
    m.predicted = predicted;
    m.measured = measured;
    m.error_pct = sim::signed_error_pct(predicted, measured);
    m.in_target = counted_class;
    if (!counted_class) m.note = "excluded: " + verification;
    if (kind == MetricKind::time && ci) {
      m.in_target = false;
      m.note = "excluded: Megatron CI times (deterministic, unfused kernels)";
    }
    if (kind == MetricKind::static_memory) {
      m.in_target = false;
      m.note = "steady memory (diagnostic)";
    }
    res.rows.push_back(m);
  };

  // --- time or throughput, like with like ---
  const auto iter = r.number("iteration_time_s");
  const auto tps_gpu = r.number("tokens_per_s_per_gpu");
  const auto tps = r.number("tokens_per_s");
  const auto tflops = r.number("tflops_per_gpu");
  const auto mfu = r.number("mfu_pct");
  const std::string kind = r.loose("tflops_kind");
  const double gpus = sc->gpus;
  if (iter) {
    row("iteration_time_s", MetricKind::time, rep.iteration_time_s, *iter);
  } else if (tps_gpu) {
    row("tokens_per_s_per_gpu", MetricKind::time, rep.tokens_per_s / gpus, *tps_gpu);
  } else if (tps) {
    row("tokens_per_s_per_gpu", MetricKind::time, rep.tokens_per_s / gpus, *tps / gpus);
  } else if (tflops && !kind.empty()) {
    double flops = rep.model_flops;
    if (has(kind, "96*B") || has(kind, "paper formula") || has(kind, "4*2") || has(kind, "incl. recompute") ||
        has(kind, "Megatron formula")) {
      const auto& ms = sc->model.spec();
      flops = narayanan_eq3(static_cast<double>(sc->training.global_batch), static_cast<double>(sc->training.seq_length),
                            ms.layers, static_cast<double>(ms.hidden), static_cast<double>(ms.vocab));
    } else if (has(kind, "hardware")) {
      flops = rep.hardware_flops;
    }
    row("tflops_per_gpu", MetricKind::time, flops / rep.iteration_time_s / gpus / 1e12, *tflops);
  } else if (mfu) {
    row("mfu", MetricKind::time, rep.mfu * 100.0, *mfu);
  }

  // --- memory, by what was measured ---
  const auto peak = r.number("peak_memory_gib");
  const auto stat = r.number("static_memory_gib");
  const std::string mk = r.loose("memory_kind");
  if (peak && !mk.empty() && !has(mk, "analytical")) {
    double predicted = 0;
    if (has(mk, "allocated_bytes") || has(mk, "max_memory_allocated")) {
      // torch allocated peak on the last rank (the last pipeline stage).
      predicted = rep.memory.stages.back().allocated_peak.value;
    } else {
      // reserved peak (torchtitan logs max reserved / active across GPUs)
      predicted = rep.memory.peak_reserved.value;
    }
    row("peak_memory_gib", MetricKind::memory, predicted / kGiB, *peak);
  }
  if (stat && has(mk, "allocated")) {
    const auto& st = rep.memory.stages.back();
    row("static_memory_gib", MetricKind::static_memory,
        (st.weights + st.gradients + st.optimizer + st.workspace).value / kGiB, *stat);
  }
  if (r.error()) {
    res.rows.clear();
    res.skipped = SkippedRecord{r.id(), *r.error()};
    return res;
  }
  if (res.rows.empty()) res.skipped = SkippedRecord{r.id(), "no measured time, throughput or memory to compare"};
  return res;
}

}  // namespace clustersim::presets
