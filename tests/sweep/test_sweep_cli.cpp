// `clustersim sweep` end to end: rows files and summary, never overwriting without --force, resume after
// an interruption (and after a kill mid-row) giving the same file as an uninterrupted run, shards, thread
// counts, Ctrl-C, and mpirun -n 2 giving the single-machine output.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "../support/run.hpp"

using clustersim::testing::run_clustersim;
using clustersim::testing::slurp;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A fresh directory for one test case.
std::string scratch(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("clustersim-sweep-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Megatron 1.7B on two DGX A100 nodes: a few thousand layouts to evaluate, a third of them out of memory
// on GPUs cut to 24 GiB.
const char* kSweep = R"({
  "name": "cli-test",
  "base": { "model": "megatron-1.7b",
            "cluster": { "base": "dgx-a100", "nodes": 2, "gpu": { "base": "a100-80gb", "hbm_capacity": "24 GiB" } },
            "training": { "seq_length": 2048, "global_batch": 256, "tokens": 1e10 } },
  "axes": { "tp": "auto", "pp": "auto", "micro_batch": [1, 2, 4], "virtual_stages": "auto", "schedule": "auto",
            "zero": [0, 1], "recompute": ["none", "full"], "sequence_parallel": "auto" },
  "objectives": ["iteration_time_s", "memory_peak_bytes"],
  "price_per_gpu_hour": 1.79,
  "top_k": 5 })";

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  const auto path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string l;
  while (std::getline(ss, l)) out.push_back(l);
  return out;
}

// The parts of a summary that do not depend on timing.
void same_summary(const json& a, const json& b) {
  for (const char* k : {"layouts_total", "invalid", "excluded", "infeasible", "feasible", "evaluated", "next_index"})
    CHECK(a.at(k) == b.at(k));
  CHECK(a.at("infeasible_reasons") == b.at("infeasible_reasons"));
  CHECK(a.at("invalid_reasons") == b.at("invalid_reasons"));
  CHECK(a.at("top") == b.at("top"));
  CHECK(a.at("pareto") == b.at("pareto"));
}

bool have_mpirun() { return std::system("command -v mpirun > /dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("sweep writes CSV or JSON Lines rows and a summary with the contract's fields") {
  const auto dir = scratch("rows");
  const auto file = write(dir, "sweep.json", kSweep);
  const auto r = run_clustersim("sweep " + file + " -o " + dir + "/out.csv --json", "sweep-rows");
  REQUIRE(r.rc == 0);
  const auto s = json::parse(r.out);
  for (const char* k : {"layouts_total", "invalid", "infeasible", "evaluated", "seconds", "layouts_per_second"})
    CHECK(s.at(k).is_number());
  CHECK(s.at("top").is_array());
  CHECK(s.at("pareto").is_array());
  CHECK(s.at("layouts_total") == s.at("invalid").get<std::uint64_t>() + s.at("excluded").get<std::uint64_t>() +
                                     s.at("evaluated").get<std::uint64_t>());
  CHECK(s.at("evaluated") == s.at("feasible").get<std::uint64_t>() + s.at("infeasible").get<std::uint64_t>());
  REQUIRE(s.at("feasible").get<std::uint64_t>() > 100);
  REQUIRE(s.at("infeasible").get<std::uint64_t>() > 100);
  CHECK(s.at("top").size() == 5);
  const auto csv = lines(slurp(dir + "/out.csv"));
  CHECK(csv.at(0).rfind("index,cluster,gpu,nodes,gpus,", 0) == 0);
  CHECK(csv.size() - 1 == s.at("feasible").get<std::size_t>());
  CHECK_FALSE(fs::exists(dir + "/out.csv.partial"));
  CHECK_FALSE(fs::exists(dir + "/out.csv.resume.json"));
  // The best row of the summary is a row of the file, with the same figures.
  const auto& best = s.at("top").at(0);
  bool found = false;
  for (const auto& l : csv)
    found = found || l.rfind(std::to_string(best.at("index").get<std::uint64_t>()) + ",", 0) == 0;
  CHECK(found);

  const auto all = run_clustersim("sweep " + file + " -o " + dir + "/all.jsonl --all-rows --json", "sweep-all");
  REQUIRE(all.rc == 0);
  const auto rows = lines(slurp(dir + "/all.jsonl"));
  CHECK(rows.size() == s.at("evaluated").get<std::size_t>());
  std::size_t infeasible = 0;
  for (const auto& l : rows) {
    const auto j = json::parse(l);
    if (!j.at("feasible").get<bool>()) {
      ++infeasible;
      CHECK(j.at("reason").get<std::string>().rfind("out of memory", 0) == 0);
      CHECK(j.at("iteration_time_s").is_null());
    }
  }
  CHECK(infeasible == s.at("infeasible").get<std::size_t>());
  fs::remove_all(dir);
}

TEST_CASE("an existing result is replaced only with --force") {
  const auto dir = scratch("force");
  const auto file = write(dir, "sweep.json", kSweep);
  write(dir, "out.csv", "keep me\n");
  const auto r = run_clustersim("sweep " + file + " -o " + dir + "/out.csv", "sweep-force");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("--force"));
  CHECK(slurp(dir + "/out.csv") == "keep me\n");
  CHECK_FALSE(fs::exists(dir + "/out.csv.partial"));
  const auto f = run_clustersim("sweep " + file + " -o " + dir + "/out.csv --force", "sweep-force2");
  CHECK(f.rc == 0);
  CHECK(slurp(dir + "/out.csv").rfind("index,", 0) == 0);
  fs::remove_all(dir);
}

