#include "presets/trace_json.hpp"

#include <cinttypes>
#include <cstdio>

#include "presets/report_json.hpp"

namespace clustersim::presets {

using nlohmann::json;
using strategies::OpKind;
using strategies::Part;

namespace {

std::int64_t whole(double v) { return static_cast<std::int64_t>(std::llround(v)); }

const char* short_kind(OpKind k) {
  switch (k) {
    case OpKind::forward: return "F";
    case OpKind::backward: return "B";
    case OpKind::backward_input: return "B";
    case OpKind::weight_grad: return "W";
    case OpKind::recompute: return "R";
    case OpKind::optimizer: return "optimizer";
    case OpKind::tp_comm: return "TP";
    case OpKind::pp_send: return "send";
    case OpKind::grad_reduce: return "DP reduce";
    case OpKind::param_gather: return "gather";
  }
  return "?";
}

// Chrome's reserved colour names (trace_viewer's ColorScheme), so both viewers tell kinds apart.
const char* colour(const sim::TraceEvent& e) {
  if (e.category == sim::TraceCategory::bubble) return "grey";
  if (e.category == sim::TraceCategory::wait) return "terrible";
  switch (e.kind) {
    case OpKind::forward: return "thread_state_running";
    case OpKind::backward:
    case OpKind::backward_input: return "rail_load";
    case OpKind::weight_grad: return "rail_animation";
    case OpKind::recompute: return "yellow";
    case OpKind::optimizer: return "olive";
    case OpKind::tp_comm: return "rail_response";
    case OpKind::pp_send: return "thread_state_iowait";
    case OpKind::grad_reduce:
    case OpKind::param_gather: return "generic_work";
  }
  return "generic_work";
}

std::string process_name(const sim::SimRank& r, bool full) {
  if (!full) return "stage " + std::to_string(r.stage) + " (GPU " + std::to_string(r.gpu) + ", representative)";
  return "GPU " + std::to_string(r.gpu) + " (stage " + std::to_string(r.stage) + ", dp " + std::to_string(r.dp) +
         ", tp " + std::to_string(r.tp) + ")";
}

// Microseconds with nanosecond resolution.
void micros(std::ostream& out, double seconds) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", seconds * 1e6);
  out << buf;
}

}  // namespace

std::string trace_name(const sim::TraceEvent& e) {
  if (e.category == sim::TraceCategory::bubble) return "bubble";
  if (e.category == sim::TraceCategory::wait) return "wait (communication)";
  std::string s = short_kind(e.kind);
  if (e.micro_batch >= 0) s += " mb" + std::to_string(e.micro_batch);
  if (e.kind == OpKind::pp_send) return s;
  if (e.part == Part::embedding) s += " embedding";
  else if (e.part == Part::head) s += " head";
  else if (e.part == Part::layer && e.layer >= 0) {
    if (e.chunk > 0) s += " c" + std::to_string(e.chunk);
    s += " L" + std::to_string(e.layer);
  }
  return s;
}

json simulation_to_json(const sim::SimResult& r, const strategies::Scenario& sc) {
  json j = report_to_json(r.report, sc);
  json ranks = json::array();
  for (const auto& k : r.ranks) {
    ranks.push_back({{"gpu", k.gpu},
                     {"stage", k.stage},
                     {"dp", k.dp},
                     {"tp", k.tp},
                     {"peak_allocated_bytes", whole(k.peak_bytes)},
                     {"peak_time_s", k.peak_time},
                     {"peak_at", k.peak_at},
                     {"compute_busy_s", k.compute_busy},
                     {"comm_blocking_s", k.comm_blocking},
                     {"end_s", k.end}});
  }
  const auto& cp = r.critical_path;
  auto times = [](const sim::TimeByKind& t) {
    return json{{"compute_s", t.compute}, {"recompute_s", t.recompute}, {"optimizer_s", t.optimizer},
                {"tp_comm_s", t.tp_comm},  {"pp_comm_s", t.pp_comm},    {"dp_comm_s", t.dp_comm}};
  };
  json steps = json::array();
  for (const auto& s : cp.steps) {
    const auto& k = r.ranks[s.rank];
    json st = {{"gpu", k.gpu}, {"stage", k.stage}, {"start_s", s.start}, {"end_s", s.end}, {"ops", s.ops},
               {"time_s", times(s.time)}};
    if (s.first_micro_batch >= 0) st["micro_batches"] = {s.first_micro_batch, s.last_micro_batch};
    steps.push_back(std::move(st));
  }
  json stragglers = json::array();
  for (const auto& s : r.stragglers) stragglers.push_back(sim::to_string(s));
  j["simulation"] = {{"mode", r.full ? "full" : "representative"},
                     {"gpus_simulated", r.stats.ranks},
                     {"tasks", r.stats.tasks},
                     {"events", r.stats.events},
                     {"flows", r.stats.flows},
                     {"stragglers", stragglers},
                     {"ranks", ranks},
                     {"critical_path", {{"length_s", cp.length},
                                        {"time_s", times(cp.time)},
                                        {"stage_changes", cp.stage_changes},
                                        {"steps", steps}}}};
  return j;
}

