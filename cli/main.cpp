// clustersim: the command-line face over the core. Each subcommand lives in cli/cmd_*.cpp; this file
// wires them to CLI11 and turns exceptions into exit code 3 (0 ok, 1 valid but infeasible, 2 bad input,
// 3 I/O or internal error).
#include <algorithm>
#include <iostream>
#include <vector>

#include "cli/cli_common.hpp"

using namespace clustersim::cli;

int main(int argc, char** argv) {
  CLI::App app{"clustersim: what one iteration of LLM training costs on a GPU cluster, before you buy the time.\n"
               "FLOP convention: attention scores and context are counted over the full s x s matrix (non-causal),\n"
               "as Megatron-LM does; causal FlashAttention kernels are timed by the work they execute (about half)."};
  app.set_version_flag("--version", std::string("clustersim ") + CLUSTERSIM_VERSION);
  app.require_subcommand(1);

  auto registered = registered_commands();
  std::sort(registered.begin(), registered.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  std::vector<Command> commands;
  for (const auto& r : registered) commands.push_back(r.factory(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitInput;
  }
  try {
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return kExitIo;
  }
  return kExitOk;
}
