#include "gui/scenario_editor.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QStyle>
#include <QVBoxLayout>

#include "gui/scenario_document.hpp"
#include "gui/theme.hpp"
#include "presets/units.hpp"

namespace clustersim::gui {

namespace {

// A line edit whose Up/Down keys step an integer: by one, or doubling and halving for degrees that
// are powers of two in practice (tp, pp, micro-batch, nodes). Each step counts as a user edit.
class StepLineEdit : public QLineEdit {
 public:
  StepLineEdit(bool step, bool doubling, QWidget* parent) : QLineEdit(parent), step_(step), doubling_(doubling) {}
  std::function<void(const QString&)> on_step;

 protected:
  void keyPressEvent(QKeyEvent* e) override {
    if (step_ && (e->key() == Qt::Key_Up || e->key() == Qt::Key_Down)) {
      bool ok = false;
      const QString shown = text().isEmpty() ? placeholderText() : text();
      qlonglong v = shown.toLongLong(&ok);
      if (ok) {
        const bool up = e->key() == Qt::Key_Up;
        if (doubling_) v = up ? std::max<qlonglong>(1, v * 2) : std::max<qlonglong>(1, v / 2);
        else v = up ? v + 1 : std::max<qlonglong>(0, v - 1);
        setText(QString::number(v));
        if (on_step) on_step(text());
        return;
      }
    }
    QLineEdit::keyPressEvent(e);
  }

