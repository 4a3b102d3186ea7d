#include "gui/overview_view.hpp"

#include <QFrame>
#include <QGridLayout>
#include <QLabel>
#include <QScrollArea>
#include <QVBoxLayout>

#include "gui/breakdown_bar.hpp"
#include "gui/cost_settings.hpp"
#include "gui/theme.hpp"
#include "presets/units.hpp"

namespace clustersim::gui {

namespace {
QString sec(double s) { return QString::fromStdString(presets::format_seconds(s)); }
QString bytes(double b) { return QString::fromStdString(presets::format_bytes(b)); }
QString sig(double v, int digits = 3) {
  if (v >= 1e12) return QString::number(v / 1e12, 'g', digits) + QStringLiteral(" T");
  if (v >= 1e9) return QString::number(v / 1e9, 'g', digits) + QStringLiteral(" B");
  if (v >= 1e6) return QString::number(v / 1e6, 'g', digits) + QStringLiteral(" M");
  if (v >= 1e3) return QString::number(v / 1e3, 'g', digits) + QStringLiteral(" k");
  return QString::number(v, 'g', digits);
}
QString money(double usd) {
  if (usd >= 1e9) return QStringLiteral("$%1 B").arg(usd / 1e9, 0, 'f', 2);
  if (usd >= 1e6) return QStringLiteral("$%1 M").arg(usd / 1e6, 0, 'f', 2);
  if (usd >= 1e3) return QStringLiteral("$%1 k").arg(usd / 1e3, 0, 'f', 1);
  return QStringLiteral("$%1").arg(usd, 0, 'f', 2);
}
QLabel* section_title(const QString& text, QWidget* parent) {
  auto* l = new QLabel(text, parent);
  QFont f = l->font();
  f.setBold(true);
  f.setPointSizeF(f.pointSizeF() * 1.1);
  l->setFont(f);
  return l;
}
}  // namespace

OverviewView::OverviewView(CostSettings* costs, QWidget* parent) : QWidget(parent), costs_(costs) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  outer->addWidget(scroll);
  auto* body = new QWidget(scroll);
  scroll->setWidget(body);
  auto* col = new QVBoxLayout(body);
  col->setContentsMargins(12, 12, 12, 12);
  col->setSpacing(10);

  header_ = new QLabel(body);
  header_->setWordWrap(true);
  header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  col->addWidget(header_);

  auto* grid = new QGridLayout();
  grid->setSpacing(8);
  add_card(grid, 0, 0, QStringLiteral("iteration_time"), tr("Iteration time"),
           tr("Wall-clock time of one optimizer step: all micro-batches through the pipeline, then the data-parallel "
              "reduction and the optimizer."));
  add_card(grid, 0, 1, QStringLiteral("tokens_per_s"), tr("Throughput"),
           tr("Training tokens processed per second by the whole cluster."));
  add_card(grid, 0, 2, QStringLiteral("mfu"), tr("MFU"),
           tr("Model FLOPs utilisation: model FLOPs (no recomputation) per second over the GPUs' dense peak for the "
              "training precision. HFU also counts recomputed FLOPs."));
  add_card(grid, 0, 3, QStringLiteral("tflops"), tr("Model TFLOP/s per GPU"),
           tr("Useful model FLOPs per second on each GPU (attention counted non-causal, as Megatron-LM does)."));
  add_card(grid, 1, 0, QStringLiteral("days"), tr("Days to train"),
           tr("Wall-clock days to train the target tokens at this throughput."));
  add_card(grid, 1, 1, QStringLiteral("cost"), tr("Cost to train"),
           tr("GPU-hours times the price per GPU-hour set in the Budget view."));
  add_card(grid, 1, 2, QStringLiteral("gpu_hours"), tr("GPU-hours"), tr("GPUs times wall-clock hours."));
  add_card(grid, 1, 3, QStringLiteral("memory"), tr("Peak memory per GPU"),
           tr("Device memory of the fullest GPU at its peak phase (what nvidia-smi would show) against its HBM."));
  col->addLayout(grid);

  col->addWidget(section_title(tr("Where the iteration goes"), body));
  time_bar_ = new BreakdownBar(body);
  time_bar_->setToolTip(tr("The bottleneck stage's iteration: forward and backward kernels, recomputation, pipeline "
                           "fill and drain, communication not hidden behind compute, and the optimizer step."));
  col->addWidget(time_bar_);

  col->addWidget(section_title(tr("Memory of the fullest GPU"), body));
  memory_bar_ = new BreakdownBar(body);
  col->addWidget(memory_bar_);
  memory_verdict_ = new QLabel(body);
  memory_verdict_->setWordWrap(true);
  col->addWidget(memory_verdict_);

