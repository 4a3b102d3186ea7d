#pragma once
// Runs the clustersim binary in a shell and captures exit code, stdout and stderr (for CLI tests).
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace clustersim::testing {

struct RunResult {
  int rc = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `args` is appended to the binary path verbatim (quote as in a shell).
inline RunResult run_clustersim(const std::string& args, const std::string& tag = "run") {
  const std::string base = std::string("/tmp/clustersim-test-") + std::to_string(::getpid()) + "-" + tag;
  const std::string cmd = std::string(CLUSTERSIM_BINARY) + " " + args + " > " + base + ".out 2> " + base + ".err";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return r;
}

inline std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = std::string("/tmp/clustersim-test-") + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace clustersim::testing
