#include "cli/sweep_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_common.hpp"
#include "common/format.hpp"
#include "presets/units.hpp"

namespace clustersim::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

Expected<std::pair<int, int>> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  int i = -1, n = 0;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    std::size_t used = 0;
    i = std::stoi(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("junk");
    const auto rest = text.substr(slash + 1);
    n = std::stoi(rest, &used);
    if (used != rest.size()) throw std::invalid_argument("junk");
  } catch (const std::exception&) {
    return invalid("--shard", "expected i/n (shard i of n, counted from 0), got '" + text + "'");
  }
  if (n < 1 || i < 0 || i >= n)
    return invalid("--shard", "expected i/n with 0 <= i < n, got '" + text + "'");
  return std::pair<int, int>{i, n};
}

namespace {
Expected<presets::SweepRowFormat::Kind> kind_of(const std::string& path) {
  const auto ext = fs::path(path).extension().string();
  if (ext == ".csv") return presets::SweepRowFormat::Kind::csv;
  if (ext == ".jsonl" || ext == ".ndjson") return presets::SweepRowFormat::Kind::jsonl;
  return invalid("-o", "'" + path + "' must end in .csv or .jsonl (JSON Lines)");
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Expected<PreparedSweep> prepare_sweep(const SweepCommandOptions& o) {
  PreparedSweep p;
  auto file = read_json_file(o.file);
  if (!file) return file.error();
  p.file = std::move(*file);
  auto space = presets::sweep_space_from_json(p.file);
  if (!space) return space.error();
  p.space = std::make_unique<sim::SweepSpace>(std::move(*space));
  p.begin = 0;
  p.end = p.space->size();
  if (!o.shard.empty()) {
    auto s = parse_shard(o.shard);
    if (!s) return s.error();
    std::tie(p.begin, p.end) = sim::shard_range(*p.space, s->first, s->second);
  }
  std::string format;
  if (!o.output.empty()) {
    auto k = kind_of(o.output);
    if (!k) return k.error();
    format = *k == presets::SweepRowFormat::Kind::csv ? "csv" : "jsonl";
  }
  // What decides the rows of the output: the file, the row format and selection, and the index range.
  p.fingerprint = presets::sweep_fingerprint(
      json{{"sweep", p.file}, {"format", format}, {"all_rows", o.all_rows}, {"begin", p.begin}, {"end", p.end}});
  return p;
}

SweepOutput::~SweepOutput() {
  if (file_) std::fclose(file_);
}

double SweepOutput::elapsed() const { return now_s() - started_; }

Expected<std::unique_ptr<SweepOutput>> SweepOutput::open(const PreparedSweep& sweep, const SweepCommandOptions& o,
                                                          bool& already_complete) {
  already_complete = false;
  auto kind = kind_of(o.output);
  if (!kind) return kind.error();
  std::unique_ptr<SweepOutput> out(new SweepOutput());
  out->sweep_ = &sweep;
  out->started_ = now_s();
  out->last_checkpoint_ = out->started_;
  out->all_rows_ = o.all_rows;
  out->format_ = std::make_unique<presets::SweepRowFormat>(*sweep.space, *kind);
  out->final_path_ = o.output;
  out->partial_path_ = o.output + ".partial";
  out->state_path_ = o.output + ".resume.json";
  const auto& spec = sweep.space->spec();
  out->restored_.begin = out->restored_.next_index = sweep.begin;
  out->restored_.leaders.reset(spec.objectives, spec.top_k);

  std::error_code ec;
  const bool have_final = fs::exists(out->final_path_, ec);
  const bool have_partial = fs::exists(out->partial_path_, ec);
  const bool have_state = fs::exists(out->state_path_, ec);
  bool fresh = true;
  if (o.force) {
    fs::remove(out->partial_path_, ec);
    fs::remove(out->state_path_, ec);
  } else if (o.resume) {
    if (have_partial) {
      if (!have_state)
        return invalid(out->partial_path_, "has no resume state (" + out->state_path_ +
                                               " is missing); pass --force to start over");
      fresh = false;
    } else if (have_final) {
      already_complete = true;
      return std::unique_ptr<SweepOutput>();
    } else if (have_state) {
      fs::remove(out->state_path_, ec);  // a state without rows: the run died before writing any
    }
  } else {
    if (have_final)
      return invalid(out->final_path_, "exists; pass --force to replace it (it is replaced only when the new sweep "
                                       "finishes) or choose another -o");
    if (have_partial)
      return invalid(out->partial_path_, "holds an interrupted sweep; pass --resume to continue it or --force to "
                                         "start over");
  }

  if (fresh) {
    out->file_ = std::fopen(out->partial_path_.c_str(), "wb");
    if (!out->file_) return Error{ErrorCode::io, out->partial_path_, "cannot create file"};
    const auto header = out->format_->header();
    if (std::fwrite(header.data(), 1, header.size(), out->file_) != header.size() || std::fflush(out->file_) != 0)
      return Error{ErrorCode::io, out->partial_path_, "cannot write"};
    out->bytes_ = header.size();
    sim::SweepTally start;
    start.begin = start.next_index = sweep.begin;
    start.leaders.reset(spec.objectives, spec.top_k);
    if (auto e = out->checkpoint(start)) return *e;
    return out;
  }

  // --- resume: read the state, cut the rows back to it, append from there ---
  std::ifstream in(out->state_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  json st;
  try {
    st = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    return Error{ErrorCode::io, out->state_path_, std::string("unreadable resume state: ") + e.what()};
  }
  auto bad = [&](const std::string& what) { return Error{ErrorCode::io, out->state_path_, "unreadable resume state: " + what}; };
  if (!st.is_object() || st.value("version", 0) != 1) return bad("unknown version");
  if (st.value("fingerprint", std::string()) != sweep.fingerprint)
    return invalid(out->partial_path_, "was written by a different sweep (the sweep file, the output format, "
                                       "--all-rows or --shard changed); pass --force to start over");
  for (const char* k : {"next_index", "bytes"})
    if (!st.contains(k) || !st.at(k).is_number_unsigned()) return bad(std::string("no ") + k);
  auto counts = presets::counts_from_json(st.value("counts", json()));
  if (!counts) return counts.error();
  out->restored_.next_index = st.at("next_index").get<std::uint64_t>();
  out->restored_.counts = *counts;
  out->restored_seconds_ = st.value("seconds", 0.0);
  if (!st.contains("leaders") || !st.at("leaders").is_array()) return bad("no leaders");
  for (const auto& r : st.at("leaders")) {
    auto row = presets::row_from_state(*sweep.space, r);
    if (!row) return Error{ErrorCode::io, out->state_path_, row.error().what()};
    out->restored_.leaders.add(*row);
  }
  const auto bytes = st.at("bytes").get<std::uint64_t>();
  const auto size = fs::file_size(out->partial_path_, ec);
  if (ec || size < bytes)
    return Error{ErrorCode::io, out->partial_path_, "is shorter than its resume state says; pass --force to start over"};
  fs::resize_file(out->partial_path_, bytes, ec);
  if (ec) return Error{ErrorCode::io, out->partial_path_, "cannot cut back to the last finished chunk: " + ec.message()};
  out->file_ = std::fopen(out->partial_path_.c_str(), "ab");
  if (!out->file_) return Error{ErrorCode::io, out->partial_path_, "cannot open for appending"};
  out->bytes_ = bytes;
  return out;
}

void SweepOutput::format(const sim::SweepChunk& chunk, std::string& out) const {
  for (const auto& row : chunk.rows) format_->append(out, row);
}

std::optional<Error> SweepOutput::consume(const sim::SweepChunk&, const std::string& bytes,
                                          const sim::SweepTally& so_far) {
  if (!bytes.empty()) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size() || std::fflush(file_) != 0)
      return Error{ErrorCode::io, partial_path_, "cannot write (is the disk full?)"};
    bytes_ += bytes.size();
  }
  // The state is rewritten at most twice a second; rows past it are cut and recomputed on --resume.
  const double t = now_s();
  if (t - last_checkpoint_ >= 0.5) return checkpoint(so_far);
  return std::nullopt;
}

sim::SweepTally SweepOutput::combined(const sim::SweepTally& so_far) const {
  sim::SweepTally t = restored_;
  t.counts.add(so_far.counts);
  t.leaders.merge(so_far.leaders);
  t.next_index = std::max(restored_.next_index, so_far.next_index);
  return t;
}

std::optional<Error> SweepOutput::checkpoint(const sim::SweepTally& so_far) {
  last_checkpoint_ = now_s();
  const auto t = combined(so_far);
  json leaders = json::array();
  std::vector<std::uint64_t> seen;
  auto rows = t.leaders.top();
  const auto front = t.leaders.pareto();
  rows.insert(rows.end(), front.begin(), front.end());
  {
    for (const auto& r : rows) {
      if (std::find(seen.begin(), seen.end(), r.point.index) != seen.end()) continue;
      seen.push_back(r.point.index);
      leaders.push_back(presets::row_to_state(r));
    }
  }
  const json st{{"version", 1},
                {"fingerprint", sweep_->fingerprint},
                {"sweep", sweep_->file.value("name", std::string())},
                {"begin", sweep_->begin},
                {"end", sweep_->end},
                {"next_index", t.next_index},
                {"bytes", bytes_},
                {"seconds", restored_seconds_ + elapsed()},
                {"counts", presets::counts_to_json(t.counts)},
                {"leaders", leaders}};
  const std::string tmp = state_path_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << st.dump() << "\n";
    f.close();
    if (!f) return Error{ErrorCode::io, tmp, "cannot write the resume state"};
  }
  std::error_code ec;
  fs::rename(tmp, state_path_, ec);
  if (ec) return Error{ErrorCode::io, state_path_, "cannot write the resume state: " + ec.message()};
  return std::nullopt;
}

