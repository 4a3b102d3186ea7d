#pragma once
// The narrow observer a long-running job talks to: it asks whether to stop and reports progress, and
// knows nothing else about the window (the shape of OMNeT++'s on_progress / stop_requested and DuckDB's
// two-method ProgressBarDisplay). Jobs are plain C++ and never include Qt; gui/job_runner.hpp provides
// the implementation that runs them on a worker thread.
#include <cstdint>
#include <string>

namespace clustersim::gui {

// JobControl is what a job sees of its runner. A job polls stop_requested() between units of work
// (one estimate, one simulated event batch, one sweep row) and returns early when it is true; it calls
// on_progress() with a monotonically growing `done` out of `total`. Both calls are thread-safe and cheap.
class JobControl {
 public:
  virtual ~JobControl() = default;
  [[nodiscard]] virtual bool stop_requested() const = 0;
  virtual void on_progress(std::int64_t done, std::int64_t total, const std::string& what) = 0;
};

}  // namespace clustersim::gui
