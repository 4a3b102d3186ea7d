#include "gui/sweep_view.hpp"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHelpEvent>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QScatterSeries>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <cmath>

#include "gui/cost_settings.hpp"
#include "gui/job_runner.hpp"
#include "gui/theme.hpp"
#include "presets/units.hpp"

namespace clustersim::gui {

namespace {

QString sec(double s) { return QString::fromStdString(presets::format_seconds(s)); }

QString money(double usd) {
  if (usd >= 1e6) return QStringLiteral("$%1 M").arg(usd / 1e6, 0, 'f', 2);
  if (usd >= 1e3) return QStringLiteral("$%1 k").arg(usd / 1e3, 0, 'f', 1);
  return QStringLiteral("$%1").arg(usd, 0, 'f', 2);
}

bool same_layout(const SweepRow& r, const strategies::Scenario& sc) {
  const auto& a = r.layout;
  const auto& b = sc.layout;
  return r.nodes == sc.cluster.nodes && a.tp == b.tp && a.pp == b.pp && a.dp == b.dp && a.micro_batch == b.micro_batch &&
         a.virtual_stages == b.virtual_stages && a.schedule == b.schedule && a.zero == b.zero &&
         a.recompute == b.recompute && a.sequence_parallel == b.sequence_parallel;
}

QString layout_text(const SweepRow& r) {
  const auto& L = r.layout;
  QString s = QStringLiteral("%1 nodes · tp %2 pp %3 dp %4 · mb %5 · %6")
                  .arg(r.nodes)
                  .arg(L.tp)
                  .arg(L.pp)
                  .arg(L.dp)
                  .arg(L.micro_batch)
                  .arg(QString::fromLatin1(strategies::to_string(L.schedule)));
  if (L.virtual_stages > 1) s += QStringLiteral(" v=%1").arg(L.virtual_stages);
  s += QStringLiteral(" · ZeRO %1 · recompute %2").arg(L.zero).arg(QString::fromLatin1(strategies::to_string(L.recompute)));
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
SweepTableModel::SweepTableModel(CostSettings* costs, QObject* parent) : QAbstractTableModel(parent), costs_(costs) {
  connect(costs_, &CostSettings::changed, this, [this] {
    if (rowCount() > 0) Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1));
  });
}

void SweepTableModel::set_result(std::shared_ptr<const SweepResult> r, double tokens) {
  beginResetModel();
  result_ = std::move(r);
  tokens_ = tokens;
  endResetModel();
}

int SweepTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !result_ ? 0 : static_cast<int>(result_->rows.size());
}
int SweepTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumns; }

QVariant SweepTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal) return role == Qt::DisplayRole ? QVariant(section + 1) : QVariant();
  if (role != Qt::DisplayRole) return {};
  switch (static_cast<Column>(section)) {
    case Column::iteration: return tr("iteration");
    case Column::days: return tokens_ > 0 ? tr("days") : tr("days/iter");
    case Column::cost: return tokens_ > 0 ? tr("cost") : tr("cost/iter");
    case Column::mfu: return tr("MFU");
    case Column::tokens_per_s: return tr("tokens/s");
    case Column::nodes: return tr("nodes");
    case Column::gpus: return tr("GPUs");
    case Column::tp: return tr("tp");
    case Column::pp: return tr("pp");
    case Column::dp: return tr("dp");
    case Column::micro_batch: return tr("mb");
    case Column::virtual_stages: return tr("v");
    case Column::schedule: return tr("schedule");
    case Column::zero: return tr("ZeRO");
    case Column::recompute: return tr("recompute");
    case Column::sequence_parallel: return tr("SP");
    case Column::fits: return tr("fits");
  }
  return {};
}

