#pragma once
// The Overview: the numbers a planner looks at first, and where the time and the memory go.
#include <QWidget>

#include "gui/evaluation.hpp"

class QLabel;
class QGridLayout;

namespace clustersim::gui {

class BreakdownBar;
class CostSettings;

// OverviewView renders one Evaluated: iteration time, tokens/s, MFU/HFU, model TFLOP/s per GPU, days,
// GPU-hours and cost for the target tokens, the time breakdown of the bottleneck stage, the memory of
// the fullest GPU against its HBM, traffic per GPU and the evaluator's notes.
class OverviewView : public QWidget {
  Q_OBJECT
 public:
  OverviewView(CostSettings* costs, QWidget* parent = nullptr);
  void show_result(const EvaluatedPtr& ev);
  // The text of a card by its key ("iteration_time", "mfu", ...), for tests.
  [[nodiscard]] QString card_text(const QString& key) const;

 private:
  struct Card {
    QLabel* value = nullptr;
    QLabel* detail = nullptr;
  };
  CostSettings* costs_;
  EvaluatedPtr ev_;
  QLabel* header_ = nullptr;
  std::map<QString, Card> cards_;
  BreakdownBar* time_bar_ = nullptr;
  BreakdownBar* memory_bar_ = nullptr;
  QLabel* memory_verdict_ = nullptr;
  QLabel* traffic_ = nullptr;
  QLabel* notes_ = nullptr;
  void add_card(QGridLayout* grid, int row, int col, const QString& key, const QString& title, const QString& tip);
  void render();
};

}  // namespace clustersim::gui
