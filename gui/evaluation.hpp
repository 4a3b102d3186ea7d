#pragma once
// What every view renders: a validated scenario and the Report an evaluator returned for it.
#include <memory>

#include "sim/report.hpp"
#include "strategies/layout.hpp"

namespace clustersim::gui {

// Evaluated pairs a sealed Scenario with its Report. It is immutable once built and shared between the
// window, the views and worker jobs through EvaluatedPtr, so a job can read it while the user edits on.
struct Evaluated {
  strategies::Scenario scenario;
  sim::Report report;
};
using EvaluatedPtr = std::shared_ptr<const Evaluated>;

}  // namespace clustersim::gui