TEST_CASE("an interrupted sweep resumed gives the same file and summary as an uninterrupted one") {
  const auto dir = scratch("resume");
  const auto file = write(dir, "sweep.json", kSweep);
  const auto full = run_clustersim("sweep " + file + " -o " + dir + "/full.csv --chunk 50 --json", "resume-full");
  REQUIRE(full.rc == 0);
  const std::string out = dir + "/part.csv";
  const auto stopped = run_clustersim("sweep " + file + " -o " + out + " --chunk 50 --stop-after-chunks 3 --json",
                                      "resume-stop");
  REQUIRE(stopped.rc == 130);
  CHECK_THAT(stopped.err, Catch::Contains("--resume"));
  CHECK_FALSE(fs::exists(out));
  REQUIRE(fs::exists(out + ".partial"));
  REQUIRE(fs::exists(out + ".resume.json"));
  const auto partial = lines(slurp(out + ".partial"));
  CHECK(partial.size() > 1);  // rows of the finished chunks are kept
  CHECK(partial.size() < lines(slurp(dir + "/full.csv")).size());
  CHECK_FALSE(json::parse(stopped.out).at("complete").get<bool>());

  SECTION("without --resume the partial run is not touched") {
    const auto r = run_clustersim("sweep " + file + " -o " + out, "resume-refuse");
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("--resume"));
    CHECK(lines(slurp(out + ".partial")) == partial);
  }
  SECTION("killed mid-row: the torn row is cut and recomputed") {
    std::ofstream(out + ".partial", std::ios::app) << "999999,dgx-a100,a100-80gb,2,16,20";
  }
  SECTION("a different sweep file is refused") {
    auto j = json::parse(kSweep);
    j["top_k"] = 6;
    const auto other = write(dir, "other.json", j.dump());
    const auto r = run_clustersim("sweep " + other + " -o " + out + " --resume", "resume-other");
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains("different sweep"));
  }
  const auto resumed = run_clustersim("sweep " + file + " -o " + out + " --resume --jobs 1 --chunk 50 --json",
                                      "resume-go");
  REQUIRE(resumed.rc == 0);
  CHECK(slurp(out) == slurp(dir + "/full.csv"));
  CHECK_FALSE(fs::exists(out + ".partial"));
  CHECK_FALSE(fs::exists(out + ".resume.json"));
  const auto a = json::parse(full.out), b = json::parse(resumed.out);
  same_summary(a, b);
  CHECK(b.at("resumed_from").get<std::uint64_t>() > 0);

  const auto again = run_clustersim("sweep " + file + " -o " + out + " --resume", "resume-again");
  CHECK(again.rc == 0);
  CHECK_THAT(again.err, Catch::Contains("nothing to resume"));
  fs::remove_all(dir);
}

TEST_CASE("thread counts and shards do not change the rows") {
  const auto dir = scratch("shards");
  const auto file = write(dir, "sweep.json", kSweep);
  REQUIRE(run_clustersim("sweep " + file + " -o " + dir + "/one.csv --jobs 1", "shard-one").rc == 0);
  REQUIRE(run_clustersim("sweep " + file + " -o " + dir + "/three.csv --jobs 3 --chunk 7", "shard-three").rc == 0);
  const auto one = slurp(dir + "/one.csv");
  CHECK(slurp(dir + "/three.csv") == one);
  // Shard outputs concatenated in shard order, each without its header, are the whole sweep's rows.
  const auto all = lines(one);
  std::vector<std::string> joined{all.at(0)};
  std::uint64_t evaluated = 0;
  for (int i = 0; i < 3; ++i) {
    const auto out = dir + "/shard" + std::to_string(i) + ".csv";
    const auto r = run_clustersim("sweep " + file + " -o " + out + " --shard " + std::to_string(i) + "/3 --json",
                                  "shard-" + std::to_string(i));
    REQUIRE(r.rc == 0);
    evaluated += json::parse(r.out).at("evaluated").get<std::uint64_t>();
    const auto rows = lines(slurp(out));
    CHECK(rows.at(0) == all.at(0));
    joined.insert(joined.end(), rows.begin() + 1, rows.end());
  }
  CHECK(joined == all);
  const auto whole = run_clustersim("sweep " + file + " --json", "shard-whole");
  CHECK(evaluated == json::parse(whole.out).at("evaluated").get<std::uint64_t>());
  const auto bad = run_clustersim("sweep " + file + " --shard 3/3", "shard-bad");
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Catch::Contains("--shard"));
  fs::remove_all(dir);
}