std::optional<Error> SweepOutput::finish() {
  if (file_ && std::fclose(file_) != 0) {
    file_ = nullptr;
    return Error{ErrorCode::io, partial_path_, "cannot close"};
  }
  file_ = nullptr;
  std::error_code ec;
  fs::rename(partial_path_, final_path_, ec);
  if (ec) return Error{ErrorCode::io, final_path_, "cannot rename " + partial_path_ + " to it: " + ec.message()};
  fs::remove(state_path_, ec);
  return std::nullopt;
}

namespace {
std::string grouped(std::uint64_t v) {
  auto s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string rate(double v) {
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f} ", v);
}

std::string eta(double s) {
  if (!(s >= 0) || s > 86400.0 * 99) return "--:--";
  const auto t = static_cast<long>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60) : fmt::format("{}:{:02}", t / 60, t % 60);
}
}  // namespace

void SweepProgressBar::on_progress(const sim::SweepProgress& p) {
  chunks_.fetch_add(1);
  if (!draw_ || (p.seconds - last_draw_ < 0.1 && p.evaluated < p.to_evaluate)) return;
  last_draw_ = p.seconds;
  const double frac = p.to_evaluate ? static_cast<double>(p.evaluated) / static_cast<double>(p.to_evaluate) : 1.0;
  const double per_s = p.seconds > 0 ? static_cast<double>(p.evaluated) / p.seconds : 0.0;
  const int width = 28;
  std::string bar(static_cast<std::size_t>(std::clamp(frac, 0.0, 1.0) * width), '#');
  bar.resize(width, '.');
  std::cerr << fmt::format("\r[{}] {:5.1f}%  {}/{} layouts  {}layouts/s  ETA {}{}", bar, frac * 100.0,
                           grouped(p.evaluated), grouped(p.to_evaluate), rate(per_s),
                           eta(per_s > 0 ? static_cast<double>(p.to_evaluate - p.evaluated) / per_s : -1.0),
                           interrupt_.load() ? "  stopping..." : "")
            << std::flush;
  drawn_ = true;
}

