// `clustersim report SCENARIO.json -o OUT.md|OUT.html|OUT.pdf`: a budget report a budget owner can
// forward: the scenario, its cost, time and memory, the best layouts and cluster sizes, where it sits on a
// scaling law, and the uncertainty of it all.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/cli_common.hpp"
#include "presets/laws_json.hpp"
#include "presets/prices_json.hpp"
#include "presets/scenario_json.hpp"
#include "report/writers.hpp"
#include "sim/analytical.hpp"

namespace clustersim::cli {

using nlohmann::json;

namespace {

struct ReportOptions {
  std::string file, out, price, law = presets::kDefaultLaw;
  std::optional<double> pue, grid, utilisation, node_overhead;
  int top = 3;
  bool force = false, exact_flops = false;
  Overrides ov;
};

bool same_layout(const strategies::LayoutSpec& a, const strategies::LayoutSpec& b) {
  return a.tp == b.tp && a.pp == b.pp && a.dp == b.dp && a.sequence_parallel == b.sequence_parallel &&
         a.micro_batch == b.micro_batch && a.virtual_stages == b.virtual_stages && a.schedule == b.schedule &&
         a.zero == b.zero && a.recompute == b.recompute && a.attention == b.attention;
}

report::LayoutRow layout_row(const strategies::LayoutSpec& l, const sim::Report& r, double tokens, const hardware::ClusterSpec& c,
                             const std::optional<sim::Price>& price, const sim::EnergyAssumptions& e, bool is_scenario) {
  report::LayoutRow row;
  row.layout = l;
  row.is_scenario = is_scenario;
  row.fits = r.memory.fits;
  row.iteration_time_s = r.iteration_time_s;
  row.tokens_per_s = r.tokens_per_s;
  row.mfu = r.mfu;
  row.peak_bytes = r.memory.peak_device.value;
  row.cost = sim::training_cost(c.total_gpus(), tokens / r.tokens_per_s, c.gpu.tdp, price, e);
  return row;
}

Expected<std::string> render(const report::Document& doc, report::Format f) {
  switch (f) {
    case report::Format::markdown: return report::to_markdown(doc);
    case report::Format::html: return report::to_html(doc);
    case report::Format::pdf: return report::to_pdf(doc);
  }
  return Error{ErrorCode::internal, "-o", "unknown format"};
}

int run_report(const ReportOptions& o) {
  const auto format = report::format_for_path(o.out);
  if (!format)
    return report_error(invalid("-o", "'" + o.out + "' is not a report file: use .md, .html or .pdf"));
  if (*format == report::Format::pdf && !report::pdf_supported()) return report_error(report::to_pdf({}).error());
  std::error_code ec;
  if (std::filesystem::exists(o.out, ec) && !o.force)
    return report_error(Error{ErrorCode::io, "-o", o.out + " already exists; use --force to overwrite it"});

  json j = json::object();
  if (!o.file.empty()) {
    auto loaded = read_json_file(o.file);
    if (!loaded) return report_error(loaded.error());
    j = *loaded;
  }
  o.ov.apply(j);
  auto sc = presets::scenario_from_json(j);
  if (!sc) return report_error(sc.error());
  auto law = presets::find_law(o.law, "report.law");
  if (!law) return report_error(law.error());
  std::optional<sim::Price> price;
  if (!o.price.empty()) {
    auto p = presets::find_price(o.price, "report.price");
    if (!p) return report_error(p.error());
    price = *p;
  } else {
    price = presets::default_price_for_gpu(sc->cluster.gpu.name);
  }
  sim::EnergyAssumptions energy = presets::default_energy();
  if (o.pue) energy.pue = *o.pue;
  if (o.grid) energy.grid_kg_per_kwh = *o.grid;
  if (o.utilisation) energy.utilisation = *o.utilisation;
  if (o.node_overhead) energy.node_overhead = *o.node_overhead;
  if (auto e = sim::validate_energy(energy); !e) return report_error(e.error());
  if (o.top <= 0) return report_error(invalid("report.top", "must be positive, got " + std::to_string(o.top)));

  const auto& m = sc->model;
  const double n = law->non_embedding_params ? m.non_embedding_params() : m.total_params();
  sim::ComputeCounting counting;
  if (o.exact_flops) {
    const double per_token = sim::model_flops_per_token(m, sc->training.seq_length);
    const double total = n;
    counting.name = "model FLOPs of " + m.spec().name + " (attention non-causal, LM head included)";
    counting.flops_per_token = [per_token, total](double x) { return per_token * x / total; };
  }
  std::vector<std::string> notes;
  std::string tokens_origin = "from the scenario";
  if (!(sc->training.tokens > 0)) {
    sc->training.tokens = sim::optimal_tokens_for_params(*law, n, counting).tokens;
    tokens_origin = "compute-optimal for this model by " + law->name + "; the scenario gives no training.tokens";
  }
  const double tokens = sc->training.tokens;

  report::ReportInputs in{.scenario = *sc, .report = sim::estimate(*sc)};
  const auto& r = in.report;
  in.title = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>() : std::string();
  in.generator = std::string("clustersim ") + CLUSTERSIM_VERSION;
  in.source = o.file;
  in.scenario_json = j.dump(2);
  in.tokens_origin = tokens_origin;
  in.price = price;
  in.energy = energy;
  in.cost = sim::training_cost(sc->gpus, tokens / r.tokens_per_s, sc->cluster.gpu.tdp, price, energy);

  // The scenario's layout, then the best the search finds on the same cluster.
  in.layouts.push_back(layout_row(sc->layout, r, tokens, sc->cluster, price, energy, true));
  const auto search = sim::best_layouts(m, sc->cluster, sc->training, o.top);
  for (const auto& c : search.best) {
    if (same_layout(c.layout, sc->layout)) continue;
    in.layouts.push_back(layout_row(c.layout, c.report, tokens, sc->cluster, price, energy, false));
  }
  // Cluster sizes around the scenario's: a quarter, half, the same, twice and four times the nodes.
  const int nodes = sc->cluster.nodes;
  std::vector<int> counts;
  for (int k : {nodes / 4, nodes / 2, nodes, nodes * 2, nodes * 4})
    if (k >= 1 && (counts.empty() || counts.back() != k)) counts.push_back(k);
  for (const auto& s : sim::compare_cluster_sizes(m, sc->cluster, sc->training, counts, price, energy)) {
    report::SizeRow row;
    row.nodes = s.nodes;
    row.gpus = s.gpus;
    row.is_scenario = s.nodes == nodes;
    row.feasible = s.best.has_value();
    row.reason = s.reason;
    if (s.best) {
      row.layout = s.best->layout;
      row.iteration_time_s = s.best->report.iteration_time_s;
      row.mfu = s.best->report.mfu;
    }
    row.cost = s.cost;
    in.sizes.push_back(row);
  }

  // Scaling-law position: this run, the optimum of the same compute, and the frontier around it.
  auto& pos = in.law;
  pos.law_name = law->name;
  pos.law_title = law->title;
  pos.loss_law = law->loss_from.empty() ? law->name : law->loss_from;
  pos.counting = counting.name;
  pos.params = n;
  pos.tokens = tokens;
  pos.compute = counting.per_token(n) * tokens;
  pos.loss = sim::loss_at(*law, n, tokens);
  pos.optimum = sim::optimal_allocation(*law, pos.compute, counting);
  for (int i = -30; i <= 30; ++i) {
    const double c = pos.compute * std::pow(10.0, i / 10.0);
    pos.frontier.emplace_back(c, sim::optimal_allocation(*law, c, counting).loss);
  }
  if (law->non_embedding_params) notes.push_back(law->name + " counts parameters without the embeddings");
  notes.push_back(fmt::format("Layout search: {} layouts tried, {} invalid, {} out of memory.", search.candidates,
                              search.invalid, search.out_of_memory));
  in.notes = notes;

  const auto doc = report::build_document(in);
  auto bytes = render(doc, *format);
  if (!bytes) return report_error(bytes.error());
  {
    std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
    if (!f) return report_error(Error{ErrorCode::io, "-o", "cannot write " + o.out});
    f.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    if (!f) return report_error(Error{ErrorCode::io, "-o", "writing " + o.out + " failed"});
  }
  std::cout << fmt::format("wrote {} ({} bytes)\n", o.out, bytes->size());
  if (!r.memory.fits) {
    std::cerr << fmt::format("infeasible: the scenario's layout needs {:.1f} GiB per GPU on stage {}, {:.1f} GiB "
                             "available; the report lists layouts that fit\n",
                             r.memory.peak_device.value / kGiB, r.memory.peak_stage, r.memory.capacity.value / kGiB);
    return kExitInfeasible;
  }
  return kExitOk;
}

Command add_report_command(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report",
                                 "Budget report of a scenario as Markdown, HTML (inline SVG charts) or PDF: cost, time "
                                 "and memory, best layouts and cluster sizes, scaling-law position, uncertainty");
  cmd->add_option("scenario", o->file, "Scenario JSON file (see INTERFACES.md)");
  cmd->add_option("-o,--output", o->out, "Output file: .md, .html or .pdf")->required();
  cmd->add_flag("--force", o->force, "Overwrite the output file if it exists");
  cmd->add_option("--price", o->price, "Price preset name or USD per GPU-hour (default: the GPU's default preset)");
  cmd->add_option("--law", o->law, std::string("Scaling law (default ") + presets::kDefaultLaw + ")");
  cmd->add_flag("--exact-flops", o->exact_flops, "Count compute from the model's exact FLOPs instead of 6ND");
  cmd->add_option("--pue", o->pue, "Data-centre PUE (default 1.2)");
  cmd->add_option("--grid", o->grid, "Grid carbon intensity in kg CO2 per kWh (default 0.39)");
  cmd->add_option("--utilisation", o->utilisation, "Average GPU power / TDP, (0, 1] (default 1.0)");
  cmd->add_option("--node-overhead", o->node_overhead, "Node power / GPU power, >= 1 (default 1.0)");
  cmd->add_option("--top", o->top, "Best layouts to compare (default 3)");
  o->ov.add(cmd);
  return {cmd, [o]() {
            if (o->file.empty() && !o->ov.names_model_and_cluster()) {
              std::cerr << "error: report needs a scenario file, or --model, --cluster and the training flags\n";
              return kExitInput;
            }
            return run_report(*o);
          }};
}

}  // namespace

static const CommandRegistrar kRegisterReport{"report", 45, &add_report_command};

}  // namespace clustersim::cli
