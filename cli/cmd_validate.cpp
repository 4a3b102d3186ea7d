// `clustersim validate RUNS.json`: predictions against measured training runs, like with like.
#include <fmt/format.h>

#include <iostream>
#include <map>
#include <set>
#include <memory>

#include "cli/cli_common.hpp"
#include "presets/scenario_json.hpp"
#include "presets/validation_runs.hpp"
#include "sim/validation_stats.hpp"

namespace clustersim::cli {

using nlohmann::json;
using presets::MetricKind;
using presets::MetricRow;

namespace {

json stats_json(const sim::ErrorStats& s) {
  return {{"n", s.n}, {"median_ape_pct", s.median_ape_pct}, {"p90_ape_pct", s.p90_ape_pct}, {"mean_signed_pct", s.mean_signed_pct}};
}

sim::ErrorStats stats_of(const std::vector<MetricRow>& rows, MetricKind kind, bool targets_only) {
  std::vector<double> e;
  for (const auto& r : rows)
    if (r.kind == kind && (!targets_only || r.in_target)) e.push_back(r.error_pct);
  return sim::error_stats(e);
}

// The summary tables as Markdown (docs/validation.md is this output).
void print_markdown(const std::map<std::string, std::vector<MetricRow>>& by_group,
                    const std::map<std::string, std::vector<MetricRow>>& by_class, const sim::ErrorStats& time_target,
                    const sim::ErrorStats& mem_target, std::size_t predicted, std::size_t skipped) {
  auto cell = [](const sim::ErrorStats& s) {
    return s.n == 0 ? std::string("| | | | ") : fmt::format("| {} | {:.1f} | {:.1f} | {:+.1f} ", s.n, s.median_ape_pct, s.p90_ape_pct, s.mean_signed_pct);
  };
  std::cout << "| summary (the issue's targets) | n | median APE % | p90 APE % | bias % |\n|---|---|---|---|---|\n";
  std::cout << "| time / throughput " << cell(time_target) << "|\n";
  std::cout << "| peak memory " << cell(mem_target) << "|\n\n";
  std::cout << fmt::format("{} records predicted, {} skipped.\n\n", predicted, skipped);
  std::cout << "| group | time n | median % | p90 % | bias % | memory n | median % | p90 % | bias % |\n"
               "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& [g, rs] : by_group)
    std::cout << "| " << g << " " << cell(stats_of(rs, MetricKind::time, false)) << cell(stats_of(rs, MetricKind::memory, false)) << "|\n";
  std::cout << "\n| verification class | time n | median % | p90 % | bias % | memory n | median % | p90 % | bias % |\n"
               "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& [c, rs] : by_class)
    std::cout << "| " << c << " " << cell(stats_of(rs, MetricKind::time, false)) << cell(stats_of(rs, MetricKind::memory, false)) << "|\n";
}

int run_validate(const std::string& file, bool as_json, const std::string& group_filter, const std::string& show,
                 bool markdown, const std::string& calibration_file) {
  presets::ValidateOptions options;
  json calibrated;
  if (!calibration_file.empty()) {
    auto cal = read_json_file(calibration_file);
    if (!cal) return report_error(cal.error());
    if (!cal->is_object() || !cal->contains("calibration") || !(*cal)["calibration"].is_object())
      return report_error(invalid("--calibration", "'" + calibration_file + "' is not a calibrated GPU preset (no \"calibration\" block; write one with clustersim calibrate)"));
    auto gpu = presets::gpu_from_json(*cal, "--calibration");
    if (!gpu) return report_error(gpu.error());
    calibrated = std::move(*cal);
    options.calibrated_gpu = &calibrated;
  }
  auto loaded = read_json_file(file);
  if (!loaded) return report_error(loaded.error());
  const json* records = &*loaded;
  if (loaded->is_object() && loaded->contains("records")) records = &(*loaded)["records"];
  if (!records->is_array())
    return report_error(invalid(file, "expected a JSON array of run records (or an object with \"records\")"));
  if (!show.empty()) {
    for (const auto& rec : *records) {
      if (!rec.is_object() || rec.value("id", std::string()) != show) continue;
      std::vector<std::string> assumed;
      auto sc = presets::record_scenario(rec, &assumed, options);
      if (!sc) return report_error(invalid(show, sc.error().message));
      std::cout << json{{"scenario", *sc}, {"assumptions", assumed}}.dump(2) << "\n";
      return kExitOk;
    }
    return report_error(invalid("--show", "no record with id '" + show + "' in " + file));
  }

  std::vector<MetricRow> rows;
  std::vector<presets::SkippedRecord> skipped;
  std::map<std::string, std::vector<std::string>> assumptions;
  for (const auto& rec : *records) {
    const std::string group = rec.is_object() && rec.contains("group") && rec["group"].is_string() ? rec["group"].get<std::string>() : "";
    if (!group_filter.empty() && group.find(group_filter) == std::string::npos) continue;
    auto res = presets::validate_record(rec, options);
    if (res.skipped) skipped.push_back(*res.skipped);
    for (auto& r : res.rows) {
      if (!res.assumptions.empty()) assumptions[r.id] = res.assumptions;
      rows.push_back(std::move(r));
    }
  }

  const auto time_target = stats_of(rows, MetricKind::time, true);
  const auto mem_target = stats_of(rows, MetricKind::memory, true);
  std::map<std::string, std::vector<MetricRow>> by_group, by_class;
  for (const auto& r : rows) {
    by_group[r.group].push_back(r);
    by_class[r.verification].push_back(r);
  }

  std::set<std::string> predicted_ids;
  for (const auto& r : rows) predicted_ids.insert(r.id);
  if (markdown) {
    print_markdown(by_group, by_class, time_target, mem_target, predicted_ids.size(), skipped.size());
    return kExitOk;
  }
  if (as_json) {
    json out;
    out["records"] = json::array();
    for (const auto& r : rows) {
      json j = {{"id", r.id},           {"group", r.group},         {"verification", r.verification},
                {"metric", r.metric},   {"predicted", r.predicted}, {"measured", r.measured},
                {"error_pct", r.error_pct}, {"in_target", r.in_target}};
      if (!r.note.empty()) j["note"] = r.note;
      if (assumptions.count(r.id)) j["assumptions"] = assumptions[r.id];
      out["records"].push_back(j);
    }
    out["skipped"] = json::array();
    for (const auto& s : skipped) out["skipped"].push_back({{"id", s.id}, {"reason", s.reason}});
    out["summary"] = {{"time", stats_json(time_target)}, {"memory", stats_json(mem_target)}};
    json groups = json::object(), classes = json::object();
    for (const auto& [g, rs] : by_group)
      groups[g] = {{"time", stats_json(stats_of(rs, MetricKind::time, false))},
                   {"memory", stats_json(stats_of(rs, MetricKind::memory, false))}};
    for (const auto& [c, rs] : by_class)
      classes[c] = {{"time", stats_json(stats_of(rs, MetricKind::time, false))},
                    {"memory", stats_json(stats_of(rs, MetricKind::memory, false))}};
    out["by_group"] = groups;
    out["by_verification"] = classes;
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }

  std::cout << fmt::format("{:<62} {:<22} {:>12} {:>12} {:>8}\n", "record", "metric", "predicted", "measured", "error");
  for (const auto& r : rows) {
    std::cout << fmt::format("{:<62} {:<22} {:>12.4g} {:>12.4g} {:>7.1f}%{}\n", r.id.substr(0, 62), r.metric, r.predicted,
                             r.measured, r.error_pct, r.in_target ? "" : "  (" + r.note + ")");
  }
  if (!skipped.empty()) {
    std::cout << fmt::format("\nskipped {} record(s):\n", skipped.size());
    for (const auto& s : skipped) std::cout << fmt::format("  {:<60} {}\n", s.id, s.reason);
  }
  auto line = [](const std::string& name, const sim::ErrorStats& s) {
    if (s.n == 0) return;
    std::cout << fmt::format("  {:<74} n {:>4}  median {:>6.1f}%  p90 {:>6.1f}%  bias {:>+7.1f}%\n", name.substr(0, 74), s.n,
                             s.median_ape_pct, s.p90_ape_pct, s.mean_signed_pct);
  };
  std::cout << "\nby group (time | memory):\n";
  for (const auto& [g, rs] : by_group) {
    line(g + " [time]", stats_of(rs, MetricKind::time, false));
    line(g + " [memory]", stats_of(rs, MetricKind::memory, false));
  }
  std::cout << "\nby verification class:\n";
  for (const auto& [c, rs] : by_class) {
    line(c + " [time]", stats_of(rs, MetricKind::time, false));
    line(c + " [memory]", stats_of(rs, MetricKind::memory, false));
  }
  std::cout << "\nsummary over the targets (read from source or a faithful secondary; Megatron CI times excluded):\n";
  line("time / throughput", time_target);
  line("peak memory", mem_target);
  std::cout << fmt::format("predicted {} records, skipped {}\n", predicted_ids.size(), skipped.size());
  return kExitOk;
}

Command add_validate_command(CLI::App& app) {
  struct State {
    std::string file;
    bool as_json = false;
    std::string group;
    std::string show;
    bool markdown = false;
    std::string calibration;
  };
  auto st = std::make_shared<State>();
  auto* cmd = app.add_subcommand("validate", "Compare predictions with measured training runs (published-runs.json schema)");
  cmd->add_option("runs", st->file, "Run records (JSON array in the schema of shared/validation/published-runs.json)")->required();
  cmd->add_flag("--json", st->as_json, "Print records, skips and summaries as JSON");
  cmd->add_option("--group", st->group, "Only records whose group contains this text");
  cmd->add_option("--show", st->show, "Print the scenario (and assumptions) one record maps to, by id");
  cmd->add_flag("--markdown", st->markdown, "Print the summary tables as Markdown (docs/validation.md)");
  cmd->add_option("--calibration", st->calibration,
                  "A calibrated GPU preset (clustersim calibrate): records measured on its device are predicted with it");
  return {cmd, [st]() { return run_validate(st->file, st->as_json, st->group, st->show, st->markdown, st->calibration); }};
}

}  // namespace

static const CommandRegistrar kRegisterValidate{"validate", 40, &add_validate_command};

}  // namespace clustersim::cli