  col->addWidget(section_title(tr("Traffic and notes"), body));
  traffic_ = new QLabel(body);
  traffic_->setWordWrap(true);
  col->addWidget(traffic_);
  notes_ = new QLabel(body);
  notes_->setWordWrap(true);
  theme::make_muted(notes_);
  col->addWidget(notes_);
  col->addStretch(1);

  connect(costs_, &CostSettings::changed, this, &OverviewView::render);
}

void OverviewView::add_card(QGridLayout* grid, int row, int col, const QString& key, const QString& title, const QString& tip) {
  auto* frame = new QFrame(this);
  frame->setFrameShape(QFrame::StyledPanel);
  frame->setAutoFillBackground(true);
  frame->setBackgroundRole(QPalette::Base);
  frame->setToolTip(tip);
  auto* v = new QVBoxLayout(frame);
  v->setContentsMargins(10, 8, 10, 8);
  v->setSpacing(2);
  auto* t = new QLabel(title, frame);
  theme::make_muted(t);
  auto* value = new QLabel(QStringLiteral("–"), frame);
  QFont f = value->font();
  f.setPointSizeF(f.pointSizeF() * 1.7);
  f.setBold(true);
  value->setFont(f);
  value->setObjectName(QStringLiteral("card.") + key);
  value->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* detail = new QLabel(frame);
  theme::make_muted(detail);
  detail->setWordWrap(true);
  v->addWidget(t);
  v->addWidget(value);
  v->addWidget(detail);
  grid->addWidget(frame, row, col);
  grid->setColumnStretch(col, 1);
  cards_[key] = {value, detail};
}

QString OverviewView::card_text(const QString& key) const {
  const auto it = cards_.find(key);
  return it == cards_.end() ? QString() : it->second.value->text();
}

void OverviewView::show_result(const EvaluatedPtr& ev) {
  ev_ = ev;
  render();
}

