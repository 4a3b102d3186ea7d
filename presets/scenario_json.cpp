#include "presets/scenario_json.hpp"

#include "presets/calibration_json.hpp"

#include <fstream>
#include <set>

#include "common/format.hpp"
#include "presets/topology_json.hpp"
#include "presets/units.hpp"

#include "presets/json_text.hpp"

namespace clustersim::presets {

namespace {

const char* type_name(const json& j) { return json_type_name(j); }

std::string shown(const json& j) { return json_shown(j); }

// Reads the fields of one JSON object, remembering which it consumed, so that finish() can report the
// fields nobody asked for (typos) with the closest known name.
class Reader {
 public:
  Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  [[nodiscard]] std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  bool has(const std::string& key) {
    known_.insert(key);
    return j_.contains(key) && !j_.at(key).is_null();
  }
  void allow(std::initializer_list<const char*> keys) {
    for (auto k : keys) known_.insert(k);
  }

  template <class Int>
  std::optional<Error> integer(const std::string& key, Int& out, bool required = false) {
    if (!has(key)) return required ? std::optional<Error>(invalid(at(key), "is required")) : std::nullopt;
    const auto& v = j_.at(key);
    if (v.is_number_integer() || v.is_number_unsigned()) {
      out = v.get<Int>();
      return std::nullopt;
    }
    if (v.is_number_float()) {
      const double d = v.get<double>();
      if (d == static_cast<double>(static_cast<std::int64_t>(d))) {
        out = static_cast<Int>(d);
        return std::nullopt;
      }
    }
    return invalid(at(key), std::string("expected an integer, got ") + type_name(v) + " " + shown(v));
  }
  std::optional<Error> number(const std::string& key, double& out, bool required = false) {
    if (!has(key)) return required ? std::optional<Error>(invalid(at(key), "is required")) : std::nullopt;
    const auto& v = j_.at(key);
    if (!v.is_number())
      return invalid(at(key), std::string("expected a number, got ") + type_name(v) + " " + shown(v));
    out = v.get<double>();
    return std::nullopt;
  }
  std::optional<Error> boolean(const std::string& key, bool& out) {
    if (!has(key)) return std::nullopt;
    const auto& v = j_.at(key);
    if (!v.is_boolean()) return invalid(at(key), std::string("expected true or false, got ") + type_name(v) + " " + shown(v));
    out = v.get<bool>();
    return std::nullopt;
  }
  std::optional<Error> string(const std::string& key, std::string& out, bool required = false) {
    if (!has(key)) return required ? std::optional<Error>(invalid(at(key), "is required")) : std::nullopt;
    const auto& v = j_.at(key);
    if (!v.is_string()) return invalid(at(key), std::string("expected a string, got ") + type_name(v) + " " + shown(v));
    out = v.get<std::string>();
    return std::nullopt;
  }
  // A number in SI base units or a string with a unit.
  std::optional<Error> quantity(const std::string& key, double& out, Dimension dim, bool required = false) {
    if (!has(key)) return required ? std::optional<Error>(invalid(at(key), "is required")) : std::nullopt;
    const auto& v = j_.at(key);
    if (v.is_number()) {
      out = v.get<double>();
      return std::nullopt;
    }
    if (v.is_string()) {
      auto q = parse_quantity(v.get<std::string>(), dim, at(key));
      if (!q) return q.error();
      out = *q;
      return std::nullopt;
    }
    return invalid(at(key), std::string("expected a number or a string with a unit, got ") + type_name(v));
  }
  template <class Enum, class Parse>
  std::optional<Error> choice(const std::string& key, Enum& out, Parse parse, const char* options) {
    std::string s;
    if (auto e = string(key, s)) return e;
    if (!has(key)) return std::nullopt;
    auto p = parse(s);
    if (!p) return invalid(at(key), "'" + s + "' is not one of " + options);
    out = *p;
    return std::nullopt;
  }

