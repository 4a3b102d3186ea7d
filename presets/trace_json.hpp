#pragma once
// What a discrete-event simulation writes: its report as the estimate JSON (INTERFACES.md) with the
// simulation's extras, and its timeline in the Chrome trace-event format (the JSON Object Format of the
// "Trace Event Format" document), which Perfetto (ui.perfetto.dev) and chrome://tracing open.
//
// The trace has one process per simulated GPU (a representative GPU per stage, or every GPU with
// --full) and one thread per stream (compute, TP communication, DP gathers, DP reductions); complete events
// ("ph": "X") for every op (forward, backward, recompute, weight gradient, optimizer, TP collectives,
// PP sends, DP reductions and gathers), the pipeline bubbles and waits for communication on the compute
// stream, a counter ("ph": "C") of allocated memory per GPU, and a last process with the critical path.
// Times are microseconds. The writer streams to an ostream (a full simulation has millions of events);
// the caller opens the file.
#include <nlohmann/json.hpp>
#include <ostream>

#include "sim/des.hpp"

namespace clustersim::presets {

// report_to_json(result.report, sc) plus "simulation": mode, GPUs simulated, per-GPU memory peaks and
// busy times, the critical path summary and its steps, and the engine's counts.
nlohmann::json simulation_to_json(const sim::SimResult& result, const strategies::Scenario& sc);

// Writes the Chrome trace of a simulation run with SimulateOptions::trace. Returns the number of events.
std::size_t write_trace(std::ostream& out, const sim::SimResult& result, const strategies::Scenario& sc);

// Short name of a traced op, e.g. "F mb3 L5", "B mb0 head", "TP mb3 L5", "send mb2", "DP reduce".
std::string trace_name(const sim::TraceEvent& e);

}  // namespace clustersim::presets