TEST_CASE("bad sweep files and options exit with code 2 and name the field") {
  const auto dir = scratch("bad");
  auto j = json::parse(kSweep);
  j["axes"]["tpp"] = "auto";
  const auto r = run_clustersim("sweep " + write(dir, "bad.json", j.dump()), "bad-axis");
  CHECK(r.rc == 2);
  CHECK_THAT(r.err, Catch::Contains("axes.tpp: unknown axis; did you mean 'tp'?"));
  const auto file = write(dir, "sweep.json", kSweep);
  const auto ext = run_clustersim("sweep " + file + " -o " + dir + "/out.txt", "bad-ext");
  CHECK(ext.rc == 2);
  CHECK_THAT(ext.err, Catch::Contains(".csv or .jsonl"));
  const auto resume = run_clustersim("sweep " + file + " --resume", "bad-resume");
  CHECK(resume.rc == 2);
  CHECK_THAT(resume.err, Catch::Contains("needs an output file"));
  const auto missing = run_clustersim("sweep " + dir + "/missing.json", "bad-missing");
  CHECK(missing.rc == 3);
  fs::remove_all(dir);
}

TEST_CASE("Ctrl-C stops after flushing and --resume finishes the sweep") {
  const auto dir = scratch("sigint");
  // GPT-3 175B on 1,024 GPUs of three kinds, every axis auto, one thread: long enough to be interrupted
  // (about 5 million points).
  auto j = json::parse(slurp(std::string(CLUSTERSIM_SOURCE_DIR) + "/examples/sweeps/gpt3-175b-1024-gpus.json"));
  j["axes"]["gpu"] = {"a100-80gb", "h100-sxm", "h200"};
  j["price_per_gpu_hour"] = 2.0;
  const auto file = write(dir, "sweep.json", j.dump());
  const std::string out = dir + "/out.csv";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string log = dir + "/stderr.txt";
    freopen(log.c_str(), "w", stderr);
    freopen((dir + "/stdout.txt").c_str(), "w", stdout);
    execl(CLUSTERSIM_BINARY, CLUSTERSIM_BINARY, "sweep", file.c_str(), "-o", out.c_str(), "--jobs", "1", "--chunk",
          "64", "--json", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until rows are on disk, then press Ctrl-C.
  for (int i = 0; i < 6000; ++i) {
    std::error_code ec;
    if (fs::exists(out + ".partial") && fs::file_size(out + ".partial", ec) > 1000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK_THAT(slurp(dir + "/stderr.txt"), Catch::Contains("continue with --resume"));
  REQUIRE(fs::exists(out + ".resume.json"));
  const auto stopped = json::parse(slurp(dir + "/stdout.txt"));
  CHECK_FALSE(stopped.at("complete").get<bool>());
  const auto resumed = run_clustersim("sweep " + file + " -o " + out + " --resume --jobs 2 --json", "sigint-resume");
  REQUIRE(resumed.rc == 0);
  const auto s = json::parse(resumed.out);
  CHECK(s.at("complete").get<bool>());
  CHECK(lines(slurp(out)).size() - 1 == s.at("feasible").get<std::size_t>());
  fs::remove_all(dir);
}

TEST_CASE("mpirun -n 2 gives the single-machine output") {
  if (!have_mpirun()) {
    WARN("mpirun is not installed: the MPI sweep is not tested (install openmpi-bin and libopenmpi-dev)");
    return;
  }
  const auto dir = scratch("mpi");
  const auto file = write(dir, "sweep.json", kSweep);
  const auto single = run_clustersim("sweep " + file + " -o " + dir + "/single.csv --all-rows --json", "mpi-single");
  REQUIRE(single.rc == 0);
  // Open MPI refuses to start as root without these (CI runs as root); --oversubscribe lets 2 ranks share
  // fewer cores.
  const std::string cmd = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader,tcp "
                          "mpirun --oversubscribe -n 2 " +
                          std::string(CLUSTERSIM_BINARY) + " sweep " + file + " -o " + dir +
                          "/mpi.csv --all-rows --chunk 16 --jobs 1 --mpi --json > " + dir + "/mpi.out 2> " + dir +
                          "/mpi.err";
  const int status = std::system(cmd.c_str());
  const auto err = slurp(dir + "/mpi.err");
  INFO(err);
  if (err.find("built without MPI") != std::string::npos) {
    WARN("clustersim was configured without MPI (CLUSTERSIM_WITH_MPI=OFF or no libopenmpi-dev): not tested");
    fs::remove_all(dir);
    return;
  }
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(slurp(dir + "/mpi.csv") == slurp(dir + "/single.csv"));
  same_summary(json::parse(single.out), json::parse(slurp(dir + "/mpi.out")));
  fs::remove_all(dir);
}

TEST_CASE("the example sweep files load") {
  for (const auto& entry : fs::directory_iterator(std::string(CLUSTERSIM_SOURCE_DIR) + "/examples/sweeps")) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().string());
    const auto r = run_clustersim("sweep " + entry.path().string() + " --json", "example");
    CHECK(r.rc == 0);
    CHECK(json::parse(r.out).at("feasible").get<std::uint64_t>() > 0);
  }
}
