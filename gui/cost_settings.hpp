#pragma once
// The user's prices and energy factors, shared by the Overview, Sweep and Budget views and kept between
// sessions (QSettings). They are not part of the scenario file, which the CLI reads.
#include <QObject>

#include "gui/budget_model.hpp"

namespace clustersim::gui {

// CostSettings holds one BudgetInputs; set() stores it and emits changed() when a value differs.
class CostSettings : public QObject {
  Q_OBJECT
 public:
  explicit CostSettings(QObject* parent = nullptr);
  [[nodiscard]] const BudgetInputs& inputs() const { return inputs_; }
  void set(const BudgetInputs& in);

 Q_SIGNALS:
  void changed();

 private:
  BudgetInputs inputs_;
};

}  // namespace clustersim::gui
