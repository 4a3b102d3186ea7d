#include "gui/scenario_document.hpp"

#include <QFile>
#include <QRegularExpression>
#include <QSaveFile>

#include <nlohmann/json.hpp>

#include "presets/registry.hpp"
#include "presets/scenario_json.hpp"
#include "sim/analytical.hpp"

namespace clustersim::gui {

using ojson = nlohmann::ordered_json;

const char* to_string(Part p) {
  switch (p) {
    case Part::model: return "model";
    case Part::cluster: return "cluster";
    case Part::training: return "training";
    case Part::layout: return "layout";
  }
  return "?";
}

QList<PresetChoice> preset_choices(PresetGroup group) {
  const auto kind = group == PresetGroup::model     ? presets::PresetKind::model
                    : group == PresetGroup::cluster ? presets::PresetKind::cluster
                                                    : presets::PresetKind::gpu;
  QList<PresetChoice> out;
  for (const auto* e : presets::presets_of(kind))
    out.push_back({QString::fromStdString(e->name), QString::fromStdString(e->description)});
  return out;
}

namespace {

// The example scenario of INTERFACES.md, with dp left out (the GPU count over the other degrees) so that
// changing tp or pp is a valid what-if without also editing dp.
constexpr const char* kDefaultScenario = R"({
  "model": "llama3-70b",
  "cluster": { "base": "dgx-h100", "nodes": 128 },
  "training": { "seq_length": 8192, "global_batch": 1024, "precision": "bf16", "tokens": 1.5e13 },
  "layout": { "tp": 8, "pp": 4, "cp": 1, "ep": 1, "sequence_parallel": true,
              "micro_batch": 1, "virtual_stages": 5, "schedule": "interleaved-1f1b",
              "zero": 1, "recompute": "selective", "attention": "flash" }
})";

std::optional<Part> part_of(const QString& head) {
  if (head == QLatin1String("model")) return Part::model;
  if (head == QLatin1String("cluster")) return Part::cluster;
  if (head == QLatin1String("training")) return Part::training;
  if (head == QLatin1String("layout")) return Part::layout;
  return std::nullopt;
}

bool has_presets(Part p) { return p == Part::model || p == Part::cluster; }
presets::PresetKind kind_of(Part p) { return p == Part::model ? presets::PresetKind::model : presets::PresetKind::cluster; }

QString number_text(const ojson& v) {
  if (v.is_number_integer()) return QString::number(v.get<std::int64_t>());
  if (v.is_number_unsigned()) return QString::number(v.get<std::uint64_t>());
  return QString::number(v.get<double>(), 'g', 12);
}

QString value_text(const ojson& v) {
  if (v.is_null()) return {};
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? QStringLiteral("true") : QStringLiteral("false");
  if (v.is_number()) return number_text(v);
  if (v.is_array()) {
    QStringList items;
    for (const auto& x : v) items << (x.is_number() ? number_text(x) : QString::fromStdString(x.dump()));
    return items.join(QStringLiteral(", "));
  }
  return QString::fromStdString(v.dump());
}

// Text as JSON of the field's kind; what does not parse stays a string for the reader to reject by path.
ojson value_of(const QString& raw, FieldKind kind) {
  const QString t = raw.trimmed();
  const std::string s = t.toStdString();
  bool ok = false;
  switch (kind) {
    case FieldKind::integer: {
      const qlonglong i = t.toLongLong(&ok);
      if (ok) return i;
      const double d = t.toDouble(&ok);
      if (ok) return d;
      return s;
    }
    case FieldKind::number: {
      const double d = t.toDouble(&ok);
      if (ok) {
        const qlonglong i = t.toLongLong(&ok);
        if (ok) return i;
        return d;
      }
      return s;
    }
    case FieldKind::int_list: {
      const auto items = t.split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts);
      ojson arr = ojson::array();
      for (const auto& it : items) {
        const qlonglong i = it.toLongLong(&ok);
        if (!ok) return s;
        arr.push_back(i);
      }
      return arr;
    }
    case FieldKind::boolean:
      if (t == QLatin1String("true")) return true;
      if (t == QLatin1String("false")) return false;
      return s;
    case FieldKind::text: return s;
  }
  return s;
}

