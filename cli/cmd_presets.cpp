// `clustersim presets list|show`: what is bundled, with sources.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/cli_common.hpp"
#include "common/format.hpp"
#include "presets/registry.hpp"
#include "presets/scenario_json.hpp"

namespace clustersim::cli {

using nlohmann::json;

namespace {

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

namespace {
Command add_presets_command(CLI::App& app) {
  struct State {
    bool list_json = false;
    std::string show_name;
  };
  auto st = std::make_shared<State>();
  auto* pre = app.add_subcommand("presets", "List or show the bundled presets");
  pre->require_subcommand(0, 1);
  auto* pre_list = pre->add_subcommand("list", "List every preset");
  pre_list->add_flag("--json", st->list_json, "As JSON");
  auto* pre_show = pre->add_subcommand("show", "Show one preset's JSON (with its sources)");
  pre_show->add_option("name", st->show_name, "Preset name or alias")->required();
  return {pre, [st, pre_show]() {
            if (pre_show->parsed()) return cmd_presets_show(st->show_name);
            return cmd_presets_list(st->list_json);
          }};
}
}  // namespace

static const CommandRegistrar kRegisterPresets{"presets", 90, &add_presets_command};

}  // namespace clustersim::cli