bool SweepProgressBar::stop_requested() const {
  return interrupt_.load() || (stop_after_ > 0 && chunks_.load() >= stop_after_);
}

void SweepProgressBar::clear() {
  if (drawn_) std::cerr << "\r\033[K" << std::flush;
  drawn_ = false;
}

ordered_json sweep_summary(const PreparedSweep& sweep, const sim::SweepTally& tally,
                           const presets::SweepSummaryInfo& info) {
  return presets::summary_to_json(*sweep.space, tally, info);
}

namespace {

void print_rows(const sim::SweepSpace& space, const std::vector<sim::SweepRow>& rows) {
  const bool many_bases = space.spec().bases.size() > 1;
  bool priced = false;
  for (const auto& r : rows) priced = priced || space.spec().bases[r.point.base].price_per_gpu_hour > 0;
  std::cout << fmt::format("  {:>4} {:>10} {:>10} {:>11} {:>6} {:>10}", "#", "index", "iter time", "tokens/s", "MFU",
                           "memory");
  if (priced) std::cout << fmt::format(" {:>11}", "USD/Mtoken");
  std::cout << "  layout\n";
  int rank = 0;
  for (const auto& r : rows) {
    const auto& p = r.point;
    std::cout << fmt::format("  {:>4} {:>10} {:>10} {:>11.4g} {:>5.1f}% {:>10}", ++rank, p.index,
                             presets::format_seconds(r.iteration_time_s), r.tokens_per_s, r.mfu * 100.0,
                             presets::format_bytes(r.memory_peak_bytes));
    if (priced) std::cout << fmt::format(" {:>11.4g}", r.cost_per_token * 1e6);
    std::cout << fmt::format("  tp {} pp {} dp {}{} mb {} {}{} zero {} {} {}", p.tp, p.pp, p.dp,
                             p.sequence_parallel ? " sp" : "", p.micro_batch, strategies::to_string(p.schedule),
                             p.virtual_stages > 1 ? fmt::format(" v {}", p.virtual_stages) : std::string(), p.zero,
                             strategies::to_string(p.recompute), strategies::to_string(p.attention));
    if (many_bases) std::cout << "  [" << space.spec().bases[p.base].label << "]";
    std::cout << "\n";
  }
}

}  // namespace

