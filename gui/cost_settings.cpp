#include "gui/cost_settings.hpp"

#include <QSettings>

namespace clustersim::gui {

CostSettings::CostSettings(QObject* parent) : QObject(parent) {
  QSettings s;
  inputs_.usd_per_gpu_hour = s.value(QStringLiteral("budget/usd_per_gpu_hour"), inputs_.usd_per_gpu_hour).toDouble();
  inputs_.pue = s.value(QStringLiteral("budget/pue"), inputs_.pue).toDouble();
  inputs_.kg_co2_per_kwh = s.value(QStringLiteral("budget/kg_co2_per_kwh"), inputs_.kg_co2_per_kwh).toDouble();
}

void CostSettings::set(const BudgetInputs& in) {
  if (in.usd_per_gpu_hour == inputs_.usd_per_gpu_hour && in.pue == inputs_.pue && in.kg_co2_per_kwh == inputs_.kg_co2_per_kwh)
    return;
  inputs_ = in;
  QSettings s;
  s.setValue(QStringLiteral("budget/usd_per_gpu_hour"), in.usd_per_gpu_hour);
  s.setValue(QStringLiteral("budget/pue"), in.pue);
  s.setValue(QStringLiteral("budget/kg_co2_per_kwh"), in.kg_co2_per_kwh);
  Q_EMIT changed();
}

}  // namespace clustersim::gui