 private:
  bool step_, doubling_;
};

QString schedule_label(const QString& s) {
  if (s == QLatin1String("gpipe")) return QStringLiteral("GPipe");
  if (s == QLatin1String("1f1b")) return QStringLiteral("1F1B");
  if (s == QLatin1String("interleaved-1f1b")) return QStringLiteral("interleaved 1F1B");
  if (s == QLatin1String("zb-h1")) return QStringLiteral("zero-bubble H1");
  return s;
}

// The schedules the core parses, under their canonical names (robust to schedules added later).
QList<QPair<QString, QString>> schedule_options() {
  QList<QPair<QString, QString>> out;
  std::vector<strategies::Schedule> seen;
  for (const char* name : {"gpipe", "1f1b", "interleaved-1f1b", "zb-h1", "zero-bubble-v", "zb-v", "dualpipe"}) {
    const auto s = strategies::parse_schedule(name);
    if (!s || std::find(seen.begin(), seen.end(), *s) != seen.end()) continue;
    seen.push_back(*s);
    const QString canonical = QString::fromLatin1(strategies::to_string(*s));
    out.append({canonical, schedule_label(canonical)});
  }
  return out;
}

QString human_count(double v) {
  if (v >= 1e12) return QString::number(v / 1e12, 'g', 3) + QStringLiteral(" T");
  if (v >= 1e9) return QString::number(v / 1e9, 'g', 3) + QStringLiteral(" B");
  if (v >= 1e6) return QString::number(v / 1e6, 'g', 3) + QStringLiteral(" M");
  if (v >= 1e3) return QString::number(v / 1e3, 'g', 3) + QStringLiteral(" k");
  return QString::number(v, 'g', 3);
}

}  // namespace

ScenarioEditor::ScenarioEditor(ScenarioDocument* doc, QWidget* parent) : QWidget(parent), doc_(doc) {
  auto* col = new QVBoxLayout(this);
  col->setContentsMargins(6, 6, 6, 6);
  auto* top_error = new QLabel(this);
  top_error->setWordWrap(true);
  top_error->setVisible(false);
  group_errors_[QString()] = top_error;
  col->addWidget(top_error);

  using K = FieldKind;
  using W = Widget;
  QFormLayout* form = nullptr;

  col->addWidget(make_group(tr("Model"), QStringLiteral("model"), form));
  model_preset_ = add_preset_row(form, Part::model);
  const FieldDef model_fields[] = {
      {"model.layers", "Layers", K::integer, W::line, "",
       "Transformer blocks stacked in the model; pipeline parallelism splits them into stages."},
      {"model.hidden", "Hidden size", K::integer, W::line, "",
       "Width of the residual stream (d_model); weights grow with its square, activations linearly."},
      {"model.heads", "Attention heads", K::integer, W::line, "",
       "Query heads per layer; tensor parallelism must divide them."},
      {"model.kv_heads", "KV heads", K::integer, W::line, "",
       "Key/value heads (grouped-query attention when fewer than the query heads): smaller KV projections and caches; "
       "tensor parallelism must divide them."},
      {"model.ffn_hidden", "FFN hidden", K::integer, W::line, "",
       "Inner width of the MLP block (for SwiGLU, of each of its gate and up projections)."},
      {"model.vocab", "Vocabulary", K::integer, W::line, "tokens",
       "Token vocabulary; the embedding and the LM head are vocab x hidden, padded to a multiple of 128 x tp."},
  };
  for (const auto& f : model_fields) add_field(form, f);
  add_field(form, {"model.mlp", "MLP", K::text, W::combo, "",
                   "Activation of the MLP: SwiGLU is gated, with a third projection; GELU/ReLU use two."},
            {{"gelu", "GELU"}, {"swiglu", "SwiGLU"}, {"relu", "ReLU"}, {"squared-relu", "squared ReLU"}});
  add_field(form, {"model.tied_embeddings", "Tied embeddings", K::boolean, W::check, "",
                   "The LM head reuses the input embedding matrix: one copy of the vocab x hidden weights."});

  col->addWidget(make_group(tr("Cluster"), QStringLiteral("cluster"), form));
  cluster_preset_ = add_preset_row(form, Part::cluster);
  QList<QPair<QString, QString>> gpus;
  for (const auto& g : preset_choices(PresetGroup::gpu)) gpus.append({g.name, g.name});
  add_field(form, {"cluster.gpu", "GPU", K::text, W::combo, "",
                   "The accelerator of every node: peak FLOP/s per precision, HBM capacity and bandwidth, power."},
            gpus);
  add_field(form, {"cluster.nodes", "Nodes", K::integer, W::line, "nodes",
                   "Identical nodes in the job; GPUs = nodes x GPUs per node.", true});
  add_field(form, {"cluster.gpus_per_node", "GPUs per node", K::integer, W::line, "GPUs",
                   "GPUs joined by the node's scale-up fabric (NVLink/NVSwitch, xGMI); tensor parallelism usually "
                   "stays inside it."});

  col->addWidget(make_group(tr("Training"), QStringLiteral("training"), form));
  add_field(form, {"training.seq_length", "Sequence length", K::integer, W::line, "tokens",
                   "Tokens per training sequence; attention work grows with its square.", true});
  add_field(form, {"training.global_batch", "Global batch", K::integer, W::line, "sequences",
                   "Sequences per optimizer step over all data-parallel replicas; a multiple of dp x micro-batch.", true});
  add_field(form, {"training.precision", "Precision", K::text, W::combo, "",
                   "Number format of the math: bf16/fp16 mixed precision keep fp32 master weights; fp8 runs the GEMMs "
                   "in FP8 (Transformer Engine) and the rest in bf16."},
            {{"bf16", "bf16"}, {"fp16", "fp16"}, {"fp8", "fp8"}, {"fp32", "fp32"}});
  add_field(form, {"training.tokens", "Target tokens", K::number, W::line, "tokens",
                   "Tokens to train on in total (e.g. 1.5e13); gives days, GPU-hours, cost and energy. Empty: "
                   "per-iteration figures only."});

  col->addWidget(make_group(tr("Layout"), QStringLiteral("layout"), form));
  const FieldDef layout_fields[] = {
      {"layout.tp", "Tensor parallel", K::integer, W::line, "GPUs",
       "tp: splits every weight matrix of a layer over tp GPUs (Megatron); each layer then exchanges activations "
       "with collectives, so tp usually stays within a node.", true},
      {"layout.pp", "Pipeline parallel", K::integer, W::line, "stages",
       "pp: splits the layers into consecutive stages on different GPUs; micro-batches flow through them, leaving "
       "a pipeline bubble while the pipeline fills and drains.", true},
      {"layout.dp", "Data parallel", K::integer, W::line, "replicas",
       "dp: copies of the model that each take a share of the batch and average their gradients. Empty: the GPU "
       "count divided by tp x pp x cp.", true},
      {"layout.micro_batch", "Micro-batch", K::integer, W::line, "sequences",
       "Sequences per forward/backward pass; more micro-batches per iteration shrink the pipeline bubble.", true},
      {"layout.virtual_stages", "Virtual stages", K::integer, W::line, "per rank",
       "Model chunks per pipeline rank (interleaved 1F1B): the bubble shrinks by this factor, at the cost of more "
       "pipeline sends."},
  };
  for (const auto& f : layout_fields) add_field(form, f);
  add_field(form, {"layout.schedule", "Schedule", K::text, W::combo, "",
                   "Order of forward and backward passes: GPipe runs all forwards first; 1F1B alternates and holds "
                   "fewer activations; interleaved 1F1B cycles over virtual stages; zero-bubble H1 splits the "
                   "backward and fills the bubble with weight-gradient passes."},
            schedule_options());
  add_field(form, {"layout.zero", "ZeRO stage", K::integer, W::combo, "",
                   "ZeRO shards training state over the data-parallel GPUs: stage 1 the optimizer states, 2 also the "
                   "gradients, 3 also the parameters (FSDP), gathered just in time at the cost of more traffic."},
            {{"0", "0: replicate all (DDP)"}, {"1", "1: shard optimizer states"}, {"2", "2: + gradients"},
             {"3", "3: + parameters (FSDP)"}});
  add_field(form, {"layout.recompute", "Recompute", K::text, W::combo, "",
                   "Activation recomputation drops activations in the forward pass and recomputes them in the "
                   "backward: selective only the attention core (cheap; drops the s x s scores), full the whole "
                   "layer (about a third more compute)."},
            {{"none", "none"}, {"selective", "selective"}, {"full", "full"}});
  add_field(form, {"layout.attention", "Attention", K::text, W::combo, "",
                   "flash: a fused kernel that never stores the s x s score matrix. materialized: keeps the scores, "
                   "so activation memory grows with the square of the sequence length."},
            {{"flash", "flash (fused)"}, {"materialized", "materialized (s x s scores)"}});
  add_field(form, {"layout.sequence_parallel", "Sequence parallel", K::boolean, W::check, "",
                   "With tp > 1, also splits the norms and dropouts along the sequence, so their activations are "
                   "divided by tp instead of replicated; all-reduces become reduce-scatter + all-gather."});
  add_field(form, {"layout.stage_layers", "Stage layers", K::int_list, W::line, "layers",
                   "Optional uneven split: the transformer layers of each pipeline stage (of each virtual stage, in "
                   "order), e.g. 19, 21, 21, 19. Empty: an even split."});
  add_field(form, {"layout.cp", "Context parallel", K::integer, W::line, "GPUs",
                   "cp: splits each sequence over cp GPUs (ring attention). The cost model accepts only cp = 1 for now."});
  add_field(form, {"layout.tp_comm_overlap", "Overlap TP comm", K::boolean, W::check, "",
                   "Hide tensor-parallel collectives behind GEMMs (Transformer Engine userbuffers, async TP)."});
  add_field(form, {"layout.overlap_grad_reduce", "Overlap grad reduce", K::boolean, W::check, "",
                   "Reduce gradients in buckets while the backward pass still runs (Megatron / PyTorch DDP)."});
  col->addStretch(1);

  connect(doc_, &ScenarioDocument::changed, this, &ScenarioEditor::refresh);
  refresh();
}

QGroupBox* ScenarioEditor::make_group(const QString& title, const QString& part, QFormLayout*& form) {
  auto* box = new QGroupBox(title, this);
  auto* v = new QVBoxLayout(box);
  auto* info = new QLabel(box);
  info->setWordWrap(true);
  info->setTextInteractionFlags(Qt::TextSelectableByMouse);
  theme::make_muted(info);
  infos_[part] = info;
  v->addWidget(info);
  form = new QFormLayout();
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  form->setLabelAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  v->addLayout(form);
  auto* err = new QLabel(box);
  err->setWordWrap(true);
  err->setVisible(false);
  group_errors_[part] = err;
  v->addWidget(err);
  return box;
}

QComboBox* ScenarioEditor::add_preset_row(QFormLayout* form, Part part) {
  auto* combo = new QComboBox(this);
  const auto group = part == Part::model ? PresetGroup::model : PresetGroup::cluster;
  for (const auto& c : preset_choices(group)) {
    combo->addItem(c.name, c.name);
    combo->setItemData(combo->count() - 1, c.description, Qt::ToolTipRole);
  }
  combo->addItem(tr("custom (inline values)"), QString());
  combo->setItemData(combo->count() - 1, tr("Write every value into the scenario instead of starting from a preset."),
                     Qt::ToolTipRole);
  combo->setToolTip(part == Part::model
                        ? tr("A bundled model shape. Editing a field below overrides the preset's value "
                             "(written as {\"base\": preset, field: value}); clearing it restores the preset's.")
                        : tr("A bundled node type (GPU, fabric, network). Fields below override it."));
  combo->setObjectName(QStringLiteral("%1.preset").arg(QString::fromLatin1(to_string(part))));
  auto* row = new QWidget(this);
  auto* h = new QHBoxLayout(row);
  h->setContentsMargins(0, 0, 0, 0);
  h->addWidget(combo, 1);
  auto* spacer = new QLabel(row);
  spacer->setFixedWidth(spacer->fontMetrics().horizontalAdvance(QStringLiteral("sequences")) + 4);
  h->addWidget(spacer);
  form->addRow(tr("Preset"), row);
  connect(combo, &QComboBox::activated, this, [this, part, combo](int) { on_preset_chosen(part, combo); });
  return combo;
}

void ScenarioEditor::add_field(QFormLayout* form, const FieldDef& def, const QList<QPair<QString, QString>>& options) {
  Field f;
  f.path = QString::fromLatin1(def.path);
  f.kind = def.kind;
  f.base_tip = QStringLiteral("<p>%1</p><p><i>JSON: %2</i>%3</p>")
                   .arg(tr(def.tip).toHtmlEscaped(), f.path,
                        def.widget == Widget::line && def.kind == FieldKind::integer
                            ? (def.doubling ? tr(" · Up/Down doubles or halves") : tr(" · Up/Down steps by one"))
                            : QString());
  auto* row = new QWidget(this);
  auto* h = new QHBoxLayout(row);
  h->setContentsMargins(0, 0, 0, 0);
  switch (def.widget) {
    case Widget::line: {
      auto* e = new StepLineEdit(def.kind == FieldKind::integer, def.doubling, row);
      const QString path = f.path;
      e->on_step = [this, path](const QString& t) { write(fields_.at(path), t); };
      connect(e, &QLineEdit::textEdited, this, [this, path](const QString& t) { write(fields_.at(path), t, true); });
      f.editor = e;
      break;
    }
    case Widget::combo: {
      auto* c = new QComboBox(row);
      c->addItem(QString(), QString());  // "what applies" (preset or default), filled in by refresh
      for (const auto& [value, label] : options) c->addItem(label, value);
      const QString path = f.path;
      connect(c, &QComboBox::activated, this, [this, path, c](int i) { write(fields_.at(path), c->itemData(i).toString()); });
      f.editor = c;
      break;
    }
    case Widget::check: {
      auto* c = new QCheckBox(row);
      const QString path = f.path;
      connect(c, &QCheckBox::clicked, this, [this, path](bool on) {
        write(fields_.at(path), on ? QStringLiteral("true") : QStringLiteral("false"));
      });
      f.editor = c;
      break;
    }
  }
  f.editor->setObjectName(f.path);
  f.editor->setToolTip(f.base_tip);
  h->addWidget(f.editor, 1);
  // Every row has a unit column (empty when the value has none), so the fields line up.
  auto* unit = new QLabel(*def.unit ? tr(def.unit) : QString(), row);
  unit->setFixedWidth(unit->fontMetrics().horizontalAdvance(QStringLiteral("sequences")) + 4);
  theme::make_muted(unit);
  h->addWidget(unit);
  f.label = new QLabel(tr(def.label), this);
  f.label->setToolTip(f.base_tip);
  f.label->setBuddy(f.editor);
  form->addRow(f.label, row);
  f.error = new QLabel(this);
  f.error->setWordWrap(true);
  f.error->setVisible(false);
  f.error->setObjectName(f.path + QStringLiteral(".error"));
  form->addRow(f.error);
  fields_.emplace(f.path, f);
}

void ScenarioEditor::write(const Field& f, const QString& text, bool merge) {
  editing_ = f.path;
  doc_->set_field_text(f.path, text, f.kind, merge);
  editing_.clear();
}

void ScenarioEditor::on_preset_chosen(Part part, QComboBox* combo) {
  const QString name = combo->currentData().toString();
  if (name == doc_->preset(part)) return;
  if (name.isEmpty()) {
    doc_->make_custom(part);
  } else {
    const QStringList over = doc_->overridden_fields(part);
    const bool ok = over.isEmpty() || !confirm_discard ||
                    confirm_discard(tr("Switching the %1 to %2 discards what you wrote in: %3. Continue?")
                                        .arg(QString::fromLatin1(to_string(part)), name, over.join(QStringLiteral(", "))));
    if (ok) doc_->set_preset(part, name);
  }
  refresh_presets();
}

QWidget* ScenarioEditor::field_widget(const QString& path) const {
  const auto it = fields_.find(path);
  return it == fields_.end() ? nullptr : it->second.editor;
}

QLabel* ScenarioEditor::error_label(const QString& path) const {
  if (const auto it = fields_.find(path); it != fields_.end()) return it->second.error;
  const auto g = group_errors_.find(path);
  return g == group_errors_.end() ? nullptr : g->second;
}

QComboBox* ScenarioEditor::preset_combo(Part part) const {
  return part == Part::model ? model_preset_ : part == Part::cluster ? cluster_preset_ : nullptr;
}

QWidget* ScenarioEditor::marked_widget() const {
  if (!doc_->error()) return nullptr;
  if (QWidget* w = field_widget(marked_)) return w;
  return error_label(marked_);
}

void ScenarioEditor::focus_error() {
  if (auto* w = field_widget(marked_)) w->setFocus(Qt::OtherFocusReason);
}

void ScenarioEditor::refresh() {
  refresh_presets();
  for (auto& [path, f] : fields_) refresh_field(f);
  refresh_infos();
  show_error(doc_->error());
}

void ScenarioEditor::refresh_presets() {
  for (auto [part, combo] : {std::pair{Part::model, model_preset_}, std::pair{Part::cluster, cluster_preset_}}) {
    const QString name = doc_->preset(part);
    int i = name.isEmpty() ? combo->count() - 1 : combo->findData(name, Qt::UserRole, Qt::MatchFixedString);
    if (i < 0) {  // an alias or an unknown name: show it as written (the reader marks unknown ones)
      combo->insertItem(combo->count() - 1, name, name);
      i = combo->count() - 2;
    }
    const QSignalBlocker block(combo);
    combo->setCurrentIndex(i);
  }
}

void ScenarioEditor::refresh_field(Field& f) {
  const QString written = doc_->field_text(f.path);
  QString inherited = doc_->inherited_text(f.path);
  const bool from_preset = (f.path.startsWith(QLatin1String("model.")) && !doc_->preset(Part::model).isEmpty()) ||
                           (f.path.startsWith(QLatin1String("cluster.")) && !doc_->preset(Part::cluster).isEmpty());
  if (f.path == QLatin1String("layout.dp") && written.isEmpty())
    if (const auto ev = doc_->last_valid()) inherited = tr("auto (= %1)").arg(ev->scenario.layout.dp);
  if (auto* e = qobject_cast<QLineEdit*>(f.editor)) {
    e->setPlaceholderText(inherited);
    if (f.path != editing_ && e->text() != written) e->setText(written);
    return;
  }
  if (auto* c = qobject_cast<QComboBox*>(f.editor)) {
    const QSignalBlocker block(c);
    const int inherited_index = inherited.isEmpty() ? -1 : c->findData(inherited);
    const QString shown = inherited_index > 0 ? c->itemText(inherited_index) : inherited;
    c->setItemText(0, inherited.isEmpty() ? tr("(not set)")
                                          : (from_preset ? tr("%1 (preset)") : tr("%1 (default)")).arg(shown));
    // Drop a value shown earlier that is not one of the options.
    for (int i = c->count() - 1; i > 0; --i)
      if (c->itemData(i, Qt::UserRole + 1).toBool()) c->removeItem(i);
    int i = written.isEmpty() ? 0 : c->findData(written);
    if (i < 0) {
      c->addItem(written, written);
      c->setItemData(c->count() - 1, true, Qt::UserRole + 1);
      i = c->count() - 1;
    }
    c->setCurrentIndex(i);
    return;
  }
  if (auto* c = qobject_cast<QCheckBox*>(f.editor)) {
    const QSignalBlocker block(c);
    const QString effective = written.isEmpty() ? inherited : written;
    c->setChecked(effective == QLatin1String("true"));
    c->setText(written.isEmpty() ? (from_preset ? tr("(preset)") : tr("(default)")) : QString());
  }
}

void ScenarioEditor::refresh_infos() {
  const auto ev = doc_->last_valid();
  if (!ev) {
    for (auto& [k, l] : infos_) l->clear();
    return;
  }
  const auto& sc = ev->scenario;
  const auto& m = sc.model;
  QString model_info = tr("%1 parameters").arg(human_count(m.total_params()));
  if (m.active_params() < m.total_params()) model_info += tr(", %1 active").arg(human_count(m.active_params()));
  model_info += tr(" · head dim %1").arg(m.head_dim());
  infos_[QStringLiteral("model")]->setText(model_info);
  const auto& g = sc.cluster.gpu;
  const auto peak = g.peak_for(sc.training.precision);
  infos_[QStringLiteral("cluster")]->setText(
      tr("%1 GPUs · %2 · %3 HBM · %4 TFLOP/s %5 dense")
          .arg(sc.gpus)
          .arg(QString::fromStdString(g.name), QString::fromStdString(presets::format_bytes(g.hbm_capacity.value)))
          .arg(peak ? QString::number(peak->value / 1e12, 'f', 0) : QStringLiteral("?"))
          .arg(QString::fromLatin1(hardware::to_string(sc.training.precision))));
  const double tokens_per_iter = static_cast<double>(sc.training.global_batch) * static_cast<double>(sc.training.seq_length);
  QString training_info = tr("%1 tokens per iteration").arg(human_count(tokens_per_iter));
  if (sc.training.tokens > 0) training_info += tr(" · %1 iterations").arg(human_count(sc.training.tokens / tokens_per_iter));
  infos_[QStringLiteral("training")]->setText(training_info);
  QStringList split;
  for (const auto& st : sc.stages) split << QString::number(st.layers());
  infos_[QStringLiteral("layout")]->setText(tr("dp %1 · %2 micro-batches per iteration · layers per stage %3")
                                                .arg(sc.layout.dp)
                                                .arg(sc.micro_batches)
                                                .arg(split.size() > 12 ? split.mid(0, 12).join(QLatin1Char('/')) +
                                                                             QStringLiteral("/...")
                                                                       : split.join(QLatin1Char('/'))));
}

void ScenarioEditor::show_error(const std::optional<Error>& error) {
  const QColor red = theme::error_color(palette());
  for (auto& [path, f] : fields_) {
    if (f.error->isVisible() || f.editor->property("invalid").toBool()) {
      f.error->clear();
      f.error->setVisible(false);
      f.editor->setProperty("invalid", false);
      f.editor->setStyleSheet(QString());
      f.label->setStyleSheet(QString());
      f.editor->setToolTip(f.base_tip);
    }
  }
  for (auto& [k, l] : group_errors_) {
    l->clear();
    l->setVisible(false);
  }
  marked_.clear();
  if (!error) return;
  const QString message = QString::fromStdString(error->message);
  const QString full = QString::fromStdString(error->what());
  QString p = QString::fromStdString(error->path);
  p.remove(QRegularExpression(QStringLiteral("\\[\\d+\\]")));
  const QString css_label = QStringLiteral("color: %1; font-weight: bold;").arg(red.name());
  const QString css_text = QStringLiteral("color: %1;").arg(red.name());
  while (true) {
    if (const auto it = fields_.find(p); it != fields_.end()) {
      Field& f = it->second;
      marked_ = p;
      f.editor->setProperty("invalid", true);
      if (qobject_cast<QLineEdit*>(f.editor))
        f.editor->setStyleSheet(QStringLiteral("QLineEdit { border: 2px solid %1; border-radius: 3px; padding: 1px 3px; }")
                                    .arg(red.name()));
      f.label->setStyleSheet(css_label);
      f.error->setStyleSheet(css_text);
      f.error->setText(p == QString::fromStdString(error->path) ? message : full);
      f.error->setVisible(true);
      f.editor->setToolTip(QStringLiteral("<p><b>%1</b></p>").arg(full.toHtmlEscaped()) + f.base_tip);
      return;
    }
    if (const auto g = group_errors_.find(p); g != group_errors_.end()) {
      marked_ = p;
      g->second->setStyleSheet(css_text);
      g->second->setText(full);
      g->second->setVisible(true);
      return;
    }
    if (p.isEmpty()) return;
    const int dot = p.lastIndexOf(QLatin1Char('.'));
    p = dot < 0 ? QString() : p.left(dot);
  }
}

}  // namespace clustersim::gui