int print_sweep_summary(const PreparedSweep& sweep, const sim::SweepTally& tally, const presets::SweepSummaryInfo& info,
                        bool as_json) {
  const auto& c = tally.counts;
  const bool complete = !info.interrupted && tally.next_index >= info.end;
  if (as_json) {
    std::cout << sweep_summary(sweep, tally, info).dump(2) << "\n";
  } else {
    const auto& space = *sweep.space;
    const auto& spec = space.spec();
    const std::uint64_t total = info.end - info.begin;
    const std::uint64_t done = tally.next_index - std::min(tally.next_index, info.resumed_from);
    std::cout << fmt::format("sweep of {} ({} evaluator){}: {} layouts{}\n", spec.bases.front().model.spec().name,
                             sim::to_string(spec.evaluator), info.shard.empty() ? "" : ", shard " + info.shard,
                             grouped(total), complete ? "" : fmt::format(", {} done", grouped(tally.next_index - info.begin)));
    std::cout << fmt::format("  {:<11}{:>14}\n", "invalid", grouped(c.invalid_total()));
    if (c.excluded_total()) std::cout << fmt::format("  {:<11}{:>14}   (by the constraints)\n", "excluded", grouped(c.excluded_total()));
    std::cout << fmt::format("  {:<11}{:>14}   ({} feasible, {} infeasible)\n", "evaluated", grouped(c.evaluated()),
                             grouped(c.feasible()), grouped(c.infeasible_total()));
    std::cout << fmt::format("  {} layouts in {:.2f} s: {}layouts/s{}\n", grouped(done), info.seconds,
                             rate(info.seconds > 0 ? static_cast<double>(done) / info.seconds : 0.0),
                             info.resumed_from > info.begin ? fmt::format(" (resumed at index {})", info.resumed_from)
                                                            : std::string());
    std::vector<std::string> priced;
    for (const auto& b : spec.bases) {
      if (b.price_per_gpu_hour <= 0 || std::find(priced.begin(), priced.end(), b.cluster.gpu.name) != priced.end())
        continue;
      priced.push_back(b.cluster.gpu.name);
      std::cout << fmt::format("  price of {}: {:.4g} USD per GPU-hour ({})\n", b.cluster.gpu.name, b.price_per_gpu_hour,
                               b.price_source);
    }
    auto top_reasons = [](const auto& counts, int n, auto text_of) {
      std::vector<std::pair<std::uint64_t, int>> v;
      for (int i = 0; i < n; ++i)
        if (counts[i]) v.emplace_back(counts[i], i);
      std::sort(v.begin(), v.end(), [](auto a, auto b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
      std::string s;
      for (std::size_t i = 0; i < v.size() && i < 4; ++i)
        s += fmt::format("{}    {:>12}  {}", i ? "\n" : "", grouped(v[i].first), text_of(v[i].second));
      return s;
    };
    if (c.infeasible_total()) {
      std::array<std::uint64_t, sim::kRowStatuses - 1> inf{};
      for (int i = 1; i < sim::kRowStatuses; ++i) inf[i - 1] = c.status[i];
      std::cout << "most common reasons for infeasible layouts:\n"
                << top_reasons(inf, sim::kRowStatuses - 1, [](int i) { return sim::to_string(static_cast<sim::RowStatus>(i + 1)); })
                << "\n";
    }
    if (c.invalid_total())
      std::cout << "most common reasons for invalid layouts:\n"
                << top_reasons(c.invalid, sim::kInvalidRules, [](int i) { return sim::to_string(static_cast<sim::InvalidRule>(i)); })
                << "\n";
    if (!info.output.empty()) {
      const std::uint64_t rows = info.all_rows ? c.evaluated() : c.feasible();
      std::cout << fmt::format("rows: {} {}{} in {}\n", grouped(rows), info.all_rows ? "evaluated" : "feasible",
                               complete ? "" : " so far", complete ? info.output : info.output + ".partial");
    }
    std::vector<std::string> names;
    for (auto o : spec.objectives) names.emplace_back(sim::to_string(o));
    if (!tally.leaders.top().empty()) {
      std::cout << fmt::format("\ntop {} by {}:\n", tally.leaders.top().size(), join(names, ", then "));
      print_rows(space, tally.leaders.top());
      const auto front = tally.leaders.pareto();
      // A long front is shown by an even sample along it (first and last included); --json has it all.
      const std::size_t show = std::max<std::size_t>(20, static_cast<std::size_t>(spec.top_k));
      std::vector<sim::SweepRow> shown = front;
      if (front.size() > show) {
        shown.clear();
        for (std::size_t i = 0; i < show; ++i) shown.push_back(front[i * (front.size() - 1) / (show - 1)]);
      }
      std::cout << fmt::format("\nPareto front over {} ({} layouts{}):\n", join(names, ", "), front.size(),
                               shown.size() < front.size() ? fmt::format(", {} shown; all with --json", shown.size())
                                                           : std::string());
      print_rows(space, shown);
    }
  }
  if (!complete) {
    std::cerr << "interrupted";
    if (!info.output.empty()) std::cerr << ": every finished row is in " << info.output << ".partial; continue with --resume";
    std::cerr << "\n";
    return 130;
  }
  if (c.feasible() == 0) {
    std::cerr << "infeasible: no layout of the sweep is feasible (" << grouped(c.infeasible_total())
              << " evaluated layouts do not fit; see the reasons above)\n";
    return kExitInfeasible;
  }
  return kExitOk;
}

}  // namespace clustersim::cli