  [[nodiscard]] std::optional<Error> finish() const {
    if (!j_.is_object()) return std::nullopt;
    std::vector<std::string> names(known_.begin(), known_.end());
    for (const auto& [k, v] : j_.items()) {
      if (known_.count(k)) continue;
      std::string msg = "unknown field";
      const auto close = closest_match(k, names);
      if (!close.empty()) msg += "; did you mean '" + close + "'?";
      return invalid(at(k), msg);
    }
    return std::nullopt;
  }
  [[nodiscard]] const json& raw() const { return j_; }

 private:
  const json& j_;
  std::string path_;
  std::set<std::string> known_;
};

#define CS_TRY(expr)                         \
  do {                                       \
    if (auto cs_err_ = (expr)) return *cs_err_; \
  } while (0)

std::optional<model::MlpKind> parse_mlp(std::string_view s) {
  if (s == "gelu") return model::MlpKind::gelu;
  if (s == "swiglu") return model::MlpKind::swiglu;
  if (s == "relu") return model::MlpKind::relu;
  if (s == "squared-relu" || s == "squared_relu" || s == "relu2") return model::MlpKind::squared_relu;
  return std::nullopt;
}
std::optional<model::NormKind> parse_norm(std::string_view s) {
  if (s == "layernorm") return model::NormKind::layernorm;
  if (s == "rmsnorm") return model::NormKind::rmsnorm;
  return std::nullopt;
}
std::optional<model::PositionKind> parse_position(std::string_view s) {
  if (s == "learned") return model::PositionKind::learned;
  if (s == "rope") return model::PositionKind::rope;
  if (s == "alibi") return model::PositionKind::alibi;
  if (s == "none") return model::PositionKind::none;
  return std::nullopt;
}

// Fields every preset file carries besides its data.
void allow_metadata(Reader& r) { r.allow({"name", "aliases", "description", "sources", "vendor", "notes"}); }

}  // namespace

namespace {
// A preset by name, or from a file when the name ends in ".json" (a calibrated GPU written by
// `clustersim calibrate`, or any preset of the user's; relative paths are to the working directory).
Expected<json> named_preset(PresetKind kind, const std::string& name, const std::string& path) {
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
    std::ifstream in(name);
    if (!in) return invalid(path, "cannot open the preset file '" + name + "'");
    json j = json::parse(in, nullptr, false);
    if (j.is_discarded()) return invalid(path, "the preset file '" + name + "' is not valid JSON");
    if (!j.is_object()) return invalid(path, "the preset file '" + name + "' does not hold a JSON object");
    return j;
  }
  auto e = find_preset(kind, name, path);
  if (!e) return e.error();
  return (*e)->json;
}
}  // namespace

Expected<json> resolve(PresetKind kind, const json& j, const std::string& path) {
  if (j.is_string()) return named_preset(kind, j.get<std::string>(), path);
  if (!j.is_object())
    return invalid(path, std::string("expected a preset name or an object, got ") + type_name(j));
  if (!j.contains("base")) return j;
  const auto& base = j.at("base");
  if (!base.is_string()) return invalid(path + ".base", "expected a preset name");
  auto e = named_preset(kind, base.get<std::string>(), path + ".base");
  if (!e) return e.error();
  json merged = *e;
  json patch = j;
  patch.erase("base");
  merged.merge_patch(patch);
  return merged;
}