// Values that apply when a training or layout field is not written (TrainingSpec and LayoutSpec
// defaults, and the reader's rules such as "virtual stages imply interleaved 1F1B").
QString default_text(Part part, const std::string& key, const ojson& part_json) {
  if (part == Part::training) {
    if (key == "precision") return QStringLiteral("bf16");
    if (key == "tokens") return QStringLiteral("0");
    return {};
  }
  if (part == Part::layout) {
    strategies::LayoutSpec L;
    if (key == "tp") return QString::number(L.tp);
    if (key == "pp") return QString::number(L.pp);
    if (key == "dp") return QStringLiteral("auto");
    if (key == "cp") return QString::number(L.cp);
    if (key == "ep") return QString::number(L.ep);
    if (key == "micro_batch") return QString::number(L.micro_batch);
    if (key == "virtual_stages") return QString::number(L.virtual_stages);
    if (key == "zero") return QString::number(L.zero);
    if (key == "sequence_parallel") return QStringLiteral("false");
    if (key == "recompute") return QString::fromLatin1(strategies::to_string(L.recompute));
    if (key == "attention") return QString::fromLatin1(strategies::to_string(L.attention));
    if (key == "schedule") {
      const bool v = part_json.is_object() && part_json.contains("virtual_stages") &&
                     part_json["virtual_stages"].is_number() && part_json["virtual_stages"].get<double>() > 1;
      return QString::fromLatin1(strategies::to_string(v ? strategies::Schedule::interleaved_1f1b : L.schedule));
    }
    if (key == "overlap_grad_reduce" || key == "overlap_param_gather") return QStringLiteral("true");
    if (key == "tp_comm_overlap" || key == "embedding_as_layer" || key == "loss_as_layer") return QStringLiteral("false");
    return {};
  }
  if (part == Part::model) {
    model::ModelSpec m;
    if (key == "mlp") return QString::fromLatin1(model::to_string(m.mlp));
    if (key == "tied_embeddings") return QStringLiteral("false");
    if (key == "kv_heads") return QStringLiteral("= heads");
  }
  return {};
}

}  // namespace

struct ScenarioDocument::Impl {
  ojson doc = ojson::object();
  ojson saved = ojson::object();
  QString path;
  std::vector<ojson> undo, redo;
  QString merge_path;  // consecutive edits of one field merge into one undo step
  std::optional<Error> error;
  EvaluatedPtr last_valid;
  std::uint64_t revision = 0;

  void snapshot(const QString& merge = {}) {
    if (merge.isEmpty() || merge != merge_path) undo.push_back(doc);
    merge_path = merge;
    redo.clear();
  }

  void evaluate() {
    ++revision;
    try {
      const nlohmann::json j(doc);
      auto sc = presets::scenario_from_json(j);
      if (!sc) {
        error = sc.error();
        return;
      }
      auto rep = sim::estimate(*sc);
      last_valid = std::make_shared<const Evaluated>(Evaluated{std::move(*sc), std::move(rep)});
      error.reset();
    } catch (const std::exception& e) {
      error = Error{ErrorCode::internal, "", std::string("internal error while evaluating: ") + e.what()};
    }
  }

  // The JSON object a part's fields live in, created when missing (a preset name becomes {"base": name}).
  ojson& writable_part(Part part) {
    ojson& p = doc[to_string(part)];
    if (p.is_string() && has_presets(part)) {
      const std::string name = p.get<std::string>();
      p = ojson::object();
      p["base"] = name;
    } else if (!p.is_object()) {
      p = ojson::object();
    }
    return p;
  }

  // {"base": name} alone is the preset itself.
  void collapse(Part part) {
    ojson& p = doc[to_string(part)];
    if (has_presets(part) && p.is_object() && p.size() == 1 && p.contains("base") && p["base"].is_string()) {
      const std::string name = p["base"].get<std::string>();
      p = name;
    }
  }

  // The JSON of the preset a part starts from, if any.
  [[nodiscard]] std::optional<nlohmann::json> base_json(Part part) const {
    if (!has_presets(part) || !doc.contains(to_string(part))) return std::nullopt;
    const ojson& p = doc[to_string(part)];
    std::string name;
    if (p.is_string()) name = p.get<std::string>();
    else if (p.is_object() && p.contains("base") && p["base"].is_string()) name = p["base"].get<std::string>();
    if (name.empty()) return std::nullopt;
    auto e = presets::find_preset(kind_of(part), name, to_string(part));
    if (!e) return std::nullopt;
    return (*e)->json;
  }
};

ScenarioDocument::ScenarioDocument(QObject* parent) : QObject(parent), d_(std::make_unique<Impl>()) { load_default(); }

ScenarioDocument::~ScenarioDocument() = default;

void ScenarioDocument::load_default() {
  const auto err = load_text(QByteArray(kDefaultScenario));
  Q_ASSERT(!err);
}

