// `clustersim calibrate PROFILE.json --gpu NAME -o CALIBRATED.json`: a calibrated GPU preset from a
// tools/measure profile (measured GEMM grid, memory-bound and optimizer curves, fused attention,
// collectives), which scenarios then name like any preset ("gpu": "CALIBRATED.json").
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/cli_common.hpp"
#include "presets/calibration_json.hpp"
#include "presets/scenario_json.hpp"

namespace clustersim::cli {

using nlohmann::json;

namespace {

struct CalibrateOptions {
  std::string profile, gpu, out, name;
  bool force = false, as_json = false;
};

int run_calibrate(const CalibrateOptions& o) {
  namespace fs = std::filesystem;
  if (fs::exists(o.out) && !o.force)
    return report_error(Error{ErrorCode::io, "-o", o.out + " already exists; use --force to overwrite it"});
  auto profile = read_json_file(o.profile);
  if (!profile) return report_error(profile.error());
  auto base = presets::resolve(presets::PresetKind::gpu, json(o.gpu), "--gpu");
  if (!base) return report_error(base.error());
  if (auto g = presets::gpu_from_json(*base, "--gpu"); !g) return report_error(g.error());
  const std::string name = o.name.empty() ? base->value("name", std::string("gpu")) + "-calibrated" : o.name;
  auto fit = presets::fit_profile(*profile, *base, name);
  if (!fit) return report_error(invalid(o.profile + ": " + fit.error().path, fit.error().message));
  // The written preset must read back as a GPU (the same check a scenario naming it gets).
  if (auto g = presets::gpu_from_json(fit->preset, o.out); !g) return report_error(g.error());

  const std::string tmp = o.out + ".partial";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return report_error(Error{ErrorCode::io, "-o", "cannot write " + tmp});
    f << fit->preset.dump(2) << "\n";
    if (!f) return report_error(Error{ErrorCode::io, "-o", "writing " + tmp + " failed"});
  }
  std::error_code ec;
  fs::rename(tmp, o.out, ec);
  if (ec) return report_error(Error{ErrorCode::io, "-o", "cannot rename " + tmp + " to " + o.out + ": " + ec.message()});

  if (o.as_json) {
    json s = fit->summary;
    s["output"] = o.out;
    std::cout << s.dump(2) << "\n";
    return kExitOk;
  }
  const auto& s = fit->summary;
  std::cout << fmt::format("calibrated {} from {} as '{}'\n  device: {} ({}), measured {}\n", s["base"].get<std::string>(), o.profile,
                           name, s["device"].get<std::string>(), s["device_kind"].get<std::string>(), s["measured"].get<std::string>());
  for (const auto& g : s["gemm"])
    std::cout << fmt::format("  GEMM {}: {} shapes on a {} grid ({}), best {:.4g} FLOP/s = {:.0f}% of the preset's peak\n",
                             g["dtype"].get<std::string>(), g["shapes"].get<int>(), g["grid"].get<std::string>(),
                             g["range"].get<std::string>(), g["best_flops_per_s"].get<double>(),
                             100.0 * g["best_share_of_peak"].get<double>());
  if (s["gemm_sustained"].is_number())
    std::cout << fmt::format("  GEMMs in a step (after a memory-bound kernel) keep {:.0f}% of their isolated speed: gemm_sustained\n",
                             100.0 * s["gemm_sustained"].get<double>());
  auto curve = [](const char* what, const json& c) {
    if (c.is_null()) {
      std::cout << fmt::format("  {}: not measured (the preset's default model is used)\n", what);
      return;
    }
    std::cout << fmt::format("  {}: {} sizes over {} bytes, floor {:.3g} s, best {:.4g} B/s\n", what, c["points"].get<int>(),
                             c["bytes_range"].get<std::string>(), c["floor_s"].get<double>(), c["best_bytes_per_s"].get<double>());
  };
  curve("memory-bound kernels", s["memory_bound"]);
  curve("optimizer step", s["optimizer"]);
  std::cout << fmt::format("  attention: {} fused points; {} materialised runs (the attention core of materialised layouts)\n",
                           s["attention"]["fused_points"].get<int>(), s["attention"]["materialized_runs"].get<int>());
  if (s["framework"].is_object())
    std::cout << fmt::format("  framework (eager, from {} tiny steps): {:.3g} ms per layer and {:.3g} ms per step beyond the kernels; "
                             "{:.3g} ms per layer in all\n",
                             s["framework"]["points"].get<int>(), 1e3 * s["framework"]["per_layer_s"].get<double>(),
                             1e3 * s["framework"]["per_step_s"].get<double>(), 1e3 * s["framework"]["dispatch_per_layer_s"].get<double>());
  std::cout << fmt::format("  collectives: {} busbw curve(s) (calibration.collectives: topology.calibration entries)\n",
                           s["collectives"].get<int>());
  if (!fit->warnings.empty()) {
    std::cout << fmt::format("  {} warning(s):\n", fit->warnings.size());
    for (const auto& w : fit->warnings) std::cout << "    " << w << "\n";
  }
  std::cout << fmt::format("wrote {}; name it as a GPU in a scenario (\"gpu\": \"{}\") or pass it to validate --calibration\n", o.out, o.out);
  return kExitOk;
}

Command add_calibrate_command(CLI::App& app) {
  auto o = std::make_shared<CalibrateOptions>();
  auto* cmd = app.add_subcommand("calibrate", "Turn a tools/measure profile into a calibrated GPU preset");
  cmd->add_option("profile", o->profile, "Profile written by tools/measure/clustersim_measure.py profile")->required();
  cmd->add_option("--gpu", o->gpu, "The preset of the measured device (name or preset file), e.g. h100-sxm or host-cpu")->required();
  cmd->add_option("-o,--output", o->out, "Calibrated GPU preset to write (JSON)")->required();
  cmd->add_option("--name", o->name, "Name of the calibrated preset (default: <gpu>-calibrated)");
  cmd->add_flag("--force", o->force, "Overwrite the output file if it exists");
  cmd->add_flag("--json", o->as_json, "Print the fit summary as JSON");
  return {cmd, [o]() { return run_calibrate(*o); }};
}

}  // namespace

static const CommandRegistrar kRegisterCalibrate{"calibrate", 45, &add_calibrate_command};

}  // namespace clustersim::cli