QVariant SweepTableModel::data(const QModelIndex& index, int role) const {
  if (!result_ || !index.isValid()) return {};
  const auto& r = result_->rows.at(static_cast<std::size_t>(index.row()));
  const auto& L = r.layout;
  const double price = costs_->inputs().usd_per_gpu_hour;
  const auto col = static_cast<Column>(index.column());
  if (role == Qt::TextAlignmentRole)
    return QVariant::fromValue(col == Column::schedule || col == Column::recompute ? Qt::AlignLeft | Qt::AlignVCenter
                                                                                   : Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ForegroundRole && !r.fits) return QVariant::fromValue(theme::muted_color(QPalette()));
  if (role == Qt::UserRole) {
    switch (col) {
      case Column::iteration: return r.iteration_time_s;
      case Column::days: return r.days(tokens_);
      case Column::cost: return r.gpu_hours(tokens_) * price;
      case Column::mfu: return r.mfu;
      case Column::tokens_per_s: return r.tokens_per_s;
      case Column::nodes: return r.nodes;
      case Column::gpus: return r.gpus;
      case Column::tp: return L.tp;
      case Column::pp: return L.pp;
      case Column::dp: return L.dp;
      case Column::micro_batch: return L.micro_batch;
      case Column::virtual_stages: return L.virtual_stages;
      case Column::schedule: return static_cast<int>(L.schedule);
      case Column::zero: return L.zero;
      case Column::recompute: return static_cast<int>(L.recompute);
      case Column::sequence_parallel: return L.sequence_parallel;
      case Column::fits: return r.fits ? QStringLiteral("yes") : QStringLiteral("no");
    }
    return {};
  }
  if (role == Qt::ToolTipRole && !r.fits)
    return tr("Does not fit: %1 per GPU, %2 available")
        .arg(QString::fromStdString(presets::format_bytes(r.peak_bytes)),
             QString::fromStdString(presets::format_bytes(r.capacity_bytes)));
  if (role != Qt::DisplayRole) return {};
  switch (col) {
    case Column::iteration: return sec(r.iteration_time_s);
    case Column::days: return tokens_ > 0 ? QString::number(r.days(tokens_), 'f', 1) : QString::number(r.days(tokens_), 'g', 3);
    case Column::cost: return money(r.gpu_hours(tokens_) * price);
    case Column::mfu: return QStringLiteral("%1 %").arg(r.mfu * 100, 0, 'f', 1);
    case Column::tokens_per_s:
      return r.tokens_per_s >= 1e6   ? QStringLiteral("%1 M").arg(r.tokens_per_s / 1e6, 0, 'f', 2)
             : r.tokens_per_s >= 1e3 ? QStringLiteral("%1 k").arg(r.tokens_per_s / 1e3, 0, 'f', 1)
                                     : QString::number(r.tokens_per_s, 'f', 0);
    case Column::schedule: return QString::fromLatin1(strategies::to_string(L.schedule));
    case Column::recompute: return QString::fromLatin1(strategies::to_string(L.recompute));
    case Column::sequence_parallel: return L.sequence_parallel ? tr("on") : tr("off");
    default: return data(index, Qt::UserRole);
  }
}

// ---------------------------------------------------------------------------------------------------
HeatmapWidget::HeatmapWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setMinimumSize(240, 200);
}

