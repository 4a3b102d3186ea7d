#include "gui/timeline_view.hpp"

#include <QHBoxLayout>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QScrollBar>
#include <QToolTip>
#include <QVBoxLayout>
#include <QWheelEvent>

#include <cmath>

#include "gui/job_runner.hpp"
#include "gui/theme.hpp"
#include "presets/units.hpp"

namespace clustersim::gui {

namespace {

QColor block_color(BlockKind k) {
  switch (k) {
    case BlockKind::forward: return theme::kBlue;
    case BlockKind::backward: return theme::kGreen;
    case BlockKind::weight_grad: return theme::kSky;
    case BlockKind::recompute: return theme::kPurple;
    case BlockKind::send: return theme::kGrey;
    case BlockKind::dp_comm: return theme::kOrange;
    case BlockKind::optimizer: return theme::kVermillion;
  }
  return theme::kGrey;
}

QString short_label(const TimelineBlock& b) {
  switch (b.kind) {
    case BlockKind::forward: return QStringLiteral("F%1").arg(b.micro_batch);
    case BlockKind::backward: return QStringLiteral("B%1").arg(b.micro_batch);
    case BlockKind::weight_grad: return QStringLiteral("W%1").arg(b.micro_batch);
    case BlockKind::recompute: return QStringLiteral("R%1").arg(b.micro_batch);
    case BlockKind::send: return QString();
    case BlockKind::dp_comm: return QStringLiteral("DP");
    case BlockKind::optimizer: return QStringLiteral("opt");
  }
  return {};
}

QString sec(double s) { return QString::fromStdString(presets::format_seconds(s)); }

// A "nice" ruler step (1, 2 or 5 x 10^k seconds) for at least `min_px` pixels between ticks.
double ruler_step(double px_per_s, double min_px) {
  const double raw = min_px / px_per_s;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

}  // namespace

GanttWidget::GanttWidget(QWidget* parent) : QAbstractScrollArea(parent) {
  setFocusPolicy(Qt::StrongFocus);
  viewport()->setMouseTracking(true);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
  setToolTip(tr("Ctrl+wheel or +/- zooms, 0 fits the iteration, the scroll bars pan."));
}

void GanttWidget::set_data(std::shared_ptr<const TimelineData> data) {
  data_ = std::move(data);
  lane_ranges_.clear();
  if (data_) {
    lane_ranges_.assign(data_->lanes.size(), {0, 0});
    std::size_t i = 0;
    for (std::size_t lane = 0; lane < data_->lanes.size(); ++lane) {
      const std::size_t begin = i;
      while (i < data_->blocks.size() && data_->blocks[i].lane == static_cast<int>(lane)) ++i;
      lane_ranges_[lane] = {begin, i};
    }
  }
  layout_lanes();
  if (fitted_) fit();
  update_scrollbars();
  viewport()->update();
}

int GanttWidget::header_width() const { return fontMetrics().horizontalAdvance(QStringLiteral("stage 00 compute")) + 16; }
int GanttWidget::ruler_height() const { return fontMetrics().height() + 10; }
// Compute lanes are taller than communication lanes; with few stages the rows grow (up to 3x) to use
// the height of the view.
void GanttWidget::layout_lanes() {
  lane_tops_.clear();
  lane_heights_.clear();
  lanes_bottom_ = 0;
  if (!data_) return;
  const int h = fontMetrics().height();
  auto base = [&](std::size_t i) { return data_->lanes[i].stream == Stream::comm ? h : h + 10; };
  auto gap = [&](std::size_t i) { return data_->lanes[i].stream == Stream::comm ? 8 : 2; };
  double natural = 0, gaps = 0;
  for (std::size_t i = 0; i < data_->lanes.size(); ++i) {
    natural += base(i);
    gaps += gap(i);
  }
  const double avail = viewport()->height() - ruler_height() - gaps - 4;
  const double scale = natural > 0 ? std::clamp(avail / natural, 1.0, 3.0) : 1.0;
  int y = 0;
  for (std::size_t i = 0; i < data_->lanes.size(); ++i) {
    lane_tops_.push_back(y);
    const bool comm = data_->lanes[i].stream == Stream::comm;
    const int lh = static_cast<int>(base(i) * (comm ? std::min(scale, 1.5) : scale));
    lane_heights_.push_back(lh);
    y += lh + gap(i);
  }
  lanes_bottom_ = y;
}

void GanttWidget::fit() {
  fitted_ = true;
  const double avail = std::max(50, viewport()->width() - header_width() - 12);
  px_per_s_ = data_ && data_->makespan_s > 0 ? avail / data_->makespan_s : 1.0;
  update_scrollbars();
  horizontalScrollBar()->setValue(0);
  viewport()->update();
}

void GanttWidget::zoom(double factor, int anchor_x) {
  if (!data_ || data_->makespan_s <= 0) return;
  const int hw = header_width();
  if (anchor_x < hw) anchor_x = hw + (viewport()->width() - hw) / 2;
  const double t = (anchor_x - hw + horizontalScrollBar()->value()) / px_per_s_;
  const double fit_px = std::max(50, viewport()->width() - hw - 12) / data_->makespan_s;
  px_per_s_ = std::clamp(px_per_s_ * factor, fit_px, fit_px * 1e5);
  fitted_ = px_per_s_ <= fit_px * 1.0001;
  update_scrollbars();
  horizontalScrollBar()->setValue(static_cast<int>(t * px_per_s_ - (anchor_x - hw)));
  viewport()->update();
}

void GanttWidget::update_scrollbars() {
  const int content_w = data_ ? static_cast<int>(std::ceil(data_->makespan_s * px_per_s_)) + 12 : 0;
  const int view_w = viewport()->width() - header_width();
  horizontalScrollBar()->setRange(0, std::max(0, content_w - view_w));
  horizontalScrollBar()->setPageStep(std::max(1, view_w));
  horizontalScrollBar()->setSingleStep(std::max(1, view_w / 20));
  const int content_h = lanes_bottom_;
  const int view_h = viewport()->height() - ruler_height();
  verticalScrollBar()->setRange(0, std::max(0, content_h - view_h));
  verticalScrollBar()->setPageStep(std::max(1, view_h));
  verticalScrollBar()->setSingleStep(fontMetrics().height());
}

void GanttWidget::resizeEvent(QResizeEvent* e) {
  QAbstractScrollArea::resizeEvent(e);
  layout_lanes();
  if (fitted_) fit();
  update_scrollbars();
}

void GanttWidget::wheelEvent(QWheelEvent* e) {
  if (e->modifiers() & Qt::ControlModifier) {
    zoom(std::pow(1.0015, e->angleDelta().y()), static_cast<int>(e->position().x()));
    e->accept();
    return;
  }
  QAbstractScrollArea::wheelEvent(e);
}

void GanttWidget::keyPressEvent(QKeyEvent* e) {
  if (e->key() == Qt::Key_Plus || e->key() == Qt::Key_Equal) return zoom(1.5);
  if (e->key() == Qt::Key_Minus) return zoom(1 / 1.5);
  if (e->key() == Qt::Key_0) return fit();
  QAbstractScrollArea::keyPressEvent(e);
}

const TimelineBlock* GanttWidget::block_at(const QPoint& p) const {
  if (!data_) return nullptr;
  const int y = p.y() - ruler_height() + verticalScrollBar()->value();
  const double t = (p.x() - header_width() + horizontalScrollBar()->value()) / px_per_s_;
  const double slack = 2.0 / px_per_s_;
  for (std::size_t lane = 0; lane < data_->lanes.size(); ++lane) {
    const int top = lane_top(static_cast<int>(lane));
    if (y < top || y >= top + lane_height(static_cast<int>(lane))) continue;
    const auto [b, e] = lane_ranges_[lane];
    for (std::size_t i = b; i < e; ++i) {
      const auto& blk = data_->blocks[i];
      if (t >= blk.start_s - slack && t <= blk.end_s + slack) return &blk;
    }
  }
  return nullptr;
}

bool GanttWidget::viewportEvent(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* he = static_cast<QHelpEvent*>(e);
    if (const auto* b = block_at(he->pos())) {
      const auto& lane = data_->lanes[b->lane];
      QString what = QString::fromLatin1(to_string(b->kind));
      if (b->micro_batch >= 0) what += tr(" · micro-batch %1").arg(b->micro_batch);
      if (b->chunk > 0 || (b->micro_batch >= 0 && b->kind != BlockKind::send)) what += tr(" · chunk %1").arg(b->chunk);
      QToolTip::showText(he->globalPos(), tr("%1\n%2\n%3 → %4 (%5)")
                                              .arg(QString::fromStdString(lane.name), what, sec(b->start_s), sec(b->end_s),
                                                   sec(b->end_s - b->start_s)),
                         viewport());
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QAbstractScrollArea::viewportEvent(e);
}

void GanttWidget::paintEvent(QPaintEvent*) {
  QPainter p(viewport());
  const QPalette pal = palette();
  p.fillRect(viewport()->rect(), pal.color(QPalette::Base));
  if (!data_ || data_->lanes.empty()) {
    p.setPen(theme::muted_color(pal));
    p.drawText(viewport()->rect(), Qt::AlignCenter, tr("No timeline yet"));
    return;
  }
  const int hw = header_width(), rh = ruler_height();
  const int sx = horizontalScrollBar()->value(), sy = verticalScrollBar()->value();
  const int w = viewport()->width(), h = viewport()->height();
  const double t0 = sx / px_per_s_, t1 = (sx + w - hw) / px_per_s_;
  const auto fm = fontMetrics();
  const QColor grid = [&] {
    QColor c = pal.color(QPalette::Text);
    c.setAlpha(28);
    return c;
  }();

  // Lanes.
  p.save();
  p.setClipRect(QRect(0, rh, w, h - rh));
  for (std::size_t lane = 0; lane < data_->lanes.size(); ++lane) {
    const int li = static_cast<int>(lane);
    const int top = rh + lane_top(li) - sy, lh = lane_height(li);
    if (top > h || top + lh < rh) continue;
    if (data_->lanes[lane].stream == Stream::compute) {
      p.fillRect(QRect(hw, top, w - hw, lh), pal.color(QPalette::AlternateBase));
    }
    const auto [b, e] = lane_ranges_[lane];
    for (std::size_t i = b; i < e; ++i) {
      const auto& blk = data_->blocks[i];
      if (blk.end_s < t0 || blk.start_s > t1) continue;
      const double x0 = hw + blk.start_s * px_per_s_ - sx, x1 = hw + blk.end_s * px_per_s_ - sx;
      const QRectF r(x0, top + 1, std::max(1.0, x1 - x0), lh - 2);
      const QColor c = block_color(blk.kind);
      p.fillRect(r, c);
      if (r.width() > 8) {  // outlines only where they separate blocks rather than hide them
        p.setPen(QPen(c.darker(135), 1));
        p.drawRect(r.adjusted(0.5, 0.5, -0.5, -0.5));
      }
      const QString label = short_label(blk);
      if (!label.isEmpty() && r.width() > fm.horizontalAdvance(label) + 4) {
        p.setPen(c.lightness() > 150 ? Qt::black : Qt::white);
        p.drawText(r, Qt::AlignCenter, label);
      }
    }
  }
  // Lane names.
  p.fillRect(QRect(0, rh, hw, h - rh), pal.color(QPalette::Window));
  p.setPen(pal.color(QPalette::WindowText));
  for (std::size_t lane = 0; lane < data_->lanes.size(); ++lane) {
    const int li = static_cast<int>(lane);
    const int top = rh + lane_top(li) - sy;
    if (top > h || top + lane_height(li) < rh) continue;
    QFont f = font();
    if (data_->lanes[lane].stream == Stream::comm) {
      f.setPointSizeF(f.pointSizeF() * 0.85);
      p.setPen(theme::muted_color(pal));
    } else {
      p.setPen(pal.color(QPalette::WindowText));
    }
    p.setFont(f);
    p.drawText(QRect(6, top, hw - 10, lane_height(li)), Qt::AlignVCenter | Qt::AlignLeft,
               QString::fromStdString(data_->lanes[lane].name));
  }
  p.setFont(font());
  p.restore();

  // Ruler with grid lines.
  p.fillRect(QRect(0, 0, w, rh), pal.color(QPalette::Window));
  const double step = ruler_step(px_per_s_, fm.horizontalAdvance(QStringLiteral("000.0 ms")) + 24);
  p.setPen(pal.color(QPalette::WindowText));
  for (double t = std::floor(t0 / step) * step; t <= t1 + step; t += step) {
    if (t < 0) continue;
    const double x = hw + t * px_per_s_ - sx;
    if (x < hw) continue;
    p.setPen(grid);
    p.drawLine(QPointF(x, rh), QPointF(x, h));
    p.setPen(pal.color(QPalette::WindowText));
    p.drawLine(QPointF(x, rh - 5), QPointF(x, rh));
    p.drawText(QPointF(x + 3, fm.ascent() + 2), sec(t));
  }
  // The end of the iteration.
  const double xe = hw + data_->makespan_s * px_per_s_ - sx;
  if (xe >= hw && xe <= w) {
    p.setPen(QPen(theme::error_color(pal), 1.5, Qt::DashLine));
    p.drawLine(QPointF(xe, 0), QPointF(xe, h));
  }
  p.setPen(pal.color(QPalette::Mid));
  p.drawLine(0, rh - 1, w, rh - 1);
  p.drawLine(hw - 1, 0, hw - 1, h);
}

TimelineView::TimelineView(QWidget* parent)
    : QWidget(parent), runner_(new JobRunner(tr("Timeline"), this)), gantt_(new GanttWidget(this)), info_(new QLabel(this)) {
  auto* col = new QVBoxLayout(this);
  col->setContentsMargins(8, 8, 8, 8);
  auto* bar = new QHBoxLayout();
  info_->setWordWrap(true);
  bar->addWidget(info_, 1);
  auto* in = new QPushButton(tr("Zoom in"), this);
  auto* out = new QPushButton(tr("Zoom out"), this);
  auto* fit = new QPushButton(tr("Fit"), this);
  in->setToolTip(tr("Zoom in (+, or Ctrl+wheel)"));
  out->setToolTip(tr("Zoom out (-)"));
  fit->setToolTip(tr("Show the whole iteration (0)"));
  bar->addWidget(in);
  bar->addWidget(out);
  bar->addWidget(fit);
  col->addLayout(bar);
  // Legend.
  auto* legend = new QHBoxLayout();
  for (auto k : {BlockKind::forward, BlockKind::backward, BlockKind::weight_grad, BlockKind::recompute, BlockKind::send,
                 BlockKind::dp_comm, BlockKind::optimizer}) {
    auto* entry = new QWidget(this);
    auto* h = new QHBoxLayout(entry);
    h->setContentsMargins(0, 0, 10, 0);
    auto* sw = new QLabel(entry);
    const int s = fontMetrics().height() - 4;
    QPixmap px(s, s);
    px.fill(block_color(k));
    sw->setPixmap(px);
    h->addWidget(sw);
    h->addWidget(new QLabel(QString::fromLatin1(to_string(k)), entry));
    legend->addWidget(entry);
    legend_[static_cast<int>(k)] = entry;
  }
  legend->addStretch(1);
  col->addLayout(legend);
  col->addWidget(gantt_, 1);
  connect(in, &QPushButton::clicked, this, [this] { gantt_->zoom(1.5); });
  connect(out, &QPushButton::clicked, this, [this] { gantt_->zoom(1 / 1.5); });
  connect(fit, &QPushButton::clicked, gantt_, &GanttWidget::fit);
  connect(runner_, &JobRunner::finished, this, [this](bool cancelled) {
    if (!cancelled) return;
    laid_out_.reset();  // lay it out again next time
    info_->setText(tr("Cancelled. Show the view again or edit the scenario to lay the iteration out."));
  });
}

void TimelineView::show_result(const EvaluatedPtr& ev) {
  ev_ = ev;
  if (isVisible()) lay_out();
}

void TimelineView::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  lay_out();
}

void TimelineView::lay_out() {
  if (!ev_ || ev_ == laid_out_) return;
  laid_out_ = ev_;
  const EvaluatedPtr ev = ev_;
  info_->setText(tr("Laying out the iteration…"));
  runner_->start_with_result<TimelineData>(
      tr("Timeline"), [ev](JobControl& ctl) { return timeline_from_estimate(ev->scenario, &ctl); },
      [this, ev](TimelineData d) {
        data_ = std::make_shared<const TimelineData>(std::move(d));
        gantt_->set_data(data_);
        for (auto& [kind, entry] : legend_)
          entry->setVisible(std::any_of(data_->blocks.begin(), data_->blocks.end(),
                                        [kind = kind](const TimelineBlock& b) { return static_cast<int>(b.kind) == kind; }));
        QStringList notes;
        for (const auto& n : data_->notes) notes << QString::fromStdString(n);
        info_->setText(tr("<b>Iteration %1</b> as laid out here (estimate: %2) · %3 stages × %4 micro-batches · "
                          "source: %5<br><small>%6</small>")
                           .arg(sec(data_->makespan_s), sec(ev->report.iteration_time_s))
                           .arg(ev->scenario.layout.pp)
                           .arg(ev->scenario.micro_batches)
                           .arg(QString::fromStdString(data_->source), notes.join(QStringLiteral("; "))));
      });
}

}  // namespace clustersim::gui