Expected<model::ModelSpec> model_from_json(const json& in, const std::string& path) {
  auto resolved = resolve(PresetKind::model, in, path);
  if (!resolved) return resolved.error();
  const json& j = *resolved;
  Reader r(j, path);
  allow_metadata(r);
  model::ModelSpec m;
  m.name = j.value("name", std::string("custom"));
  CS_TRY(r.integer("layers", m.layers, true));
  CS_TRY(r.integer("hidden", m.hidden, true));
  CS_TRY(r.integer("heads", m.heads, true));
  m.kv_heads = m.heads;
  CS_TRY(r.integer("kv_heads", m.kv_heads));
  CS_TRY(r.integer("head_dim", m.head_dim));
  CS_TRY(r.integer("ffn_hidden", m.ffn_hidden, !j.contains("moe")));
  CS_TRY(r.choice("mlp", m.mlp, parse_mlp, "gelu, swiglu, relu, squared-relu"));
  CS_TRY(r.integer("vocab", m.vocab, true));
  CS_TRY(r.boolean("tied_embeddings", m.tied_embeddings));
  CS_TRY(r.choice("position", m.position, parse_position, "learned, rope, alibi, none"));
  CS_TRY(r.integer("max_seq_length", m.max_seq_length));
  CS_TRY(r.choice("norm", m.norm, parse_norm, "layernorm, rmsnorm"));
  CS_TRY(r.boolean("linear_bias", m.linear_bias));
  CS_TRY(r.boolean("dropout", m.dropout));
  CS_TRY(r.boolean("embedding_norm", m.embedding_norm));
  CS_TRY(r.number("published_params", m.published_params));
  if (r.has("moe")) {
    Reader mr(j.at("moe"), path + ".moe");
    if (!j.at("moe").is_object()) return invalid(path + ".moe", "expected an object");
    model::MoeSpec moe;
    CS_TRY(mr.integer("experts", moe.experts, true));
    CS_TRY(mr.integer("top_k", moe.top_k, true));
    CS_TRY(mr.integer("shared_experts", moe.shared_experts));
    CS_TRY(mr.integer("expert_ffn_hidden", moe.expert_ffn_hidden, true));
    CS_TRY(mr.finish());
    m.moe = moe;
  }
  CS_TRY(r.finish());
  return m;
}

Expected<hardware::GpuSpec> gpu_from_json(const json& in, const std::string& path) {
  auto resolved = resolve(PresetKind::gpu, in, path);
  if (!resolved) return resolved.error();
  const json& j = *resolved;
  Reader r(j, path);
  allow_metadata(r);
  hardware::GpuSpec g;
  g.name = j.value("name", std::string("custom"));
  g.description = j.value("description", std::string());
  if (!r.has("peak_flops")) return invalid(r.at("peak_flops"), "is required");
  {
    const auto& pf = j.at("peak_flops");
    if (!pf.is_object()) return invalid(r.at("peak_flops"), "expected an object of precision: rate");
    Reader pr(pf, r.at("peak_flops"));
    for (auto p : hardware::kAllPrecisions) {
      double v = 0;
      const std::string key = hardware::to_string(p);
      CS_TRY(pr.quantity(key, v, Dimension::flop_rate));
      if (pr.has(key)) g.peak[static_cast<int>(p)] = FlopRate(v);
    }
    CS_TRY(pr.finish());
  }
  double v = 0;
  CS_TRY(r.quantity("hbm_capacity", v, Dimension::bytes, true));
  g.hbm_capacity = Bytes(v);
  CS_TRY(r.quantity("hbm_bandwidth", v, Dimension::byte_rate, true));
  g.hbm_bandwidth = ByteRate(v);
  v = 0;
  CS_TRY(r.quantity("tdp", v, Dimension::watts));
  g.tdp = Watts(v);
  v = 0;
  CS_TRY(r.quantity("power_limit", v, Dimension::watts));
  g.power_limit = Watts(v);
  CS_TRY(r.integer("sm_count", g.sm_count, true));
  if (r.has("efficiency")) {
    Reader er(j.at("efficiency"), r.at("efficiency"));
    CS_TRY(er.number("gemm_max", g.efficiency.gemm_max));
    CS_TRY(er.number("gemm_max_fp8", g.efficiency.gemm_max_fp8));
    CS_TRY(er.number("gemm_sustained", g.efficiency.gemm_sustained));
    CS_TRY(er.number("hbm", g.efficiency.hbm));
    CS_TRY(er.number("flash_attention", g.efficiency.flash_attention));
    double ko = g.efficiency.kernel_overhead.value;
    CS_TRY(er.quantity("kernel_overhead", ko, Dimension::seconds));
    g.efficiency.kernel_overhead = Seconds(ko);
    CS_TRY(er.finish());
  }
  if (r.has("calibration")) {
    auto cal = calibration_from_json(j.at("calibration"), r.at("calibration"));
    if (!cal) return cal.error();
    g.calibration = std::make_shared<const hardware::Calibration>(std::move(*cal));
  }
  if (r.has("memory_overheads")) {
    Reader mr(j.at("memory_overheads"), r.at("memory_overheads"));
    double c = g.cuda_context.value, w = g.workspace.value;
    CS_TRY(mr.quantity("cuda_context", c, Dimension::bytes));
    CS_TRY(mr.quantity("workspace", w, Dimension::bytes));
    g.cuda_context = Bytes(c);
    g.workspace = Bytes(w);
    CS_TRY(mr.finish());
  }
  CS_TRY(r.finish());
  auto valid = hardware::validate_gpu(g, path);
  if (!valid) return valid.error();
  return g;
}