std::optional<Error> ScenarioDocument::load_text(const QByteArray& text, const QString& path) {
  ojson j;
  try {
    j = ojson::parse(text.constBegin(), text.constEnd());
  } catch (const nlohmann::json::parse_error& e) {
    std::string msg = e.what();
    const auto pos = msg.find("parse error");
    if (pos != std::string::npos) msg = msg.substr(pos);
    return Error{ErrorCode::invalid_input, "", "not valid JSON: " + msg};
  }
  if (!j.is_object()) return Error{ErrorCode::invalid_input, "", "a scenario must be a JSON object"};
  const bool was_modified = is_modified();
  d_->doc = std::move(j);
  d_->saved = d_->doc;
  d_->undo.clear();
  d_->redo.clear();
  d_->merge_path.clear();
  d_->last_valid.reset();
  d_->path = path;
  d_->evaluate();
  Q_EMIT file_path_changed(d_->path);
  if (was_modified) Q_EMIT modified_changed(false);
  Q_EMIT changed();
  return std::nullopt;
}

std::optional<Error> ScenarioDocument::open(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly))
    return Error{ErrorCode::io, "", "cannot read " + path.toStdString() + ": " + f.errorString().toStdString()};
  return load_text(f.readAll(), path);
}

std::optional<Error> ScenarioDocument::save(const QString& path) {
  QSaveFile f(path);
  const QByteArray bytes = text();
  if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit())
    return Error{ErrorCode::io, "", "cannot write " + path.toStdString() + ": " + f.errorString().toStdString()};
  const bool was_modified = is_modified();
  d_->saved = d_->doc;
  d_->merge_path.clear();
  if (d_->path != path) {
    d_->path = path;
    Q_EMIT file_path_changed(path);
  }
  if (was_modified) Q_EMIT modified_changed(false);
  return std::nullopt;
}

QByteArray ScenarioDocument::text() const { return QByteArray::fromStdString(d_->doc.dump(2) + "\n"); }
QString ScenarioDocument::file_path() const { return d_->path; }
bool ScenarioDocument::is_modified() const { return d_->doc != d_->saved; }

QString ScenarioDocument::field_text(const QString& path) const {
  const auto keys = path.split(QLatin1Char('.'));
  const ojson* node = &d_->doc;
  for (const auto& k : keys) {
    if (!node->is_object()) return {};
    const auto it = node->find(k.toStdString());
    if (it == node->end()) return {};
    node = &*it;
  }
  return value_text(*node);
}

QString ScenarioDocument::inherited_text(const QString& path) const {
  const auto keys = path.split(QLatin1Char('.'));
  if (keys.size() < 2) return {};
  const auto part = part_of(keys.front());
  if (!part) return {};
  const std::string key = keys.at(1).toStdString();
  if (auto base = d_->base_json(*part)) {
    const nlohmann::json* node = &*base;
    for (int i = 1; i < keys.size(); ++i) {
      if (!node->is_object() || !node->contains(keys.at(i).toStdString())) return default_text(*part, key, {});
      node = &node->at(keys.at(i).toStdString());
    }
    return value_text(ojson(*node));
  }
  const std::string part_key = to_string(*part);
  const ojson empty;
  return default_text(*part, key, d_->doc.contains(part_key) ? d_->doc[part_key] : empty);
}

void ScenarioDocument::set_field_text(const QString& path, const QString& text, FieldKind kind, bool merge) {
  const auto keys = path.split(QLatin1Char('.'));
  const auto part = keys.size() >= 2 ? part_of(keys.front()) : std::nullopt;
  Q_ASSERT_X(part.has_value(), "set_field_text", "the path must name a field of model, cluster, training or layout");
  if (!part) return;
  const bool remove = text.trimmed().isEmpty();
  if (remove && field_text(path).isEmpty() && !d_->doc.contains(to_string(*part))) return;
  const bool was_modified = is_modified();
  const ojson before = d_->doc;
  d_->snapshot(merge ? path : QString());
  ojson* node = &d_->writable_part(*part);
  for (int i = 1; i + 1 < keys.size(); ++i) {
    ojson& child = (*node)[keys.at(i).toStdString()];
    if (!child.is_object()) child = ojson::object();
    node = &child;
  }
  const std::string leaf = keys.back().toStdString();
  if (remove) node->erase(leaf);
  else (*node)[leaf] = value_of(text, kind);
  d_->collapse(*part);
  if (d_->doc == before) {  // nothing changed (e.g. the same text again)
    if (!d_->undo.empty() && d_->undo.back() == d_->doc) d_->undo.pop_back();
    return;
  }
  after_change(was_modified);
}

