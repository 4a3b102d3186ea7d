// `clustersim estimate`: the closed-form cost of one iteration, as a table or JSON.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/cli_common.hpp"
#include "presets/report_json.hpp"
#include "presets/scenario_json.hpp"
#include "presets/units.hpp"
#include "sim/analytical.hpp"

namespace clustersim::cli {

using nlohmann::json;

namespace {

std::string pct(double v) { return fmt::format("{:.1f} %", v * 100.0); }

void print_report(const sim::Report& r, const strategies::Scenario& sc) {
  using presets::format_bytes;
  using presets::format_seconds;
  const auto& L = sc.layout;
  std::cout << fmt::format("{} on {} x {} ({} GPUs, {})\n", sc.model.spec().name, sc.cluster.nodes, sc.cluster.name,
                           sc.gpus, sc.cluster.gpu.name);
  std::cout << fmt::format("layout  tp {} pp {} dp {}  sp {}  micro-batch {}  micro-batches {}  schedule {}{}  zero {}  "
                           "recompute {}  attention {}\n",
                           L.tp, L.pp, L.dp, L.sequence_parallel ? "on" : "off", L.micro_batch, sc.micro_batches,
                           strategies::to_string(L.schedule),
                           L.virtual_stages > 1 ? fmt::format(" (v={})", L.virtual_stages) : std::string(), L.zero,
                           strategies::to_string(L.recompute), strategies::to_string(L.attention));
  std::cout << fmt::format("training  seq {}  global batch {}  {}\n\n", sc.training.seq_length,
                           sc.training.global_batch, hardware::to_string(sc.training.precision));
  std::cout << fmt::format("{:<22}{:>14}\n", "iteration time", format_seconds(r.iteration_time_s));
  std::cout << fmt::format("{:<22}{:>14}\n", "tokens/s", fmt::format("{:.4g}", r.tokens_per_s));
  std::cout << fmt::format("{:<22}{:>14}\n", "tokens/s per GPU", fmt::format("{:.4g}", r.tokens_per_s / r.gpus));
  std::cout << fmt::format("{:<22}{:>14}\n", "model TFLOP/s per GPU", fmt::format("{:.1f}", r.tflops_per_gpu));
  std::cout << fmt::format("{:<22}{:>14}\n", "MFU", pct(r.mfu));
  std::cout << fmt::format("{:<22}{:>14}\n", "HFU", pct(r.hfu));
  if (r.tokens_target > 0)
    std::cout << fmt::format("{:<22}{:>14}   ({:.3g} GPU-hours for {:.3g} tokens)\n", "days to train",
                             fmt::format("{:.1f}", r.train_days), r.gpu_hours, r.tokens_target);
  std::cout << "\ntime breakdown (bottleneck stage " << r.bottleneck_stage << ")\n";
  const auto& t = r.time;
  const double it = r.iteration_time_s;
  auto row = [&](const char* name, Seconds s, bool share = true) {
    std::cout << fmt::format("  {:<20}{:>12}{:>10}\n", name, format_seconds(s.value),
                             share ? pct(s.value / it) : std::string());
  };
  row("compute", t.compute);
  row("recompute", t.recompute);
  row("bubble", t.bubble);
  row("exposed comm", t.exposed_comm);
  row("optimizer", t.optimizer);
  std::cout << "  communication time (exposed or hidden):\n";
  row("  tp", t.tp_comm, false);
  row("  pp", t.pp_comm, false);
  row("  dp / zero", t.dp_comm, false);
  std::cout << fmt::format("\nmemory per GPU (capacity {}; peak {} on stage {}: {})\n",
                           format_bytes(r.memory.capacity.value), format_bytes(r.memory.peak_device.value),
                           r.memory.peak_stage, r.memory.fits ? "fits" : "DOES NOT FIT");
  std::cout << fmt::format("  {:>5} {:>7} {:>10} {:>10} {:>10} {:>11} {:>10} {:>11} {:>10} {:>10}\n", "stage", "layers",
                           "weights", "grads", "optimizer", "activations", "other", "allocated", "reserved", "device");
  for (std::size_t i = 0; i < r.memory.stages.size(); ++i) {
    const auto& s = r.memory.stages[i];
    std::cout << fmt::format("  {:>5} {:>7} {:>10} {:>10} {:>10} {:>11} {:>10} {:>11} {:>10} {:>10}\n", s.stage,
                             sc.stages[i].layers(), format_bytes(s.weights.value), format_bytes(s.gradients.value),
                             format_bytes(s.optimizer.value), format_bytes(s.activations.value),
                             format_bytes(s.other.value), format_bytes(s.allocated_peak.value),
                             format_bytes(s.reserved_peak.value), format_bytes(s.device_peak.value));
  }
  std::cout << fmt::format("\ntraffic per GPU per iteration: tp {}, pp {}, dp {}\n", format_bytes(r.traffic_tp),
                           format_bytes(r.traffic_pp), format_bytes(r.traffic_dp));
  std::cout << fmt::format("params: {:.4g} total, {:.4g} on the fullest GPU\n", r.params_total, r.params_per_gpu_max);
  for (const auto& n : r.notes) std::cout << "note: " << n << "\n";
}

int run_estimate(const std::string& file, const Overrides& ov, bool as_json) {
  json j = json::object();
  if (!file.empty()) {
    auto loaded = read_json_file(file);
    if (!loaded) return report_error(loaded.error());
    j = *loaded;
  }
  ov.apply(j);
  auto sc = presets::scenario_from_json(j);
  if (!sc) return report_error(sc.error());
  const auto report = sim::estimate(*sc);
  if (as_json) {
    std::cout << presets::report_to_json(report, *sc).dump(2) << "\n";
  } else {
    print_report(report, *sc);
  }
  if (!report.memory.fits) {
    const auto& st = report.memory.stages[report.memory.peak_stage];
    std::cerr << fmt::format("infeasible: stage {} needs {} per GPU ({} allocated, peak in {}) but the {} has {}\n",
                             st.stage, presets::format_bytes(st.device_peak.value),
                             presets::format_bytes(st.allocated_peak.value), st.peak_phase, sc->cluster.gpu.name,
                             presets::format_bytes(report.memory.capacity.value));
    return kExitInfeasible;
  }
  return kExitOk;
}

}  // namespace

namespace {
Command add_estimate_command(CLI::App& app) {
  struct State {
    std::string file;
    bool as_json = false;
    Overrides ov;
  };
  auto st = std::make_shared<State>();
  auto* est = app.add_subcommand("estimate", "Closed-form cost of one training iteration of a scenario");
  est->add_option("scenario", st->file,
                  "Scenario JSON file (see INTERFACES.md); optional when --model, --cluster and the training flags are given");
  est->add_flag("--json", st->as_json, "Print the report as JSON");
  st->ov.add(est);
  return {est, [st]() {
            if (st->file.empty() && !st->ov.names_model_and_cluster()) {
              std::cerr << "error: estimate needs a scenario file, or --model, --cluster and the training flags\n";
              return kExitInput;
            }
            return run_estimate(st->file, st->ov, st->as_json);
          }};
}
}  // namespace

static const CommandRegistrar kRegisterEstimate{"estimate", 10, &add_estimate_command};

}  // namespace clustersim::cli
