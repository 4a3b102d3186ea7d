#include "cli/mpi_sweep.hpp"

#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1  // the C API only
#endif
#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>

#include "cli/cli_common.hpp"

namespace clustersim::cli {

namespace {

constexpr int kTagResult = 1;  // worker -> rank 0: the result of its last chunk (or a first hello), and a request
constexpr int kTagAssign = 2;  // rank 0 -> worker: the next chunk, or stop
constexpr std::uint64_t kNone = ~std::uint64_t{0};

static_assert(std::is_trivially_copyable_v<sim::SweepRow>, "rows travel between ranks as bytes");
static_assert(std::is_trivially_copyable_v<sim::SweepCounts>, "counts travel between ranks as bytes");

struct Assignment {
  std::uint64_t seq = kNone;  // kNone: stop
  std::uint64_t begin = 0, end = 0;
};

struct ResultHeader {
  std::uint64_t seq = kNone;  // kNone: a hello without a result
  std::uint64_t begin = 0, end = 0;
  std::uint64_t rows = 0, leaders = 0, error_bytes = 0;
  int error_code = -1;  // ErrorCode of a failed chunk, -1 when it succeeded
  sim::SweepCounts counts;
};

struct Finished {
  sim::SweepChunk chunk;
  std::optional<Error> error;
};

// Collects the rows of a run in order (a worker's chunk, evaluated with TBB in sub-chunks).
class Collector : public sim::SweepSink {
 public:
  void format(const sim::SweepChunk&, std::string&) const override {}
  std::optional<Error> consume(const sim::SweepChunk& chunk, const std::string&, const sim::SweepTally&) override {
    rows.insert(rows.end(), chunk.rows.begin(), chunk.rows.end());
    return std::nullopt;
  }
  std::vector<sim::SweepRow> rows;
};

Finished evaluate_range(const sim::SweepSpace& space, const SweepCommandOptions& o, std::uint64_t begin,
                        std::uint64_t end) {
  Finished f;
  Collector collect;
  sim::SweepRunOptions run;
  run.jobs = o.jobs;
  run.begin = begin;
  run.end = end;
  run.chunk_layouts = o.chunk_layouts;
  run.keep_infeasible_rows = o.all_rows;
  auto r = sim::run_sweep(space, run, &collect, nullptr);
  f.chunk.begin = begin;
  f.chunk.end = end;
  if (!r) {
    f.error = r.error();
    return f;
  }
  f.chunk.rows = std::move(collect.rows);
  f.chunk.counts = r->tally.counts;
  f.chunk.leaders = r->tally.leaders;
  return f;
}

std::vector<char> pack(std::uint64_t seq, const Finished* f) {
  ResultHeader h;
  h.seq = seq;
  std::vector<sim::SweepRow> leaders;
  std::string error;
  if (f) {
    h.begin = f->chunk.begin;
    h.end = f->chunk.end;
    if (f->error) {
      h.error_code = static_cast<int>(f->error->code);
      error = f->error->what();
    } else {
      h.rows = f->chunk.rows.size();
      leaders = f->chunk.leaders.top();
      const auto front = f->chunk.leaders.pareto();
      leaders.insert(leaders.end(), front.begin(), front.end());
      h.leaders = leaders.size();
      h.counts = f->chunk.counts;
    }
    h.error_bytes = error.size();
  }
  std::vector<char> buf(sizeof h + (h.rows + h.leaders) * sizeof(sim::SweepRow) + error.size());
  char* p = buf.data();
  std::memcpy(p, &h, sizeof h);
  p += sizeof h;
  if (h.rows) std::memcpy(p, f->chunk.rows.data(), h.rows * sizeof(sim::SweepRow));
  p += h.rows * sizeof(sim::SweepRow);
  if (h.leaders) std::memcpy(p, leaders.data(), h.leaders * sizeof(sim::SweepRow));
  p += h.leaders * sizeof(sim::SweepRow);
  if (!error.empty()) std::memcpy(p, error.data(), error.size());
  return buf;
}

std::pair<std::uint64_t, Finished> unpack(const std::vector<char>& buf, const sim::SweepSpec& spec) {
  ResultHeader h;
  std::memcpy(&h, buf.data(), sizeof h);
  Finished f;
  f.chunk.begin = h.begin;
  f.chunk.end = h.end;
  f.chunk.counts = h.counts;
  f.chunk.leaders.reset(spec.objectives, spec.top_k);
  const char* p = buf.data() + sizeof h;
  f.chunk.rows.resize(h.rows);
  if (h.rows) std::memcpy(f.chunk.rows.data(), p, h.rows * sizeof(sim::SweepRow));
  p += h.rows * sizeof(sim::SweepRow);
  for (std::uint64_t i = 0; i < h.leaders; ++i, p += sizeof(sim::SweepRow)) {
    sim::SweepRow r;
    std::memcpy(&r, p, sizeof r);
    f.chunk.leaders.add(r);
  }
  if (h.error_code >= 0)
    f.error = Error{static_cast<ErrorCode>(h.error_code), "", std::string(p, h.error_bytes)};
  return {h.seq, std::move(f)};
}

// Chunks of the range, handed out in index order to whichever thread or rank asks.
class Dispenser {
 public:
  Dispenser(const sim::SweepSpace& space, std::uint64_t begin, std::uint64_t end, std::uint64_t per_chunk,
            const sim::SweepObserver& observer)
      : space_(space), next_(begin), end_(end), per_chunk_(per_chunk), observer_(observer) {}
  std::optional<Assignment> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopped_ || next_ >= end_ || observer_.stop_requested()) {
      stopped_ = true;
      return std::nullopt;
    }
    Assignment a{issued_++, next_, std::min(end_, space_.locate(next_, per_chunk_))};
    next_ = a.end;
    return a;
  }
  void stop() {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  std::uint64_t issued() {
    std::lock_guard<std::mutex> lock(mutex_);
    return issued_;
  }

 private:
  const sim::SweepSpace& space_;
  std::mutex mutex_;
  std::uint64_t next_, end_, per_chunk_, issued_ = 0;
  bool stopped_ = false;
  const sim::SweepObserver& observer_;
};

class Pending {
 public:
  void put(std::uint64_t seq, Finished f) {
    std::lock_guard<std::mutex> lock(mutex_);
    done_.emplace(seq, std::move(f));
  }
  std::optional<Finished> take(std::uint64_t seq) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = done_.find(seq);
    if (it == done_.end()) return std::nullopt;
    Finished f = std::move(it->second);
    done_.erase(it);
    return f;
  }

