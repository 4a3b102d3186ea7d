#pragma once
// The Scaling-law view: predicted loss against training compute, the compute-optimal frontier and
// iso-FLOP curves of a parametric law, with this plan and a target loss marked.
#include <QWidget>

#include "gui/evaluation.hpp"
#include "gui/scaling_model.hpp"

class QChartView;
class QComboBox;
class QDoubleSpinBox;
class QLabel;

namespace clustersim::gui {

// ScalingView plots, for the law chosen (gui/scaling_model.hpp adapter): (left) loss against compute
// along the compute-optimal frontier and for this plan's model size, (right) iso-FLOP profiles, loss
// against parameters at fixed compute, around this plan's compute. This plan is N = the model's active
// parameters, D = training.tokens, C = 6 N D. The summary says what a target loss would take.
class ScalingView : public QWidget {
  Q_OBJECT
 public:
  explicit ScalingView(QWidget* parent = nullptr);
  void show_result(const EvaluatedPtr& ev);
  [[nodiscard]] QString summary_text() const;
  [[nodiscard]] QChartView* compute_chart() const { return compute_view_; }
  [[nodiscard]] QChartView* isoflop_chart() const { return iso_view_; }

 protected:
  void changeEvent(QEvent* e) override;

 private:
  EvaluatedPtr ev_;
  QComboBox* law_;
  QDoubleSpinBox* target_;
  QLabel* summary_;
  QChartView* compute_view_;
  QChartView* iso_view_;
  bool target_touched_ = false;
  void render();
};

}  // namespace clustersim::gui
