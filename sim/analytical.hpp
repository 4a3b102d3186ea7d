#pragma once
// The closed-form evaluator: one iteration of a validated scenario in microseconds of CPU.
//
// Per pipeline rank, a micro-batch costs t_r = forward + backward + recompute + exposed TP + 2 PP sends
// (+ exposed ZeRO-3 gathers). The pipeline then takes (Narayanan et al. 2021 sec. 2.2; shared reference 4.4)
//   GPipe / 1F1B:      T = (m - 1) max_r t_r + sum_r t_r       (bubble (p-1)/m of the ideal for uniform stages)
//   interleaved 1F1B:  T = m max_r t_r + (sum_r t_r - max_r t_r) / v
// and each rank then finishes its data-parallel reduction and optimizer step after its last backward,
// which reaches rank r sum_{i<r} b_i earlier than rank 0.
#include "sim/report.hpp"
#include "strategies/layout.hpp"

namespace clustersim::sim {

Report estimate(const strategies::Scenario& sc);
// The same with the memory report already computed (a sweep checks feasibility with it first).
Report estimate(const strategies::Scenario& sc, strategies::MemoryReport memory);

}  // namespace clustersim::sim