std::size_t write_trace(std::ostream& out, const sim::SimResult& r, const strategies::Scenario& sc) {
  std::size_t n = 0;
  const bool full = r.full;
  out << "{\"displayTimeUnit\":\"ms\",\"otherData\":"
      << json{{"generator", "clustersim simulate"},
              {"mode", full ? "full" : "representative"},
              {"model", sc.model.spec().name},
              {"cluster", sc.cluster.name},
              {"gpus", sc.gpus},
              {"iteration_time_s", r.report.iteration_time_s}}
             .dump()
      << ",\n\"traceEvents\":[\n";
  auto sep = [&] {
    if (n++) out << ",\n";
  };
  static const char* const kStreams[] = {"compute", "tp comm", "dp gather", "dp reduce"};
  static_assert(sizeof kStreams / sizeof kStreams[0] == strategies::kStreams);
  for (std::uint32_t i = 0; i < r.ranks.size(); ++i) {
    sep();
    out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << i
        << ",\"args\":{\"name\":" << json(process_name(r.ranks[i], full)).dump() << "}}";
    sep();
    out << "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" << i << ",\"args\":{\"sort_index\":" << i << "}}";
    for (int s = 0; s < strategies::kStreams; ++s) {
      sep();
      out << "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" << i << ",\"tid\":" << s << ",\"args\":{\"name\":\""
          << kStreams[s] << "\"}}";
    }
  }
  for (const auto& e : r.trace) {
    sep();
    out << "{\"name\":\"" << trace_name(e) << "\",\"cat\":\""
        << (e.category == sim::TraceCategory::op ? strategies::to_string(e.kind)
                                                 : e.category == sim::TraceCategory::bubble ? "bubble" : "wait")
        << "\",\"ph\":\"X\",\"pid\":" << e.rank << ",\"tid\":" << static_cast<int>(e.stream) << ",\"ts\":";
    micros(out, e.start);
    out << ",\"dur\":";
    micros(out, e.duration);
    out << ",\"cname\":\"" << colour(e) << "\"";
    if (e.category == sim::TraceCategory::op && e.micro_batch >= 0) {
      out << ",\"args\":{\"micro_batch\":" << e.micro_batch;
      if (e.chunk >= 0) out << ",\"chunk\":" << e.chunk;
      if (e.layer >= 0) out << ",\"layer\":" << e.layer;
      out << "}";
    }
    out << "}";
  }
  char buf[64];
  for (const auto& m : r.memory) {
    sep();
    out << "{\"name\":\"memory\",\"ph\":\"C\",\"pid\":" << m.rank << ",\"ts\":";
    micros(out, m.time);
    std::snprintf(buf, sizeof buf, "%.6f", m.bytes / kGiB);
    out << ",\"args\":{\"allocated GiB\":" << buf << "}}";
  }
  // The critical path as its own track.
  const auto cp_pid = r.ranks.size();
  sep();
  out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << cp_pid << ",\"args\":{\"name\":\"critical path\"}}";
  sep();
  out << "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":" << cp_pid << ",\"args\":{\"sort_index\":-1}}";
  for (const auto& s : r.critical_path.steps) {
    sep();
    const auto& k = r.ranks[s.rank];
    out << "{\"name\":\"stage " << k.stage << " (GPU " << k.gpu
        << ")\",\"cat\":\"critical-path\",\"ph\":\"X\",\"pid\":" << cp_pid << ",\"tid\":0,\"ts\":";
    micros(out, s.start);
    out << ",\"dur\":";
    micros(out, s.end - s.start);
    out << ",\"args\":{\"ops\":" << s.ops;
    if (s.first_micro_batch >= 0)
      out << ",\"micro_batches\":\"" << s.first_micro_batch << "-" << s.last_micro_batch << "\"";
    const std::pair<const char*, double> parts[] = {{"compute_ms", s.time.compute},   {"recompute_ms", s.time.recompute},
                                                    {"optimizer_ms", s.time.optimizer}, {"tp_comm_ms", s.time.tp_comm},
                                                    {"pp_comm_ms", s.time.pp_comm},     {"dp_comm_ms", s.time.dp_comm}};
    for (const auto& [name, sec] : parts) {
      if (sec <= 0) continue;
      std::snprintf(buf, sizeof buf, "%.3f", sec * 1e3);
      out << ",\"" << name << "\":" << buf;
    }
    out << "}}";
  }
  out << "\n]}\n";
  return n;
}

}  // namespace clustersim::presets
