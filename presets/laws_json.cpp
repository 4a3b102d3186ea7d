#include "presets/laws_json.hpp"

#include <algorithm>
#include <cctype>

#include "common/format.hpp"
#include "presets/embedded.hpp"

namespace clustersim::presets {

using nlohmann::json;

namespace {

std::string lower(std::string_view s) { return to_lower(s); }

std::optional<Error> only_fields(const json& j, const std::vector<std::string>& keys, const std::string& path) {
  for (const auto& [k, v] : j.items()) {
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    std::string msg = "unknown field";
    const auto close = closest_match(k, keys);
    if (!close.empty()) msg += "; did you mean '" + close + "'?";
    return invalid(path + "." + k, msg);
  }
  return std::nullopt;
}

std::optional<Error> read_number(const json& j, const std::string& key, double& out, const std::string& path) {
  if (!j.contains(key)) return invalid(path + "." + key, "is required");
  const auto& v = j.at(key);
  if (!v.is_number()) return invalid(path + "." + key, "expected a number, got " + v.dump());
  out = v.get<double>();
  return std::nullopt;
}

std::optional<Error> read_object(const json& j, const std::string& key, const std::vector<std::string>& fields,
                                 std::vector<double*> outs, const std::string& path) {
  if (!j.contains(key)) return invalid(path + "." + key, "is required for this form");
  const auto& o = j.at(key);
  if (!o.is_object()) return invalid(path + "." + key, "expected an object");
  if (auto e = only_fields(o, fields, path + "." + key)) return e;
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (auto e = read_number(o, fields[i], *outs[i], path + "." + key)) return e;
  return std::nullopt;
}

std::string text(const json& j, const char* key) {
  return j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>() : std::string();
}

std::vector<LawPreset> load() {
  std::vector<LawPreset> out;
  for (const auto& f : embedded_files()) {
    const std::string path = f.path;
    if (path.rfind("laws/", 0) != 0) continue;
    LawPreset p;
    p.file = path;
    // Bundled files are checked by tests/laws; a broken one is a build defect.
    p.json = json::parse(f.text);
    p.name = p.json.at("name").get<std::string>();
    if (p.json.contains("aliases"))
      for (const auto& a : p.json.at("aliases")) p.aliases.push_back(a.get<std::string>());
    p.title = text(p.json, "title");
    p.description = text(p.json, "description");
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Expected<const LawPreset*> find_preset(std::string_view name, const std::string& path) {
  const std::string key = lower(name);
  std::vector<std::string> names;
  for (const auto& p : law_presets()) {
    if (lower(p.name) == key) return &p;
    for (const auto& a : p.aliases)
      if (lower(a) == key) return &p;
    names.push_back(p.name);
  }
  std::string msg = "unknown scaling law '" + std::string(name) + "'";
  const auto close = closest_match(key, names);
  if (!close.empty()) msg += "; did you mean '" + close + "'?";
  msg += " (known: " + join(names) + ")";
  return invalid(path, msg);
}

}  // namespace

const std::vector<LawPreset>& law_presets() {
  static const std::vector<LawPreset> laws = load();
  return laws;
}

Expected<sim::ScalingLaw> law_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return invalid(path, "expected an object");
  if (auto e = only_fields(j, {"name", "aliases", "title", "description", "citation", "form", "params", "kaplan",
                               "loss", "uncertainty", "tokens_per_param", "tokens", "hyper", "repetition",
                               "loss_from", "repetition_from", "hyper_from", "sources"},
                           path))
    return *e;
  sim::ScalingLaw law;
  law.name = text(j, "name");
  law.title = text(j, "title");
  law.citation = text(j, "citation");
  const std::string form = text(j, "form");
  if (form == "kaplan") law.form = sim::LawForm::kaplan;
  else if (form == "parametric") law.form = sim::LawForm::parametric;
  else if (form == "tokens-per-param") law.form = sim::LawForm::tokens_per_param;
  else if (form == "tokens-power") law.form = sim::LawForm::tokens_power;
  else return invalid(path + ".form", "'" + form + "' is not one of kaplan, parametric, tokens-per-param, tokens-power");
  const std::string params = text(j, "params");
  if (params == "non-embedding") law.non_embedding_params = true;
  else if (params != "total") return invalid(path + ".params", "'" + params + "' is not one of total, non-embedding");

  if (law.form == sim::LawForm::kaplan) {
    auto& k = law.kaplan;
    if (auto e = read_object(j, "kaplan",
                             {"n_c", "alpha_n", "d_c", "alpha_d", "c_c_min", "alpha_c_min", "joint_n_c", "joint_d_c",
                              "joint_alpha_n", "joint_alpha_d", "n_opt_coeff", "n_opt_exponent"},
                             {&k.n_c, &k.alpha_n, &k.d_c, &k.alpha_d, &k.c_c_min, &k.alpha_c_min, &k.joint_n_c,
                              &k.joint_d_c, &k.joint_alpha_n, &k.joint_alpha_d, &k.n_opt_coeff, &k.n_opt_exponent},
                             path))
      return *e;
  }
  if (law.form == sim::LawForm::parametric) {
    auto& p = law.loss;
    if (auto e = read_object(j, "loss", {"E", "A", "B", "alpha", "beta"}, {&p.e, &p.a, &p.b, &p.alpha, &p.beta}, path))
      return *e;
  }
  law.loss_from = text(j, "loss_from");
  if ((law.form == sim::LawForm::tokens_per_param || law.form == sim::LawForm::tokens_power) && law.loss_from.empty())
    return invalid(path + ".loss_from", "an allocation-only law must name the law whose loss it uses");
  if (law.form == sim::LawForm::tokens_per_param) {
    if (auto e = read_number(j, "tokens_per_param", law.tokens_per_param, path)) return *e;
  }
  if (law.form == sim::LawForm::tokens_power) {
    if (auto e = read_object(j, "tokens", {"coeff", "exponent"}, {&law.tokens_coeff, &law.tokens_exponent}, path))
      return *e;
  }
  if (j.contains("repetition")) {
    sim::RepetitionDecay r;
    if (auto e = read_object(j, "repetition", {"r_d_star", "r_n_star"}, {&r.r_d_star, &r.r_n_star}, path)) return *e;
    law.repetition = r;
  }
  if (j.contains("hyper")) {
    sim::HyperParameterLaw h;
    if (auto e = read_object(j, "hyper", {"lr_coeff", "lr_exponent", "batch_coeff", "batch_exponent"},
                             {&h.lr_coeff, &h.lr_exponent, &h.batch_coeff, &h.batch_exponent}, path))
      return *e;
    law.hyper = h;
  }
  law.repetition_from = text(j, "repetition_from");
  if (law.repetition && !law.repetition_from.empty())
    return invalid(path + ".repetition_from", "the law has its own repetition constants");
  return law;
}

Expected<sim::ScalingLaw> find_law(std::string_view name, const std::string& path) {
  auto preset = find_preset(name, path);
  if (!preset) return preset.error();
  auto law = law_from_json((*preset)->json, "laws/" + (*preset)->name);
  if (!law) return law.error();
  auto borrow = [&](const char* field, std::string from) -> Expected<sim::ScalingLaw> {
    auto other = find_preset(from, "laws/" + law->name + "." + field);
    if (!other) return other.error();
    return law_from_json((*other)->json, "laws/" + (*other)->name);
  };
  if (!law->loss_from.empty()) {
    auto other = borrow("loss_from", law->loss_from);
    if (!other) return other.error();
    if (other->form != sim::LawForm::parametric)
      return invalid("laws/" + law->name + ".loss_from", other->name + " has no parametric loss to borrow");
    law->loss = other->loss;
    law->loss_from = other->name;
  }
  if (!law->repetition && !law->repetition_from.empty()) {
    auto other = borrow("repetition_from", law->repetition_from);
    if (!other) return other.error();
    if (!other->repetition)
      return invalid("laws/" + law->name + ".repetition_from", other->name + " has no repetition constants");
    law->repetition = other->repetition;
    law->repetition_from = other->name;
  }
  const std::string hyper_from = text((*preset)->json, "hyper_from");
  if (!law->hyper && !hyper_from.empty()) {
    auto other = borrow("hyper_from", hyper_from);
    if (!other) return other.error();
    if (!other->hyper) return invalid("laws/" + law->name + ".hyper_from", other->name + " has no hyper-parameter laws");
    law->hyper = other->hyper;
  }
  return sim::validate_law(*law);
}

json law_to_json(const sim::ScalingLaw& law) {
  json j{{"name", law.name}, {"title", law.title}, {"citation", law.citation}, {"form", sim::to_string(law.form)},
         {"params_counted", law.non_embedding_params ? "non-embedding" : "total"}};
  if (law.form == sim::LawForm::kaplan) {
    const auto& k = law.kaplan;
    j["kaplan"] = {{"n_c", k.n_c}, {"alpha_n", k.alpha_n}, {"d_c", k.d_c}, {"alpha_d", k.alpha_d},
                   {"c_c_min_pf_days", k.c_c_min}, {"alpha_c_min", k.alpha_c_min}, {"joint_n_c", k.joint_n_c},
                   {"joint_d_c", k.joint_d_c}, {"joint_alpha_n", k.joint_alpha_n}, {"joint_alpha_d", k.joint_alpha_d},
                   {"n_opt_coeff", k.n_opt_coeff}, {"n_opt_exponent", k.n_opt_exponent}};
  } else {
    j["loss"] = {{"E", law.loss.e}, {"A", law.loss.a}, {"B", law.loss.b}, {"alpha", law.loss.alpha},
                 {"beta", law.loss.beta}};
    if (!law.loss_from.empty()) j["loss_from"] = law.loss_from;
  }
  if (law.form == sim::LawForm::tokens_per_param) j["tokens_per_param"] = law.tokens_per_param;
  if (law.form == sim::LawForm::tokens_power)
    j["tokens"] = {{"coeff", law.tokens_coeff}, {"exponent", law.tokens_exponent}};
  if (law.repetition) {
    j["repetition"] = {{"r_d_star", law.repetition->r_d_star}, {"r_n_star", law.repetition->r_n_star}};
    if (!law.repetition_from.empty()) j["repetition_from"] = law.repetition_from;
  }
  return j;
}

}  // namespace clustersim::presets
