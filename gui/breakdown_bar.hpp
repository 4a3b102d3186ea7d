#pragma once
// A horizontal stacked bar with a legend: parts of a whole (time of an iteration, memory of a GPU),
// optionally against a limit drawn as a line (HBM capacity).
#include <QColor>
#include <QString>
#include <QWidget>

#include <optional>
#include <vector>

namespace clustersim::gui {

// BreakdownBar draws its segments left to right in proportion to their values, scaled to the larger
// of their sum and the limit; the legend lists each segment with its formatted value and share.
class BreakdownBar : public QWidget {
  Q_OBJECT
 public:
  struct Segment {
    QString label;
    double value = 0;
    QColor color;
    QString text;  // formatted value ("5.73 s")
  };
  explicit BreakdownBar(QWidget* parent = nullptr);
  void set_segments(std::vector<Segment> segments, std::optional<double> limit = std::nullopt, QString limit_label = {});
  [[nodiscard]] QSize sizeHint() const override;
  [[nodiscard]] QSize minimumSizeHint() const override;
  [[nodiscard]] bool hasHeightForWidth() const override { return true; }
  [[nodiscard]] int heightForWidth(int w) const override;

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  std::vector<Segment> segments_;
  std::optional<double> limit_;
  QString limit_label_;
  [[nodiscard]] int bar_height() const;
  [[nodiscard]] std::vector<QRect> legend_rects(int width) const;
  [[nodiscard]] QString legend_text(const Segment& s) const;
};

}  // namespace clustersim::gui
