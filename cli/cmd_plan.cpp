// `clustersim plan`: from a budget (FLOPs, dollars, GPU-hours, a deadline or a target loss) or a fixed
// model, the compute-optimal model and tokens of a scaling law, and on a cluster the best layouts and the
// run's days, GPU-hours, cost, energy and CO2.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/cli_common.hpp"
#include "common/format.hpp"
#include "presets/laws_json.hpp"
#include "presets/prices_json.hpp"
#include "presets/scenario_json.hpp"
#include "presets/units.hpp"
#include "report/text.hpp"
#include "sim/budget.hpp"

namespace clustersim::cli {

using nlohmann::json;

namespace {

struct PlanOptions {
  std::string compute, budget, price, law = presets::kDefaultLaw, model, cluster, precision = "bf16";
  std::optional<double> gpu_hours, days, target_loss, params, tokens, unique_tokens;
  std::optional<double> pue, grid, utilisation, node_overhead;
  std::optional<int> nodes, gpus;
  std::int64_t seq_length = 4096;
  std::optional<std::int64_t> global_batch;
  int top = 3;
  bool exact_flops = false, as_json = false, list_laws = false, list_prices = false, no_compare = false;
};

void list_laws() {
  for (const auto& p : presets::law_presets()) {
    std::cout << fmt::format("{:<26}{}{}\n", p.name, p.title, p.name == presets::kDefaultLaw ? "  [default]" : "");
    if (!p.aliases.empty()) std::cout << fmt::format("{:<26}aliases: {}\n", "", clustersim::join(p.aliases));
  }
}

void list_prices() {
  std::cout << fmt::format("{:<30}{:<11}{:<10}{:>9}  {}\n", "name", "gpu", "pricing", "$/GPU-h", "offer, date read");
  for (const auto& p : presets::price_presets()) {
    std::cout << fmt::format("{:<30}{:<11}{:<10}{:>9.4g}  {}, read {}{}\n", p.price.name, p.gpu, p.price.pricing,
                             p.price.usd_per_gpu_hour, p.price.description, p.price.date,
                             p.default_for_gpu ? "  [default for " + p.gpu + "]" : "");
  }
}

json layout_json(const sim::LayoutCandidate& c) {
  const auto& L = c.layout;
  return {{"tp", L.tp},
          {"pp", L.pp},
          {"dp", L.dp},
          {"sequence_parallel", L.sequence_parallel},
          {"micro_batch", L.micro_batch},
          {"virtual_stages", L.virtual_stages},
          {"schedule", strategies::to_string(L.schedule)},
          {"zero", L.zero},
          {"recompute", strategies::to_string(L.recompute)},
          {"iteration_time_s", c.report.iteration_time_s},
          {"tokens_per_s", c.report.tokens_per_s},
          {"mfu", c.report.mfu},
          {"peak_memory_bytes", c.report.memory.peak_device.value}};
}

// Every bundled law's optimum at the same compute (the refit and the rounded constants side by side).
std::vector<std::pair<std::string, sim::Allocation>> law_comparison(double compute, std::optional<double> unique) {
  std::vector<std::pair<std::string, sim::Allocation>> out;
  for (const auto& p : presets::law_presets()) {
    auto l = presets::find_law(p.name);
    if (l) out.emplace_back(p.name, sim::optimal_allocation(*l, compute, {}, unique));
  }
  return out;
}

Expected<sim::PlanRequest> request_from(const PlanOptions& o) {
  sim::PlanRequest rq;
  auto law = presets::find_law(o.law, "plan.law");
  if (!law) return law.error();
  rq.law = *law;
  rq.exact_flops = o.exact_flops;
  if (!o.compute.empty()) {
    auto c = presets::parse_number(o.compute, "plan.compute");
    if (!c) return c.error();
    rq.compute_flops = *c;
  }
  if (!o.budget.empty()) {
    auto b = presets::parse_usd(o.budget, "plan.budget");
    if (!b) return b.error();
    rq.budget_usd = *b;
  }
  rq.gpu_hours = o.gpu_hours;
  rq.deadline_days = o.days;
  rq.target_loss = o.target_loss;
  rq.params = o.params;
  rq.tokens = o.tokens;
  rq.unique_tokens = o.unique_tokens;
  rq.seq_length = o.seq_length;
  rq.global_batch = o.global_batch;
  rq.top_k = o.top;
  auto precision = hardware::parse_precision(o.precision);
  if (!precision) return invalid("plan.precision", "'" + o.precision + "' is not one of bf16, fp16, fp8, fp32");
  rq.precision = *precision;
  if (!o.model.empty()) {
    auto spec = presets::model_from_json(json(o.model), "plan.model");
    if (!spec) return spec.error();
    auto m = model::validate_model(*spec);
    if (!m) return m.error();
    rq.model = *m;
  }
  if (!o.cluster.empty()) {
    auto c = presets::cluster_from_json(json(o.cluster), "plan.cluster");
    if (!c) return c.error();
    if (o.nodes && o.gpus) return invalid("plan.gpus", "give --nodes or --gpus, not both");
    if (o.nodes) {
      if (*o.nodes <= 0) return invalid("plan.nodes", "must be positive, got " + std::to_string(*o.nodes));
      c->nodes = *o.nodes;
    }
    if (o.gpus) {
      if (*o.gpus <= 0 || *o.gpus % c->gpus_per_node != 0)
        return invalid("plan.gpus", std::to_string(*o.gpus) + " is not a positive multiple of the " +
                                        std::to_string(c->gpus_per_node) + " GPUs per node of " + c->name);
      c->nodes = *o.gpus / c->gpus_per_node;
    }
    rq.nodes_given = o.nodes || o.gpus;
    rq.cluster = *c;
    if (o.price.empty()) {
      rq.price = presets::default_price_for_gpu(c->gpu.name);
    }
  } else if (o.nodes || o.gpus) {
    return invalid("plan.cluster", "--nodes and --gpus need --cluster");
  }
  if (!o.price.empty()) {
    auto p = presets::find_price(o.price, "plan.price");
    if (!p) return p.error();
    rq.price = *p;
  }
  rq.energy = presets::default_energy();
  if (o.pue) rq.energy.pue = *o.pue;
  if (o.grid) rq.energy.grid_kg_per_kwh = *o.grid;
  if (o.utilisation) rq.energy.utilisation = *o.utilisation;
  if (o.node_overhead) rq.energy.node_overhead = *o.node_overhead;
  return rq;
}

json plan_json(const sim::PlanRequest& rq, const sim::PlanResult& r, const PlanOptions& o) {
  const auto& a = r.allocation;
  json j;
  j["law"] = rq.law.name;
  j["law_title"] = rq.law.title;
  j["law_constants"] = presets::law_to_json(rq.law);
  j["loss_law"] = rq.law.loss_from.empty() ? rq.law.name : rq.law.loss_from;
  j["budget"] = r.budget;
  j["compute_flops"] = a.compute;
  j["compute_counting"] = r.counting;
  j["params"] = a.params;
  j["params_counted"] = rq.law.non_embedding_params ? "non-embedding" : "total";
  j["tokens"] = a.tokens;
  j["tokens_per_param"] = a.tokens_per_param();
  j["loss"] = a.loss;
  const auto& m = *r.model;
  j["model"] = presets::model_to_json(m.spec());
  j["model"]["params_total"] = m.total_params();
  j["model"]["shape_rule"] = r.shaped ? json(sim::describe(rq.shape)) : json(nullptr);
  if (r.hyper)
    j["hyper_parameters"] = {{"batch_tokens", r.hyper->batch_tokens}, {"learning_rate", r.hyper->learning_rate},
                             {"source", "DeepSeek LLM 2024 (arXiv:2401.02954 sec. 3.1)"}};
  if (r.data)
    j["data"] = {{"unique_tokens", r.data->unique_tokens}, {"epochs", r.data->epochs},
                 {"effective_tokens", r.data->effective_tokens}, {"effective_params", r.data->effective_params},
                 {"loss_fresh", r.data->loss_fresh}, {"loss_penalty", r.data->penalty()}};
  if (r.run) {
    const auto& run = *r.run;
    const auto& c = run.cost;
    j["cluster"] = run.cluster.name;
    j["nodes"] = run.cluster.nodes;
    j["gpus"] = c.gpus;
    j["gpu"] = run.cluster.gpu.name;
    j["training"] = {{"seq_length", run.training.seq_length}, {"global_batch", run.training.global_batch},
                     {"precision", hardware::to_string(run.training.precision)}};
    json layouts = json::array();
    for (const auto& l : run.search.best) layouts.push_back(layout_json(l));
    j["layouts"] = layouts;
    j["layout_search"] = {{"candidates", run.search.candidates}, {"invalid", run.search.invalid},
                          {"out_of_memory", run.search.out_of_memory}};
    j["tokens_per_s"] = run.tokens_per_s;
    j["days"] = c.days;
    j["gpu_hours"] = c.gpu_hours;
    j["cost_usd"] = c.priced ? json(c.cost_usd) : json(nullptr);
    j["price"] = rq.price ? presets::price_to_json(*rq.price) : json(nullptr);
    j["energy_kwh"] = c.energy_kwh;
    j["co2_kg"] = c.co2_kg;
    j["energy"] = presets::energy_to_json(rq.energy);
    j["energy"]["gpu_tdp_w"] = run.cluster.gpu.tdp.value;
    const double band = sim::kIterationTimeErrorP90;
    auto span = [&](double v) { return json::array({v * (1 - band), v * (1 + band)}); };
    j["uncertainty"] = {{"time_p90_relative", band},
                        {"days", span(c.days)},
                        {"gpu_hours", span(c.gpu_hours)},
                        {"cost_usd", c.priced ? span(c.cost_usd) : json(nullptr)},
                        {"source", "p90 time error against published runs; see docs/validation.md"}};
    if (run.budget_iterations > 0) j["budget_iterations"] = run.budget_iterations;
  }
  if (!o.no_compare) {
    json cmp = json::array();
    for (const auto& [name, al] : law_comparison(a.compute, rq.unique_tokens))
      cmp.push_back({{"law", name}, {"params", al.params}, {"tokens", al.tokens},
                     {"tokens_per_param", al.tokens_per_param()}, {"loss", al.loss}});
    j["law_comparison"] = cmp;
  }
  j["notes"] = r.notes;
  return j;
}

void print_plan(const sim::PlanRequest& rq, const sim::PlanResult& r, const PlanOptions& o) {
  using report::count;
  using report::scientific;
  const auto& a = r.allocation;
  const auto& m = *r.model;
  const auto& s = m.spec();
  auto row = [](const char* k, const std::string& v) { std::cout << fmt::format("{:<16}{}\n", k, v); };
  std::cout << "Scaling-law plan, law " << rq.law.name << ": " << rq.law.title << "\n\n";
  row("compute", scientific(a.compute) + " FLOPs (counted as " + r.counting + ")");
  row("model", fmt::format("{} parameters{} on {} tokens ({:.1f} tokens per parameter)", count(a.params),
                           rq.law.non_embedding_params ? " (non-embedding)" : "", count(a.tokens), a.tokens_per_param()));
  row("predicted loss", fmt::format("{:.4f} nats/token{}", a.loss,
                                    rq.law.loss_from.empty() ? "" : " (loss of " + rq.law.loss_from + ")"));
  row("shape", fmt::format("{}: {} layers, hidden {}, {} heads, FFN {} ({}), vocabulary {}, {} parameters{}", s.name,
                           s.layers, s.hidden, s.heads, s.ffn_hidden, model::to_string(s.mlp), s.vocab,
                           count(m.total_params()), r.shaped ? " (shape rule)" : ""));
  if (r.hyper)
    row("hyper-params", fmt::format("batch {} tokens, peak learning rate {:.3g} (DeepSeek LLM 2024 laws)",
                                    count(r.hyper->batch_tokens), r.hyper->learning_rate));
  if (r.data)
    row("data", fmt::format("{} unique tokens: {:.2f} epochs, worth {} fresh tokens; loss {:+.4f} against fresh data",
                            count(r.data->unique_tokens), r.data->epochs, count(r.data->effective_tokens),
                            r.data->penalty()));
  if (r.run) {
    const auto& run = *r.run;
    const auto& c = run.cost;
    const auto& cl = run.cluster;
    const double band = sim::kIterationTimeErrorP90;
    std::cout << "\n";
    row("cluster", fmt::format("{} x {} ({} x {}), {}, sequence {}, global batch {}", cl.nodes, cl.name, c.gpus,
                               cl.gpu.name, hardware::to_string(run.training.precision), run.training.seq_length,
                               run.training.global_batch));
    std::cout << fmt::format("best layouts ({} tried, {} invalid, {} out of memory)\n", run.search.candidates,
                             run.search.invalid, run.search.out_of_memory);
    std::cout << fmt::format("  {:>2}  {:<74}{:>11}{:>11}{:>8}{:>11}\n", "#", "layout", "iteration", "tokens/s", "MFU",
                             "memory");
    for (std::size_t i = 0; i < run.search.best.size(); ++i) {
      const auto& l = run.search.best[i];
      std::cout << fmt::format("  {:>2}  {:<74}{:>11}{:>11}{:>8}{:>11}\n", i + 1, report::layout(l.layout),
                               presets::format_seconds(l.report.iteration_time_s), count(l.report.tokens_per_s),
                               report::percent(l.report.mfu), presets::format_bytes(l.report.memory.peak_device.value));
    }
    row("run", fmt::format("{} ({} to {}), {} GPU-hours", report::duration_days(c.days),
                           report::duration_days(c.days * (1 - band)), report::duration_days(c.days * (1 + band)),
                           report::grouped(c.gpu_hours)));
    if (c.priced) {
      row("cost", fmt::format("{} ({} to {}) at {}/GPU-hour: {}, {}", report::money(c.cost_usd),
                              report::money(c.cost_usd * (1 - band)), report::money(c.cost_usd * (1 + band)),
                              report::money(rq.price->usd_per_gpu_hour), rq.price->name,
                              rq.price->date.empty() ? "user price, no date" : "price read " + rq.price->date));
    } else {
      row("cost", "no price for " + cl.gpu.name + " (give --price NAME|USD)");
    }
    const auto& e = rq.energy;
    row("energy", fmt::format("{} = {} GPUs x {:.0f} W x utilisation {} x node overhead {} x PUE {}", report::energy(c.energy_kwh),
                              c.gpus, cl.gpu.tdp.value, e.utilisation, e.node_overhead, e.pue));
    row("CO2", fmt::format("{} at {} kg/kWh", report::mass_co2(c.co2_kg), e.grid_kg_per_kwh));
    row("uncertainty", fmt::format("+/-{:.0f} % on time and cost (p90 time error against published runs, docs/validation.md)",
                                   band * 100));
  }
  if (!o.no_compare) {
    std::cout << fmt::format("\nevery law at {} FLOPs (6ND)\n", scientific(a.compute));
    std::cout << fmt::format("  {:<26}{:>10}{:>10}{:>14}{:>9}\n", "law", "params", "tokens", "tokens/param", "loss");
    for (const auto& [name, al] : law_comparison(a.compute, rq.unique_tokens))
      std::cout << fmt::format("  {:<26}{:>10}{:>10}{:>14.1f}{:>9.4f}\n", name, count(al.params), count(al.tokens),
                               al.tokens_per_param(), al.loss);
    std::cout << "  (losses are in each law's own units, its data and tokenizer: compare within a law;\n"
                 "   kaplan2020 counts parameters without embeddings)\n";
  }
  if (!r.notes.empty()) std::cout << "\n";
  for (const auto& n : r.notes) std::cout << "note: " << n << "\n";
}

int run_plan(const PlanOptions& o) {
  if (o.list_laws) {
    list_laws();
    return kExitOk;
  }
  if (o.list_prices) {
    list_prices();
    return kExitOk;
  }
  auto rq = request_from(o);
  if (!rq) return report_error(rq.error());
  auto plan = sim::make_plan(*rq);
  if (!plan) return report_error(plan.error());
  if (o.as_json) std::cout << plan_json(*rq, *plan, o).dump(2) << "\n";
  else print_plan(*rq, *plan, o);
  return kExitOk;
}

Command add_plan_command(CLI::App& app) {
  auto o = std::make_shared<PlanOptions>();
  auto* cmd = app.add_subcommand(
      "plan", "Scaling-law plan: the compute-optimal model and tokens for a budget, and on a cluster the best layouts "
              "and the run's days, GPU-hours, cost, energy and CO2");
  cmd->add_option("--compute", o->compute, "Budget in training FLOPs, e.g. 5.9e23");
  cmd->add_option("--budget", o->budget, "Budget in US dollars, e.g. 2e6, '$1.5M', '250k USD' (needs a price)");
  cmd->add_option("--gpu-hours", o->gpu_hours, "Budget in GPU-hours (needs --cluster)");
  cmd->add_option("--days", o->days,
                  "Deadline in days: alone, the budget is the cluster for that long; with another budget it sizes the "
                  "cluster (powers of two nodes)");
  cmd->add_option("--target-loss", o->target_loss, "The loss to reach: the compute it takes on the frontier");
  cmd->add_option("--model", o->model, "A fixed model preset (costs for --tokens, or the law's tokens for it)");
  cmd->add_option("--params", o->params, "A fixed parameter count (the shape rule builds the model)");
  cmd->add_option("--tokens", o->tokens, "Training tokens for --model or --params");
  cmd->add_option("--unique-tokens", o->unique_tokens,
                  "Unique tokens available: epochs and the data-constrained loss penalty (Muennighoff et al. 2023)");
  cmd->add_option("--cluster", o->cluster, "Cluster preset (e.g. dgx-h100)");
  cmd->add_option("--nodes", o->nodes, "Nodes of the cluster (default: the preset's, or sized by --days)");
  cmd->add_option("--gpus", o->gpus, "GPUs of the cluster (a multiple of its GPUs per node)");
  cmd->add_option("--price", o->price,
                  "Price preset name or USD per GPU-hour (default: the GPU's default preset; --list-prices)");
  cmd->add_option("--law", o->law, std::string("Scaling law (default ") + presets::kDefaultLaw + "; --list-laws)");
  cmd->add_flag("--exact-flops", o->exact_flops,
                "Count compute from the model's exact FLOPs (attention, LM head) instead of 6ND");
  cmd->add_option("--seq-length", o->seq_length, "Sequence length (default 4096)");
  cmd->add_option("--global-batch", o->global_batch,
                  "Global batch in sequences (default: DeepSeek LLM batch law, nearest power of two)");
  cmd->add_option("--precision", o->precision, "bf16 | fp16 | fp8 | fp32 (default bf16)");
  cmd->add_option("--pue", o->pue, "Data-centre PUE (default 1.2)");
  cmd->add_option("--grid", o->grid, "Grid carbon intensity in kg CO2 per kWh (default 0.39, US 2022)");
  cmd->add_option("--utilisation", o->utilisation, "Average GPU power / TDP, (0, 1] (default 1.0)");
  cmd->add_option("--node-overhead", o->node_overhead, "Node power / GPU power, >= 1 (default 1.0: GPUs only)");
  cmd->add_option("--top", o->top, "Layouts to show (default 3)");
  cmd->add_flag("--json", o->as_json, "Print the plan as JSON");
  cmd->add_flag("--list-laws", o->list_laws, "List the bundled scaling laws and exit");
  cmd->add_flag("--list-prices", o->list_prices, "List the bundled dated prices and exit");
  cmd->add_flag("--no-compare", o->no_compare, "Leave out the table of every law at the same compute");
  return {cmd, [o]() { return run_plan(*o); }};
}

}  // namespace

static const CommandRegistrar kRegisterPlan{"plan", 40, &add_plan_command};

}  // namespace clustersim::cli
