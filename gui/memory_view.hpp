#pragma once
// The Memory view: what each pipeline stage's GPUs hold at their peak, against the HBM capacity.
#include <QWidget>

#include "gui/evaluation.hpp"

class QChart;
class QChartView;
class QLabel;
class QTableWidget;

namespace clustersim::gui {

// One stage's memory split for the chart: the Report's parts, with the activations' quadratic
// attention-score part (materialized attention) and the allocator's and the device's extras apart.
struct StageBars {
  double weights = 0, gradients = 0, optimizer = 0, activations = 0, attention_scores = 0, other = 0, reserve = 0,
         device_extra = 0;
  [[nodiscard]] double total() const {
    return weights + gradients + optimizer + activations + attention_scores + other + reserve + device_extra;
  }
};
std::vector<StageBars> stage_bars(const Evaluated& ev);

// MemoryView draws stacked bars per pipeline stage (weights, gradients, optimizer, activations, the s x s
// attention scores when attention is materialized, other, allocator reserve, CUDA context and NCCL)
// with the HBM capacity as a line, and lists the same numbers in a table.
class MemoryView : public QWidget {
  Q_OBJECT
 public:
  explicit MemoryView(QWidget* parent = nullptr);
  void show_result(const EvaluatedPtr& ev);
  [[nodiscard]] QChart* chart() const;
  [[nodiscard]] QStringList series_names() const;  // stacked parts shown, for tests

 protected:
  void changeEvent(QEvent* e) override;

 private:
  EvaluatedPtr ev_;
  QChartView* view_ = nullptr;
  QLabel* summary_ = nullptr;
  QTableWidget* table_ = nullptr;
  void render();
};

}  // namespace clustersim::gui
