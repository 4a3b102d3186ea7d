// `clustersim simulate`: discrete-event simulation of one iteration, as a table or JSON, with an optional
// Chrome/Perfetto trace. A trace is an output the user names: an existing file of that name is replaced.
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/cli_common.hpp"
#include "presets/report_json.hpp"
#include "presets/scenario_json.hpp"
#include "presets/trace_json.hpp"
#include "presets/units.hpp"
#include "sim/analytical.hpp"
#include "sim/des.hpp"

namespace clustersim::cli {

using nlohmann::json;
using presets::format_bytes;
using presets::format_seconds;

namespace {

std::string pct(double part, double whole) { return whole > 0 ? fmt::format("{:.1f} %", 100.0 * part / whole) : "-"; }

// Percent done on stderr, when it is a terminal (full simulations of large clusters take seconds).
class TerminalProgress final : public sim::engine::Progress {
 public:
  void on_progress(double f) override {
    const int p = static_cast<int>(f * 100.0);
    if (p == last_) return;
    last_ = p;
    std::cerr << fmt::format("\rsimulating... {:3d} %", p) << (p >= 100 ? "\r                    \r" : "") << std::flush;
  }

 private:
  int last_ = -1;
};

void print_result(const sim::SimResult& res, const strategies::Scenario& sc, double closed_form_s) {
  const auto& r = res.report;
  const auto& L = sc.layout;
  std::cout << fmt::format("{} on {} x {} ({} GPUs, {})\n", sc.model.spec().name, sc.cluster.nodes, sc.cluster.name,
                           sc.gpus, sc.cluster.gpu.name);
  std::cout << fmt::format("layout  tp {} pp {} dp {}  sp {}  micro-batch {}  micro-batches {}  schedule {}{}  zero {}  "
                           "recompute {}  attention {}\n",
                           L.tp, L.pp, L.dp, L.sequence_parallel ? "on" : "off", L.micro_batch, sc.micro_batches,
                           strategies::to_string(L.schedule),
                           L.virtual_stages > 1 ? fmt::format(" (v={})", L.virtual_stages) : std::string(), L.zero,
                           strategies::to_string(L.recompute), strategies::to_string(L.attention));
  std::cout << fmt::format("simulation  {} ({} GPUs simulated), {} tasks, {} events{}\n\n",
                           res.full ? "full: every GPU, links shared" : "representative: one GPU per pipeline stage",
                           res.stats.ranks, res.stats.tasks, res.stats.events,
                           res.full ? fmt::format(", {} transfers", res.stats.flows) : std::string());
  const double it = r.iteration_time_s;
  std::cout << fmt::format("{:<22}{:>14}   (closed form {})\n", "iteration time", format_seconds(it),
                           format_seconds(closed_form_s));
  std::cout << fmt::format("{:<22}{:>14}\n", "tokens/s", fmt::format("{:.4g}", r.tokens_per_s));
  std::cout << fmt::format("{:<22}{:>14}\n", "tokens/s per GPU", fmt::format("{:.4g}", r.tokens_per_s / r.gpus));
  std::cout << fmt::format("{:<22}{:>14}\n", "model TFLOP/s per GPU", fmt::format("{:.1f}", r.tflops_per_gpu));
  std::cout << fmt::format("{:<22}{:>14}\n", "MFU", pct(r.mfu, 1.0));
  std::cout << fmt::format("{:<22}{:>14}\n", "HFU", pct(r.hfu, 1.0));
  if (r.tokens_target > 0)
    std::cout << fmt::format("{:<22}{:>14}   ({:.3g} GPU-hours for {:.3g} tokens)\n", "days to train",
                             fmt::format("{:.1f}", r.train_days), r.gpu_hours, r.tokens_target);

  const auto& t = r.time;
  auto row = [&](const char* name, double s, bool share = true) {
    std::cout << fmt::format("  {:<20}{:>12}{:>10}\n", name, format_seconds(s), share ? pct(s, it) : std::string());
  };
  std::cout << "\ntime on the busiest GPU (stage " << r.bottleneck_stage << ")\n";
  row("compute", t.compute.value);
  row("recompute", t.recompute.value);
  row("bubble", t.bubble.value);
  row("exposed comm", t.exposed_comm.value);
  row("optimizer", t.optimizer.value);
  std::cout << "  communication time (exposed or hidden):\n";
  row("  tp", t.tp_comm.value, false);
  row("  pp", t.pp_comm.value, false);
  row("  dp / zero", t.dp_comm.value, false);

  const auto& cp = res.critical_path;
  std::cout << fmt::format("\ncritical path ({}: {} stretches on one GPU, {} hops between pipeline stages)\n",
                           format_seconds(cp.length), cp.steps.size(), cp.stage_changes);
  row("compute", cp.time.compute);
  row("recompute", cp.time.recompute);
  row("tp comm", cp.time.tp_comm);
  row("pp comm", cp.time.pp_comm);
  row("dp comm", cp.time.dp_comm);
  row("optimizer", cp.time.optimizer);

  std::cout << fmt::format("\nmemory per GPU from the allocation timeline (capacity {}; peak {} on stage {}: {})\n",
                           format_bytes(r.memory.capacity.value), format_bytes(r.memory.peak_device.value),
                           r.memory.peak_stage, r.memory.fits ? "fits" : "DOES NOT FIT");
  std::cout << fmt::format("  {:>5} {:>11} {:>10} {:>10}  {}\n", "stage", "allocated", "reserved", "device", "peak reached at");
  for (const auto& s : r.memory.stages) {
    double when = 0;
    for (const auto& k : res.ranks)
      if (k.stage == s.stage && k.peak_at == s.peak_phase) {
        when = k.peak_time;
        break;
      }
    std::cout << fmt::format("  {:>5} {:>11} {:>10} {:>10}  {} (t = {})\n", s.stage, format_bytes(s.allocated_peak.value),
                             format_bytes(s.reserved_peak.value), format_bytes(s.device_peak.value), s.peak_phase,
                             format_seconds(when));
  }
  std::cout << fmt::format("\ntraffic per GPU per iteration: tp {}, pp {}, dp {}\n", format_bytes(r.traffic_tp),
                           format_bytes(r.traffic_pp), format_bytes(r.traffic_dp));
  for (const auto& n : r.notes) std::cout << "note: " << n << "\n";
}

struct Options {
  std::string file, trace;
  bool as_json = false, full = false;
  std::vector<std::string> stragglers;
  Overrides ov;
};

int run_simulate(const Options& o) {
  json j = json::object();
  if (!o.file.empty()) {
    auto loaded = read_json_file(o.file);
    if (!loaded) return report_error(loaded.error());
    j = *loaded;
  }
  o.ov.apply(j);
  auto sc = presets::scenario_from_json(j);
  if (!sc) return report_error(sc.error());
  sim::SimulateOptions opt;
  opt.full = o.full;
  opt.trace = !o.trace.empty();
  for (const auto& s : o.stragglers) {
    auto parsed = sim::parse_straggler(s);
    if (!parsed) return report_error(Error{parsed.error().code, "--straggler", parsed.error().message});
    opt.stragglers.push_back(*parsed);
  }
  TerminalProgress progress;
  if (o.full && ::isatty(STDERR_FILENO)) opt.progress = &progress;
  auto res = sim::simulate(*sc, opt);
  if (!res) {
    auto e = res.error();
    if (e.path == "straggler") e.path = "--straggler";
    return report_error(e);
  }
  std::size_t events = 0;
  if (!o.trace.empty()) {
    // The user named this file: it is replaced if it exists.
    std::ofstream out(o.trace, std::ios::out | std::ios::trunc);
    if (!out) return report_error(Error{ErrorCode::io, o.trace, std::string("cannot write the trace: ") + std::strerror(errno)});
    events = presets::write_trace(out, *res, *sc);
    out.flush();
    if (!out) return report_error(Error{ErrorCode::io, o.trace, std::string("writing the trace failed: ") + std::strerror(errno)});
  }
  if (o.as_json) {
    std::cout << presets::simulation_to_json(*res, *sc).dump(2) << "\n";
  } else {
    print_result(*res, *sc, sim::estimate(*sc).iteration_time_s);
  }
  if (!o.trace.empty())
    std::cerr << fmt::format("trace: {} ({} events); open it in https://ui.perfetto.dev or chrome://tracing\n", o.trace, events);
  const auto& r = res->report;
  if (!r.memory.fits) {
    const auto& st = r.memory.stages[r.memory.peak_stage];
    std::cerr << fmt::format("infeasible: stage {} needs {} per GPU ({} allocated, peak at {}) but the {} has {}\n",
                             st.stage, format_bytes(st.device_peak.value), format_bytes(st.allocated_peak.value),
                             st.peak_phase, sc->cluster.gpu.name, format_bytes(r.memory.capacity.value));
    return kExitInfeasible;
  }
  return kExitOk;
}

Command add_simulate_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "simulate",
      "Discrete-event simulation of one training iteration: the estimate's report from a timeline of every op, with "
      "memory peaks, the critical path and an optional Perfetto trace");
  cmd->add_option("scenario", o->file,
                  "Scenario JSON file (see INTERFACES.md); optional when --model, --cluster and the training flags are given");
  cmd->add_flag("--json", o->as_json, "Print the report as JSON (the estimate JSON with \"evaluator\": \"simulate\" and "
                                      "a \"simulation\" object)");
  cmd->add_option("--trace", o->trace,
                  "Write a Chrome trace-event JSON timeline (Perfetto, chrome://tracing); an existing file is replaced");
  cmd->add_flag("--full", o->full,
                "Simulate every GPU, collectives sharing NVLink ports and NICs (default: one GPU per pipeline stage)");
  cmd->add_option("--straggler", o->stragglers,
                  "A slow GPU or link, repeatable: gpu=ID:FACTOR (kernels FACTOR x slower), link=nic:ID:FACTOR or "
                  "link=nvlink:ID:FACTOR (bandwidth / FACTOR; needs --full). GPU ids: tp + tp_size x (dp + dp_size x pp)");
  o->ov.add(cmd);
  return {cmd, [o]() {
            if (o->file.empty() && !o->ov.names_model_and_cluster()) {
              std::cerr << "error: simulate needs a scenario file, or --model, --cluster and the training flags\n";
              return kExitInput;
            }
            return run_simulate(*o);
          }};
}

}  // namespace

static const CommandRegistrar kRegisterSimulate{"simulate", 15, &add_simulate_command};

}  // namespace clustersim::cli