void HeatmapWidget::set_result(std::shared_ptr<const SweepResult> r, int nodes) {
  result_ = std::move(r);
  nodes_ = nodes;
  tps_.clear();
  pps_.clear();
  best_.clear();
  valid_.clear();
  if (result_) {
    for (const auto& row : result_->rows) {
      if (row.nodes != nodes) continue;
      if (std::find(tps_.begin(), tps_.end(), row.layout.tp) == tps_.end()) tps_.push_back(row.layout.tp);
      if (std::find(pps_.begin(), pps_.end(), row.layout.pp) == pps_.end()) pps_.push_back(row.layout.pp);
    }
    std::sort(tps_.begin(), tps_.end());
    std::sort(pps_.begin(), pps_.end());
    best_.assign(tps_.size() * pps_.size(), -1);
    valid_.assign(best_.size(), 0);
    t_min_ = 1e300;
    t_max_ = 0;
    for (std::size_t i = 0; i < result_->rows.size(); ++i) {
      const auto& row = result_->rows[i];
      if (row.nodes != nodes) continue;
      const auto c = std::find(tps_.begin(), tps_.end(), row.layout.tp) - tps_.begin();
      const auto rr = std::find(pps_.begin(), pps_.end(), row.layout.pp) - pps_.begin();
      const std::size_t cell = static_cast<std::size_t>(rr) * tps_.size() + static_cast<std::size_t>(c);
      ++valid_[cell];
      if (!row.fits) continue;
      int& b = best_[cell];
      if (b < 0 || row.iteration_time_s < result_->rows[static_cast<std::size_t>(b)].iteration_time_s) b = static_cast<int>(i);
    }
    for (int b : best_)
      if (b >= 0) {
        t_min_ = std::min(t_min_, result_->rows[static_cast<std::size_t>(b)].iteration_time_s);
        t_max_ = std::max(t_max_, result_->rows[static_cast<std::size_t>(b)].iteration_time_s);
      }
  }
  update();
}

int HeatmapWidget::best_row(int tp, int pp) const {
  const auto c = std::find(tps_.begin(), tps_.end(), tp) - tps_.begin();
  const auto r = std::find(pps_.begin(), pps_.end(), pp) - pps_.begin();
  if (c >= static_cast<long>(tps_.size()) || r >= static_cast<long>(pps_.size())) return -1;
  return best_[static_cast<std::size_t>(r) * tps_.size() + static_cast<std::size_t>(c)];
}

QRect HeatmapWidget::grid_rect() const {
  const auto fm = fontMetrics();
  const int left = fm.horizontalAdvance(QStringLiteral("pp 00")) + 12;
  const int top = fm.height() * 3 + 10;
  return QRect(left, top, width() - left - 8, height() - top - fm.height() - 12);
}

QRect HeatmapWidget::cell_rect(int col, int row) const {
  const QRect g = grid_rect();
  const int nc = static_cast<int>(tps_.size()), nr = static_cast<int>(pps_.size());
  const int x0 = g.left() + g.width() * col / nc, x1 = g.left() + g.width() * (col + 1) / nc;
  const int y0 = g.top() + g.height() * row / nr, y1 = g.top() + g.height() * (row + 1) / nr;
  return QRect(x0, y0, x1 - x0 - 2, y1 - y0 - 2);
}

std::pair<int, int> HeatmapWidget::cell_at(const QPoint& p) const {
  for (int r = 0; r < static_cast<int>(pps_.size()); ++r)
    for (int c = 0; c < static_cast<int>(tps_.size()); ++c)
      if (cell_rect(c, r).contains(p)) return {c, r};
  return {-1, -1};
}

void HeatmapWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QPalette pal = palette();
  p.fillRect(rect(), pal.color(QPalette::Base));
  const auto fm = fontMetrics();
  p.setPen(pal.color(QPalette::Text));
  p.drawText(QRect(0, 2, width(), fm.height()), Qt::AlignHCenter, tr("Best iteration time by tp × pp"));
  p.setPen(theme::muted_color(pal));
  p.drawText(QRect(0, 2 + fm.height(), width(), fm.height()), Qt::AlignHCenter,
             tr("fitting layouts at %1 nodes; click a cell to load it").arg(nodes_));
  if (tps_.empty()) {
    p.setPen(theme::muted_color(pal));
    p.drawText(rect(), Qt::AlignCenter, tr("Run a sweep (F5)"));
    return;
  }
  for (int c = 0; c < static_cast<int>(tps_.size()); ++c) {
    const QRect r = cell_rect(c, 0);
    p.setPen(pal.color(QPalette::Text));
    p.drawText(QRect(r.left(), fm.height() * 2 + 6, r.width(), fm.height()), Qt::AlignCenter, QStringLiteral("tp %1").arg(tps_[c]));
  }
  for (int rr = 0; rr < static_cast<int>(pps_.size()); ++rr) {
    const QRect r = cell_rect(0, rr);
    p.setPen(pal.color(QPalette::Text));
    p.drawText(QRect(2, r.top(), grid_rect().left() - 6, r.height()), Qt::AlignVCenter | Qt::AlignRight,
               QStringLiteral("pp %1").arg(pps_[rr]));
    for (int c = 0; c < static_cast<int>(tps_.size()); ++c) {
      const QRect cell = cell_rect(c, rr);
      const std::size_t k = static_cast<std::size_t>(rr) * tps_.size() + static_cast<std::size_t>(c);
      const int b = best_[k];
      if (b < 0) {
        p.fillRect(cell, pal.color(QPalette::AlternateBase));
        p.setPen(theme::muted_color(pal));
        p.drawText(cell, Qt::AlignCenter, valid_[k] > 0 ? tr("no fit") : tr("invalid"));
        continue;
      }
      const double t = result_->rows[static_cast<std::size_t>(b)].iteration_time_s;
      // Green (fastest) to red (slowest) on a log scale of time.
      const double f = t_max_ > t_min_ ? std::log(t / t_min_) / std::log(t_max_ / t_min_) : 0.0;
      const QColor col = QColor::fromHsvF(static_cast<float>((1.0 - f) * 0.33), 0.55f, theme::is_dark(pal) ? 0.65f : 0.92f);
      p.fillRect(cell, col);
      p.setPen(Qt::black);
      if (cell.width() > fm.horizontalAdvance(QStringLiteral("000 ms")) + 4 && cell.height() > fm.height())
        p.drawText(cell, Qt::AlignCenter, sec(t));
    }
  }
}

void HeatmapWidget::mousePressEvent(QMouseEvent* e) {
  const auto [c, r] = cell_at(e->position().toPoint());
  if (c < 0) return;
  const int b = best_[static_cast<std::size_t>(r) * tps_.size() + static_cast<std::size_t>(c)];
  if (b >= 0) Q_EMIT row_chosen(b);
}

