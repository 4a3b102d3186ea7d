#pragma once
// The discrete-event evaluator: one training iteration of a scenario, simulated op by op.
//
// simulate() lowers the scenario to a Plan (strategies/plan.hpp) and runs it on the event engine
// (sim/engine): every op is a task on its GPU's stream (compute, TP, DP gather, DP reduce: in-order
// queues, as CUDA streams are), held back by its dependencies (a PP receive waits for the neighbour's send; a forward
// for its gathered parameters; a DP bucket for the last backward of its layers). It returns the same
// Report as the closed form (sim/analytical.hpp), with the iteration time, the breakdown and the memory
// peaks taken from the simulated timeline, plus per-GPU memory peaks, the critical path, and, on request,
// trace events for a timeline viewer.
//
// Two scales. Representative (default): one GPU per pipeline stage, every collective costed by the
// communication model as if alone (DP and TP replicas do the same work at the same time). Full
// (`full`): every GPU of the cluster, each collective a rendezvous of its members (a member that arrives
// early waits for the last) whose transfers share links max-min fairly (sim/des_network.hpp); a
// straggler GPU or link then shows what one bad node costs.
//
// No global state: simulations are plain values; many run side by side in threads.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/engine.hpp"
#include "sim/report.hpp"
#include "strategies/plan.hpp"

namespace clustersim::sim {

// A slow GPU (its kernels take `factor` times as long) or link (its bandwidth divided by `factor`).
// GPUs are numbered as Megatron numbers ranks: tensor-parallel fastest, then data-parallel, then pipeline
// (gpu = tp + t (dp + d pp)).
struct Straggler {
  enum class Kind { gpu, nic, nvlink };
  Kind kind = Kind::gpu;
  int gpu = 0;
  double factor = 1.0;
};
// "gpu=ID:FACTOR", "link=nic:ID:FACTOR", "link=nvlink:ID:FACTOR" (FACTOR > 0; 2 = twice as slow).
Expected<Straggler> parse_straggler(std::string_view text);
std::string to_string(const Straggler& s);

struct SimulateOptions {
  bool full = false;                  // every GPU with link contention (else one GPU per pipeline stage)
  std::vector<Straggler> stragglers;  // links need `full`
  bool trace = false;                 // keep trace events and memory samples
  engine::Progress* progress = nullptr;
};

// One simulated GPU.
struct SimRank {
  int gpu = 0, stage = 0, dp = 0, tp = 0;
  double peak_bytes = 0;      // allocated peak: static bytes + the live allocations of the timeline
  double peak_time = 0;       // when it was first reached
  std::string peak_at;        // the op that reached it ("backward stage 0 mb 3 layer 11")
  double compute_busy = 0;    // compute stream running kernels (forward, backward, recompute, optimizer)
  double comm_blocking = 0;   // compute stream held by communication (inline TP, PP sends, inline DP)
  double end = 0;             // when its last op ended
};

// Seconds by what was running: compute (forward, backward, weight gradient), recompute, optimizer, and
// TP, PP and DP/ZeRO communication.
struct TimeByKind {
  double compute = 0, recompute = 0, optimizer = 0, tp_comm = 0, pp_comm = 0, dp_comm = 0;
  void add(strategies::OpKind kind, double seconds);
  [[nodiscard]] double total() const { return compute + recompute + optimizer + tp_comm + pp_comm + dp_comm; }
};

// A stretch of the critical path on one GPU: the ops it ran there, back to back, before the path moved
// to another GPU (a PP transfer, a collective whose last member was elsewhere).
struct PathStep {
  std::uint32_t rank = 0;     // index in SimResult::ranks
  double start = 0, end = 0;
  int ops = 0;
  int first_micro_batch = -1, last_micro_batch = -1;
  TimeByKind time;
};
struct CriticalPath {
  double length = 0;          // = the iteration time
  TimeByKind time;            // sums to `length`
  int stage_changes = 0;      // hops from one pipeline stage to another along the path
  std::vector<PathStep> steps;
};

enum class TraceCategory : std::uint8_t { op, bubble, wait };
struct TraceEvent {
  std::uint32_t rank = 0;     // index in SimResult::ranks
  strategies::Stream stream = strategies::Stream::compute;
  TraceCategory category = TraceCategory::op;
  strategies::OpKind kind = strategies::OpKind::forward;
  strategies::Part part = strategies::Part::layer;
  std::int32_t micro_batch = -1;
  std::int16_t chunk = -1, layer = -1;
  double start = 0, duration = 0;
};
struct MemorySample {
  std::uint32_t rank = 0;
  double time = 0, bytes = 0;
};

struct SimStats {
  std::size_t ranks = 0;
  std::size_t tasks = 0;
  std::uint64_t events = 0;
  std::uint64_t flows = 0;
  std::size_t largest_component = 0;
};

struct SimResult {
  Report report;
  bool full = false;
  std::vector<Straggler> stragglers;
  std::vector<SimRank> ranks;          // representative: one per stage; full: every GPU
  CriticalPath critical_path;
  std::vector<TraceEvent> trace;       // with SimulateOptions::trace, in start order per rank and stream
  std::vector<MemorySample> memory;    // with SimulateOptions::trace: allocated bytes after each change, in time order per GPU
  SimStats stats;
};

Expected<SimResult> simulate(const strategies::Scenario& sc, const SimulateOptions& options = {});

// Runs an already lowered plan (tests build plans from synthetic costs). The report's time, breakdown
// and memory come from the simulation; its static parts (FLOPs, traffic, parameters) from the closed form.
Expected<SimResult> simulate_plan(const strategies::Scenario& sc, const strategies::Plan& plan,
                                  const SimulateOptions& options = {});

}  // namespace clustersim::sim
