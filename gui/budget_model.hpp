#pragma once
// The data behind the Budget view and the report export: cost, energy and CO2 of training the
// scenario's target tokens, from the Report's GPU-hours and a few user-entered prices and factors.
//
// compute_budget() is the adapter the view reads; when sim/budget.hpp lands the lead points it there
// (same inputs, same Budget) and the exports gain whatever that module adds.
#include <string>

#include "gui/evaluation.hpp"

namespace clustersim::gui {

// What the user enters; defaults from the shared reference sec. 6 ("Energy / CO2 assumptions").
struct BudgetInputs {
  double usd_per_gpu_hour = 4.0;   // user-entered rental price
  double pue = 1.2;                // suggested default for rented GPU clouds (range 1.1-1.4)
  double kg_co2_per_kwh = 0.39;    // US grid, EIA 2022
};

// Budget is the cost of one plan: per iteration always, and for the training target when the scenario
// gives training.tokens (has_target).
struct Budget {
  bool has_target = false;
  double tokens = 0;
  double days = 0;
  double gpu_hours = 0;
  double cost_usd = 0;
  double energy_kwh = 0;
  double co2_kg = 0;
  double watts_per_gpu = 0;        // facility-side power drawn per GPU before PUE
  std::string power_basis;         // how watts_per_gpu was obtained
  double cost_per_iteration_usd = 0;
  double cost_per_million_tokens_usd = 0;
};

Budget compute_budget(const Evaluated& ev, const BudgetInputs& in);

// The report with its budget, as JSON (the Report JSON of INTERFACES.md plus a "budget" object) and as
// Markdown for people.
std::string budget_report_json(const Evaluated& ev, const Budget& b, const BudgetInputs& in);
std::string budget_report_markdown(const Evaluated& ev, const Budget& b, const BudgetInputs& in);

}  // namespace clustersim::gui
