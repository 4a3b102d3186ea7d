#pragma once
// The Timeline view: a zoomable Gantt chart of one simulated iteration, per pipeline stage and stream.
#include <QAbstractScrollArea>
#include <QWidget>

#include <map>
#include <memory>

#include "gui/evaluation.hpp"
#include "gui/timeline_model.hpp"

class QLabel;

namespace clustersim::gui {

class JobRunner;

// GanttWidget paints a TimelineData: a time ruler, one row per lane, a block per pass. Ctrl+wheel (or
// the +/- keys) zooms around the pointer, the scroll bars pan, hovering a block shows what it is.
class GanttWidget : public QAbstractScrollArea {
  Q_OBJECT
 public:
  explicit GanttWidget(QWidget* parent = nullptr);
  void set_data(std::shared_ptr<const TimelineData> data);
  void zoom(double factor, int anchor_x = -1);
  void fit();
  [[nodiscard]] double seconds_per_pixel() const { return 1.0 / px_per_s_; }

 protected:
  void paintEvent(QPaintEvent*) override;
  void resizeEvent(QResizeEvent*) override;
  void wheelEvent(QWheelEvent*) override;
  void keyPressEvent(QKeyEvent*) override;
  bool viewportEvent(QEvent* e) override;

 private:
  std::shared_ptr<const TimelineData> data_;
  std::vector<std::pair<std::size_t, std::size_t>> lane_ranges_;  // [begin, end) of each lane's blocks
  double px_per_s_ = 1.0;
  bool fitted_ = true;
  [[nodiscard]] int header_width() const;
  [[nodiscard]] int ruler_height() const;
  std::vector<int> lane_tops_, lane_heights_;  // laid out to fill the view when there are few lanes
  int lanes_bottom_ = 0;
  void layout_lanes();
  [[nodiscard]] int lane_height(int lane) const { return lane_heights_[static_cast<std::size_t>(lane)]; }
  [[nodiscard]] int lane_top(int lane) const { return lane_tops_[static_cast<std::size_t>(lane)]; }
  void update_scrollbars();
  [[nodiscard]] const TimelineBlock* block_at(const QPoint& p) const;
};

// TimelineView lays out the current scenario's iteration on a worker thread whenever it is shown after
// a change (today from the closed form's per-rank costs; the discrete-event simulator plugs in as
// another job producing TimelineData) and draws it with a GanttWidget and a legend.
class TimelineView : public QWidget {
  Q_OBJECT
 public:
  explicit TimelineView(QWidget* parent = nullptr);
  void show_result(const EvaluatedPtr& ev);
  [[nodiscard]] JobRunner* runner() const { return runner_; }
  [[nodiscard]] GanttWidget* gantt() const { return gantt_; }
  [[nodiscard]] std::shared_ptr<const TimelineData> data() const { return data_; }

 protected:
  void showEvent(QShowEvent* e) override;

 private:
  JobRunner* runner_;
  GanttWidget* gantt_;
  QLabel* info_;
  std::map<int, QWidget*> legend_;  // by BlockKind
  EvaluatedPtr ev_, laid_out_;
  std::shared_ptr<const TimelineData> data_;
  void lay_out();
};

}  // namespace clustersim::gui
