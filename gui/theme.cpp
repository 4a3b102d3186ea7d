#include "gui/theme.hpp"

#include <QApplication>
#include <QChart>
#include <QStyle>
#include <QStyleFactory>
#include <QWidget>
#include <QAbstractAxis>

namespace clustersim::gui::theme {

namespace {
QPalette dark_palette() {
  QPalette p;
  const QColor window(0x2b, 0x2d, 0x30), base(0x1e, 0x1f, 0x22), text(0xe6, 0xe6, 0xe6), button(0x35, 0x37, 0x3b);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2b));
  p.setColor(QPalette::ToolTipBase, QColor(0x3c, 0x3f, 0x41));
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::PlaceholderText, QColor(0x8c, 0x8c, 0x8c));
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, button);
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, Qt::white);
  p.setColor(QPalette::Link, kSky);
  p.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Mid, QColor(0x50, 0x52, 0x56));
  p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
  p.setColor(QPalette::Light, QColor(0x45, 0x47, 0x4b));
  p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x7a, 0x7a, 0x7a));
  p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x7a, 0x7a, 0x7a));
  p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x7a, 0x7a, 0x7a));
  return p;
}
}  // namespace

void apply(QApplication& app, Mode mode) {
  if (auto* fusion = QStyleFactory::create(QStringLiteral("Fusion"))) app.setStyle(fusion);
  switch (mode) {
    case Mode::dark: app.setPalette(dark_palette()); break;
    case Mode::light: app.setPalette(app.style()->standardPalette()); break;
    case Mode::system: break;
  }
}

bool is_dark(const QPalette& p) { return p.color(QPalette::Window).lightness() < 128; }

QColor error_color(const QPalette& p) { return is_dark(p) ? QColor(0xff, 0x7b, 0x5c) : QColor(0xc0, 0x39, 0x2b); }
QColor ok_color(const QPalette& p) { return is_dark(p) ? QColor(0x4c, 0xd0, 0x9a) : QColor(0x00, 0x7a, 0x55); }
QColor muted_color(const QPalette& p) {
  const QColor t = p.color(QPalette::WindowText), w = p.color(QPalette::Window);
  return QColor((t.red() * 3 + w.red() * 2) / 5, (t.green() * 3 + w.green() * 2) / 5, (t.blue() * 3 + w.blue() * 2) / 5);
}

void make_muted(QWidget* w) { w->setForegroundRole(QPalette::PlaceholderText); }

void style_chart(QChart* chart, const QPalette& p) {
  chart->setTheme(is_dark(p) ? QChart::ChartThemeDark : QChart::ChartThemeLight);
  chart->setBackgroundBrush(p.color(QPalette::Base));
  chart->setBackgroundRoundness(0);
  chart->setPlotAreaBackgroundVisible(false);
  chart->setTitleBrush(p.color(QPalette::Text));
  chart->legend()->setLabelColor(p.color(QPalette::Text));
  chart->setMargins(QMargins(6, 6, 6, 6));
  for (auto* axis : chart->axes()) {
    axis->setLabelsColor(p.color(QPalette::Text));
    axis->setTitleBrush(p.color(QPalette::Text));
    QColor grid = p.color(QPalette::Text);
    grid.setAlpha(40);
    axis->setGridLineColor(grid);
    grid.setAlpha(14);
    axis->setMinorGridLineColor(grid);
    axis->setLinePenColor(muted_color(p));
  }
}

}  // namespace clustersim::gui::theme