void OverviewView::render() {
  if (!ev_) return;
  const auto& sc = ev_->scenario;
  const auto& r = ev_->report;
  const auto& L = sc.layout;
  const QPalette pal = palette();
  QString layout = tr("tp %1 · pp %2 · dp %3").arg(L.tp).arg(L.pp).arg(L.dp);
  if (L.sequence_parallel) layout += tr(" · sequence parallel");
  layout += tr(" · micro-batch %1 (%2 per iteration) · %3").arg(L.micro_batch).arg(sc.micro_batches).arg(QString::fromLatin1(strategies::to_string(L.schedule)));
  if (L.virtual_stages > 1) layout += tr(" v=%1").arg(L.virtual_stages);
  layout += tr(" · ZeRO %1 · recompute %2 · %3 attention")
                .arg(L.zero)
                .arg(QString::fromLatin1(strategies::to_string(L.recompute)), QString::fromLatin1(strategies::to_string(L.attention)));
  header_->setText(tr("<b style='font-size:large'>%1</b> on %2 × %3 (%4 × %5) &nbsp;·&nbsp; evaluator: %6<br>%7")
                       .arg(QString::fromStdString(sc.model.spec().name).toHtmlEscaped())
                       .arg(sc.cluster.nodes)
                       .arg(QString::fromStdString(sc.cluster.name).toHtmlEscaped())
                       .arg(sc.gpus)
                       .arg(QString::fromStdString(sc.cluster.gpu.name).toHtmlEscaped(),
                            QString::fromStdString(r.evaluator).toHtmlEscaped(), layout.toHtmlEscaped()));

  auto set = [&](const QString& key, const QString& value, const QString& detail) {
    cards_[key].value->setText(value);
    cards_[key].detail->setText(detail);
  };
  set(QStringLiteral("iteration_time"), sec(r.iteration_time_s),
      tr("bottleneck stage %1 · %2 micro-batches").arg(r.bottleneck_stage).arg(r.micro_batches));
  set(QStringLiteral("tokens_per_s"), sig(r.tokens_per_s) + tr(" tok/s"), tr("%1 tok/s per GPU").arg(sig(r.tokens_per_s / r.gpus)));
  set(QStringLiteral("mfu"), QStringLiteral("%1 %").arg(r.mfu * 100, 0, 'f', 1), tr("HFU %1 %").arg(r.hfu * 100, 0, 'f', 1));
  set(QStringLiteral("tflops"), QString::number(r.tflops_per_gpu, 'f', 1),
      tr("of %1 dense peak").arg(QString::number(r.peak_flops_per_gpu / 1e12, 'f', 0)));
  const auto budget = compute_budget(*ev_, costs_->inputs());
  if (budget.has_target) {
    set(QStringLiteral("days"), QString::number(r.train_days, 'f', r.train_days < 10 ? 2 : 1),
        tr("for %1 tokens").arg(sig(r.tokens_target)));
    set(QStringLiteral("gpu_hours"), sig(r.gpu_hours), tr("%1 GPUs").arg(r.gpus));
    set(QStringLiteral("cost"), money(budget.cost_usd), tr("at $%1 per GPU-hour").arg(costs_->inputs().usd_per_gpu_hour, 0, 'f', 2));
  } else {
    const QString hint = tr("set training.tokens");
    set(QStringLiteral("days"), QStringLiteral("–"), hint);
    set(QStringLiteral("gpu_hours"), sig(budget.gpu_hours), tr("per iteration"));
    set(QStringLiteral("cost"), money(budget.cost_per_iteration_usd), tr("per iteration"));
  }
  const auto& mem = r.memory;
  set(QStringLiteral("memory"), bytes(mem.peak_device.value),
      tr("of %1 · %2").arg(bytes(mem.capacity.value), mem.fits ? tr("fits") : tr("does not fit")));
  cards_[QStringLiteral("memory")].value->setStyleSheet(
      mem.fits ? QString() : QStringLiteral("color: %1;").arg(theme::error_color(pal).name()));

  const auto& t = r.time;
  time_bar_->set_segments({{tr("compute"), t.compute.value, theme::kBlue, sec(t.compute.value)},
                           {tr("recompute"), t.recompute.value, theme::kPurple, sec(t.recompute.value)},
                           {tr("bubble"), t.bubble.value, theme::kGrey, sec(t.bubble.value)},
                           {tr("exposed comm"), t.exposed_comm.value, theme::kOrange, sec(t.exposed_comm.value)},
                           {tr("optimizer"), t.optimizer.value, theme::kVermillion, sec(t.optimizer.value)}});

  const auto& st = mem.stages.at(static_cast<std::size_t>(mem.peak_stage));
  const double device_extra = (st.device_peak - st.reserved_peak).value;
  const double reserve = (st.reserved_peak - st.allocated_peak).value;
  memory_bar_->set_segments({{tr("weights"), st.weights.value, theme::kBlue, bytes(st.weights.value)},
                             {tr("gradients"), st.gradients.value, theme::kSky, bytes(st.gradients.value)},
                             {tr("optimizer"), st.optimizer.value, theme::kGreen, bytes(st.optimizer.value)},
                             {tr("activations"), st.activations.value, theme::kOrange, bytes(st.activations.value)},
                             {tr("other"), st.other.value, theme::kPurple, bytes(st.other.value)},
                             {tr("allocator reserve"), reserve, QColor(0xbb, 0xbb, 0xbb), bytes(reserve)},
                             {tr("CUDA context + NCCL"), device_extra, QColor(0x77, 0x77, 0x77), bytes(device_extra)}},
                            mem.capacity.value, tr("HBM %1").arg(bytes(mem.capacity.value)));
  const QColor verdict = mem.fits ? theme::ok_color(pal) : theme::error_color(pal);
  memory_verdict_->setText(
      tr("<span style='color:%1'><b>%2</b></span> — stage %3 peaks at %4 in the %5 phase (%6 allocated, %7 reserved), "
         "%8 % of %9.")
          .arg(verdict.name(), mem.fits ? tr("Fits") : tr("Does not fit"))
          .arg(st.stage)
          .arg(bytes(st.device_peak.value), QString::fromStdString(st.peak_phase), bytes(st.allocated_peak.value),
               bytes(st.reserved_peak.value))
          .arg(100.0 * st.device_peak.value / mem.capacity.value, 0, 'f', 0)
          .arg(bytes(mem.capacity.value)));

  traffic_->setText(tr("Traffic per GPU per iteration: tensor parallel %1, pipeline %2, data parallel %3. "
                       "Parameters: %4 in total, %5 on the fullest GPU.")
                        .arg(bytes(r.traffic_tp), bytes(r.traffic_pp), bytes(r.traffic_dp), sig(r.params_total),
                             sig(r.params_per_gpu_max)));
  QStringList notes;
  for (const auto& n : r.notes) notes << QStringLiteral("• ") + QString::fromStdString(n).toHtmlEscaped();
  notes_->setText(notes.join(QStringLiteral("<br>")));
}

}  // namespace clustersim::gui