namespace {
std::optional<Error> link_from_json(Reader& parent, const std::string& key, hardware::LinkSpec& link, bool required) {
  if (!parent.has(key)) return required ? std::optional<Error>(invalid(parent.at(key), "is required")) : std::nullopt;
  const json& j = parent.raw().at(key);
  if (!j.is_object()) return invalid(parent.at(key), "expected an object");
  Reader r(j, parent.at(key));
  double v = 0;
  if (auto e = r.quantity("bandwidth", v, Dimension::byte_rate, true)) return e;
  link.bandwidth = ByteRate(v);
  link.pair_bandwidth = link.bandwidth;
  if (r.has("pair_bandwidth")) {
    if (auto e = r.quantity("pair_bandwidth", v, Dimension::byte_rate)) return e;
    link.pair_bandwidth = ByteRate(v);
  }
  double lat = link.latency.value;
  if (auto e = r.quantity("latency", lat, Dimension::seconds)) return e;
  link.latency = Seconds(lat);
  if (auto e = r.number("efficiency", link.efficiency)) return e;
  if (auto e = r.boolean("in_network_reduction", link.in_network_reduction)) return e;
  return r.finish();
}
}  // namespace

Expected<hardware::ClusterSpec> cluster_from_json(const json& in, const std::string& path) {
  auto resolved = resolve(PresetKind::cluster, in, path);
  if (!resolved) return resolved.error();
  const json& j = *resolved;
  Reader r(j, path);
  allow_metadata(r);
  hardware::ClusterSpec c;
  c.name = j.value("name", std::string("custom"));
  c.description = j.value("description", std::string());
  if (!r.has("gpu")) return invalid(r.at("gpu"), "is required");
  auto gpu = gpu_from_json(j.at("gpu"), r.at("gpu"));
  if (!gpu) return gpu.error();
  c.gpu = *gpu;
  CS_TRY(r.integer("gpus_per_node", c.gpus_per_node, true));
  CS_TRY(r.integer("nodes", c.nodes));
  c.scale_up.latency = microseconds(3);
  c.scale_out.latency = microseconds(5);
  CS_TRY(link_from_json(r, "scale_up", c.scale_up, true));
  CS_TRY(link_from_json(r, "scale_out", c.scale_out, true));
  double w = 0;
  CS_TRY(r.quantity("node_power", w, Dimension::watts));
  c.node_power = Watts(w);
  r.allow({"topology"});
  CS_TRY(r.finish());
  auto valid = hardware::validate_cluster(c);
  if (!valid) return valid.error();
  CS_TRY(attach_topology(j, c, path));  // parses the fabric description and checks it against the cluster
  return c;
}

