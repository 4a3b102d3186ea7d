#pragma once
// What every subcommand of the clustersim command shares: exit codes, error reporting, JSON file
// reading, and the scenario overrides given as flags.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.hpp"

namespace clustersim::cli {

inline constexpr int kExitOk = 0, kExitInfeasible = 1, kExitInput = 2, kExitIo = 3;

// Prints "error: path: message" to stderr and returns the exit code for the error's kind.
int report_error(const Error& e);

// Reads and parses a JSON file; io error if unreadable, invalid_input if not JSON.
Expected<nlohmann::json> read_json_file(const std::string& path);

// Command-line overrides of scenario fields; unset ones leave the file's values alone.
struct Overrides {
  std::string model, cluster;
  std::optional<int> nodes, tp, pp, dp, cp, micro_batch, virtual_stages, zero;
  std::optional<std::int64_t> seq_length, global_batch;
  std::optional<double> tokens;
  std::string schedule, recompute, attention, precision;
  std::optional<bool> sequence_parallel;

  void add(CLI::App* app);
  void apply(nlohmann::json& scenario) const;
  [[nodiscard]] bool names_model_and_cluster() const { return !model.empty() && !cluster.empty(); }
};

// A subcommand: its CLI11 app and what runs when it was parsed.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// Each subcommand lives in its own cli/cmd_*.cpp and registers itself with a static CommandRegistrar:
//   static const CommandRegistrar reg{"estimate", 10, &add_estimate_command};
// (`order` sorts --help; the CMake target globs cmd_*.cpp, so a new command needs no other edit.)
using CommandFactory = Command (*)(CLI::App& app);
struct CommandRegistrar {
  CommandRegistrar(const char* name, int order, CommandFactory factory);
};
struct RegisteredCommand {
  const char* name;
  int order;
  CommandFactory factory;
};
std::vector<RegisteredCommand>& registered_commands();

}  // namespace clustersim::cli
