#include "gui/memory_view.hpp"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QEvent>
#include <QHeaderView>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QSplitter>
#include <QStackedBarSeries>
#include <QTableWidget>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include "gui/theme.hpp"
#include "presets/units.hpp"
#include "strategies/memory.hpp"

namespace clustersim::gui {

std::vector<StageBars> stage_bars(const Evaluated& ev) {
  const auto& sc = ev.scenario;
  const auto& mem = ev.report.memory;
  // The quadratic part stored per layer and micro-batch: what `stored` keeps beyond the linear part
  // (all of it without recomputation; none when selective or full recomputation drops the scores).
  const auto act = strategies::layer_activations(sc);
  const double linear = act.full - act.quadratic;
  const double quad_stored = std::clamp(act.stored - linear, 0.0, act.quadratic);
  std::vector<StageBars> out;
  for (std::size_t i = 0; i < mem.stages.size(); ++i) {
    const auto& st = mem.stages[i];
    StageBars b;
    b.weights = st.weights.value;
    b.gradients = st.gradients.value;
    b.optimizer = st.optimizer.value;
    const double layers_inflight = sc.stages.at(i).layers() * st.inflight_chunks / sc.layout.virtual_stages;
    b.attention_scores = std::min(st.activations.value, layers_inflight * quad_stored);
    b.activations = st.activations.value - b.attention_scores;
    b.other = st.other.value;
    b.reserve = (st.reserved_peak - st.allocated_peak).value;
    b.device_extra = (st.device_peak - st.reserved_peak).value;
    out.push_back(b);
  }
  return out;
}

MemoryView::MemoryView(QWidget* parent) : QWidget(parent) {
  auto* col = new QVBoxLayout(this);
  col->setContentsMargins(8, 8, 8, 8);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  col->addWidget(summary_);
  auto* split = new QSplitter(Qt::Vertical, this);
  view_ = new QChartView(new QChart(), split);
  view_->setRenderHint(QPainter::Antialiasing);
  view_->setMinimumHeight(260);
  table_ = new QTableWidget(split);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  split->addWidget(view_);
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  col->addWidget(split, 1);
}

QChart* MemoryView::chart() const { return view_->chart(); }

QStringList MemoryView::series_names() const {
  QStringList names;
  for (auto* s : chart()->series())
    if (auto* bars = qobject_cast<QStackedBarSeries*>(s))
      for (auto* set : bars->barSets()) names << set->label();
  return names;
}

void MemoryView::show_result(const EvaluatedPtr& ev) {
  ev_ = ev;
  render();
}

void MemoryView::changeEvent(QEvent* e) {
  QWidget::changeEvent(e);
  if (e->type() == QEvent::PaletteChange) render();
}

void MemoryView::render() {
  if (!ev_) return;
  const QPalette pal = palette();
  const auto& mem = ev_->report.memory;
  const auto bars = stage_bars(*ev_);
  const double gib = 1024.0 * 1024.0 * 1024.0;

  auto* chart = new QChart();
  chart->setTitle(tr("Memory per GPU by pipeline stage, at each stage's peak"));
  auto* series = new QStackedBarSeries(chart);
  struct Part {
    QString name;
    double StageBars::*field;
    QColor color;
    bool always;
  };
  const Part parts[] = {
      {tr("weights"), &StageBars::weights, theme::kBlue, true},
      {tr("gradients"), &StageBars::gradients, theme::kSky, true},
      {tr("optimizer states"), &StageBars::optimizer, theme::kGreen, true},
      {tr("activations"), &StageBars::activations, theme::kOrange, true},
      {tr("attention scores (s²)"), &StageBars::attention_scores, theme::kVermillion, false},
      {tr("other"), &StageBars::other, theme::kPurple, true},
      {tr("allocator reserve"), &StageBars::reserve, QColor(0xbb, 0xbb, 0xbb), true},
      {tr("CUDA context + NCCL"), &StageBars::device_extra, QColor(0x77, 0x77, 0x77), true},
  };
  std::vector<std::pair<QBarSet*, QColor>> sets;
  double ymax = mem.capacity.value;
  for (const auto& b : bars) ymax = std::max(ymax, b.total());
  for (const auto& part : parts) {
    double any = 0;
    for (const auto& b : bars) any += b.*(part.field);
    if (!part.always && any <= 0) continue;
    auto* set = new QBarSet(part.name);
    for (const auto& b : bars) *set << b.*(part.field) / gib;
    series->append(set);
    sets.emplace_back(set, part.color);
    connect(set, &QBarSet::hovered, this, [this, set](bool on, int i) {
      if (!on || !ev_) return QToolTip::hideText();
      QToolTip::showText(QCursor::pos(), tr("stage %1 · %2: %3")
                                             .arg(i)
                                             .arg(set->label(),
                                                  QString::fromStdString(presets::format_bytes(set->at(i) * 1024.0 * 1024.0 * 1024.0))));
    });
  }
  series->setBarWidth(bars.size() > 16 ? 0.9 : 0.6);
  chart->addSeries(series);
  QStringList cats;
  for (std::size_t i = 0; i < bars.size(); ++i) cats << QString::number(i);
  auto* x = new QBarCategoryAxis(chart);
  x->append(cats);
  x->setTitleText(tr("pipeline stage"));
  auto* y = new QValueAxis(chart);
  y->setRange(0, ymax / gib * 1.08);
  y->setTitleText(tr("GiB per GPU"));
  y->setLabelFormat(QStringLiteral("%.0f"));
  y->applyNiceNumbers();
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  series->attachAxis(x);
  series->attachAxis(y);

  // The HBM capacity, across all stages (on a hidden value axis aligned with the categories).
  auto* hbm = new QLineSeries(chart);
  hbm->setName(tr("HBM capacity %1").arg(QString::fromStdString(presets::format_bytes(mem.capacity.value))));
  const double n = static_cast<double>(bars.size());
  hbm->append(-0.5, mem.capacity.value / gib);
  hbm->append(n - 0.5, mem.capacity.value / gib);
  chart->addSeries(hbm);
  auto* hx = new QValueAxis(chart);
  hx->setRange(-0.5, n - 0.5);
  hx->setVisible(false);
  chart->addAxis(hx, Qt::AlignBottom);
  hbm->attachAxis(hx);
  hbm->attachAxis(y);
  chart->legend()->setAlignment(Qt::AlignBottom);

  theme::style_chart(chart, pal);
  for (auto& [set, color] : sets) {
    set->setColor(color);
    set->setBorderColor(color.darker(115));
  }
  QPen pen(mem.fits ? pal.color(QPalette::Text) : theme::error_color(pal), 2, Qt::DashLine);
  hbm->setPen(pen);
  hx->setVisible(false);

  auto* old = view_->chart();
  view_->setChart(chart);
  delete old;

  const auto& st = mem.stages.at(static_cast<std::size_t>(mem.peak_stage));
  const QColor verdict = mem.fits ? theme::ok_color(pal) : theme::error_color(pal);
  QString text = tr("<span style='color:%1'><b>%2</b></span>: the fullest GPU (stage %3) peaks at %4 in the %5 phase, "
                    "%6 % of %7 HBM.")
                     .arg(verdict.name(), mem.fits ? tr("Fits") : tr("Does not fit"))
                     .arg(st.stage)
                     .arg(QString::fromStdString(presets::format_bytes(st.device_peak.value)),
                          QString::fromStdString(st.peak_phase))
                     .arg(100.0 * st.device_peak.value / mem.capacity.value, 0, 'f', 0)
                     .arg(QString::fromStdString(presets::format_bytes(mem.capacity.value)));
  if (ev_->scenario.layout.attention == model::AttentionImpl::materialized) {
    double scores = 0;
    for (const auto& b : bars) scores = std::max(scores, b.attention_scores);
    text += scores > 0 ? tr(" Materialized attention keeps the s × s scores: up to %1 per GPU, growing with the square "
                            "of the sequence length.")
                             .arg(QString::fromStdString(presets::format_bytes(scores)))
                       : tr(" Attention is materialized, but recomputation drops the s × s scores before the backward.");
  }
  summary_->setText(text);

  const QStringList headers = {tr("stage"),      tr("layers"), tr("weights"),   tr("gradients"),
                               tr("optimizer"),  tr("activations"), tr("of which s²"), tr("other"),
                               tr("allocated"),  tr("reserved"), tr("device peak"), tr("peak phase")};
  table_->clear();
  table_->setColumnCount(static_cast<int>(headers.size()));
  table_->setHorizontalHeaderLabels(headers);
  table_->setRowCount(static_cast<int>(mem.stages.size()));
  auto cell = [&](int r, int c, const QString& t) {
    auto* item = new QTableWidgetItem(t);
    item->setTextAlignment(c == 11 ? Qt::AlignLeft | Qt::AlignVCenter : Qt::AlignRight | Qt::AlignVCenter);
    table_->setItem(r, c, item);
  };
  auto b = [](double v) { return QString::fromStdString(presets::format_bytes(v)); };
  for (std::size_t i = 0; i < mem.stages.size(); ++i) {
    const auto& s = mem.stages[i];
    const int r = static_cast<int>(i);
    cell(r, 0, QString::number(s.stage));
    cell(r, 1, QString::number(ev_->scenario.stages.at(i).layers()));
    cell(r, 2, b(s.weights.value));
    cell(r, 3, b(s.gradients.value));
    cell(r, 4, b(s.optimizer.value));
    cell(r, 5, b(s.activations.value));
    cell(r, 6, bars[i].attention_scores > 0 ? b(bars[i].attention_scores) : QStringLiteral("–"));
    cell(r, 7, b(s.other.value));
    cell(r, 8, b(s.allocated_peak.value));
    cell(r, 9, b(s.reserved_peak.value));
    cell(r, 10, b(s.device_peak.value));
    cell(r, 11, QString::fromStdString(s.peak_phase));
  }
}

}  // namespace clustersim::gui
