#include "gui/budget_view.hpp"

#include <QDoubleSpinBox>
#include <QFile>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QTextBrowser>
#include <QPushButton>
#include <QSaveFile>
#include <QVBoxLayout>

#include "gui/budget_model.hpp"
#include "gui/cost_settings.hpp"
#include "gui/theme.hpp"
#include "presets/units.hpp"

namespace clustersim::gui {

namespace {
QString money(double usd) {
  if (usd >= 1e9) return QStringLiteral("$%1 B").arg(usd / 1e9, 0, 'f', 2);
  if (usd >= 1e6) return QStringLiteral("$%1 M").arg(usd / 1e6, 0, 'f', 2);
  if (usd >= 1e3) return QStringLiteral("$%1 k").arg(usd / 1e3, 0, 'f', 1);
  return QStringLiteral("$%1").arg(usd, 0, 'f', 2);
}
QString energy(double kwh) {
  if (kwh >= 1e6) return QStringLiteral("%1 GWh").arg(kwh / 1e6, 0, 'g', 3);
  if (kwh >= 1e3) return QStringLiteral("%1 MWh").arg(kwh / 1e3, 0, 'g', 3);
  return QStringLiteral("%1 kWh").arg(kwh, 0, 'g', 3);
}
QString mass(double kg) {
  if (kg >= 1e6) return QStringLiteral("%1 kt").arg(kg / 1e6, 0, 'f', 2);
  if (kg >= 1e3) return QStringLiteral("%1 t").arg(QLocale::c().toString(kg / 1e3, 'f', kg >= 1e5 ? 0 : 1));
  return QStringLiteral("%1 kg").arg(kg, 0, 'f', 1);
}
QString hours(double h) {
  if (h >= 1e6) return QStringLiteral("%1 M").arg(h / 1e6, 0, 'f', 2);
  if (h >= 1e3) return QStringLiteral("%1 k").arg(h / 1e3, 0, 'f', 1);
  return QString::number(h, 'f', h >= 10 ? 0 : 2);
}
}  // namespace

BudgetView::BudgetView(CostSettings* costs, QWidget* parent)
    : QWidget(parent),
      costs_(costs),
      price_(new QDoubleSpinBox(this)),
      pue_(new QDoubleSpinBox(this)),
      carbon_(new QDoubleSpinBox(this)),
      heading_(new QLabel(this)),
      basis_(new QLabel(this)),
      preview_(new QTextBrowser(this)) {
  auto* col = new QVBoxLayout(this);
  col->setContentsMargins(12, 12, 12, 12);
  col->setSpacing(10);

  auto* inputs = new QGroupBox(tr("Prices and factors"), this);
  auto* form = new QFormLayout(inputs);
  form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
  price_->setRange(0.0, 1000.0);
  price_->setDecimals(2);
  price_->setSingleStep(0.25);
  price_->setPrefix(QStringLiteral("$ "));
  price_->setSuffix(tr(" per GPU-hour"));
  price_->setObjectName(QStringLiteral("budget.price"));
  price_->setToolTip(tr("What one GPU costs per hour. On-demand cloud prices for an H100 ranged from about $3 to "
                        "$12 per GPU-hour in 2025-26 (shared reference sec. 6); reserved and spot prices are lower."));
  pue_->setRange(1.0, 3.0);
  pue_->setDecimals(2);
  pue_->setSingleStep(0.05);
  pue_->setToolTip(tr("Power usage effectiveness: facility power over IT power. About 1.1 for hyperscale data "
                      "centres, 1.58 industry average (Uptime Institute 2023); 1.2 suggested for GPU clouds."));
  carbon_->setRange(0.0, 2.0);
  carbon_->setDecimals(3);
  carbon_->setSingleStep(0.01);
  carbon_->setSuffix(tr(" kg CO₂ per kWh"));
  carbon_->setToolTip(tr("Carbon intensity of the electricity: 0.39 kg/kWh for the US grid (EIA 2022); near 0.02-0.05 "
                         "for hydro, nuclear or wind supply."));
  form->addRow(tr("Price"), price_);
  form->addRow(tr("PUE"), pue_);
  form->addRow(tr("Grid carbon intensity"), carbon_);
  col->addWidget(inputs);

  QFont big = font();
  big.setPointSizeF(big.pointSizeF() * 1.5);
  big.setBold(true);
  heading_->setWordWrap(true);
  col->addWidget(heading_);
  auto* grid = new QGridLayout();
  grid->setHorizontalSpacing(24);
  const std::pair<const char*, const char*> keys[] = {
      {"cost", "Cost"},           {"gpu_hours", "GPU-hours"},    {"days", "Days"},
      {"energy", "Energy"},       {"co2", "CO₂"},               {"per_iteration", "Cost per iteration"},
      {"per_mtok", "Cost per million tokens"}, {"power", "Power per GPU"}};
  int i = 0;
  for (const auto& [key, title] : keys) {
    auto* t = new QLabel(tr(title), this);
    theme::make_muted(t);
    auto* v = new QLabel(QStringLiteral("–"), this);
    v->setFont(big);
    v->setObjectName(QStringLiteral("budget.") + QLatin1String(key));
    v->setTextInteractionFlags(Qt::TextSelectableByMouse);
    grid->addWidget(t, (i / 4) * 2, i % 4);
    grid->addWidget(v, (i / 4) * 2 + 1, i % 4);
    values_[QLatin1String(key)] = v;
    ++i;
  }
  col->addLayout(grid);
  basis_->setWordWrap(true);
  theme::make_muted(basis_);
  col->addWidget(basis_);
  auto* buttons = new QHBoxLayout();
  auto* export_button = new QPushButton(tr("Export report…"), this);
  export_button->setToolTip(tr("Write the report with this budget as JSON or Markdown (Ctrl+E)."));
  buttons->addWidget(export_button);
  buttons->addStretch(1);
  col->addLayout(buttons);
  auto* preview_title = new QLabel(tr("<b>Report preview</b> (what Export writes as Markdown)"), this);
  col->addWidget(preview_title);
  preview_->setOpenExternalLinks(false);
  col->addWidget(preview_, 1);

  const auto& in = costs_->inputs();
  price_->setValue(in.usd_per_gpu_hour);
  pue_->setValue(in.pue);
  carbon_->setValue(in.kg_co2_per_kwh);
  auto push = [this] { costs_->set(BudgetInputs{price_->value(), pue_->value(), carbon_->value()}); };
  connect(price_, &QDoubleSpinBox::valueChanged, this, push);
  connect(pue_, &QDoubleSpinBox::valueChanged, this, push);
  connect(carbon_, &QDoubleSpinBox::valueChanged, this, push);
  connect(costs_, &CostSettings::changed, this, &BudgetView::render);
  connect(export_button, &QPushButton::clicked, this, &BudgetView::export_requested);
}

void BudgetView::show_result(const EvaluatedPtr& ev) {
  ev_ = ev;
  render();
}

QString BudgetView::value_text(const QString& key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? QString() : it->second->text();
}

void BudgetView::render() {
  if (!ev_) return;
  const auto& in = costs_->inputs();
  const auto b = compute_budget(*ev_, in);
  const auto& sc = ev_->scenario;
  heading_->setText(b.has_target
                        ? tr("<b>Training %1 tokens</b> of %2 on %3 × %4")
                              .arg(b.tokens, 0, 'g', 3)
                              .arg(QString::fromStdString(sc.model.spec().name).toHtmlEscaped())
                              .arg(sc.gpus)
                              .arg(QString::fromStdString(sc.cluster.gpu.name).toHtmlEscaped())
                        : tr("<b>One iteration</b> of %1 on %2 × %3 — set training.tokens in the editor for the whole run.")
                              .arg(QString::fromStdString(sc.model.spec().name).toHtmlEscaped())
                              .arg(sc.gpus)
                              .arg(QString::fromStdString(sc.cluster.gpu.name).toHtmlEscaped()));
  values_[QStringLiteral("cost")]->setText(money(b.cost_usd));
  values_[QStringLiteral("gpu_hours")]->setText(hours(b.gpu_hours));
  values_[QStringLiteral("days")]->setText(b.days >= 1 ? QString::number(b.days, 'f', 1)
                                                       : QString::fromStdString(presets::format_seconds(b.days * 86400.0)));
  values_[QStringLiteral("energy")]->setText(energy(b.energy_kwh));
  values_[QStringLiteral("co2")]->setText(mass(b.co2_kg));
  values_[QStringLiteral("per_iteration")]->setText(money(b.cost_per_iteration_usd));
  values_[QStringLiteral("per_mtok")]->setText(QStringLiteral("$%1").arg(b.cost_per_million_tokens_usd, 0, 'f', 4));
  values_[QStringLiteral("power")]->setText(QStringLiteral("%1 W").arg(b.watts_per_gpu, 0, 'f', 0));
  preview_->setMarkdown(QString::fromStdString(budget_report_markdown(*ev_, b, in)));
  basis_->setText(tr("Cost = GPU-hours × price. Energy = GPU-hours × power per GPU × PUE, with power from %1. "
                     "CO₂ = energy × grid carbon intensity. GPU-hours come from the %2 evaluator's throughput "
                     "(reference sec. 6 for the energy model and the factors' sources).")
                      .arg(QString::fromStdString(b.power_basis).toHtmlEscaped(),
                           QString::fromStdString(ev_->report.evaluator)));
}

std::optional<Error> BudgetView::export_report(const QString& path) const {
  if (!ev_) return Error{ErrorCode::invalid_input, "", "no valid scenario to report on"};
  const auto& in = costs_->inputs();
  const auto b = compute_budget(*ev_, in);
  const bool md = path.endsWith(QLatin1String(".md"), Qt::CaseInsensitive) ||
                  path.endsWith(QLatin1String(".markdown"), Qt::CaseInsensitive);
  const std::string text = md ? budget_report_markdown(*ev_, b, in) : budget_report_json(*ev_, b, in);
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly) || f.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size()) ||
      !f.commit())
    return Error{ErrorCode::io, "", "cannot write " + path.toStdString() + ": " + f.errorString().toStdString()};
  return std::nullopt;
}

}  // namespace clustersim::gui
