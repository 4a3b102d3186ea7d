// clustersim: the command-line face over the core. Parses arguments (CLI11), reads files, turns Errors
// into messages and exit codes (0 ok, 1 valid but infeasible, 2 bad input, 3 I/O or internal error).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/format.hpp"
#include "presets/registry.hpp"
#include "presets/report_json.hpp"
#include "presets/scenario_json.hpp"
#include "presets/units.hpp"
#include "sim/analytical.hpp"

using namespace clustersim;
using nlohmann::json;

namespace {

constexpr int kExitOk = 0, kExitInfeasible = 1, kExitInput = 2, kExitIo = 3;

int report_error(const Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  switch (e.code) {
    case ErrorCode::invalid_input: return kExitInput;
    case ErrorCode::infeasible: return kExitInfeasible;
    case ErrorCode::io:
    case ErrorCode::internal: return kExitIo;
  }
  return kExitIo;
}

Expected<json> read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::io, path, "cannot open file"};
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    return Error{ErrorCode::invalid_input, path, std::string("not valid JSON: ") + e.what()};
  }
}

// Command-line overrides of scenario fields; unset ones leave the file's values alone.
struct Overrides {
  std::string model, cluster;
  std::optional<int> nodes, tp, pp, dp, cp, micro_batch, virtual_stages, zero;
  std::optional<std::int64_t> seq_length, global_batch;
  std::optional<double> tokens;
  std::string schedule, recompute, attention, precision;
  std::optional<bool> sequence_parallel;

  void add(CLI::App* app) {
    app->add_option("--model", model, "Model preset name (overrides scenario.model)");
    app->add_option("--cluster", cluster, "Cluster preset name (overrides scenario.cluster)");
    app->add_option("--nodes", nodes, "Number of nodes");
    app->add_option("--tp", tp, "Tensor-parallel degree");
    app->add_option("--pp", pp, "Pipeline-parallel degree");
    app->add_option("--dp", dp, "Data-parallel degree (default: GPUs / (tp x pp x cp))");
    app->add_option("--cp", cp, "Context-parallel degree");
    app->add_option("--micro-batch", micro_batch, "Micro-batch size (sequences)");
    app->add_option("--virtual-stages", virtual_stages, "Model chunks per pipeline rank (interleaved 1F1B)");
    app->add_option("--zero", zero, "ZeRO stage 0-3 (1 = Megatron distributed optimizer)");
    app->add_option("--seq-length", seq_length, "Sequence length (tokens)");
    app->add_option("--global-batch", global_batch, "Global batch (sequences)");
    app->add_option("--tokens", tokens, "Training target in tokens (for days and GPU-hours)");
    app->add_option("--schedule", schedule, "gpipe | 1f1b | interleaved-1f1b");
    app->add_option("--recompute", recompute, "none | selective | full");
    app->add_option("--attention", attention, "flash | materialized");
    app->add_option("--precision", precision, "bf16 | fp16 | fp8 | fp32");
    app->add_option("--sequence-parallel", sequence_parallel, "true | false");
  }

  void apply(json& j) const {
    auto set = [&](const char* part, const char* key, const json& v) {
      if (!j.contains(part) || !j[part].is_object()) j[part] = json::object();
      j[part][key] = v;
    };
    if (!model.empty()) j["model"] = model;
    if (!cluster.empty()) j["cluster"] = cluster;
    if (nodes) {
      if (!j.contains("cluster")) j["cluster"] = json::object();
      if (j["cluster"].is_string()) j["cluster"] = json{{"base", j["cluster"]}};
      j["cluster"]["nodes"] = *nodes;
    }
    if (tp) set("layout", "tp", *tp);
    if (pp) set("layout", "pp", *pp);
    if (dp) set("layout", "dp", *dp);
    if (cp) set("layout", "cp", *cp);
    if (micro_batch) set("layout", "micro_batch", *micro_batch);
    if (virtual_stages) set("layout", "virtual_stages", *virtual_stages);
    if (zero) set("layout", "zero", *zero);
    if (!schedule.empty()) set("layout", "schedule", schedule);
    if (!recompute.empty()) set("layout", "recompute", recompute);
    if (!attention.empty()) set("layout", "attention", attention);
    if (sequence_parallel) set("layout", "sequence_parallel", *sequence_parallel);
    if (seq_length) set("training", "seq_length", *seq_length);
    if (global_batch) set("training", "global_batch", *global_batch);
    if (tokens) set("training", "tokens", *tokens);
    if (!precision.empty()) set("training", "precision", precision);
  }
};

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

