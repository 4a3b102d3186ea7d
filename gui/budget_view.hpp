#pragma once
// The Budget view: cost, energy and CO2 of the plan, the prices and factors they rest on, and the
// report export (JSON and Markdown).
#include <QWidget>

#include <optional>

#include "common/expected.hpp"
#include "gui/evaluation.hpp"

class QDoubleSpinBox;
class QLabel;
class QTextBrowser;

namespace clustersim::gui {

class CostSettings;

// BudgetView edits the CostSettings ($ per GPU-hour, PUE, kg CO2 per kWh) and shows compute_budget() of
// the current result; export_report() writes the report with its budget (".json" or ".md" by suffix).
class BudgetView : public QWidget {
  Q_OBJECT
 public:
  BudgetView(CostSettings* costs, QWidget* parent = nullptr);
  void show_result(const EvaluatedPtr& ev);
  std::optional<Error> export_report(const QString& path) const;
  [[nodiscard]] QString value_text(const QString& key) const;  // "cost", "energy", "co2", ... for tests
  [[nodiscard]] QDoubleSpinBox* price_box() const { return price_; }

 Q_SIGNALS:
  void export_requested();

 private:
  CostSettings* costs_;
  EvaluatedPtr ev_;
  QDoubleSpinBox* price_;
  QDoubleSpinBox* pue_;
  QDoubleSpinBox* carbon_;
  std::map<QString, QLabel*> values_;
  QLabel* heading_;
  QLabel* basis_;
  QTextBrowser* preview_;
  void render();
};

}  // namespace clustersim::gui
