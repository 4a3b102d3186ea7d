// `clustersim sweep`: every layout of a sweep file evaluated in parallel, rows streamed to CSV or JSON
// Lines, and a summary (top k, Pareto front, counts and reasons) at the end. Ctrl-C (or SIGTERM) stops
// after the chunks in flight are written; --resume continues from there. See docs/sweep.md.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>

#include "cli/cli_common.hpp"
#include "cli/sweep_output.hpp"
#ifdef CLUSTERSIM_HAVE_MPI
#include "cli/mpi_sweep.hpp"
#endif

namespace clustersim::cli {

namespace {

// Set by the SIGINT/SIGTERM handler, read by the observer. A signal handler can only reach a static:
// this one flag is the command's only process-wide state, and the core never sees it (it polls the
// observer).
std::atomic<bool> g_sigint{false};
extern "C" void on_stop_signal(int) { g_sigint.store(true); }

// Installs the handler for SIGINT (Ctrl-C) and SIGTERM (what Slurm and kill send) for the duration of a
// run; a second signal gets the default action (immediate exit).
class SigintScope {
 public:
  SigintScope() {
    g_sigint.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SigintScope() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SigintScope(const SigintScope&) = delete;
  SigintScope& operator=(const SigintScope&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

int run_sweep_command(const SweepCommandOptions& o) {
  if ((o.resume || o.force) && o.output.empty())
    return report_error(invalid(o.resume ? "--resume" : "--force", "needs an output file (-o OUT.csv or OUT.jsonl)"));
  if (o.resume && o.force) return report_error(invalid("--resume", "cannot be combined with --force"));
  if (o.jobs < 0) return report_error(invalid("--jobs", "must be positive (0 = every core)"));
  if (o.mpi) {
#ifdef CLUSTERSIM_HAVE_MPI
    SigintScope sigint;
    SweepProgressBar progress(g_sigint, isatty(STDERR_FILENO) != 0, o.stop_after_chunks);
    return run_mpi_sweep(o, progress);
#else
    return report_error(invalid("--mpi", "this clustersim was built without MPI; install libopenmpi-dev and "
                                         "configure with -DCLUSTERSIM_WITH_MPI=ON"));
#endif
  }
  auto prepared = prepare_sweep(o);
  if (!prepared) return report_error(prepared.error());
  const auto& sweep = *prepared;

  std::unique_ptr<SweepOutput> output;
  if (!o.output.empty()) {
    bool complete = false;
    auto opened = SweepOutput::open(sweep, o, complete);
    if (!opened) return report_error(opened.error());
    if (complete) {
      std::cerr << o.output << " is complete; nothing to resume (pass --force to run the sweep again)\n";
      return kExitOk;
    }
    output = std::move(*opened);
  }

  sim::SweepRunOptions run;
  run.jobs = o.jobs;
  run.begin = output ? output->restored().next_index : sweep.begin;
  run.end = sweep.end;
  run.chunk_layouts = o.chunk_layouts;
  run.keep_infeasible_rows = o.all_rows;

  SigintScope sigint;
  SweepProgressBar progress(g_sigint, isatty(STDERR_FILENO) != 0, o.stop_after_chunks);
  auto result = sim::run_sweep(*sweep.space, run, output.get(), &progress);
  progress.clear();
  if (!result) {
    // The rows and the state up to the last checkpoint stay for --resume.
    return report_error(result.error());
  }
  presets::SweepSummaryInfo info;
  info.begin = sweep.begin;
  info.end = sweep.end;
  info.resumed_from = run.begin;
  info.seconds = result->seconds;
  info.interrupted = result->interrupted;
  info.output = o.output;
  info.all_rows = o.all_rows;
  info.shard = o.shard;
  sim::SweepTally tally = result->tally;
  if (output) {
    tally = output->combined(result->tally);
    const auto done = result->interrupted ? output->checkpoint(result->tally) : output->finish();
    if (done) return report_error(*done);
  }
  return print_sweep_summary(sweep, tally, info, o.json);
}

Command add_sweep_command(CLI::App& app) {
  auto o = std::make_shared<SweepCommandOptions>();
  auto* cmd = app.add_subcommand(
      "sweep",
      "Evaluate every layout of a sweep file (axes, constraints, objectives) in parallel; rows to CSV or JSON "
      "Lines, summary with the top k and the Pareto front (see docs/sweep.md)");
  cmd->add_option("sweep", o->file, "Sweep JSON file (INTERFACES.md \"Sweep file\")")->required();
  cmd->add_option("-o,--output", o->output,
                  "Rows file, OUT.csv or OUT.jsonl: feasible layouts (all evaluated ones with --all-rows); written "
                  "to OUT.partial and renamed when the sweep finishes");
  cmd->add_option("--jobs,-j", o->jobs, "Threads (per MPI rank with --mpi), at most the cores; default: every core");
  cmd->add_flag("--resume", o->resume, "Continue an interrupted sweep from OUT.partial (or start it)");
  cmd->add_flag("--force", o->force, "Replace an existing OUT (when the new sweep finishes) or OUT.partial");
  cmd->add_flag("--all-rows", o->all_rows, "Write infeasible layouts too, with the reason");
  cmd->add_flag("--json", o->json, "Print the summary as JSON");
  cmd->add_option("--shard", o->shard,
                  "i/n: evaluate only shard i of n (0-based; equal numbers of layouts to evaluate) for independent "
                  "jobs; concatenating the shards' rows in order gives the whole sweep's");
  cmd->add_flag("--mpi", o->mpi,
                "Distribute over MPI ranks (mpirun -n N clustersim sweep ... --mpi): rank 0 hands out chunks and "
                "writes the output, identical to a single-machine run");
  cmd->add_option("--chunk", o->chunk_layouts, "Layouts to evaluate per chunk (default 2048)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{16384}));
  cmd->add_option("--stop-after-chunks", o->stop_after_chunks,
                  "Stop as Ctrl-C would after this many chunks (for testing --resume)")
      ->group("");
  return {cmd, [o]() { return run_sweep_command(*o); }};
}

}  // namespace

static const CommandRegistrar kRegisterSweep{"sweep", 30, &add_sweep_command};

}  // namespace clustersim::cli
