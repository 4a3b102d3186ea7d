#pragma once
// The data behind the Timeline view: blocks of work on lanes (one compute stream and one communication
// stream per pipeline rank) in seconds from the start of an iteration.
//
// Today timeline_from_estimate() lays the closed form's per-rank costs (strategies::rank_costs) out in
// the order of the pipeline schedule. When the discrete-event simulator lands, an adapter from its trace
// fills the same TimelineData and the view is unchanged (see docs/gui.md, "Where evaluators plug in").
#include <string>
#include <vector>

#include "gui/job_control.hpp"
#include "strategies/layout.hpp"

namespace clustersim::gui {

enum class BlockKind { forward, backward, weight_grad, recompute, send, dp_comm, optimizer };
const char* to_string(BlockKind k);

enum class Stream { compute, comm };

struct TimelineLane {
  std::string name;  // "stage 0 compute"
  int stage = 0;
  Stream stream = Stream::compute;
};

struct TimelineBlock {
  int lane = 0;
  double start_s = 0, end_s = 0;
  BlockKind kind = BlockKind::forward;
  int micro_batch = -1;  // -1: not tied to one micro-batch (DP reduction, optimizer)
  int chunk = 0;         // model chunk (virtual stage index on its rank)
};

// TimelineData is a finished picture of one iteration: lanes, blocks sorted by lane then start, and
// the makespan. `source` says which evaluator produced it; `notes` state the simplifications made.
struct TimelineData {
  std::vector<TimelineLane> lanes;
  std::vector<TimelineBlock> blocks;
  double makespan_s = 0;
  std::string source;
  std::vector<std::string> notes;
};

// The pipeline schedule of `sc` (GPipe, 1F1B, interleaved 1F1B as Megatron orders it, ZB-H1 with
// deferred weight-gradient passes) with each pass lasting what rank_costs() says, activation and
// gradient sends on the communication stream, then each rank's data-parallel reduction and optimizer
// step. `ctl` (optional) may stop the layout early, in which case the result is partial.
TimelineData timeline_from_estimate(const strategies::Scenario& sc, JobControl* ctl = nullptr);

}  // namespace clustersim::gui
