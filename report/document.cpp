#include "report/document.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "presets/units.hpp"
#include "report/charts.hpp"
#include "report/text.hpp"

namespace clustersim::report {

namespace {

using presets::format_bytes;
using presets::format_seconds;

Block heading(std::string text, int level = 2) {
  Block b;
  b.kind = BlockKind::heading;
  b.level = level;
  b.text = std::move(text);
  return b;
}
Block paragraph(std::string text) {
  Block b;
  b.kind = BlockKind::paragraph;
  b.text = std::move(text);
  return b;
}
Block bullets(std::vector<std::string> items) {
  Block b;
  b.kind = BlockKind::bullets;
  b.items = std::move(items);
  return b;
}
Block table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows, std::vector<bool> numeric) {
  Block b;
  b.kind = BlockKind::table;
  b.table = {std::move(header), std::move(rows), std::move(numeric)};
  return b;
}
Block chart(const Chart& c, std::string caption) {
  Block b;
  b.kind = BlockKind::chart;
  b.svg = c.svg;
  b.svg_width = c.width;
  b.svg_height = c.height;
  b.text = std::move(caption);
  return b;
}
Block code(std::string text) {
  Block b;
  b.kind = BlockKind::code;
  b.text = std::move(text);
  return b;
}

std::string cost_text(const sim::TrainingCost& c) { return c.priced ? money(c.cost_usd) : "n/a"; }

std::string range(double v, double band, const std::function<std::string(double)>& f) {
  return f(v * (1.0 - band)) + " to " + f(v * (1.0 + band));
}

std::string model_line(const model::ModelSpec& m) {
  std::string s = fmt::format("{} layers, hidden {}, {} heads", m.layers, m.hidden, m.heads);
  if (m.kv_heads != m.heads) s += fmt::format(" ({} KV heads)", m.kv_heads);
  s += fmt::format(", FFN {} ({}), vocabulary {}", m.ffn_hidden, model::to_string(m.mlp), m.vocab);
  return s;
}

}  // namespace