Expected<strategies::TrainingSpec> training_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return invalid(path, std::string("expected an object, got ") + type_name(j));
  Reader r(j, path);
  strategies::TrainingSpec t;
  CS_TRY(r.integer("seq_length", t.seq_length, true));
  CS_TRY(r.integer("global_batch", t.global_batch, true));
  std::string prec;
  CS_TRY(r.string("precision", prec));
  if (!prec.empty()) {
    if (prec == "bf16-mixed" || prec == "bf16 mixed") prec = "bf16";
    if (prec == "fp16-mixed" || prec == "fp16 mixed") prec = "fp16";
    auto p = hardware::parse_precision(prec);
    if (!p) return invalid(r.at("precision"), "'" + prec + "' is not one of bf16, fp16, fp8, fp32");
    t.precision = *p;
  }
  CS_TRY(r.number("tokens", t.tokens));
  std::string gp;
  CS_TRY(r.string("grad_precision", gp));
  if (!gp.empty()) {
    if (gp == "fp32") t.grad_precision = strategies::GradPrecision::fp32;
    else if (gp == "bf16" || gp == "fp16") t.grad_precision = strategies::GradPrecision::bf16;
    else return invalid(r.at("grad_precision"), "'" + gp + "' is not one of fp32, bf16");
  }
  CS_TRY(r.number("optimizer_bytes_per_param", t.optimizer_bytes_per_param));
  CS_TRY(r.choice("framework", t.framework, strategies::parse_framework, "megatron, deepspeed, fsdp, pytorch"));
  CS_TRY(r.number("loss_bytes_per_logit", t.loss_bytes_per_logit));
  CS_TRY(r.integer("nccl_channels", t.nccl_channels));
  CS_TRY(r.boolean("fused_elementwise", t.fused_elementwise));
  CS_TRY(r.integer("deferred_head_wgrad", t.deferred_head_wgrad));
  CS_TRY(r.choice("fp8_scaling", t.fp8_scaling, strategies::parse_fp8_scaling, "delayed, dynamic"));
  if (r.has("memory")) {
    const auto& mj = j.at("memory");
    if (!mj.is_object()) return invalid(r.at("memory"), "expected an object");
    Reader mr(mj, r.at("memory"));
    CS_TRY(mr.number("allocator_reserve", t.memory.allocator_reserve));
    double v = 0;
    if (mr.has("cuda_context")) {
      CS_TRY(mr.quantity("cuda_context", v, Dimension::bytes));
      t.memory.cuda_context = Bytes(v);
    }
    if (mr.has("nccl_buffers")) {
      CS_TRY(mr.quantity("nccl_buffers", v, Dimension::bytes));
      t.memory.nccl_buffers = Bytes(v);
    }
    if (mr.has("workspace")) {
      CS_TRY(mr.quantity("workspace", v, Dimension::bytes));
      t.memory.workspace = Bytes(v);
    }
    CS_TRY(mr.finish());
  }
  CS_TRY(r.finish());
  return t;
}

