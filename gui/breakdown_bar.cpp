#include "gui/breakdown_bar.hpp"

#include <QPainter>

#include <algorithm>

#include "gui/theme.hpp"

namespace clustersim::gui {

BreakdownBar::BreakdownBar(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void BreakdownBar::set_segments(std::vector<Segment> segments, std::optional<double> limit, QString limit_label) {
  segments_ = std::move(segments);
  limit_ = limit;
  limit_label_ = std::move(limit_label);
  updateGeometry();
  update();
}

int BreakdownBar::bar_height() const { return fontMetrics().height() * 2; }

QString BreakdownBar::legend_text(const Segment& s) const {
  double total = 0;
  for (const auto& x : segments_) total += x.value;
  const double share = total > 0 ? 100.0 * s.value / total : 0;
  return QStringLiteral("%1  %2 (%3 %)").arg(s.label, s.text, QString::number(share, 'f', share < 10 ? 1 : 0));
}

std::vector<QRect> BreakdownBar::legend_rects(int width) const {
  std::vector<QRect> out;
  const auto fm = fontMetrics();
  const int h = fm.height(), sw = h;  // swatch size
  int x = 0, y = bar_height() + fm.height() / 2 + (limit_ ? fm.height() : 0);
  for (const auto& s : segments_) {
    const int w = sw + 6 + fm.horizontalAdvance(legend_text(s)) + 18;
    if (x > 0 && x + w > width) {
      x = 0;
      y += h + 4;
    }
    out.emplace_back(x, y, w, h);
    x += w;
  }
  return out;
}

int BreakdownBar::heightForWidth(int w) const {
  const auto rects = legend_rects(std::max(w, 100));
  const int legend_bottom = rects.empty() ? bar_height() : rects.back().bottom();
  return legend_bottom + 4;
}

QSize BreakdownBar::sizeHint() const { return {480, heightForWidth(480)}; }
QSize BreakdownBar::minimumSizeHint() const { return {200, heightForWidth(width() > 0 ? width() : 480)}; }

void BreakdownBar::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  const QPalette pal = palette();
  double total = 0;
  for (const auto& s : segments_) total += s.value;
  const double scale_max = std::max(total, limit_.value_or(0.0));
  const int bh = bar_height();
  const QRectF bar(0.5, 0.5, width() - 1.0, bh - 1.0);
  p.setPen(Qt::NoPen);
  p.setBrush(pal.color(QPalette::AlternateBase));
  p.drawRoundedRect(bar, 3, 3);
  if (scale_max > 0) {
    double x = bar.left();
    for (const auto& s : segments_) {
      const double w = bar.width() * s.value / scale_max;
      if (w <= 0) continue;
      p.setBrush(s.color);
      p.drawRect(QRectF(x, bar.top(), w, bar.height()));
      x += w;
    }
    if (limit_) {
      const double lx = bar.left() + bar.width() * *limit_ / scale_max;
      const QColor c = total > *limit_ ? theme::error_color(pal) : pal.color(QPalette::WindowText);
      p.setPen(QPen(c, 2));
      p.drawLine(QPointF(lx, 0), QPointF(lx, bh + 2));
      p.setPen(c);
      const QString t = limit_label_;
      const int tw = fontMetrics().horizontalAdvance(t);
      const double tx = std::clamp(lx - tw, 0.0, static_cast<double>(width() - tw));
      p.drawText(QPointF(tx, bh + fontMetrics().ascent() + 2), t);
    }
  }
  p.setPen(pal.color(QPalette::Mid));
  p.setBrush(Qt::NoBrush);
  p.drawRoundedRect(bar, 3, 3);
  const auto rects = legend_rects(width());
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const QRect r = rects[i];
    p.setPen(Qt::NoPen);
    p.setBrush(segments_[i].color);
    p.drawRoundedRect(QRect(r.left(), r.top() + 2, r.height() - 4, r.height() - 4), 2, 2);
    p.setPen(pal.color(QPalette::WindowText));
    p.drawText(QRect(r.left() + r.height() + 2, r.top(), r.width(), r.height()), Qt::AlignVCenter | Qt::AlignLeft,
               legend_text(segments_[i]));
  }
}

}  // namespace clustersim::gui