 private:
  std::mutex mutex_;
  std::map<std::uint64_t, Finished> done_;
};

void worker(const sim::SweepSpace& space, const SweepCommandOptions& o) {
  std::vector<char> msg = pack(kNone, nullptr);
  for (;;) {
    MPI_Send(msg.data(), static_cast<int>(msg.size()), MPI_BYTE, 0, kTagResult, MPI_COMM_WORLD);
    Assignment a;
    MPI_Recv(&a, sizeof a, MPI_BYTE, 0, kTagAssign, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (a.seq == kNone) return;
    const Finished f = evaluate_range(space, o, a.begin, a.end);
    msg = pack(a.seq, &f);
  }
}

int coordinator(const PreparedSweep& sweep, const SweepCommandOptions& o, SweepProgressBar& observer,
                SweepOutput* output, int ranks) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const auto& space = *sweep.space;
  const auto& spec = space.spec();
  const std::uint64_t start = output ? output->restored().next_index : sweep.begin;
  // MPI chunks hold several of a rank's TBB chunks, so that each rank keeps its threads busy.
  Dispenser dispenser(space, start, sweep.end, o.chunk_layouts * 8, observer);
  Pending pending;
  std::atomic<bool> local_done{false};
  std::thread local([&] {
    while (auto a = dispenser.take()) pending.put(a->seq, evaluate_range(space, o, a->begin, a->end));
    local_done = true;
  });

  sim::SweepTally tally;
  tally.begin = tally.next_index = start;
  tally.leaders.reset(spec.objectives, spec.top_k);
  sim::SweepProgress progress;
  progress.to_evaluate = space.count(start, sweep.end).feasible();
  progress.next_index = start;
  progress.end_index = sweep.end;
  std::optional<Error> failure;
  std::string bytes;
  int active = ranks - 1;
  std::uint64_t next_seq = 0;
  for (;;) {
    bool busy = false;
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, kTagResult, MPI_COMM_WORLD, &flag, &status);
    if (flag) {
      busy = true;
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      std::vector<char> buf(static_cast<std::size_t>(count));
      MPI_Recv(buf.data(), count, MPI_BYTE, status.MPI_SOURCE, kTagResult, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      auto [seq, f] = unpack(buf, spec);
      if (seq != kNone) pending.put(seq, std::move(f));
      const auto a = dispenser.take();
      const Assignment msg = a ? *a : Assignment{};
      MPI_Send(&msg, sizeof msg, MPI_BYTE, status.MPI_SOURCE, kTagAssign, MPI_COMM_WORLD);
      if (!a) --active;
    }
    while (auto f = pending.take(next_seq)) {
      busy = true;
      ++next_seq;
      if (failure) continue;  // nothing after a failed chunk is written
      if (f->error) {
        failure = f->error;
        dispenser.stop();
        continue;
      }
      tally.counts.add(f->chunk.counts);
      tally.leaders.merge(f->chunk.leaders);
      tally.next_index = f->chunk.end;
      if (output) {
        bytes.clear();
        output->format(f->chunk, bytes);
        failure = output->consume(f->chunk, bytes, tally);
        if (failure) dispenser.stop();
      }
      progress.evaluated = tally.counts.evaluated();
      progress.next_index = tally.next_index;
      progress.seconds = std::chrono::duration<double>(clock::now() - t0).count();
      observer.on_progress(progress);
    }
    if (active == 0 && local_done && next_seq == dispenser.issued()) break;
    if (!busy) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  local.join();
  observer.clear();

  presets::SweepSummaryInfo info;
  info.begin = sweep.begin;
  info.end = sweep.end;
  info.resumed_from = start;
  info.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  info.interrupted = tally.next_index < sweep.end;
  info.output = o.output;
  info.all_rows = o.all_rows;
  info.shard = o.shard;
  sim::SweepTally all = tally;
  if (output) {
    all = output->combined(tally);
    const auto done = (info.interrupted || failure) ? output->checkpoint(tally) : output->finish();
    if (!failure && done) failure = done;
  }
  if (failure) return report_error(*failure);
  return print_sweep_summary(sweep, all, info, o.json);
}

}  // namespace