Expected<strategies::LayoutSpec> layout_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return invalid(path, std::string("expected an object, got ") + type_name(j));
  Reader r(j, path);
  strategies::LayoutSpec L;
  CS_TRY(r.integer("tp", L.tp));
  CS_TRY(r.integer("pp", L.pp));
  CS_TRY(r.integer("dp", L.dp));
  CS_TRY(r.integer("cp", L.cp));
  CS_TRY(r.integer("ep", L.ep));
  CS_TRY(r.boolean("sequence_parallel", L.sequence_parallel));
  CS_TRY(r.integer("micro_batch", L.micro_batch));
  CS_TRY(r.integer("virtual_stages", L.virtual_stages));
  const bool has_schedule = r.has("schedule");
  CS_TRY(r.choice("schedule", L.schedule, strategies::parse_schedule, "gpipe, 1f1b, interleaved-1f1b, zb-h1"));
  // Virtual stages imply the interleaved schedule when none is named (Megatron's behaviour).
  if (!has_schedule && L.virtual_stages > 1) L.schedule = strategies::Schedule::interleaved_1f1b;
  CS_TRY(r.integer("zero", L.zero));
  CS_TRY(r.choice("recompute", L.recompute, strategies::parse_recompute, "none, selective, selective-op, full"));
  CS_TRY(r.choice("attention", L.attention, strategies::parse_attention, "flash, materialized"));
  CS_TRY(r.integer("recompute_layers", L.recompute_layers));
  CS_TRY(r.number("attention_efficiency", L.attention_efficiency));
  if (r.has("stage_layers")) {
    const auto& sl = j.at("stage_layers");
    if (!sl.is_array()) return invalid(r.at("stage_layers"), "expected a list of layer counts");
    for (std::size_t i = 0; i < sl.size(); ++i) {
      if (!sl[i].is_number_integer())
        return invalid(r.at("stage_layers") + "[" + std::to_string(i) + "]", "expected an integer");
      L.stage_layers.push_back(sl[i].get<int>());
    }
  }
  CS_TRY(r.boolean("embedding_as_layer", L.embedding_as_layer));
  CS_TRY(r.boolean("loss_as_layer", L.loss_as_layer));
  CS_TRY(r.boolean("overlap_grad_reduce", L.overlap_grad_reduce));
  CS_TRY(r.boolean("overlap_param_gather", L.overlap_param_gather));
  CS_TRY(r.boolean("tp_comm_overlap", L.tp_comm_overlap));
  CS_TRY(r.finish());
  return L;
}

Expected<strategies::Scenario> scenario_from_json(const json& j) {
  if (!j.is_object()) return invalid("", std::string("a scenario must be a JSON object, got ") + type_name(j));
  Reader r(j, "");
  for (const char* required : {"model", "cluster", "training"})
    if (!r.has(required)) return invalid(required, "is required");
  r.allow({"layout", "name", "description"});
  CS_TRY(r.finish());
  auto ms = model_from_json(j.at("model"));
  if (!ms) return ms.error();
  auto model = model::validate_model(*ms);
  if (!model) return model.error();
  auto cluster = cluster_from_json(j.at("cluster"));
  if (!cluster) return cluster.error();
  auto training = training_from_json(j.at("training"));
  if (!training) return training.error();
  strategies::LayoutSpec layout;
  if (j.contains("layout")) {
    auto l = layout_from_json(j.at("layout"));
    if (!l) return l.error();
    layout = *l;
  }
  auto sc = strategies::validate_scenario(*model, *cluster, *training, layout);
  if (!sc) return sc.error();
  // The cluster as a graph, with the ranks placed on it: the closed form costs every dimension's
  // groups together on it (strategies/costs.cpp).
  auto fabric = hardware::Fabric::build(sc->cluster);
  if (!fabric) return fabric.error();
  return strategies::place_on_fabric(std::move(*sc), std::move(*fabric));
}

json model_to_json(const model::ModelSpec& m) {
  json j = {{"name", m.name},
            {"layers", m.layers},
            {"hidden", m.hidden},
            {"heads", m.heads},
            {"kv_heads", m.kv_heads},
            {"ffn_hidden", m.ffn_hidden},
            {"mlp", model::to_string(m.mlp)},
            {"vocab", m.vocab},
            {"tied_embeddings", m.tied_embeddings},
            {"position", model::to_string(m.position)},
            {"norm", model::to_string(m.norm)},
            {"linear_bias", m.linear_bias},
            {"dropout", m.dropout}};
  if (m.head_dim) j["head_dim"] = m.head_dim;
  if (m.position == model::PositionKind::learned) j["max_seq_length"] = m.max_seq_length;
  if (m.embedding_norm) j["embedding_norm"] = true;
  if (m.moe)
    j["moe"] = {{"experts", m.moe->experts}, {"top_k", m.moe->top_k}, {"shared_experts", m.moe->shared_experts},
                {"expert_ffn_hidden", m.moe->expert_ffn_hidden}};
  return j;
}

}  // namespace clustersim::presets
