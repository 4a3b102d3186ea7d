#include "presets/sweep_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/format.hpp"
#include "presets/prices_json.hpp"
#include "presets/scenario_json.hpp"
#include "presets/units.hpp"

#include "presets/json_text.hpp"

namespace clustersim::presets {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

const char* type_name(const json& j) { return json_type_name(j); }

std::string shown(const json& j) { return json_shown(j); }

std::string at(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string item(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

// Every field of `obj` must be one of `known`; a near miss gets a suggestion.
std::optional<Error> check_keys(const json& obj, const std::string& path, const std::vector<std::string>& known,
                                const char* what = "unknown field") {
  for (const auto& [k, v] : obj.items()) {
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    std::string msg = what;
    const auto close = closest_match(k, known);
    if (!close.empty()) msg += "; did you mean '" + close + "'?";
    else msg += " (known: " + join(known) + ")";
    return invalid(at(path, k), msg);
  }
  return std::nullopt;
}

template <class Int>
std::optional<Error> get_int(const json& v, const std::string& path, Int& out) {
  double d = 0;
  if (v.is_number_integer() || v.is_number_unsigned()) {
    d = v.get<double>();
  } else if (v.is_number_float()) {
    d = v.get<double>();
    if (d != std::floor(d)) return invalid(path, "expected an integer, got " + shown(v));
  } else {
    return invalid(path, std::string("expected an integer, got ") + type_name(v) + " " + shown(v));
  }
  if (d < static_cast<double>(std::numeric_limits<Int>::min()) || d > static_cast<double>(std::numeric_limits<Int>::max()))
    return invalid(path, shown(v) + " is out of range");
  out = static_cast<Int>(d);
  return std::nullopt;
}

// "auto", one value, or a list of values.
template <class T, class ParseOne>
std::optional<Error> parse_axis(const json& v, const std::string& path, sim::Axis<T>& axis, ParseOne parse_one) {
  if (v.is_string() && v.get<std::string>() == "auto") {
    axis.mode = sim::AxisMode::automatic;
    return std::nullopt;
  }
  axis.mode = sim::AxisMode::list;
  axis.values.clear();
  if (!v.is_array()) {
    T t{};
    if (auto e = parse_one(v, path, t)) return e;
    axis.values.push_back(t);
    return std::nullopt;
  }
  if (v.empty()) return invalid(path, "is an empty list; give at least one value or \"auto\"");
  for (std::size_t i = 0; i < v.size(); ++i) {
    T t{};
    if (auto e = parse_one(v[i], item(path, i), t)) return e;
    axis.values.push_back(t);
  }
  return std::nullopt;
}

auto int_value = [](const json& v, const std::string& path, int& out) -> std::optional<Error> {
  if (v.is_string()) return invalid(path, "expected \"auto\", an integer or a list of integers, got " + shown(v));
  return get_int(v, path, out);
};
auto bool_value = [](const json& v, const std::string& path, bool& out) -> std::optional<Error> {
  if (!v.is_boolean()) return invalid(path, "expected \"auto\", true, false or a list of them, got " + shown(v));
  out = v.get<bool>();
  return std::nullopt;
};
template <class Enum, class Parse>
auto enum_value(Parse parse, const char* options) {
  return [parse, options](const json& v, const std::string& path, Enum& out) -> std::optional<Error> {
    if (!v.is_string()) return invalid(path, std::string("expected \"auto\", a name or a list of names, got ") + shown(v));
    const auto p = parse(v.get<std::string>());
    if (!p) return invalid(path, "'" + v.get<std::string>() + "' is not one of " + options);
    out = *p;
    return std::nullopt;
  };
}

// A list (or one value) of an outer axis; "auto" has no meaning there.
std::optional<Error> outer_values(const json& v, const std::string& path, std::vector<json>& out) {
  if (v.is_string() && v.get<std::string>() == "auto")
    return invalid(path, "\"auto\" is not possible for this axis; list the values");
  if (v.is_array()) {
    if (v.empty()) return invalid(path, "is an empty list; give at least one value");
    for (const auto& x : v) out.push_back(x);
  } else {
    out.push_back(v);
  }
  return std::nullopt;
}

const std::vector<std::string> kLayoutAxes = {"tp",          "pp",       "dp",   "cp",       "ep",
                                              "micro_batch", "virtual_stages", "zero", "schedule", "recompute",
                                              "sequence_parallel", "attention"};
const std::vector<std::string> kOuterAxes = {"cluster", "gpu", "nodes", "gpus", "seq_length", "global_batch"};

std::vector<std::string> all_axes() {
  auto v = kLayoutAxes;
  v.insert(v.end(), kOuterAxes.begin(), kOuterAxes.end());
  return v;
}

std::optional<Error> parse_constraints(const json& j, sim::SweepConstraints& c) {
  const std::string path = "constraints";
  if (!j.is_object()) return invalid(path, std::string("expected an object, got ") + type_name(j));
  const std::vector<std::string> known = {
      "min_tp", "max_tp", "min_pp", "max_pp", "min_dp", "max_dp", "min_micro_batch", "max_micro_batch",
      "min_virtual_stages", "max_virtual_stages", "tp_within_node", "max_memory_fraction", "min_free_memory"};
  if (auto e = check_keys(j, path, known, "unknown constraint")) return e;
  auto range = [&](const char* name, sim::DegreeRange& r) -> std::optional<Error> {
    const std::string lo = std::string("min_") + name, hi = std::string("max_") + name;
    if (j.contains(lo))
      if (auto e = get_int(j.at(lo), at(path, lo), r.min)) return e;
    if (j.contains(hi))
      if (auto e = get_int(j.at(hi), at(path, hi), r.max)) return e;
    return std::nullopt;
  };
  if (auto e = range("tp", c.tp)) return e;
  if (auto e = range("pp", c.pp)) return e;
  if (auto e = range("dp", c.dp)) return e;
  if (auto e = range("micro_batch", c.micro_batch)) return e;
  if (auto e = range("virtual_stages", c.virtual_stages)) return e;
  if (j.contains("tp_within_node")) {
    const auto& v = j.at("tp_within_node");
    if (!v.is_boolean()) return invalid(at(path, "tp_within_node"), "expected true or false, got " + shown(v));
    c.tp_within_node = v.get<bool>();
  }
  if (j.contains("max_memory_fraction")) {
    const auto& v = j.at("max_memory_fraction");
    if (!v.is_number()) return invalid(at(path, "max_memory_fraction"), "expected a number in (0, 1], got " + shown(v));
    c.max_memory_fraction = v.get<double>();
  }
  if (j.contains("min_free_memory")) {
    const auto& v = j.at("min_free_memory");
    const std::string p = at(path, "min_free_memory");
    if (v.is_number()) {
      c.min_free_memory = Bytes(v.get<double>());
    } else if (v.is_string()) {
      auto q = parse_quantity(v.get<std::string>(), Dimension::bytes, p);
      if (!q) return q.error();
      c.min_free_memory = Bytes(*q);
    } else {
      return invalid(p, "expected bytes (a number or a string like \"8 GiB\"), got " + shown(v));
    }
  }
  return std::nullopt;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

Expected<std::optional<sim::Price>> price_for_gpu(const json& price, const hardware::GpuSpec& gpu,
                                                  const std::string& path) {
  auto one = [](const json& v, const std::string& at) -> Expected<std::optional<sim::Price>> {
    if (v.is_number()) {
      if (!(v.get<double>() > 0)) return invalid(at, "must be a positive number of USD per GPU-hour, got " + shown(v));
      return std::optional<sim::Price>(sim::Price{"user", v.get<double>(), "", "user", "price given in the sweep file", "user"});
    }
    if (v.is_string()) {
      auto p = find_price(v.get<std::string>(), at);
      if (!p) return p.error();
      return std::optional<sim::Price>(*p);
    }
    return invalid(at, std::string("expected USD per GPU-hour (a number) or a price preset name, got ") + type_name(v) +
                           " " + shown(v));
  };
  if (price.is_object()) {
    for (const auto& [name, v] : price.items()) {
      // A key names the GPU by its preset name or an alias of it.
      std::string key = lower(name);
      if (auto p = find_preset(PresetKind::gpu, name, at(path, name)); p) key = lower((*p)->name);
      if (key == lower(gpu.name)) return one(v, at(path, name));
    }
  } else if (!price.is_null()) {
    return one(price, path);
  }
  return default_price_for_gpu(gpu.name);
}

Expected<sim::SweepSpec> sweep_from_json(const json& j) {
  if (!j.is_object()) return invalid("", std::string("a sweep file must be a JSON object, got ") + type_name(j));
  if (auto e = check_keys(j, "", {"base", "axes", "constraints", "evaluator", "objectives", "top_k",
                                  "price_per_gpu_hour", "name", "description"}))
    return *e;
  if (!j.contains("base")) return invalid("base", "is required (the scenario every layout starts from)");
  const json& base = j.at("base");
  if (!base.is_object()) return invalid("base", std::string("expected an object, got ") + type_name(base));
  if (auto e = check_keys(base, "base", {"model", "cluster", "training", "layout", "name", "description"})) return *e;
  for (const char* required : {"model", "training"})
    if (!base.contains(required)) return invalid(at("base", required), "is required");
  const json axes = j.value("axes", json::object());
  if (!axes.is_object()) return invalid("axes", std::string("expected an object, got ") + type_name(axes));
  if (auto e = check_keys(axes, "axes", all_axes(), "unknown axis")) return *e;
  if (!base.contains("cluster") && !axes.contains("cluster")) return invalid("base.cluster", "is required");

  sim::SweepSpec spec;

  // --- layout: the fixed fields, then the axes (an axis may not also be fixed in base.layout) ---
  const json layout_j = base.value("layout", json::object());
  auto layout = layout_from_json(layout_j, "base.layout");
  if (!layout) return layout.error();
  spec.layout = *layout;
  for (const auto& name : kLayoutAxes)
    if (axes.contains(name) && layout_j.is_object() && layout_j.contains(name))
      return invalid("axes." + name, "is also fixed in base.layout." + name + "; sweep it or fix it, not both");
  auto& A = spec.axes;
  auto axis = [&](const char* name, auto& a, auto parse) -> std::optional<Error> {
    if (!axes.contains(name)) return std::nullopt;
    return parse_axis(axes.at(name), std::string("axes.") + name, a, parse);
  };
  std::optional<Error> err;
  if ((err = axis("tp", A.tp, int_value))) return *err;
  if ((err = axis("pp", A.pp, int_value))) return *err;
  if ((err = axis("dp", A.dp, int_value))) return *err;
  if ((err = axis("cp", A.cp, int_value))) return *err;
  if ((err = axis("ep", A.ep, int_value))) return *err;
  if ((err = axis("micro_batch", A.micro_batch, int_value))) return *err;
  if ((err = axis("virtual_stages", A.virtual_stages, int_value))) return *err;
  if ((err = axis("zero", A.zero, int_value))) return *err;
  if ((err = axis("sequence_parallel", A.sequence_parallel, bool_value))) return *err;
  if ((err = axis("schedule", A.schedule,
                  enum_value<strategies::Schedule>(strategies::parse_schedule, "gpipe, 1f1b, interleaved-1f1b, zb-h1"))))
    return *err;
  if ((err = axis("recompute", A.recompute,
                  enum_value<strategies::Recompute>(strategies::parse_recompute, "none, selective, selective-op, full"))))
    return *err;
  if ((err = axis("attention", A.attention,
                  enum_value<model::AttentionImpl>(strategies::parse_attention, "flash, materialized"))))
    return *err;
  // An explicit dp of "auto" is the derived one (GPUs / (tp x pp x cp)).

  // --- constraints, evaluator, objectives, top_k ---
  if (j.contains("constraints"))
    if (auto e = parse_constraints(j.at("constraints"), spec.constraints)) return *e;
  if (j.contains("evaluator")) {
    const auto& v = j.at("evaluator");
    if (!v.is_string()) return invalid("evaluator", "expected \"estimate\" or \"simulate\", got " + shown(v));
    const auto e = sim::parse_evaluator(v.get<std::string>());
    if (!e) return invalid("evaluator", "'" + v.get<std::string>() + "' is not one of estimate, simulate");
    spec.evaluator = *e;
  }
  if (j.contains("objectives")) {
    const auto& v = j.at("objectives");
    const json list = v.is_array() ? v : json::array({v});
    std::vector<std::string> names;
    for (auto o : sim::kAllObjectives) names.emplace_back(sim::to_string(o));
    spec.objectives.clear();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string p = v.is_array() ? item("objectives", i) : "objectives";
      if (!list[i].is_string()) return invalid(p, "expected an objective name, got " + shown(list[i]));
      const auto name = list[i].get<std::string>();
      const auto o = sim::parse_objective(name);
      if (!o) {
        std::string msg = "unknown objective '" + name + "'";
        const auto close = closest_match(name, names);
        msg += close.empty() ? " (known: " + join(names) + ")" : "; did you mean '" + close + "'?";
        return invalid(p, msg);
      }
      spec.objectives.push_back(*o);
    }
  }
  if (j.contains("top_k"))
    if (auto e = get_int(j.at("top_k"), "top_k", spec.top_k)) return *e;

  // --- bases: cluster x gpu x nodes (or gpus) x seq_length x global_batch ---
  auto ms = model_from_json(base.at("model"), "base.model");
  if (!ms) return ms.error();
  auto model = model::validate_model(*ms);
  if (!model) return model.error();

  std::vector<std::pair<hardware::ClusterSpec, std::string>> clusters;
  if (axes.contains("cluster")) {
    std::vector<json> values;
    if (auto e = outer_values(axes.at("cluster"), "axes.cluster", values)) return *e;
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto c = cluster_from_json(values[i], item("axes.cluster", i));
      if (!c) return c.error();
      clusters.emplace_back(*c, "cluster " + c->name);
    }
  } else {
    auto c = cluster_from_json(base.at("cluster"), "base.cluster");
    if (!c) return c.error();
    clusters.emplace_back(*c, "");
  }
  std::vector<std::optional<hardware::GpuSpec>> gpus{std::nullopt};
  if (axes.contains("gpu")) {
    std::vector<json> values;
    if (auto e = outer_values(axes.at("gpu"), "axes.gpu", values)) return *e;
    gpus.clear();
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto g = gpu_from_json(values[i], item("axes.gpu", i));
      if (!g) return g.error();
      gpus.emplace_back(*g);
    }
  }
  if (axes.contains("nodes") && axes.contains("gpus"))
    return invalid("axes.gpus", "give axes.nodes or axes.gpus, not both");
  auto int64_list = [&](const char* name, std::vector<std::int64_t>& out) -> std::optional<Error> {
    if (!axes.contains(name)) return std::nullopt;
    std::vector<json> values;
    const std::string path = std::string("axes.") + name;
    if (auto e = outer_values(axes.at(name), path, values)) return e;
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::int64_t v = 0;
      if (auto e = get_int(values[i], item(path, i), v)) return e;
      if (v <= 0) return invalid(item(path, i), "must be positive, got " + std::to_string(v));
      if (std::find(out.begin(), out.end(), v) != out.end())
        return invalid(item(path, i), std::to_string(v) + " is listed twice");
      out.push_back(v);
    }
    return std::nullopt;
  };
  std::vector<std::int64_t> nodes, gpu_counts, seqs, batches;
  if (auto e = int64_list("nodes", nodes)) return *e;
  if (auto e = int64_list("gpus", gpu_counts)) return *e;
  if (auto e = int64_list("seq_length", seqs)) return *e;
  if (auto e = int64_list("global_batch", batches)) return *e;

