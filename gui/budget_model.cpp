#include "gui/budget_model.hpp"

#include <cstdio>
#include <sstream>

#include "presets/report_json.hpp"
#include "presets/units.hpp"

namespace clustersim::gui {

namespace {
// Node-level overhead on top of the GPU's TDP when the cluster preset gives no node power
// (CPU, NIC, storage: 1.3-1.5x GPU TDP at node level; shared reference sec. 6, assumption).
constexpr double kNodeOverhead = 1.3;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// 1234567 -> "1,234,567" (rounded to an integer).
std::string grouped(double v) {
  const std::string digits = fmt("%.0f", v < 0 ? -v : v);
  std::string out = v < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string usd(double v) { return v >= 1000 ? "$" + grouped(v) : "$" + fmt("%.2f", v); }
}  // namespace

Budget compute_budget(const Evaluated& ev, const BudgetInputs& in) {
  const auto& r = ev.report;
  const auto& c = ev.scenario.cluster;
  Budget b;
  if (c.node_power.value > 0) {
    b.watts_per_gpu = c.node_power.value / c.gpus_per_node;
    b.power_basis = "node power " + fmt("%.4g", c.node_power.value / 1e3) + " kW / " + std::to_string(c.gpus_per_node) +
                    " GPUs (" + c.name + " preset), at full load";
  } else {
    b.watts_per_gpu = c.gpu.tdp.value * kNodeOverhead;
    b.power_basis = "GPU TDP " + fmt("%.4g", c.gpu.tdp.value) + " W x 1.3 node overhead, at full load";
  }
  const double iteration_gpu_hours = r.iteration_time_s * r.gpus / 3600.0;
  b.cost_per_iteration_usd = iteration_gpu_hours * in.usd_per_gpu_hour;
  const double tokens_per_iteration = static_cast<double>(ev.scenario.training.global_batch) * ev.scenario.training.seq_length;
  b.cost_per_million_tokens_usd = tokens_per_iteration > 0 ? b.cost_per_iteration_usd / tokens_per_iteration * 1e6 : 0;
  b.has_target = r.tokens_target > 0;
  if (b.has_target) {
    b.tokens = r.tokens_target;
    b.days = r.train_days;
    b.gpu_hours = r.gpu_hours;
  } else {
    b.gpu_hours = iteration_gpu_hours;
    b.days = r.iteration_time_s / 86400.0;
  }
  b.cost_usd = b.gpu_hours * in.usd_per_gpu_hour;
  // E = GPU-hours x W per GPU x PUE (shared reference sec. 6, energy model).
  b.energy_kwh = b.gpu_hours * b.watts_per_gpu / 1e3 * in.pue;
  b.co2_kg = b.energy_kwh * in.kg_co2_per_kwh;
  return b;
}

std::string budget_report_json(const Evaluated& ev, const Budget& b, const BudgetInputs& in) {
  auto j = presets::report_to_json(ev.report, ev.scenario);
  j["budget"] = {{"has_target", b.has_target},
                 {"tokens", b.tokens},
                 {"days", b.days},
                 {"gpu_hours", b.gpu_hours},
                 {"cost_usd", b.cost_usd},
                 {"energy_kwh", b.energy_kwh},
                 {"co2_kg", b.co2_kg},
                 {"watts_per_gpu", b.watts_per_gpu},
                 {"power_basis", b.power_basis},
                 {"cost_per_iteration_usd", b.cost_per_iteration_usd},
                 {"cost_per_million_tokens_usd", b.cost_per_million_tokens_usd},
                 {"inputs", {{"usd_per_gpu_hour", in.usd_per_gpu_hour}, {"pue", in.pue}, {"kg_co2_per_kwh", in.kg_co2_per_kwh}}}};
  return j.dump(2) + "\n";
}

std::string budget_report_markdown(const Evaluated& ev, const Budget& b, const BudgetInputs& in) {
  using presets::format_bytes;
  using presets::format_seconds;
  const auto& sc = ev.scenario;
  const auto& r = ev.report;
  const auto& L = sc.layout;
  std::ostringstream o;
  o << "# Training budget: " << sc.model.spec().name << " on " << sc.cluster.nodes << " x " << sc.cluster.name << "\n\n";
  o << "- GPUs: " << sc.gpus << " x " << sc.cluster.gpu.name << "\n";
  o << "- Layout: tp " << L.tp << ", pp " << L.pp << ", dp " << L.dp << ", micro-batch " << L.micro_batch << ", schedule "
    << strategies::to_string(L.schedule) << (L.virtual_stages > 1 ? " (v=" + std::to_string(L.virtual_stages) + ")" : "")
    << ", ZeRO " << L.zero << ", recompute " << strategies::to_string(L.recompute) << ", sequence parallel "
    << (L.sequence_parallel ? "on" : "off") << "\n";
  o << "- Training: sequence " << sc.training.seq_length << ", global batch " << sc.training.global_batch << ", "
    << hardware::to_string(sc.training.precision) << "\n";
  o << "- Evaluator: " << r.evaluator << "\n\n";
  o << "## Per iteration\n\n| quantity | value |\n| --- | --- |\n";
  o << "| iteration time | " << format_seconds(r.iteration_time_s) << " |\n";
  o << "| tokens/s | " << grouped(r.tokens_per_s) << " |\n";
  o << "| model TFLOP/s per GPU | " << fmt("%.1f", r.tflops_per_gpu) << " |\n";
  o << "| MFU | " << fmt("%.1f %%", r.mfu * 100) << " |\n";
  o << "| HFU | " << fmt("%.1f %%", r.hfu * 100) << " |\n";
  o << "| peak memory per GPU | " << format_bytes(r.memory.peak_device.value) << " of " << format_bytes(r.memory.capacity.value)
    << (r.memory.fits ? " (fits)" : " (DOES NOT FIT)") << " |\n";
  o << "| cost per iteration | " << usd(b.cost_per_iteration_usd) << " |\n";
  o << "| cost per million tokens | $" << fmt("%.4f", b.cost_per_million_tokens_usd) << " |\n\n";
  if (b.has_target) {
    o << "## Training " << fmt("%.3g", b.tokens) << " tokens\n\n| quantity | value |\n| --- | --- |\n";
    o << "| days | " << fmt("%.1f", b.days) << " |\n";
    o << "| GPU-hours | " << grouped(b.gpu_hours) << " |\n";
    o << "| cost | " << usd(b.cost_usd) << " |\n";
    o << "| energy | " << grouped(b.energy_kwh / 1e3) << " MWh |\n";
    o << "| CO2 | " << grouped(b.co2_kg / 1e3) << " t |\n\n";
  } else {
    o << "No training target (training.tokens) was given: the budget is per iteration.\n\n";
  }
  o << "## Time breakdown (bottleneck stage " << r.bottleneck_stage << ")\n\n| part | time |\n| --- | --- |\n";
  const auto& t = r.time;
  const std::pair<const char*, Seconds> parts[] = {{"compute", t.compute},     {"recompute", t.recompute},
                                                   {"bubble", t.bubble},       {"exposed communication", t.exposed_comm},
                                                   {"optimizer", t.optimizer}};
  for (const auto& [name, s] : parts) o << "| " << name << " | " << format_seconds(s.value) << " |\n";
  o << "\n## Memory per GPU by pipeline stage\n\n| stage | weights | gradients | optimizer | activations | other | device peak |\n"
       "| --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& s : r.memory.stages)
    o << "| " << s.stage << " | " << format_bytes(s.weights.value) << " | " << format_bytes(s.gradients.value) << " | "
      << format_bytes(s.optimizer.value) << " | " << format_bytes(s.activations.value) << " | " << format_bytes(s.other.value)
      << " | " << format_bytes(s.device_peak.value) << " |\n";
  o << "\n## Assumptions\n\n";
  o << "- Price: $" << fmt("%.2f", in.usd_per_gpu_hour) << " per GPU-hour (user-entered)\n";
  o << "- Power: " << b.power_basis << "; PUE " << fmt("%.2f", in.pue) << "\n";
  o << "- Grid carbon intensity: " << fmt("%.3g", in.kg_co2_per_kwh) << " kg CO2 per kWh\n";
  for (const auto& n : r.notes) o << "- " << n << "\n";
  return o.str();
}

}  // namespace clustersim::gui
