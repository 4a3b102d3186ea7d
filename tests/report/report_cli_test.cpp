// `clustersim report` end to end: one scenario to Markdown, HTML and PDF; never overwriting without --force.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

struct Run {
  int code = -1;
  std::string out;
};

Run run(const std::string& args) {
  const std::string cmd = std::string(CLUSTERSIM_BINARY) + " " + args + " 2>&1";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A fresh folder per test case, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("clustersim-report-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  [[nodiscard]] std::string operator/(const std::string& name) const { return (path / name).string(); }
};

const std::string kScenario = std::string(CLUSTERSIM_SOURCE_DIR) + "/examples/plan/chinchilla-70b.json";

}  // namespace

TEST_CASE("report writes Markdown with every section and the price date", "[report][cli]") {
  TempDir tmp;
  const auto out = tmp / "chinchilla.md";
  const auto r = run("report " + kScenario + " -o " + out);
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto md = slurp(out);
  CHECK(md.rfind("# Training budget report: Chinchilla 70B on 1.4T tokens, 64 x DGX H100", 0) == 0);
  for (const char* section : {"## Summary", "## Scenario", "## Time per iteration", "## Memory per GPU",
                              "## Layouts compared", "## Cluster sizes compared", "## Scaling-law position",
                              "## Uncertainty", "## Assumptions and notes", "## Appendix: scenario"})
    CHECK(md.find(section) != std::string::npos);
  CHECK(md.find("aws-p5-on-demand, read 2026-11-09") != std::string::npos);
}

TEST_CASE("report never overwrites without --force", "[report][cli]") {
  TempDir tmp;
  const auto out = tmp / "r.md";
  { std::ofstream(out) << "keep me"; }
  const auto refused = run("report " + kScenario + " -o " + out);
  CHECK(refused.code == 3);
  CHECK(refused.out.find("already exists; use --force") != std::string::npos);
  CHECK(slurp(out) == "keep me");
  CHECK(run("report " + kScenario + " -o " + out + " --force").code == 0);
  CHECK(slurp(out).rfind("# Training budget report", 0) == 0);
}

TEST_CASE("report writes HTML with inline SVG charts and PDF pages", "[report][cli]") {
  TempDir tmp;
  REQUIRE(run("report " + kScenario + " -o " + (tmp / "r.html")).code == 0);
  const auto html = slurp(tmp / "r.html");
  std::size_t charts = 0;
  for (auto p = html.find("<svg "); p != std::string::npos; p = html.find("<svg ", p + 1)) ++charts;
  CHECK(charts == 5);
  const auto pdf = run("report " + kScenario + " -o " + (tmp / "r.pdf"));
  if (pdf.code == 0) {
    CHECK(slurp(tmp / "r.pdf").rfind("%PDF-", 0) == 0);
  } else {
    // Built without Qt 6: a clear error, no file.
    CHECK(pdf.code == 2);
    CHECK(pdf.out.find("without Qt 6") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp / "r.pdf"));
  }
}

TEST_CASE("report without training tokens takes the law's and says so", "[report][cli]") {
  TempDir tmp;
  const auto out = tmp / "r.md";
  REQUIRE(run("report " + std::string(CLUSTERSIM_SOURCE_DIR) + "/examples/plan/llama3-8b-no-tokens.json -o " + out).code == 0);
  CHECK(slurp(out).find("compute-optimal for this model by chinchilla-epoch2024") != std::string::npos);
}

TEST_CASE("report: bad input is exit code 2, a missing file 3", "[report][cli]") {
  TempDir tmp;
  SECTION("unknown extension") {
    const auto r = run("report " + kScenario + " -o " + (tmp / "r.txt"));
    CHECK(r.code == 2);
    CHECK(r.out.find("use .md, .html or .pdf") != std::string::npos);
  }
  SECTION("unknown price preset") {
    const auto r = run("report " + kScenario + " -o " + (tmp / "r.md") + " --price aws-p9");
    CHECK(r.code == 2);
    CHECK(r.out.find("report.price: unknown price preset") != std::string::npos);
  }
  SECTION("price in another currency") { CHECK(run("report " + kScenario + " -o " + (tmp / "r.md") + " --price '3 EUR'").code == 2); }
  SECTION("PUE below 1") { CHECK(run("report " + kScenario + " -o " + (tmp / "r.md") + " --pue 0.8").code == 2); }
  SECTION("missing scenario") { CHECK(run("report " + (tmp / "nope.json") + " -o " + (tmp / "r.md")).code == 3); }
  SECTION("no output") { CHECK(run("report " + kScenario).code == 2); }
}