  json training_j = base.at("training");
  if (training_j.is_object()) {
    // Swept fields need not be in the base (any positive value stands in; each base overrides it).
    if (!seqs.empty() && !training_j.contains("seq_length")) training_j["seq_length"] = seqs.front();
    if (!batches.empty() && !training_j.contains("global_batch")) training_j["global_batch"] = batches.front();
  }
  auto training = training_from_json(training_j, "base.training");
  if (!training) return training.error();
  if (seqs.empty()) seqs.push_back(training->seq_length);
  if (batches.empty()) batches.push_back(training->global_batch);

  const json price = j.value("price_per_gpu_hour", json());
  for (const auto& [cluster, cluster_label] : clusters) {
    for (const auto& gpu : gpus) {
      std::vector<std::pair<int, std::string>> sizes;
      if (!nodes.empty()) {
        for (auto n : nodes) sizes.emplace_back(static_cast<int>(std::min<std::int64_t>(n, 1 << 30)), "nodes " + std::to_string(n));
      } else if (!gpu_counts.empty()) {
        for (std::size_t i = 0; i < gpu_counts.size(); ++i) {
          const auto g = gpu_counts[i];
          if (g % cluster.gpus_per_node != 0)
            return invalid(item("axes.gpus", i), std::to_string(g) + " is not a multiple of the " +
                                                     std::to_string(cluster.gpus_per_node) + " GPUs per node of " +
                                                     cluster.name);
          sizes.emplace_back(static_cast<int>(std::min<std::int64_t>(g / cluster.gpus_per_node, 1 << 30)),
                             "gpus " + std::to_string(g));
        }
      } else {
        sizes.emplace_back(cluster.nodes, "");
      }
      for (const auto& [n, size_label] : sizes) {
        hardware::ClusterSpec c = cluster;
        if (gpu) c.gpu = *gpu;
        c.nodes = n;
        const auto valid = hardware::validate_cluster(c);
        if (!valid) return valid.error();
        auto p = price_for_gpu(price, c.gpu, "price_per_gpu_hour");
        if (!p) return p.error();
        const double usd = *p ? (*p)->usd_per_gpu_hour : 0.0;
        const std::string source = !*p ? std::string() : (*p)->name + ((*p)->date.empty() ? "" : " (" + (*p)->date + ")");
        for (auto s : seqs) {
          for (auto b : batches) {
            strategies::TrainingSpec t = *training;
            t.seq_length = s;
            t.global_batch = b;
            std::vector<std::string> label;
            if (!cluster_label.empty()) label.push_back(cluster_label);
            if (gpu) label.push_back("gpu " + c.gpu.name);
            if (!size_label.empty()) label.push_back(size_label);
            if (axes.contains("seq_length")) label.push_back("seq_length " + std::to_string(s));
            if (axes.contains("global_batch")) label.push_back("global_batch " + std::to_string(b));
            spec.bases.push_back(sim::SweepBase{*model, c, t, usd, join(label), source});
          }
        }
      }
    }
  }
  if (price.is_object()) {
    // Every priced GPU must be one of the sweep (a typo would otherwise leave costs silently empty).
    for (const auto& [name, v] : price.items()) {
      bool used = false;
      for (const auto& b : spec.bases) {
        std::string key = lower(name);
        if (auto g = find_preset(PresetKind::gpu, name, "price_per_gpu_hour"); g) key = lower((*g)->name);
        used = used || key == lower(b.cluster.gpu.name);
      }
      if (!used) return invalid(at("price_per_gpu_hour", name), "no GPU of the sweep is called so");
    }
  }
  return spec;
}