Document build_document(const ReportInputs& in) {
  const auto& sc = in.scenario;
  const auto& r = in.report;
  const auto& ms = sc.model.spec();
  const auto& cl = sc.cluster;
  const auto& tr = sc.training;
  const double band = in.time_band;
  const auto& cost = in.cost;
  const std::string cluster_text = fmt::format("{} x {} ({} x {})", cl.nodes, cl.name, sc.gpus, cl.gpu.name);

  Document d;
  d.title = "Training budget report: " + (in.title.empty() ? ms.name + " on " + cl.name : in.title);
  d.subtitle = in.generator + (in.source.empty() ? "" : " - " + in.source) +
               (in.price ? " - prices read " + (in.price->date.empty() ? std::string("(user price, no date)") : in.price->date)
                         : " - no price");
  auto& b = d.blocks;

  // --- summary ---
  b.push_back(heading("Summary"));
  std::string summary = fmt::format(
      "Training {} ({} parameters) on {} tokens on {} takes about {} ({}) and {} GPU-hours", ms.name,
      count(r.params_total), count(tr.tokens), cluster_text, duration_days(cost.days),
      range(cost.days, band, duration_days), grouped(cost.gpu_hours));
  if (in.price) {
    summary += fmt::format(", costing {} at {}/GPU-hour ({}, {}).", money(cost.cost_usd),
                           money(in.price->usd_per_gpu_hour), in.price->name,
                           in.price->date.empty() ? "price given by the user" : "read " + in.price->date);
  } else {
    summary += "; no price was given, so no cost.";
  }
  b.push_back(paragraph(summary));
  if (!r.memory.fits) {
    b.push_back(paragraph(fmt::format(
        "Warning: the scenario's layout does NOT fit in GPU memory (peak {} on stage {}, {} available). "
        "The layouts compared below do.",
        format_bytes(r.memory.peak_device.value), r.memory.peak_stage, format_bytes(r.memory.capacity.value))));
  }
  auto money_f = [](double v) { return money(v); };
  auto hours_f = [](double v) { return grouped(v); };
  auto energy_f = [](double v) { return energy(v); };
  auto co2_f = [](double v) { return mass_co2(v); };
  std::vector<std::vector<std::string>> cost_rows = {
      {"wall-clock time", duration_days(cost.days), duration_days(cost.days * (1 - band)), duration_days(cost.days * (1 + band))},
      {"GPU-hours", grouped(cost.gpu_hours), hours_f(cost.gpu_hours * (1 - band)), hours_f(cost.gpu_hours * (1 + band))}};
  if (cost.priced)
    cost_rows.push_back({"cost (USD)", money(cost.cost_usd), money_f(cost.cost_usd * (1 - band)), money_f(cost.cost_usd * (1 + band))});
  cost_rows.push_back({"energy", energy(cost.energy_kwh), energy_f(cost.energy_kwh * (1 - band)), energy_f(cost.energy_kwh * (1 + band))});
  cost_rows.push_back({"CO2", mass_co2(cost.co2_kg), co2_f(cost.co2_kg * (1 - band)), co2_f(cost.co2_kg * (1 + band))});
  b.push_back(table({"", "expected", fmt::format("low (-{:.0f} %)", band * 100), fmt::format("high (+{:.0f} %)", band * 100)},
                    cost_rows, {false, true, true, true}));

  // --- scenario ---
  b.push_back(heading("Scenario"));
  b.push_back(table({"", ""},
                    {{"model", ms.name + ": " + model_line(ms)},
                     {"parameters", fmt::format("{} total ({} without embeddings)", count(sc.model.total_params()),
                                                count(sc.model.non_embedding_params()))},
                     {"training", fmt::format("sequence {}, global batch {} sequences ({} tokens), {}", tr.seq_length,
                                              tr.global_batch, count(static_cast<double>(tr.global_batch) * tr.seq_length),
                                              hardware::to_string(tr.precision))},
                     {"tokens", count(tr.tokens) + " (" + in.tokens_origin + ")"},
                     {"cluster", fmt::format("{}; {} GPUs per node, {} memory, {} TDP", cluster_text, cl.gpus_per_node,
                                             format_bytes(cl.gpu.hbm_capacity.value),
                                             fmt::format("{:.0f} W", cl.gpu.tdp.value))},
                     {"layout", layout(sc.layout) + fmt::format(", {} micro-batches per iteration", sc.micro_batches)},
                     {"iterations", grouped(tr.tokens / (static_cast<double>(tr.global_batch) * tr.seq_length))}},
                    {false, false}));

  // --- time ---
  b.push_back(heading("Time per iteration"));
  const double it = r.iteration_time_s;
  b.push_back(paragraph(fmt::format(
      "One iteration ({} tokens) takes {} on the bottleneck stage {}: {} tokens/s, {} model TFLOP/s per GPU, "
      "MFU {}, HFU {}.",
      count(static_cast<double>(tr.global_batch) * tr.seq_length), format_seconds(it), r.bottleneck_stage,
      count(r.tokens_per_s), fmt::format("{:.0f}", r.tflops_per_gpu), percent(r.mfu), percent(r.hfu))));
  const auto& t = r.time;
  const std::vector<Segment> parts = {{"compute", t.compute.value},     {"recompute", t.recompute.value},
                                      {"pipeline bubble", t.bubble.value}, {"exposed communication", t.exposed_comm.value},
                                      {"optimizer", t.optimizer.value}};
  std::vector<std::vector<std::string>> time_rows;
  for (const auto& p : parts) time_rows.push_back({p.label, format_seconds(p.value), percent(it > 0 ? p.value / it : 0)});
  time_rows.push_back({"iteration", format_seconds(it), percent(1.0)});
  b.push_back(table({"part", "time", "share"}, time_rows, {false, true, true}));
  b.push_back(chart(stacked_bar(parts, [](double v) { return format_seconds(v); }),
                    "Where one iteration's time goes (bottleneck pipeline stage)."));
  b.push_back(paragraph(fmt::format("Communication time, exposed or hidden behind compute: tensor-parallel {}, "
                                    "pipeline {}, data-parallel / ZeRO {}.",
                                    format_seconds(t.tp_comm.value), format_seconds(t.pp_comm.value),
                                    format_seconds(t.dp_comm.value))));

  // --- memory ---
  b.push_back(heading("Memory per GPU"));
  const auto& mem = r.memory;
  b.push_back(paragraph(fmt::format("Peak {} on pipeline stage {} of {} per GPU: {}.", format_bytes(mem.peak_device.value),
                                    mem.peak_stage, format_bytes(mem.capacity.value),
                                    mem.fits ? "fits" : "DOES NOT FIT")));
  std::vector<std::vector<std::string>> mem_rows;
  std::vector<Stack> stacks;
  for (std::size_t i = 0; i < mem.stages.size(); ++i) {
    const auto& s = mem.stages[i];
    const double other = s.device_peak.value - s.weights.value - s.gradients.value - s.optimizer.value - s.activations.value;
    mem_rows.push_back({std::to_string(s.stage), std::to_string(i < sc.stages.size() ? sc.stages[i].layers() : 0),
                        format_bytes(s.weights.value), format_bytes(s.gradients.value), format_bytes(s.optimizer.value),
                        format_bytes(s.activations.value), format_bytes(std::max(other, 0.0)),
                        format_bytes(s.device_peak.value)});
    stacks.push_back({"stage " + std::to_string(s.stage),
                      {s.weights.value / kGiB, s.gradients.value / kGiB, s.optimizer.value / kGiB,
                       s.activations.value / kGiB, std::max(other, 0.0) / kGiB}});
  }
  b.push_back(table({"stage", "layers", "weights", "gradients", "optimizer", "activations", "other", "peak"}, mem_rows,
                    {true, true, true, true, true, true, true, true}));
  b.push_back(chart(stacked_columns({"weights", "gradients", "optimizer states", "activations",
                                     "buffers, allocator, context"},
                                    stacks, mem.capacity.value / kGiB, "GPU memory " + format_bytes(mem.capacity.value),
                                    [](double gib) { return fmt::format("{:g} GiB", gib); }),
                    "Peak memory per GPU of each pipeline stage; \"other\" covers logits, workspaces, the caching "
                    "allocator's reserve, the CUDA context and communication buffers."));

  // --- layouts ---
  if (!in.layouts.empty()) {
    b.push_back(heading("Layouts compared"));
    b.push_back(paragraph(fmt::format(
        "The fastest layouts found on the same {} GPUs, beside the scenario's own layout (marked *). "
        "Days and cost are for {} tokens.",
        sc.gpus, count(tr.tokens))));
    std::vector<std::vector<std::string>> rows;
    std::vector<std::pair<std::string, double>> items;
    int highlight = -1;
    for (std::size_t i = 0; i < in.layouts.size(); ++i) {
      const auto& l = in.layouts[i];
      const std::string name = (l.is_scenario ? "* " : "") + layout(l.layout);
      rows.push_back({l.is_scenario ? "scenario" : std::to_string(i + (in.layouts.front().is_scenario ? 0 : 1)), name,
                      l.fits ? format_seconds(l.iteration_time_s) : "does not fit",
                      l.fits ? count(l.tokens_per_s) : "", l.fits ? percent(l.mfu) : "", format_bytes(l.peak_bytes),
                      l.fits ? duration_days(l.cost.days) : "", l.fits ? cost_text(l.cost) : ""});
      if (l.fits) {
        if (l.is_scenario) highlight = static_cast<int>(items.size());
        items.emplace_back(l.is_scenario ? "scenario" : "#" + rows.back().front(), l.cost.days);
      }
    }
    b.push_back(table({"#", "layout", "iteration", "tokens/s", "MFU", "peak memory", "time", "cost"}, rows,
                      {false, false, true, true, true, true, true, true}));
    b.push_back(chart(bars(items, [](double v) { return duration_days(v); }, highlight),
                      "Wall-clock time to train, by layout."));
  }

  // --- cluster sizes ---
  if (!in.sizes.empty()) {
    b.push_back(heading("Cluster sizes compared"));
    b.push_back(paragraph("The best layout at each cluster size (same model, batch and tokens). More GPUs finish "
                          "sooner; cost grows when efficiency falls."));
    std::vector<std::vector<std::string>> rows;
    std::vector<std::pair<std::string, double>> items;
    int highlight = -1;
    for (const auto& s : in.sizes) {
      const std::string label =
          fmt::format("{}{} node{} ({} GPUs)", s.is_scenario ? "* " : "", s.nodes, s.nodes == 1 ? "" : "s", s.gpus);
      if (!s.feasible) {
        rows.push_back({label, s.reason, "", "", "", "", ""});
        continue;
      }
      rows.push_back({label, layout(s.layout), format_seconds(s.iteration_time_s), percent(s.mfu),
                      duration_days(s.cost.days), grouped(s.cost.gpu_hours), cost_text(s.cost)});
      if (s.is_scenario) highlight = static_cast<int>(items.size());
      items.emplace_back(label, s.cost.days);
    }
    b.push_back(table({"cluster", "best layout", "iteration", "MFU", "time", "GPU-hours", "cost"}, rows,
                      {false, false, true, true, true, true, true}));
    if (!items.empty())
      b.push_back(chart(bars(items, [](double v) { return duration_days(v); }, highlight),
                        "Wall-clock time to train, by cluster size (the scenario's size marked)."));
  }

  // --- scaling law ---
  const auto& law = in.law;
  if (!law.law_name.empty()) {
    b.push_back(heading("Scaling-law position"));
    std::string text = fmt::format(
        "By {} ({}), {} parameters on {} tokens ({:.1f} tokens per parameter) use {} FLOPs (counted as {}) and "
        "reach a loss of {:.4f}. The compute-optimal allocation of the same compute is {} parameters on {} tokens "
        "({:.1f} per parameter), loss {:.4f}.",
        law.law_name, law.law_title, count(law.params), count(law.tokens), law.tokens / law.params,
        scientific(law.compute), law.counting, law.loss, count(law.optimum.params), count(law.optimum.tokens),
        law.optimum.tokens_per_param(), law.optimum.loss);
    if (!law.loss_law.empty() && law.loss_law != law.law_name) text += " Losses come from " + law.loss_law + ".";
    text += " Losses are in the law's own units (its data and tokenizer): compare them within one law only.";
    b.push_back(paragraph(text));
    b.push_back(table({"", "parameters", "tokens", "tokens/param", "compute (FLOPs)", "loss"},
                      {{"this run", count(law.params), count(law.tokens), fmt::format("{:.1f}", law.tokens / law.params),
                        scientific(law.compute), fmt::format("{:.4f}", law.loss)},
                       {"compute-optimal", count(law.optimum.params), count(law.optimum.tokens),
                        fmt::format("{:.1f}", law.optimum.tokens_per_param()), scientific(law.optimum.compute),
                        fmt::format("{:.4f}", law.optimum.loss)}},
                      {false, true, true, true, true, true}));
    b.push_back(chart(loss_vs_compute(law.frontier,
                                      {{"compute-optimal", law.optimum.compute, law.optimum.loss, false},
                                       {"this run", law.compute, law.loss, true}},
                                      "compute-optimal frontier (" + law.law_name + ")"),
                      "Loss against training compute: the frontier of compute-optimal runs and this run."));
  }

  // --- uncertainty ---
  b.push_back(heading("Uncertainty"));
  b.push_back(paragraph(fmt::format(
      "Run times come from clustersim's closed-form estimate. Against the published training runs of "
      "docs/validation.md its time error is within {:.0f} % at the 90th percentile. Days, GPU-hours, cost, energy "
      "and CO2 scale with the run time, hence the low and high columns of the cost summary. Prices move monthly "
      "and the scaling-law loss is a fit with its own error, neither included in the range.",
      band * 100)));

  // --- assumptions ---
  b.push_back(heading("Assumptions and notes"));
  std::vector<std::string> notes;
  if (in.price) {
    notes.push_back(fmt::format("Price: {} per GPU-hour, {} ({}; {}), read {}. Source: {}.",
                                money(in.price->usd_per_gpu_hour), in.price->name, in.price->pricing,
                                in.price->description, in.price->date.empty() ? "(no date)" : in.price->date,
                                in.price->source));
  }
  const auto& e = in.energy;
  notes.push_back(fmt::format("Energy = GPUs x TDP x utilisation x node overhead x hours x PUE = {} x {:.0f} W x {} x {} "
                              "x hours x {}; CO2 = energy x {} kg/kWh.",
                              sc.gpus, cl.gpu.tdp.value, e.utilisation, e.node_overhead, e.pue, e.grid_kg_per_kwh));
  notes.push_back("MFU: model FLOPs without recomputation over the dense peak of the training precision; the FLOP "
                  "convention for attention is the estimate's, below.");
  for (const auto& n : r.notes) notes.push_back(n);
  for (const auto& n : in.notes) notes.push_back(n);
  b.push_back(bullets(notes));

  if (!in.scenario_json.empty()) {
    b.push_back(heading("Appendix: scenario"));
    b.push_back(code(in.scenario_json));
  }
  return d;
}

}  // namespace clustersim::report