int cmd_estimate(const std::string& file, const Overrides& ov, bool as_json) {
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

int cmd_presets_list(bool as_json) {
  if (as_json) {
    json j = json::object();
    for (auto kind : {presets::PresetKind::gpu, presets::PresetKind::cluster, presets::PresetKind::model}) {
      json arr = json::array();
      for (const auto* e : presets::presets_of(kind))
        arr.push_back({{"name", e->name}, {"aliases", e->aliases}, {"description", e->description}});
      j[std::string(presets::to_string(kind)) + "s"] = arr;
    }
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  for (auto kind : {presets::PresetKind::gpu, presets::PresetKind::cluster, presets::PresetKind::model}) {
    std::cout << presets::to_string(kind) << "s:\n";
    for (const auto* e : presets::presets_of(kind))
      std::cout << fmt::format("  {:<18} {}\n", e->name, e->description);
  }
  return kExitOk;
}

int cmd_presets_show(const std::string& name) {
  for (auto kind : {presets::PresetKind::model, presets::PresetKind::cluster, presets::PresetKind::gpu}) {
    auto e = presets::find_preset(kind, name, "name");
    if (e) {
      json out = (*e)->json;
      if (kind == presets::PresetKind::model) {
        auto spec = presets::model_from_json(out);
        if (spec) {
          auto m = model::validate_model(*spec);
          if (m) out["computed_params"] = m->total_params();
        }
      }
      std::cout << out.dump(2) << "\n";
      return kExitOk;
    }
  }
  std::vector<std::string> all;
  for (const auto& e : presets::all_presets()) all.push_back(e.name);
  std::string msg = "unknown preset '" + name + "'";
  const auto close = closest_match(name, all);
  if (!close.empty()) msg += "; did you mean '" + close + "'?";
  return report_error(invalid("presets show", msg));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"clustersim: what one iteration of LLM training costs on a GPU cluster, before you buy the time.\n"
               "FLOP convention: attention scores and context are counted over the full s x s matrix (non-causal),\n"
               "as Megatron-LM does; causal FlashAttention kernels are timed by the work they execute (about half)."};
  app.set_version_flag("--version", std::string("clustersim ") + CLUSTERSIM_VERSION);
  app.require_subcommand(1);

  std::string file;
  bool as_json = false;
  Overrides ov;
  auto* est = app.add_subcommand("estimate", "Closed-form cost of one training iteration of a scenario");
  est->add_option("scenario", file, "Scenario JSON file (see INTERFACES.md); optional when --model and --cluster are given");
  est->add_flag("--json", as_json, "Print the report as JSON");
  ov.add(est);

  auto* pre = app.add_subcommand("presets", "List or show the bundled presets");
  pre->require_subcommand(0, 1);
  bool list_json = false;
  auto* pre_list = pre->add_subcommand("list", "List every preset");
  pre_list->add_flag("--json", list_json, "As JSON");
  std::string show_name;
  auto* pre_show = pre->add_subcommand("show", "Show one preset's JSON (with its sources)");
  pre_show->add_option("name", show_name, "Preset name or alias")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitInput;
  }

  try {
    if (est->parsed()) {
      if (file.empty() && (ov.model.empty() || ov.cluster.empty())) {
        std::cerr << "error: estimate needs a scenario file, or --model, --cluster and the training flags\n";
        return kExitInput;
      }
      return cmd_estimate(file, ov, as_json);
    }
    if (pre->parsed()) {
      if (pre_show->parsed()) return cmd_presets_show(show_name);
      return cmd_presets_list(list_json);
    }
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return kExitIo;
  }
  return kExitOk;
}
