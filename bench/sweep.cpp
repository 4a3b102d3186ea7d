// Speed of `clustersim sweep` (issue 6): GPT-3 175B on 1,024 A100s (128 DGX A100 nodes), every axis
// "auto", evaluated with the closed form. Prints the figures of bench/README.md ("Sweep"): the cost of
// one estimate and one memory check, the enumeration, whole-space runs on 1 and 2 threads (rows
// discarded, then the feasible rows written as CSV like `clustersim sweep -o`), a space 9 times larger to
// show that memory does not grow with the space, and peak resident memory.
//
// Each run is repeated (--reps, default 5); the table gives the fastest and the median wall time and the
// median CPU time of the process. On a shared machine the fastest wall time is the one closest to an idle
// machine; the CPU time shows the work whatever the load.
//
// Usage: bench_sweep [--quick] [--reps N]   (--quick: skips the 9x space)
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "presets/sweep_json.hpp"
#include "sim/analytical.hpp"
#include "strategies/memory.hpp"

using namespace clustersim;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

nlohmann::json gpt3_sweep() {
  return nlohmann::json::parse(R"({
    "base": { "model": "gpt3-175b", "cluster": { "base": "dgx-a100", "nodes": 128 },
              "training": { "seq_length": 2048, "global_batch": 1536, "tokens": 3e11 } },
    "axes": { "tp": "auto", "pp": "auto", "dp": "auto", "cp": "auto", "ep": "auto", "micro_batch": "auto",
              "virtual_stages": "auto", "schedule": "auto", "zero": "auto", "recompute": "auto",
              "sequence_parallel": "auto", "attention": "auto" },
    "objectives": ["iteration_time_s", "memory_peak_bytes"],
    "price_per_gpu_hour": 1.79 })");
}

// Writes the formatted rows of each chunk to a file, in order (what the CLI's SweepOutput does, without
// the resume state).
class CsvFile : public sim::SweepSink {
 public:
  CsvFile(const sim::SweepSpace& space, const std::string& path)
      : format_(space, presets::SweepRowFormat::Kind::csv), file_(std::fopen(path.c_str(), "wb")) {
    const auto h = format_.header();
    std::fwrite(h.data(), 1, h.size(), file_);
  }
  ~CsvFile() override { std::fclose(file_); }
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;
  void format(const sim::SweepChunk& chunk, std::string& out) const override {
    for (const auto& r : chunk.rows) format_.append(out, r);
  }
  std::optional<Error> consume(const sim::SweepChunk&, const std::string& bytes, const sim::SweepTally&) override {
    std::fwrite(bytes.data(), 1, bytes.size(), file_);
    std::fflush(file_);
    written += bytes.size();
    return std::nullopt;
  }
  std::uint64_t written = 0;

 private:
  presets::SweepRowFormat format_;
  std::FILE* file_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs the sweep `reps` times (a fresh sink each time) and prints one line of the table.
sim::SweepResult timed(const char* what, const sim::SweepSpace& space, sim::SweepRunOptions o, int reps,
                       const std::function<std::unique_ptr<sim::SweepSink>()>& make_sink) {
  std::vector<double> wall, cpu;
  sim::SweepResult last;
  for (int i = 0; i < reps; ++i) {
    auto sink = make_sink ? make_sink() : nullptr;
    const double c0 = cpu_seconds();
    auto r = sim::run_sweep(space, o, sink.get(), nullptr);
    if (!r) {
      std::fprintf(stderr, "error: %s\n", r.error().what().c_str());
      std::exit(3);
    }
    cpu.push_back(cpu_seconds() - c0);
    wall.push_back(r->seconds);
    last = *r;
  }
  const double best = *std::min_element(wall.begin(), wall.end());
  const auto& c = last.tally.counts;
  std::printf("| %s | %.3f | %.3f | %.3f | %.2f M | %.0f k | %.0f k |\n", what, best, median(wall), median(cpu),
              static_cast<double>(space.size()) / best / 1e6, static_cast<double>(c.evaluated()) / best / 1e3,
              static_cast<double>(c.feasible()) / best / 1e3);
  return last;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
  }
  auto space = presets::sweep_space_from_json(gpt3_sweep());
  if (!space) {
    std::fprintf(stderr, "error: %s\n", space.error().what().c_str());
    return 3;
  }