int run_mpi_sweep(const SweepCommandOptions& o, SweepProgressBar& observer) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  auto finish = [](int rc) {
    MPI_Finalize();
    return rc;
  };

  // Every rank reads the sweep; all go on only if all could, and only if they read the same sweep.
  auto prepared = prepare_sweep(o);
  int rc = 0;
  if (!prepared) {
    if (rank != 0) std::cerr << "rank " << rank << ": ";
    rc = report_error(prepared.error());
  }
  MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rc != 0) {
    if (rank == 0 && prepared) std::cerr << "error: another rank could not read the sweep (see its message)\n";
    return finish(rc);
  }
  char fingerprint[17] = {};
  std::strncpy(fingerprint, prepared->fingerprint.c_str(), 16);
  MPI_Bcast(fingerprint, sizeof fingerprint, MPI_CHAR, 0, MPI_COMM_WORLD);
  int same = prepared->fingerprint == fingerprint ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (!same) {
    if (rank == 0) report_error(invalid(o.file, "the ranks read different sweep files (or options); give every rank the same"));
    return finish(kExitInput);
  }

  // Rank 0 opens the output (and resumes); 0 = go, -1 = nothing to do, > 0 = an exit code.
  std::unique_ptr<SweepOutput> output;
  int go = 0;
  if (rank == 0 && !o.output.empty()) {
    bool complete = false;
    auto opened = SweepOutput::open(*prepared, o, complete);
    if (!opened) {
      go = report_error(opened.error());
    } else if (complete) {
      std::cerr << o.output << " is complete; nothing to resume (pass --force to run the sweep again)\n";
      go = -1;
    } else {
      output = std::move(*opened);
    }
  }
  MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (go != 0) return finish(go < 0 ? kExitOk : go);

  if (rank == 0) rc = coordinator(*prepared, o, observer, output.get(), ranks);
  else worker(*prepared->space, o);
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return finish(rc);
}

}  // namespace clustersim::cli
