#include "gui/scaling_view.hpp"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QScatterSeries>
#include <QSplitter>
#include <QVBoxLayout>
#include <QValueAxis>

#include <cmath>

#include "gui/theme.hpp"

namespace clustersim::gui {

namespace {

QString sci(double v, int decimals = 2) {
  if (!std::isfinite(v)) return QStringLiteral("–");
  const int e = static_cast<int>(std::floor(std::log10(v)));
  return QStringLiteral("%1e%2").arg(v / std::pow(10.0, e), 0, 'f', decimals).arg(e);
}

QString count(double v) {
  if (!std::isfinite(v)) return QStringLiteral("–");
  if (v >= 1e12) return QStringLiteral("%1 T").arg(v / 1e12, 0, 'g', 3);
  if (v >= 1e9) return QStringLiteral("%1 B").arg(v / 1e9, 0, 'g', 3);
  if (v >= 1e6) return QStringLiteral("%1 M").arg(v / 1e6, 0, 'g', 3);
  return QString::number(v, 'g', 3);
}

QLineSeries* line(QChart* chart, const Curve& c, const QString& name) {
  auto* s = new QLineSeries(chart);
  s->setName(name);
  for (const auto& [x, y] : c) s->append(x, y);
  chart->addSeries(s);
  return s;
}

}  // namespace

ScalingView::ScalingView(QWidget* parent)
    : QWidget(parent),
      law_(new QComboBox(this)),
      target_(new QDoubleSpinBox(this)),
      summary_(new QLabel(this)),
      compute_view_(new QChartView(new QChart(), this)),
      iso_view_(new QChartView(new QChart(), this)) {
  auto* col = new QVBoxLayout(this);
  col->setContentsMargins(8, 8, 8, 8);
  auto* controls = new QHBoxLayout();
  for (const auto& l : scaling_laws()) {
    law_->addItem(QString::fromStdString(l.name));
    law_->setItemData(law_->count() - 1, QString::fromStdString(l.source), Qt::ToolTipRole);
  }
  law_->setToolTip(tr("The parametric law L(N, D) = E + A/N^α + B/D^β and its fitted constants."));
  target_->setRange(0.5, 10.0);
  target_->setDecimals(3);
  target_->setSingleStep(0.01);
  target_->setValue(2.0);
  target_->setToolTip(tr("A loss to reach (nats per token on the law's data): the summary says what compute, or "
                         "how many tokens for this model, it would take."));
  auto* law_label = new QLabel(tr("Law"), this);
  law_label->setBuddy(law_);
  auto* target_label = new QLabel(tr("Target loss"), this);
  target_label->setBuddy(target_);
  controls->addWidget(law_label);
  controls->addWidget(law_, 1);
  controls->addSpacing(16);
  controls->addWidget(target_label);
  controls->addWidget(target_);
  controls->addStretch(1);
  col->addLayout(controls);
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  col->addWidget(summary_);
  auto* split = new QSplitter(Qt::Horizontal, this);
  compute_view_->setRenderHint(QPainter::Antialiasing);
  iso_view_->setRenderHint(QPainter::Antialiasing);
  split->addWidget(compute_view_);
  split->addWidget(iso_view_);
  col->addWidget(split, 1);
  connect(law_, &QComboBox::currentIndexChanged, this, &ScalingView::render);
  connect(target_, &QDoubleSpinBox::valueChanged, this, [this] {
    target_touched_ = true;
    render();
  });
}

void ScalingView::show_result(const EvaluatedPtr& ev) {
  ev_ = ev;
  render();
}

void ScalingView::changeEvent(QEvent* e) {
  QWidget::changeEvent(e);
  if (e->type() == QEvent::PaletteChange) render();
}

QString ScalingView::summary_text() const { return summary_->text(); }

void ScalingView::render() {
  if (!ev_) return;
  const auto& law = scaling_laws().at(static_cast<std::size_t>(std::max(0, law_->currentIndex())));
  const QPalette pal = palette();
  const auto& sc = ev_->scenario;
  const double n = sc.model.active_params();
  const bool has_tokens = sc.training.tokens > 0;
  // Without a target the plan is placed at the tokens that make this model compute-optimal.
  double d = sc.training.tokens;
  if (!has_tokens) {
    const double g = law.optimal_params(6.0);  // N_opt(C) = G (C/6)^a, so N_opt(6) = G
    const double a = law.beta / (law.alpha + law.beta);
    const double c_opt = 6.0 * std::pow(n / g, 1.0 / a);
    d = c_opt / (6.0 * n);
  }
  const double c = 6.0 * n * d;
  const double loss = law.loss(n, d);
  if (!target_touched_) {
    const QSignalBlocker block(target_);
    target_->setValue(std::round((loss - 0.02) * 100.0) / 100.0);
  }
  const double target = target_->value();

  // Left: loss against compute.
  const double c_lo = c / 1e4, c_hi = c * 1e3;
  auto* left = new QChart();
  left->setTitle(tr("Loss against training compute"));
  auto* frontier = line(left, optimal_frontier(law, c_lo, c_hi), tr("compute-optimal"));
  auto* fixed = line(left, fixed_size_curve(law, n, c_lo, c_hi), tr("N = %1").arg(count(n)));
  auto* tline = new QLineSeries(left);
  tline->setName(tr("target %1").arg(target, 0, 'f', 2));
  tline->append(c_lo, target);
  tline->append(c_hi, target);
  left->addSeries(tline);
  auto* plan = new QScatterSeries(left);
  plan->setName(tr("this plan"));
  plan->setMarkerShape(QScatterSeries::MarkerShapeStar);
  plan->setMarkerSize(18);
  plan->append(c, loss);
  left->addSeries(plan);
  auto* lx = new QLogValueAxis(left);
  lx->setBase(10);
  lx->setRange(c_lo, c_hi);
  lx->setLabelFormat(QStringLiteral("%.0e"));
  lx->setTitleText(tr("training compute C = 6ND (FLOPs)"));
  lx->setMinorTickCount(-1);
  auto* ly = new QValueAxis(left);
  double ymin = std::min(target, law.optimal_loss(c_hi)), ymax = law.optimal_loss(c_lo);
  for (const auto& p : fixed_size_curve(law, n, c_lo, c_hi)) ymax = std::max(ymax, std::min(p.second, ymax * 1.2));
  ly->setRange(std::max(law.E, ymin - 0.05), ymax + 0.05);
  ly->setTitleText(tr("loss (nats/token)"));
  ly->setLabelFormat(QStringLiteral("%.2f"));
  ly->applyNiceNumbers();
  left->addAxis(lx, Qt::AlignBottom);
  left->addAxis(ly, Qt::AlignLeft);
  for (auto* s : left->series()) {
    s->attachAxis(lx);
    s->attachAxis(ly);
  }
  left->legend()->setAlignment(Qt::AlignBottom);
  theme::style_chart(left, pal);
  frontier->setPen(QPen(theme::kOrange, 2.5));
  fixed->setPen(QPen(theme::kBlue, 2, Qt::DashLine));
  tline->setPen(QPen(theme::error_color(pal), 1.5, Qt::DotLine));
  plan->setColor(theme::kVermillion);
  plan->setBorderColor(pal.color(QPalette::Text));

  // Right: iso-FLOP profiles around this plan's compute.
  auto* right = new QChart();
  right->setTitle(tr("Iso-FLOP profiles: loss against model size at fixed compute (FLOPs)"));
  const double n_lo = n / 100, n_hi = n * 100;
  const QColor shades[] = {theme::kSky, theme::kGreen, theme::kOrange, theme::kPurple, theme::kYellow};
  std::vector<std::pair<QLineSeries*, QColor>> curves;
  auto* optima = new QScatterSeries(right);
  optima->setName(tr("optimum of each profile"));
  optima->setMarkerSize(9);
  double iso_min = 1e9, iso_max = 0;
  int k = 0;
  for (double f : {1e-2, 1e-1, 1.0, 1e1, 1e2}) {
    const double cc = c * f;
    auto* s = line(right, iso_flop_curve(law, cc, n_lo, n_hi), sci(cc, 1));
    curves.emplace_back(s, shades[k++]);
    const double no = law.optimal_params(cc);
    if (no >= n_lo && no <= n_hi) optima->append(no, law.optimal_loss(cc));
    for (const auto& p : s->points()) {
      iso_min = std::min(iso_min, p.y());
      iso_max = std::max(iso_max, p.y());
    }
  }
  right->addSeries(optima);
  auto* plan2 = new QScatterSeries(right);
  plan2->setName(tr("this plan"));
  plan2->setMarkerShape(QScatterSeries::MarkerShapeStar);
  plan2->setMarkerSize(18);
  plan2->append(n, loss);
  right->addSeries(plan2);
  auto* t2 = new QLineSeries(right);
  t2->setName(tr("target loss"));
  t2->append(n_lo, target);
  t2->append(n_hi, target);
  right->addSeries(t2);
  auto* rx = new QLogValueAxis(right);
  rx->setBase(10);
  rx->setRange(n_lo, n_hi);
  rx->setLabelFormat(QStringLiteral("%.0e"));
  rx->setTitleText(tr("parameters N"));
  rx->setMinorTickCount(-1);
  auto* ry = new QValueAxis(right);
  ry->setRange(std::max(law.E, std::min(iso_min, target) - 0.05), std::min(iso_max, iso_min + 1.5) + 0.05);
  ry->setTitleText(tr("loss (nats/token)"));
  ry->setLabelFormat(QStringLiteral("%.2f"));
  ry->applyNiceNumbers();
  right->addAxis(rx, Qt::AlignBottom);
  right->addAxis(ry, Qt::AlignLeft);
  for (auto* s : right->series()) {
    s->attachAxis(rx);
    s->attachAxis(ry);
  }
  right->legend()->setAlignment(Qt::AlignBottom);
  theme::style_chart(right, pal);
  // The curves are named by their compute; the markers are explained in the summary above.
  for (auto* s : {static_cast<QAbstractSeries*>(optima), static_cast<QAbstractSeries*>(plan2), static_cast<QAbstractSeries*>(t2)})
    for (auto* m : right->legend()->markers(s)) m->setVisible(false);
  for (auto& [s, col] : curves) s->setPen(QPen(col, 2));
  optima->setColor(pal.color(QPalette::Text));
  optima->setBorderColor(pal.color(QPalette::Base));
  plan2->setColor(theme::kVermillion);
  plan2->setBorderColor(pal.color(QPalette::Text));
  t2->setPen(QPen(theme::error_color(pal), 1.5, Qt::DotLine));

  for (auto [view, chart] : {std::pair{compute_view_, left}, std::pair{iso_view_, right}}) {
    auto* old = view->chart();
    view->setChart(chart);
    delete old;
  }

  // Summary.
  const double n_opt = law.optimal_params(c), d_opt = law.optimal_tokens(c);
  const double c_target = law.compute_for_loss(target);
  const double d_target = law.tokens_for_loss(n, target);
  const double flops_per_s = ev_->report.tflops_per_gpu * 1e12 * ev_->report.gpus;
  auto days = [&](double compute) { return compute / flops_per_s / 86400.0; };
  QString s = tr("<b>This plan</b>: N = %1 parameters%2, D = %3 tokens (%4 tokens/param), C = 6ND = %5 FLOPs → "
                 "predicted loss <b>%6</b>.")
                  .arg(count(n), n < sc.model.total_params() ? tr(" (active)") : QString(), count(d))
                  .arg(d / n, 0, 'f', 1)
                  .arg(sci(c))
                  .arg(loss, 0, 'f', 3);
  if (!has_tokens) s += tr(" <i>No training.tokens given: D is the compute-optimal amount for this model size.</i>");
  s += tr("<br><b>Compute-optimal at this C</b>: N = %1, D = %2 (%3 tokens/param), loss %4.")
           .arg(count(n_opt), count(d_opt))
           .arg(d_opt / n_opt, 0, 'f', 1)
           .arg(law.optimal_loss(c), 0, 'f', 3);
  s += tr("<br><b>Target loss %1</b>: ").arg(target, 0, 'f', 3);
  if (std::isfinite(c_target))
    s += tr("C = %1 FLOPs at the optimum (%2 days on this cluster at its model FLOP/s)")
             .arg(sci(c_target))
             .arg(days(c_target), 0, 'f', 1);
  else
    s += tr("below the law's irreducible loss E = %1 or beyond 1e40 FLOPs").arg(law.E, 0, 'f', 3);
  if (std::isfinite(d_target))
    s += tr("; this model size needs D = %1 tokens (%2 days at this plan's throughput).")
             .arg(count(d_target))
             .arg(d_target / ev_->report.tokens_per_s / 86400.0, 0, 'f', 1);
  else
    s += tr("; this model size cannot reach it at any token count.");
  s += tr("<br><small>%1 (%2). Losses are on the law's own data; compare plans, not datasets.</small>")
           .arg(QString::fromStdString(law.name).toHtmlEscaped(), QString::fromStdString(law.source).toHtmlEscaped());
  summary_->setText(s);
}

}  // namespace clustersim::gui