bool HeatmapWidget::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* he = static_cast<QHelpEvent*>(e);
    const auto [c, r] = cell_at(he->pos());
    if (c >= 0) {
      const std::size_t k = static_cast<std::size_t>(r) * tps_.size() + static_cast<std::size_t>(c);
      const int b = best_[k];
      QToolTip::showText(he->globalPos(),
                         b >= 0 ? tr("%1\n%2 per iteration · click to load")
                                      .arg(layout_text(result_->rows[static_cast<std::size_t>(b)]),
                                           sec(result_->rows[static_cast<std::size_t>(b)].iteration_time_s))
                                : tr("tp %1 × pp %2: %3 valid layouts, none fits").arg(tps_[c]).arg(pps_[r]).arg(valid_[k]),
                         this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(e);
}

// ---------------------------------------------------------------------------------------------------
SweepView::SweepView(CostSettings* costs, QWidget* parent)
    : QWidget(parent),
      costs_(costs),
      runner_(new JobRunner(tr("Sweep"), this)),
      summary_(new QLabel(this)),
      run_button_(new QPushButton(tr("Run sweep"), this)),
      show_unfit_(new QCheckBox(tr("Show layouts that do not fit"), this)),
      scatter_(new QChartView(new QChart(), this)),
      heatmap_(new HeatmapWidget(this)),
      model_(new SweepTableModel(costs, this)),
      proxy_(new QSortFilterProxyModel(this)),
      table_(new QTableView(this)) {
  auto* col = new QVBoxLayout(this);
  col->setContentsMargins(8, 8, 8, 8);
  auto* bar = new QHBoxLayout();
  run_button_->setToolTip(tr("Evaluate a grid of layouts around the current scenario on a worker thread (F5); "
                             "Esc cancels."));
  bar->addWidget(run_button_);
  summary_->setWordWrap(true);
  bar->addWidget(summary_, 1);
  bar->addWidget(show_unfit_);
  col->addLayout(bar);

  auto* split = new QSplitter(Qt::Vertical, this);
  auto* top = new QSplitter(Qt::Horizontal, split);
  scatter_->setRenderHint(QPainter::Antialiasing);
  scatter_->setMinimumHeight(220);
  top->addWidget(scatter_);
  top->addWidget(heatmap_);
  top->setStretchFactor(0, 3);
  top->setStretchFactor(1, 2);
  top->setSizes({3000, 2000});
  split->addWidget(top);
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(Qt::UserRole);
  proxy_->setFilterRole(Qt::UserRole);
  proxy_->setFilterKeyColumn(static_cast<int>(SweepTableModel::Column::fits));
  proxy_->setFilterFixedString(QStringLiteral("yes"));
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(static_cast<int>(SweepTableModel::Column::iteration), Qt::AscendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->setToolTip(tr("Double-click (or Enter) loads the row's layout into the editor."));
  split->addWidget(table_);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setSizes({3000, 2000});
  col->addWidget(split, 1);

  connect(run_button_, &QPushButton::clicked, this, [this] { run(); });
  connect(show_unfit_, &QCheckBox::toggled, this,
          [this](bool on) { proxy_->setFilterFixedString(on ? QString() : QStringLiteral("yes")); });
  connect(table_, &QTableView::activated, this, [this](const QModelIndex& i) { choose_table_row(i.row()); });
  connect(heatmap_, &HeatmapWidget::row_chosen, this, [this](int row) { choose(row); });
  connect(costs_, &CostSettings::changed, this, &SweepView::render_scatter);
  connect(runner_, &JobRunner::started, this, [this] { run_button_->setEnabled(false); });
  connect(runner_, &JobRunner::finished, this, [this](bool cancelled) {
    run_button_->setEnabled(true);
    if (cancelled) summary_->setText(tr("Sweep cancelled after %1 of %2 layouts; the previous result (if any) is kept.")
                                         .arg(runner_->last_outcome().done)
                                         .arg(runner_->last_outcome().total));
  });
  render();
}

void SweepView::show_result(const EvaluatedPtr& ev) {
  ev_ = ev;
  if (!result_) return render();
  // Only the star (the current layout), the heatmap's node count and the summary depend on the
  // scenario; the scatter's thousands of points stay.
  heatmap_->set_result(result_, ev_ ? ev_->scenario.cluster.nodes : 0);
  update_summary();
  update_current();
}

void SweepView::update_current() {
  if (!current_) return;
  current_->clear();
  scatter_rows_[2].clear();
  if (!result_ || !ev_) return;
  const double tokens = swept_ ? swept_->report.tokens_target : 0;
  const double price = costs_->inputs().usd_per_gpu_hour;
  for (std::size_t i = 0; i < result_->rows.size(); ++i) {
    const auto& r = result_->rows[i];
    if (!r.fits || !same_layout(r, ev_->scenario)) continue;
    current_->append(tokens > 0 ? r.days(tokens) : r.iteration_time_s, r.gpu_hours(tokens) * price / cost_unit_);
    scatter_rows_[2].push_back(static_cast<int>(i));
  }
}

void SweepView::run(std::optional<ScanSpec> spec) {
  if (!ev_) return;
  const EvaluatedPtr ev = ev_;
  const ScanSpec scan = spec ? *spec : default_scan(ev->scenario);
  summary_->setText(tr("Sweeping %1…").arg(QString::fromStdString(scan.describe())));
  runner_->start_with_result<SweepResult>(
      tr("Sweep"), [ev, scan](JobControl& ctl) { return run_layout_scan(ev->scenario, scan, ctl); },
      [this, ev](SweepResult r) {
        result_ = std::make_shared<const SweepResult>(std::move(r));
        swept_ = ev;
        render();
      });
}

void SweepView::choose(int row) {
  if (!result_ || row < 0 || row >= static_cast<int>(result_->rows.size())) return;
  Q_EMIT row_chosen(result_->rows[static_cast<std::size_t>(row)]);
}

void SweepView::choose_table_row(int proxy_row) {
  const QModelIndex src = proxy_->mapToSource(proxy_->index(proxy_row, 0));
  if (src.isValid()) choose(src.row());
}

void SweepView::changeEvent(QEvent* e) {
  QWidget::changeEvent(e);
  if (e->type() == QEvent::PaletteChange) render_scatter();
}

void SweepView::render() {
  const double tokens = swept_ ? swept_->report.tokens_target : 0;
  model_->set_result(result_, tokens);
  heatmap_->set_result(result_, ev_ ? ev_->scenario.cluster.nodes : 0);
  update_summary();
  render_scatter();
}

void SweepView::update_summary() {
  if (result_ && !runner_->is_running()) {
    QString text = tr("%1 layouts: %2 invalid, %3 do not fit, %4 fit · %5 · evaluator: estimate.")
                       .arg(result_->layouts_total)
                       .arg(result_->invalid)
                       .arg(result_->infeasible)
                       .arg(result_->evaluated - result_->infeasible)
                       .arg(sec(result_->seconds));
    if (ev_ && swept_ && ev_ != swept_ &&
        (ev_->scenario.model.spec().name != swept_->scenario.model.spec().name ||
         ev_->scenario.training.seq_length != swept_->scenario.training.seq_length ||
         ev_->scenario.training.global_batch != swept_->scenario.training.global_batch ||
         ev_->scenario.cluster.name != swept_->scenario.cluster.name))
      text += tr(" <b>The scenario changed since this sweep: run it again (F5).</b>");
    text += tr(" Click a point, a cell or a row to load its layout.");
    summary_->setText(text);
  } else if (!result_ && !runner_->is_running()) {
    summary_->setText(tr("Evaluate a grid of node counts, tp, pp, micro-batch, ZeRO stage, recompute policy and "
                         "interleaving around the current scenario (F5)."));
  }
}

void SweepView::render_scatter() {
  const QPalette pal = palette();
  auto* chart = new QChart();
  const double tokens = swept_ ? swept_->report.tokens_target : 0;
  const double price = costs_->inputs().usd_per_gpu_hour;
  chart->setTitle(tokens > 0 ? tr("Time to train against cost (%1 tokens)").arg(tokens, 0, 'g', 3)
                             : tr("Iteration time against cost per iteration"));
  auto* other = new QScatterSeries(chart);
  other->setName(tr("fitting layouts"));
  other->setMarkerSize(7);
  auto* front = new QScatterSeries(chart);
  front->setName(tr("Pareto front"));
  front->setMarkerSize(10);
  auto* front_line = new QLineSeries(chart);
  auto* current = new QScatterSeries(chart);
  current->setName(tr("current layout"));
  current->setMarkerShape(QScatterSeries::MarkerShapeStar);
  current->setMarkerSize(18);
  for (auto& v : scatter_rows_) v.clear();
  double xmin = 1e300, xmax = 0, ymin = 1e300, ymax = 0;
  // Costs in dollars, thousands or millions, whichever reads best.
  double cost_max = 0;
  if (result_)
    for (const auto& r : result_->rows)
      if (r.fits) cost_max = std::max(cost_max, r.gpu_hours(tokens) * price);
  const double unit = cost_max >= 1e6 ? 1e6 : cost_max >= 1e4 ? 1e3 : 1.0;
  cost_unit_ = unit;
  const QString unit_name = unit == 1e6 ? tr("$ M") : unit == 1e3 ? tr("$ k") : tr("$");
  if (result_) {
    std::vector<bool> on_front(result_->rows.size(), false);
    for (int i : result_->pareto) on_front[static_cast<std::size_t>(i)] = true;
    for (std::size_t i = 0; i < result_->rows.size(); ++i) {
      const auto& r = result_->rows[i];
      if (!r.fits) continue;
      const double x = tokens > 0 ? r.days(tokens) : r.iteration_time_s;
      const double y = r.gpu_hours(tokens) * price / unit;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymin = std::min(ymin, y);
      ymax = std::max(ymax, y);
      const int s = on_front[i] ? 1 : 0;
      (s ? front : other)->append(x, y);
      scatter_rows_[s].push_back(static_cast<int>(i));
      if (on_front[i]) front_line->append(x, y);
    }
  }
  chart->addSeries(other);
  chart->addSeries(front_line);
  chart->addSeries(front);
  chart->addSeries(current);
  auto* ax = new QValueAxis(chart);
  auto* ay = new QValueAxis(chart);
  ax->setTitleText(tokens > 0 ? tr("days to train") : tr("iteration time (s)"));
  ay->setTitleText(tokens > 0 ? tr("cost to train (%1)").arg(unit_name) : tr("cost per iteration (%1)").arg(unit_name));
  if (xmax > 0) {
    const double dx = std::max((xmax - xmin) * 0.05, xmax * 0.01), dy = std::max((ymax - ymin) * 0.05, ymax * 0.01);
    ax->setRange(std::max(0.0, xmin - dx), xmax + dx);
    ay->setRange(std::max(0.0, ymin - dy), ymax + dy);
    ax->applyNiceNumbers();
    ay->applyNiceNumbers();
  }
  ay->setLabelFormat(ymax >= 100 ? QStringLiteral("%.0f") : QStringLiteral("%.3g"));
  ax->setLabelFormat(xmax >= 100 ? QStringLiteral("%.0f") : QStringLiteral("%.3g"));
  chart->addAxis(ax, Qt::AlignBottom);
  chart->addAxis(ay, Qt::AlignLeft);
  for (auto* s : chart->series()) {
    s->attachAxis(ax);
    s->attachAxis(ay);
  }
  chart->legend()->setAlignment(Qt::AlignBottom);
  theme::style_chart(chart, pal);
  chart->legend()->markers(front_line).first()->setVisible(false);
  QColor dim = theme::kBlue;
  dim.setAlpha(110);
  other->setColor(dim);
  other->setBorderColor(Qt::transparent);
  front->setColor(theme::kOrange);
  front->setBorderColor(theme::kOrange.darker(130));
  front_line->setPen(QPen(theme::kOrange, 1.5));
  current->setColor(theme::kVermillion);
  current->setBorderColor(pal.color(QPalette::Text));

  auto hook = [this](QScatterSeries* s, int which) {
    connect(s, &QScatterSeries::clicked, this, [this, s, which](const QPointF& p) {
      const auto pts = s->points();
      for (int i = 0; i < pts.size(); ++i)
        if (pts[i] == p && i < static_cast<int>(scatter_rows_[which].size())) return choose(scatter_rows_[which][static_cast<std::size_t>(i)]);
    });
    connect(s, &QScatterSeries::hovered, this, [this, s, which](const QPointF& p, bool on) {
      if (!on || !result_) return QToolTip::hideText();
      const auto pts = s->points();
      for (int i = 0; i < pts.size(); ++i)
        if (pts[i] == p && i < static_cast<int>(scatter_rows_[which].size())) {
          const auto& r = result_->rows[static_cast<std::size_t>(scatter_rows_[which][static_cast<std::size_t>(i)])];
          QToolTip::showText(QCursor::pos(), tr("%1\n%2 per iteration · MFU %3 % · click to load")
                                                 .arg(layout_text(r), sec(r.iteration_time_s))
                                                 .arg(r.mfu * 100, 0, 'f', 1));
          return;
        }
    });
  };
  hook(other, 0);
  hook(front, 1);
  hook(current, 2);
  current_ = current;
  update_current();
  auto* old = scatter_->chart();
  scatter_->setChart(chart);
  delete old;
}

}  // namespace clustersim::gui