QString ScenarioDocument::preset(Part part) const {
  if (!has_presets(part) || !d_->doc.contains(to_string(part))) return {};
  const ojson& p = d_->doc[to_string(part)];
  if (p.is_string()) return QString::fromStdString(p.get<std::string>());
  if (p.is_object() && p.contains("base") && p["base"].is_string()) return QString::fromStdString(p["base"].get<std::string>());
  return {};
}

QStringList ScenarioDocument::overridden_fields(Part part) const {
  QStringList out;
  if (!d_->doc.contains(to_string(part))) return out;
  const ojson& p = d_->doc[to_string(part)];
  if (!p.is_object()) return out;
  for (const auto& [k, v] : p.items())
    if (k != "base") out << QString::fromStdString(k);
  return out;
}

void ScenarioDocument::set_preset(Part part, const QString& name) {
  if (!has_presets(part)) return;
  const ojson value = name.toStdString();
  if (d_->doc.contains(to_string(part)) && d_->doc[to_string(part)] == value) return;
  const bool was_modified = is_modified();
  d_->snapshot();
  d_->doc[to_string(part)] = value;
  after_change(was_modified);
}

void ScenarioDocument::make_custom(Part part) {
  if (!has_presets(part) || preset(part).isEmpty()) return;
  const nlohmann::json current(d_->doc[to_string(part)]);
  ojson inlined;
  if (part == Part::model) {
    auto m = presets::model_from_json(current);
    if (!m) return;  // an invalid override: leave it for the user to fix where it is marked
    inlined = ojson(presets::model_to_json(*m));
  } else {
    auto resolved = presets::resolve(presets::PresetKind::cluster, current, "cluster");
    if (!resolved) return;
    inlined = ojson(*resolved);
    for (const char* meta : {"aliases", "sources", "notes"}) inlined.erase(meta);
  }
  const bool was_modified = is_modified();
  d_->snapshot();
  d_->doc[to_string(part)] = std::move(inlined);
  after_change(was_modified);
}

void ScenarioDocument::apply_layout(const strategies::LayoutSpec& L, int nodes) {
  const bool was_modified = is_modified();
  const ojson before = d_->doc;
  d_->snapshot();
  ojson& lj = d_->writable_part(Part::layout);
  lj["tp"] = L.tp;
  lj["pp"] = L.pp;
  // dp is what the GPU count leaves (validate_scenario holds tp x pp x cp x dp = GPUs), so the file
  // leaves it out: editing tp or pp afterwards stays a valid what-if.
  lj.erase("dp");
  lj["micro_batch"] = L.micro_batch;
  lj["virtual_stages"] = L.virtual_stages;
  lj["schedule"] = strategies::to_string(L.schedule);
  lj["zero"] = L.zero;
  lj["recompute"] = strategies::to_string(L.recompute);
  lj["sequence_parallel"] = L.sequence_parallel;
  lj.erase("stage_layers");
  const auto current = d_->last_valid ? d_->last_valid->scenario.cluster.nodes : 0;
  if (nodes > 0 && nodes != current) {
    d_->writable_part(Part::cluster)["nodes"] = nodes;
    d_->collapse(Part::cluster);
  }
  if (d_->doc == before) {
    d_->undo.pop_back();
    return;
  }
  after_change(was_modified);
}

bool ScenarioDocument::can_undo() const { return !d_->undo.empty(); }
bool ScenarioDocument::can_redo() const { return !d_->redo.empty(); }

void ScenarioDocument::undo() {
  if (d_->undo.empty()) return;
  const bool was_modified = is_modified();
  d_->redo.push_back(d_->doc);
  d_->doc = d_->undo.back();
  d_->undo.pop_back();
  d_->merge_path.clear();
  after_change(was_modified);
}

void ScenarioDocument::redo() {
  if (d_->redo.empty()) return;
  const bool was_modified = is_modified();
  d_->undo.push_back(d_->doc);
  d_->doc = d_->redo.back();
  d_->redo.pop_back();
  d_->merge_path.clear();
  after_change(was_modified);
}

const std::optional<Error>& ScenarioDocument::error() const { return d_->error; }
EvaluatedPtr ScenarioDocument::last_valid() const { return d_->last_valid; }
std::uint64_t ScenarioDocument::revision() const { return d_->revision; }

void ScenarioDocument::after_change(bool modified_before) {
  d_->evaluate();
  if (is_modified() != modified_before) Q_EMIT modified_changed(is_modified());
  Q_EMIT changed();
}

}  // namespace clustersim::gui