Expected<sim::SweepSpace> sweep_space_from_json(const json& j) {
  auto spec = sweep_from_json(j);
  if (!spec) return spec.error();
  return sim::SweepSpace::make(std::move(*spec));
}

std::string sweep_fingerprint(const json& j) {
  // 64-bit FNV-1a (Fowler, Noll, Vo) of the canonical dump (object keys sorted by nlohmann::json).
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : j.dump()) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// ---------------------------------------------------------------------------------------------------
// Rows

namespace {

void put(std::string& out, double v) {
  if (!std::isfinite(v)) return;
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
void put_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

const char* kColumns[] = {"index", "cluster", "gpu", "nodes", "gpus", "seq_length", "global_batch", "tp", "pp", "dp",
                          "cp", "ep", "sequence_parallel", "micro_batch", "micro_batches", "virtual_stages",
                          "schedule", "zero", "recompute", "attention", "feasible", "reason", "iteration_time_s",
                          "tokens_per_s", "tflops_per_gpu", "mfu", "memory_peak_bytes", "cost_per_token",
                          "gpu_hours", "cost_usd"};

}  // namespace

SweepRowFormat::SweepRowFormat(const sim::SweepSpace& space, Kind kind) : space_(&space), kind_(kind) {
  for (const auto& b : space.spec().bases) {
    const auto& c = b.cluster;
    std::string s;
    if (kind == Kind::csv) {
      s = csv_field(c.name) + "," + csv_field(c.gpu.name) + "," + std::to_string(c.nodes) + "," +
          std::to_string(c.total_gpus()) + "," + std::to_string(b.training.seq_length) + "," +
          std::to_string(b.training.global_batch) + ",";
    } else {
      s = "\"cluster\":" + json(c.name).dump() + ",\"gpu\":" + json(c.gpu.name).dump() +
          ",\"nodes\":" + std::to_string(c.nodes) + ",\"gpus\":" + std::to_string(c.total_gpus()) +
          ",\"seq_length\":" + std::to_string(b.training.seq_length) +
          ",\"global_batch\":" + std::to_string(b.training.global_batch) + ",";
    }
    base_columns_.push_back(std::move(s));
  }
}

std::string SweepRowFormat::header() const {
  if (kind_ != Kind::csv) return {};
  std::string h;
  for (const char* c : kColumns) h += std::string(h.empty() ? "" : ",") + c;
  return h + "\n";
}

void SweepRowFormat::append(std::string& out, const sim::SweepRow& r) const {
  using strategies::to_string;
  const auto& p = r.point;
  const auto& base = space_->spec().bases[p.base];
  const bool feasible = r.feasible();
  const bool priced = feasible && base.price_per_gpu_hour > 0;
  const bool target = feasible && base.training.tokens > 0;
  if (kind_ == Kind::csv) {
    put_int(out, static_cast<std::int64_t>(p.index));
    out += ',';
    out += base_columns_[p.base];
    for (int v : {p.tp, p.pp, p.dp, p.cp, p.ep}) {
      put_int(out, v);
      out += ',';
    }
    out += p.sequence_parallel ? "true," : "false,";
    put_int(out, p.micro_batch);
    out += ',';
    put_int(out, p.micro_batches);
    out += ',';
    put_int(out, p.virtual_stages);
    out += ',';
    out += to_string(p.schedule);
    out += ',';
    put_int(out, p.zero);
    out += ',';
    out += to_string(p.recompute);
    out += ',';
    out += to_string(p.attention);
    out += feasible ? ",true," : ",false,";
    out += sim::to_string(r.status);  // reasons hold no commas or quotes
    out += ',';
    if (feasible) put(out, r.iteration_time_s);
    out += ',';
    if (feasible) put(out, r.tokens_per_s);
    out += ',';
    if (feasible) put(out, r.tflops_per_gpu);
    out += ',';
    if (feasible) put(out, r.mfu);
    out += ',';
    put_int(out, static_cast<std::int64_t>(r.memory_peak_bytes));
    out += ',';
    if (priced) put(out, r.cost_per_token);
    out += ',';
    if (target) put(out, r.gpu_hours);
    out += ',';
    if (priced && target) put(out, r.cost_usd);
    out += '\n';
    return;
  }
  auto num = [&](const char* key, double v, bool present) {
    out += ",\"";
    out += key;
    out += "\":";
    if (present && std::isfinite(v)) put(out, v);
    else out += "null";
  };
  out += "{\"index\":";
  put_int(out, static_cast<std::int64_t>(p.index));
  out += ',';
  out += base_columns_[p.base];
  const char* keys[] = {"tp", "pp", "dp", "cp", "ep"};
  const int vals[] = {p.tp, p.pp, p.dp, p.cp, p.ep};
  for (int i = 0; i < 5; ++i) {
    out += '"';
    out += keys[i];
    out += "\":";
    put_int(out, vals[i]);
    out += ',';
  }
  out += p.sequence_parallel ? "\"sequence_parallel\":true" : "\"sequence_parallel\":false";
  out += ",\"micro_batch\":";
  put_int(out, p.micro_batch);
  out += ",\"micro_batches\":";
  put_int(out, p.micro_batches);
  out += ",\"virtual_stages\":";
  put_int(out, p.virtual_stages);
  out += ",\"schedule\":\"";
  out += to_string(p.schedule);
  out += "\",\"zero\":";
  put_int(out, p.zero);
  out += ",\"recompute\":\"";
  out += to_string(p.recompute);
  out += "\",\"attention\":\"";
  out += to_string(p.attention);
  out += feasible ? "\",\"feasible\":true,\"reason\":\"" : "\",\"feasible\":false,\"reason\":\"";
  out += sim::to_string(r.status);
  out += '"';
  num("iteration_time_s", r.iteration_time_s, feasible);
  num("tokens_per_s", r.tokens_per_s, feasible);
  num("tflops_per_gpu", r.tflops_per_gpu, feasible);
  num("mfu", r.mfu, feasible);
  out += ",\"memory_peak_bytes\":";
  put_int(out, static_cast<std::int64_t>(r.memory_peak_bytes));
  num("cost_per_token", r.cost_per_token, priced);
  num("gpu_hours", r.gpu_hours, target);
  num("cost_usd", r.cost_usd, priced && target);
  out += "}\n";
}

ordered_json row_to_json(const sim::SweepSpace& space, const sim::SweepRow& row) {
  std::string line;
  SweepRowFormat(space, SweepRowFormat::Kind::jsonl).append(line, row);
  return ordered_json::parse(line);
}

json row_to_state(const sim::SweepRow& r) {
  return json{{"index", r.point.index},           {"status", sim::key_of(r.status)},
              {"iteration_time_s", r.iteration_time_s}, {"tokens_per_s", r.tokens_per_s},
              {"tflops_per_gpu", r.tflops_per_gpu},     {"mfu", r.mfu},
              {"cost_per_token", r.cost_per_token},     {"gpu_hours", r.gpu_hours},
              {"memory_peak_bytes", r.memory_peak_bytes}, {"cost_usd", r.cost_usd}};
}

Expected<sim::SweepRow> row_from_state(const sim::SweepSpace& space, const json& j) {
  const std::string path = "state.row";
  if (!j.is_object() || !j.contains("index") || !j.at("index").is_number_unsigned())
    return Error{ErrorCode::io, path, "a row has no index"};
  sim::SweepRow r;
  const auto p = space.point_at(j.at("index").get<std::uint64_t>());
  if (!p) return Error{ErrorCode::io, path, "index " + j.at("index").dump() + " is not a layout of this sweep"};
  r.point = *p;
  const std::string status = j.value("status", std::string());
  bool found = false;
  for (int s = 0; s < sim::kRowStatuses; ++s)
    if (status == sim::key_of(static_cast<sim::RowStatus>(s))) {
      r.status = static_cast<sim::RowStatus>(s);
      found = true;
    }
  if (!found) return Error{ErrorCode::io, path, "unknown status '" + status + "'"};
  for (auto [key, field] : {std::pair<const char*, double*>{"iteration_time_s", &r.iteration_time_s},
                            {"tokens_per_s", &r.tokens_per_s},
                            {"tflops_per_gpu", &r.tflops_per_gpu},
                            {"mfu", &r.mfu},
                            {"cost_per_token", &r.cost_per_token},
                            {"gpu_hours", &r.gpu_hours},
                            {"memory_peak_bytes", &r.memory_peak_bytes},
                            {"cost_usd", &r.cost_usd}}) {
    if (!j.contains(key) || !j.at(key).is_number()) return Error{ErrorCode::io, path, std::string("no ") + key};
    *field = j.at(key).get<double>();
  }
  return r;
}

json counts_to_json(const sim::SweepCounts& c) {
  json inv = json::object(), exc = json::object(), st = json::object();
  for (int i = 0; i < sim::kInvalidRules; ++i) inv[sim::key_of(static_cast<sim::InvalidRule>(i))] = c.invalid[i];
  for (int i = 0; i < sim::kExcludedRules; ++i) exc[sim::key_of(static_cast<sim::ExcludedRule>(i))] = c.excluded[i];
  for (int i = 0; i < sim::kRowStatuses; ++i) st[sim::key_of(static_cast<sim::RowStatus>(i))] = c.status[i];
  return json{{"invalid", inv}, {"excluded", exc}, {"status", st}};
}

Expected<sim::SweepCounts> counts_from_json(const json& j) {
  sim::SweepCounts c;
  auto read = [&](const char* group, auto& array, int n, auto key) -> std::optional<Error> {
    if (!j.is_object() || !j.contains(group) || !j.at(group).is_object())
      return Error{ErrorCode::io, std::string("state.counts.") + group, "missing"};
    const auto& g = j.at(group);
    for (int i = 0; i < n; ++i) {
      const char* k = key(i);
      if (!g.contains(k) || !g.at(k).is_number_unsigned())
        return Error{ErrorCode::io, std::string("state.counts.") + group + "." + k, "missing"};
      array[i] = g.at(k).template get<std::uint64_t>();
    }
    return std::nullopt;
  };
  if (auto e = read("invalid", c.invalid, sim::kInvalidRules, [](int i) { return sim::key_of(static_cast<sim::InvalidRule>(i)); }))
    return *e;
  if (auto e = read("excluded", c.excluded, sim::kExcludedRules, [](int i) { return sim::key_of(static_cast<sim::ExcludedRule>(i)); }))
    return *e;
  if (auto e = read("status", c.status, sim::kRowStatuses, [](int i) { return sim::key_of(static_cast<sim::RowStatus>(i)); }))
    return *e;
  return c;
}

ordered_json summary_to_json(const sim::SweepSpace& space, const sim::SweepTally& tally, const SweepSummaryInfo& info) {
  const auto& c = tally.counts;
  const auto& spec = space.spec();
  ordered_json j;
  j["model"] = spec.bases.front().model.spec().name;
  j["evaluator"] = sim::to_string(spec.evaluator);
  j["layouts_total"] = info.end - info.begin;
  j["space_total"] = space.size();
  j["invalid"] = c.invalid_total();
  j["excluded"] = c.excluded_total();
  j["infeasible"] = c.infeasible_total();
  j["feasible"] = c.feasible();
  j["evaluated"] = c.evaluated();
  j["seconds"] = info.seconds;
  const double done = static_cast<double>(tally.next_index - std::min(tally.next_index, info.resumed_from));
  j["layouts_per_second"] = info.seconds > 0 ? done / info.seconds : 0.0;
  j["complete"] = !info.interrupted && tally.next_index >= info.end;
  j["begin"] = info.begin;
  j["end"] = info.end;
  j["next_index"] = tally.next_index;
  j["resumed_from"] = info.resumed_from;
  if (!info.shard.empty()) j["shard"] = info.shard;
  j["output"] = info.output.empty() ? ordered_json() : ordered_json(info.output);
  if (!info.output.empty()) j["rows"] = info.all_rows ? c.evaluated() : c.feasible();
  auto reasons = [](auto&& entries) {
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return std::get<2>(a) != std::get<2>(b) ? std::get<2>(a) > std::get<2>(b) : std::string(std::get<0>(a)) < std::get<0>(b);
    });
    ordered_json arr = ordered_json::array();
    for (const auto& [key, text, n] : entries)
      if (n > 0) arr.push_back(ordered_json{{"key", key}, {"reason", text}, {"count", n}});
    return arr;
  };
  using Entry = std::tuple<const char*, const char*, std::uint64_t>;
  std::vector<Entry> inv, exc, inf;
  for (int i = 0; i < sim::kInvalidRules; ++i)
    inv.emplace_back(sim::key_of(static_cast<sim::InvalidRule>(i)), sim::to_string(static_cast<sim::InvalidRule>(i)), c.invalid[i]);
  for (int i = 0; i < sim::kExcludedRules; ++i)
    exc.emplace_back(sim::key_of(static_cast<sim::ExcludedRule>(i)), sim::to_string(static_cast<sim::ExcludedRule>(i)), c.excluded[i]);
  for (int i = 1; i < sim::kRowStatuses; ++i)
    inf.emplace_back(sim::key_of(static_cast<sim::RowStatus>(i)), sim::to_string(static_cast<sim::RowStatus>(i)), c.status[i]);
  j["infeasible_reasons"] = reasons(inf);
  j["invalid_reasons"] = reasons(inv);
  j["excluded_reasons"] = reasons(exc);
  ordered_json objectives = ordered_json::array();
  for (auto o : spec.objectives)
    objectives.push_back(ordered_json{{"name", sim::to_string(o)}, {"goal", sim::maximised(o) ? "max" : "min"}});
  j["objectives"] = objectives;
  ordered_json prices = ordered_json::array();
  std::vector<std::string> priced;
  for (const auto& b : spec.bases) {
    if (b.price_per_gpu_hour <= 0 || std::find(priced.begin(), priced.end(), b.cluster.gpu.name) != priced.end())
      continue;
    priced.push_back(b.cluster.gpu.name);
    prices.push_back(ordered_json{{"gpu", b.cluster.gpu.name}, {"usd_per_gpu_hour", b.price_per_gpu_hour},
                                  {"source", b.price_source}});
  }
  j["prices"] = prices;
  j["top_k"] = spec.top_k;
  ordered_json top = ordered_json::array(), pareto = ordered_json::array();
  for (const auto& r : tally.leaders.top()) top.push_back(row_to_json(space, r));
  for (const auto& r : tally.leaders.pareto()) pareto.push_back(row_to_json(space, r));
  j["top"] = top;
  j["pareto"] = pareto;
  return j;
}

}  // namespace clustersim::presets
