#pragma once
// The Report as JSON (INTERFACES.md "JSON output of estimate and simulate"), with extra fields beside
// the contract's: allocated/reserved/device peaks per stage, in-flight micro-batches, notes.
#include <nlohmann/json.hpp>

#include "sim/report.hpp"
#include "strategies/layout.hpp"

namespace clustersim::presets {

nlohmann::json report_to_json(const sim::Report& r, const strategies::Scenario& sc);

}  // namespace clustersim::presets
