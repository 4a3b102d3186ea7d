#pragma once
// Colours and palettes shared by the views, readable in light and dark mode. Series colours are the
// Okabe-Ito colour-blind-safe set, so a category keeps its colour across views.
#include <QColor>
#include <QPalette>

class QApplication;
class QWidget;
class QChart;

namespace clustersim::gui::theme {

enum class Mode { system, light, dark };

// Applies the Fusion style with a light or dark palette (system: the platform's own palette).
void apply(QApplication& app, Mode mode);
[[nodiscard]] bool is_dark(const QPalette& p);

// Fixed series colours (Okabe-Ito).
inline const QColor kBlue{0x00, 0x72, 0xB2};
inline const QColor kSky{0x56, 0xB4, 0xE9};
inline const QColor kGreen{0x00, 0x9E, 0x73};
inline const QColor kOrange{0xE6, 0x9F, 0x00};
inline const QColor kVermillion{0xD5, 0x5E, 0x00};
inline const QColor kPurple{0xCC, 0x79, 0xA7};
inline const QColor kYellow{0xF0, 0xE4, 0x42};
inline const QColor kGrey{0x99, 0x99, 0x99};

// The colour of errors and "does not fit", readable on both palettes.
[[nodiscard]] QColor error_color(const QPalette& p);
[[nodiscard]] QColor ok_color(const QPalette& p);
// Secondary text (units, hints).
[[nodiscard]] QColor muted_color(const QPalette& p);

// Draws a label's text in the palette's muted colour (follows theme changes).
void make_muted(QWidget* w);

// Chart backgrounds, grid and labels following the widget palette. QChart::setTheme() resets series
// colours, so call this after adding series and axes, and colour the series afterwards.
void style_chart(QChart* chart, const QPalette& p);

}  // namespace clustersim::gui::theme
