#pragma once
// The Report every evaluator returns (closed form now, discrete-event later): what one iteration costs.
// Faces (cli/, gui/) render it; presets/ writes it as the JSON of INTERFACES.md.
#include <string>
#include <vector>

#include "strategies/memory.hpp"

namespace clustersim::sim {

struct TimeBreakdown {
  Seconds compute;       // forward + backward kernels of the bottleneck pipeline rank, all micro-batches
  Seconds recompute;     // recomputed forward kernels
  Seconds tp_comm;       // all TP collective time (exposed or not)
  Seconds pp_comm;       // all PP send/recv time on the bottleneck rank
  Seconds dp_comm;       // all DP / ZeRO collective time
  Seconds bubble;        // pipeline fill and drain
  Seconds optimizer;     // optimizer step on the critical rank
  Seconds exposed_comm;  // communication on the critical path (TP + PP + DP/ZeRO, not hidden)
};

struct Report {
  std::string evaluator = "estimate";
  double iteration_time_s = 0;
  double tokens_per_s = 0;
  double tflops_per_gpu = 0;    // model FLOP/s per GPU / 1e12
  double mfu = 0;
  double hfu = 0;
  TimeBreakdown time;
  strategies::MemoryReport memory;
  double params_total = 0;
  double params_per_gpu_max = 0;
  double model_flops = 0;       // per iteration, all GPUs
  double hardware_flops = 0;    // with recomputation
  double traffic_tp = 0, traffic_pp = 0, traffic_dp = 0;  // bytes sent per GPU per iteration (max over ranks)
  int bottleneck_stage = 0;
  int gpus = 0;
  int micro_batches = 0;
  double peak_flops_per_gpu = 0;  // dense peak used for MFU
  std::vector<std::string> notes; // assumptions the estimate made (stated, never hidden)
  // Training target (when training.tokens is given).
  double tokens_target = 0;
  double train_days = 0;
  double gpu_hours = 0;
};

}  // namespace clustersim::sim