  // --- one layout: the cost of the evaluator and of the memory bound ---
  const auto& base = space->spec().bases[0];
  auto L = space->spec().layout;
  L.tp = 8;
  L.pp = 8;
  L.micro_batch = 1;
  L.virtual_stages = 2;
  L.schedule = strategies::Schedule::interleaved_1f1b;
  L.sequence_parallel = true;
  L.recompute = strategies::Recompute::selective;
  L.zero = 1;
  const auto sc = strategies::validate_scenario(base.model, base.cluster, base.training, L);
  if (!sc) return 3;
  const int n = 20000;
  double sink = 0;
  auto t0 = clock_type::now();
  for (int i = 0; i < n; ++i) sink += sim::estimate(*sc).iteration_time_s;
  const double estimate_us = seconds_since(t0) / n * 1e6;
  t0 = clock_type::now();
  for (int i = 0; i < n; ++i) sink += strategies::memory_report(*sc).peak_device.value;
  const double memory_us = seconds_since(t0) / n * 1e6;
  t0 = clock_type::now();
  for (int i = 0; i < n; ++i)
    sink += strategies::validate_scenario(base.model, base.cluster, base.training, L)->micro_batches;
  const double validate_us = seconds_since(t0) / n * 1e6;
  std::printf("GPT-3 175B, 128 x DGX A100 (1,024 GPUs), seq 2048, batch 1536, all axes auto\n\n");
  std::printf("one layout (tp 8, pp 8, v 2): sim::estimate %.2f us, strategies::memory_report %.2f us, "
              "validate_scenario %.2f us\n", estimate_us, memory_us, validate_us);

  // --- the space ---
  t0 = clock_type::now();
  const auto counts = space->count(0, space->size());
  const double count_s = seconds_since(t0);
  std::printf("space: %llu layouts, %llu invalid, %llu to evaluate (enumerated in %.2f ms)\n\n",
              static_cast<unsigned long long>(space->size()), static_cast<unsigned long long>(counts.invalid_total()),
              static_cast<unsigned long long>(counts.feasible()), count_s * 1e3);

  std::printf("| run | fastest wall s | median wall s | median CPU s | layouts/s | evaluated/s | timed/s |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  sim::SweepRunOptions o;
  const std::string path = "/tmp/clustersim-bench-sweep.csv";
  std::uint64_t csv_bytes = 0;
  auto csv_sink = [&](const sim::SweepSpace& sp) {
    return [&, sp_ptr = &sp]() -> std::unique_ptr<sim::SweepSink> {
      struct Counting : CsvFile {
        Counting(const sim::SweepSpace& s, const std::string& p, std::uint64_t& out) : CsvFile(s, p), out_(out) {}
        ~Counting() override { out_ = written; }
        std::uint64_t& out_;
      };
      return std::make_unique<Counting>(*sp_ptr, path, csv_bytes);
    };
  };
  o.jobs = 1;
  timed("1 thread, rows discarded", *space, o, reps, nullptr);
  o.jobs = 2;
  const auto last = timed("2 threads, rows discarded", *space, o, reps, nullptr);
  timed("2 threads, feasible rows to CSV", *space, o, reps, csv_sink(*space));
  std::printf("\n%llu feasible rows (%.1f MiB of CSV), %llu infeasible (out of memory); best %.3f s per iteration\n",
              static_cast<unsigned long long>(last.tally.counts.feasible()),
              static_cast<double>(csv_bytes) / (1024.0 * 1024.0),
              static_cast<unsigned long long>(last.tally.counts.infeasible_total()),
              last.tally.leaders.top().empty() ? 0.0 : last.tally.leaders.top().front().iteration_time_s);
  const double rss_one = peak_rss_mib();

  if (!quick) {
    // Nine bases (3 GPUs x 3 cluster sizes): 9 x the space, same memory.
    auto j = gpt3_sweep();
    j["axes"]["gpu"] = {"a100-80gb", "h100-sxm", "h200"};
    j["axes"]["nodes"] = {64, 128, 256};
    auto big = presets::sweep_space_from_json(j);
    if (!big) {
      std::fprintf(stderr, "error: %s\n", big.error().what().c_str());
      return 3;
    }
    std::printf("\n");
    const auto r = timed("9x space (3 GPUs x 3 sizes), 2 threads, CSV", *big, o, std::max(1, reps / 2), csv_sink(*big));
    std::printf("\n%llu layouts, %llu feasible rows, %.1f MiB of CSV\n", static_cast<unsigned long long>(big->size()),
                static_cast<unsigned long long>(r.tally.counts.feasible()), static_cast<double>(csv_bytes) / (1024.0 * 1024.0));
  }
  std::remove(path.c_str());
  std::printf("\npeak resident memory: %.1f MiB after the 1x space%s\n", rss_one,
              quick ? "" : (", " + std::to_string(static_cast<int>(peak_rss_mib())) + " MiB after the 9x space").c_str());
  std::printf("simulate: %s\n", sim::evaluator_available(sim::Evaluator::simulate)
                                    ? "available (not benchmarked here)"
                                    : "not available to sweeps in this build (evaluator_available(simulate) is false)");
  return sink > 0 ? 0 : 1;
}
