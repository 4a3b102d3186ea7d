// Budgets: cost arithmetic, energy and CO2 by hand, the shape rule, the layout search and plans.
#include <catch2/catch.hpp>

#include <cmath>

#include "presets/laws_json.hpp"
#include "presets/prices_json.hpp"
#include "presets/scenario_json.hpp"
#include "sim/budget.hpp"

using namespace clustersim;

namespace {
hardware::ClusterSpec cluster(const char* name, int nodes) {
  auto c = presets::cluster_from_json(nlohmann::json(name));
  REQUIRE(c.has_value());
  c->nodes = nodes;
  return *c;
}
sim::ScalingLaw default_law() { return *presets::find_law(presets::kDefaultLaw); }
sim::Price price(double usd) { return sim::Price{"user", usd, "", "user", "", ""}; }
}  // namespace

TEST_CASE("Cost is GPU-hours times the price, exactly", "[budget]") {
  // 1024 GPUs for 1 day = 24576 GPU-hours; at 6.88 $/GPU-hour: 169082.88 $.
  const auto c = sim::training_cost(1024, 86400.0, Watts(700), price(6.88), sim::EnergyAssumptions{});
  CHECK(c.days == 1.0);
  CHECK(c.gpu_hours == 24576.0);
  CHECK(c.priced);
  CHECK(c.cost_usd == 24576.0 * 6.88);
  const auto unpriced = sim::training_cost(8, 3600.0, Watts(700), std::nullopt, sim::EnergyAssumptions{});
  CHECK_FALSE(unpriced.priced);
  CHECK(unpriced.cost_usd == 0.0);
}

TEST_CASE("Energy and CO2 against a hand calculation", "[budget]") {
  // 1024 x 700 W = 716.8 kW of GPUs, x 24 h = 17203.2 kWh, x PUE 1.2 = 20643.84 kWh; x 0.39 kg/kWh = 8051.0976 kg.
  const auto c = sim::training_cost(1024, 86400.0, Watts(700), std::nullopt, sim::EnergyAssumptions{});
  CHECK(c.energy_kwh == Approx(20643.84).epsilon(1e-12));
  CHECK(c.co2_kg == Approx(8051.0976).epsilon(1e-12));
  // Utilisation 0.75 and node overhead 1.4 scale it by 1.05: 20643.84 x 1.05 = 21676.032 kWh; a grid of
  // 0.1 kg/kWh gives 2167.6032 kg; PUE 1.1 instead of 1.2 scales by 1.1/1.2: 19869.696 kWh.
  sim::EnergyAssumptions e;
  e.utilisation = 0.75;
  e.node_overhead = 1.4;
  e.grid_kg_per_kwh = 0.1;
  const auto d = sim::training_cost(1024, 86400.0, Watts(700), std::nullopt, e);
  CHECK(d.energy_kwh == Approx(21676.032).epsilon(1e-12));
  CHECK(d.co2_kg == Approx(2167.6032).epsilon(1e-12));
  e.pue = 1.1;
  CHECK(sim::training_cost(1024, 86400.0, Watts(700), std::nullopt, e).energy_kwh ==
        Approx(19869.696).epsilon(1e-12));
}

TEST_CASE("Energy assumptions are validated field by field", "[budget]") {
  sim::EnergyAssumptions e;
  SECTION("PUE below 1") {
    e.pue = 0.9;
    CHECK(sim::validate_energy(e).error().path == "energy.pue");
  }
  SECTION("negative grid intensity") {
    e.grid_kg_per_kwh = -0.1;
    CHECK(sim::validate_energy(e).error().path == "energy.grid_kg_per_kwh");
  }
  SECTION("utilisation above 1") {
    e.utilisation = 1.5;
    CHECK(sim::validate_energy(e).error().path == "energy.utilisation");
  }
  SECTION("utilisation zero") {
    e.utilisation = 0;
    CHECK(sim::validate_energy(e).error().path == "energy.utilisation");
  }
  SECTION("node overhead below 1") {
    e.node_overhead = 0.5;
    CHECK(sim::validate_energy(e).error().path == "energy.node_overhead");
  }
}

TEST_CASE("The shape rule builds dense models of the asked size", "[budget][shape]") {
  for (double n : {1e8, 1e9, 7e9, 70e9, 405e9}) {
    INFO(n);
    auto m = sim::dense_model_for_params(n);
    REQUIRE(m.has_value());
    const auto& s = m->spec();
    CHECK(m->total_params() == Approx(n).epsilon(0.05));
    CHECK(s.hidden % 128 == 0);
    CHECK(s.heads == s.hidden / 128);
    CHECK(s.heads % (s.hidden >= 1024 ? 8 : 2) == 0);
    if (s.layers >= 32) CHECK(s.layers % 4 == 0);
    const double aspect = static_cast<double>(s.hidden) / s.layers;
    CHECK(aspect >= 32);
    CHECK(aspect <= 512);
    // A layer holds 4 h^2 (attention) + 3 h f (SwiGLU) with f = 8h/3 rounded up to 256: 12 h^2 plus at most
    // 3 h 255 from the rounding (under 5 % of the layer for h >= 640).
    const double h = static_cast<double>(s.hidden);
    CHECK(m->layer_params() >= 12.0 * h * h);
    CHECK(m->layer_params() == Approx(12.0 * h * h).epsilon(0.05));
  }
  // 70B: the Llama 2 70B / Chinchilla shape (8192 x 80) has aspect 102; the rule keeps near 128.
  auto m70 = sim::dense_model_for_params(70e9);
  CHECK(static_cast<double>(m70->spec().hidden) / m70->spec().layers == Approx(128).epsilon(0.25));
  // Non-embedding counting (Kaplan): the non-embedding count matches instead.
  auto ne = sim::dense_model_for_params(1e9, {}, true);
  CHECK(ne->non_embedding_params() == Approx(1e9).epsilon(0.05));
}

TEST_CASE("The shape rule refuses sizes it cannot build", "[budget][shape]") {
  SECTION("too small") { CHECK(sim::dense_model_for_params(1e6).error().path == "plan.params"); }
  SECTION("negative") { CHECK(sim::dense_model_for_params(-1e9).error().message == "-1e+09 must be positive"); }
  SECTION("too large") { CHECK_FALSE(sim::dense_model_for_params(1e15).has_value()); }
}

TEST_CASE("Exact-FLOPs counting adds attention and the LM head to 6N", "[budget][shape]") {
  // Megatron's count per token is 6N (1 + s/(6h) + ...) for the blocks plus 6 V h for the head, so f(N) > 6N.
  const auto c = sim::model_flops_counting({}, 4096, false);
  for (double n : {1e9, 70e9}) {
    const double ratio = c.per_token(n) / (6.0 * n);
    CHECK(ratio > 1.0);
    CHECK(ratio < 1.5);
  }
  auto m = sim::dense_model_for_params(7e9);
  CHECK(c.per_token(m->total_params()) == Approx(sim::model_flops_per_token(*m, 4096)).epsilon(1e-9));
}

TEST_CASE("Best layouts: feasible, fastest first, at most k", "[budget][layouts]") {
  auto m = sim::dense_model_for_params(1e9);
  REQUIRE(m.has_value());
  strategies::TrainingSpec t;
  t.seq_length = 2048;
  t.global_batch = 256;
  t.tokens = 2e10;
  const auto s = sim::best_layouts(*m, cluster("dgx-h100", 1), t, 5);
  REQUIRE(s.best.size() == 5);
  CHECK(s.candidates >= static_cast<int>(s.best.size()) + s.invalid + s.out_of_memory);
  for (std::size_t i = 0; i < s.best.size(); ++i) {
    CHECK(s.best[i].report.memory.fits);
    CHECK(s.best[i].layout.tp * s.best[i].layout.pp * s.best[i].layout.dp == 8);
    if (i > 0) CHECK(s.best[i - 1].report.iteration_time_s <= s.best[i].report.iteration_time_s);
  }
  CHECK(s.reason.empty());
}

TEST_CASE("Best layouts explain why nothing fits", "[budget][layouts]") {
  auto m = sim::dense_model_for_params(400e9);
  strategies::TrainingSpec t;
  t.seq_length = 4096;
  t.global_batch = 64;
  const auto s = sim::best_layouts(*m, cluster("dgx-h100", 1), t, 3);
  CHECK(s.best.empty());
  CHECK(s.out_of_memory > 0);
  CHECK(s.reason.find("no layout fits in memory") != std::string::npos);
}

TEST_CASE("Global batch from a batch law in tokens", "[budget]") {
  // 4M tokens / 4096 = 1024 sequences = 2^10; fewer than one sequence rounds up to 1.
  CHECK(sim::global_batch_for_tokens(4.0 * 1024 * 1024, 4096) == 1024);
  CHECK(sim::global_batch_for_tokens(1.0, 4096) == 1);
  // log2(1.5e6 / 4096 = 366.2) = 8.52 rounds to 9: 512 sequences.
  CHECK(sim::global_batch_for_tokens(1.5e6, 4096) == 512);
}

TEST_CASE("A compute plan without a cluster is the law alone", "[budget][plan]") {
  sim::PlanRequest rq;
  rq.law = default_law();
  rq.compute_flops = 5.88e23;
  auto p = sim::make_plan(rq);
  REQUIRE(p.has_value());
  CHECK(p->budget == "compute");
  CHECK(p->counting == "6ND");
  CHECK(p->allocation.params == Approx(sim::optimal_allocation(rq.law, 5.88e23).params));
  CHECK(p->allocation.tokens_per_param() == Approx(18.4).margin(0.1));
  REQUIRE(p->model.has_value());
  CHECK(p->model->total_params() == Approx(p->allocation.params).epsilon(0.05));
  CHECK_FALSE(p->run.has_value());
  REQUIRE(p->hyper.has_value());
}

TEST_CASE("A plan on a cluster costs the best layout's run exactly", "[budget][plan]") {
  sim::PlanRequest rq;
  rq.law = default_law();
  rq.compute_flops = 1e21;
  rq.cluster = cluster("dgx-h100", 4);
  rq.nodes_given = true;
  rq.price = price(6.88);
  auto p = sim::make_plan(rq);
  REQUIRE(p.has_value());
  REQUIRE(p->run.has_value());
  const auto& run = *p->run;
  REQUIRE_FALSE(run.search.best.empty());
  CHECK(run.cost.gpus == 32);
  // seconds = D / (tokens/s); GPU-hours = seconds / 3600 x 32; cost = GPU-hours x 6.88.
  CHECK(run.cost.seconds == Approx(p->allocation.tokens / run.tokens_per_s).epsilon(1e-12));
  CHECK(run.cost.gpu_hours == Approx(run.cost.seconds / 3600.0 * 32).epsilon(1e-12));
  CHECK(run.cost.cost_usd == run.cost.gpu_hours * 6.88);
  CHECK(run.cost.energy_kwh == Approx(32 * 700.0 * run.cost.seconds / 3600.0 * 1.2 / 1000.0).epsilon(1e-12));
}

TEST_CASE("A dollar budget buys what it pays for", "[budget][plan]") {
  // $20,000 at 2.5 $/GPU-hour = 8000 GPU-hours; the fixed point spends them: cost within 1 %.
  sim::PlanRequest rq;
  rq.law = default_law();
  rq.budget_usd = 20000;
  rq.cluster = cluster("dgx-h100", 2);
  rq.nodes_given = true;
  rq.price = price(2.5);
  auto p = sim::make_plan(rq);
  REQUIRE(p.has_value());
  CHECK(p->budget == "usd");
  REQUIRE(p->run.has_value());
  CHECK(p->run->cost.cost_usd == Approx(20000).epsilon(0.01));
  CHECK(p->run->cost.gpu_hours == Approx(8000).epsilon(0.01));
  CHECK(p->run->budget_iterations >= 1);
}

TEST_CASE("A deadline with a dollar budget sizes the cluster", "[budget][plan]") {
  // 8000 GPU-hours in 7 days needs 8000 / 168 = 47.6 GPUs = 5.95 nodes -> 8 nodes (a power of two).
  sim::PlanRequest rq;
  rq.law = default_law();
  rq.budget_usd = 20000;
  rq.deadline_days = 7;
  rq.cluster = cluster("dgx-h100", 1);
  rq.price = price(2.5);
  auto p = sim::make_plan(rq);
  REQUIRE(p.has_value());
  CHECK(p->run->cluster.nodes == 8);
  CHECK(p->run->cost.days <= 7.0);
}

TEST_CASE("A fixed model and token count gives the same costs", "[budget][plan]") {
  auto spec = presets::model_from_json(nlohmann::json("llama2-7b"));
  auto m = model::validate_model(*spec);
  sim::PlanRequest rq;
  rq.law = default_law();
  rq.model = *m;
  rq.tokens = 2e12;
  rq.unique_tokens = 5e11;
  auto p = sim::make_plan(rq);
  REQUIRE(p.has_value());
  CHECK(p->budget == "model");
  CHECK(p->allocation.compute == Approx(6.0 * m->total_params() * 2e12).epsilon(1e-12));
  REQUIRE(p->data.has_value());
  CHECK(p->data->epochs == 4.0);
  CHECK(p->allocation.loss == p->data->loss);
  CHECK(p->data->penalty() > 0);
  CHECK_FALSE(p->shaped);
}

TEST_CASE("Bad budgets give clear errors", "[budget][plan]") {
  sim::PlanRequest rq;
  rq.law = default_law();
  SECTION("negative compute") {
    rq.compute_flops = -5;
    auto p = sim::make_plan(rq);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().what() == "plan.compute: -5 must be positive");
  }
  SECTION("zero dollars") {
    rq.budget_usd = 0;
    CHECK(sim::make_plan(rq).error().what() == "plan.budget: 0 must be positive");
  }
  SECTION("negative GPU-hours") {
    rq.gpu_hours = -1;
    CHECK(sim::make_plan(rq).error().path == "plan.gpu_hours");
  }
  SECTION("zero days") {
    rq.deadline_days = 0;
    CHECK(sim::make_plan(rq).error().path == "plan.days");
  }
  SECTION("no budget") { CHECK(sim::make_plan(rq).error().path == "plan.budget"); }
  SECTION("two budgets") {
    rq.compute_flops = 1e22;
    rq.gpu_hours = 1000;
    auto p = sim::make_plan(rq);
    CHECK(p.error().path == "plan.budget");
    CHECK(p.error().message.find("compute, gpu-hours") != std::string::npos);
  }
  SECTION("dollars without a price") {
    rq.budget_usd = 1e6;
    rq.cluster = cluster("dgx-h100", 1);
    CHECK(sim::make_plan(rq).error().path == "plan.price");
  }
  SECTION("dollars without a cluster") {
    rq.budget_usd = 1e6;
    rq.price = price(2);
    CHECK(sim::make_plan(rq).error().path == "plan.cluster");
  }
  SECTION("zero unique tokens") {
    rq.compute_flops = 1e22;
    rq.unique_tokens = 0;
    CHECK(sim::make_plan(rq).error().path == "plan.unique_tokens");
  }
  SECTION("tokens without a model") {
    rq.tokens = 1e12;
    CHECK(sim::make_plan(rq).error().path == "plan.tokens");
  }
  SECTION("negative price") {
    rq.compute_flops = 1e22;
    rq.price = price(-1);
    CHECK(sim::make_plan(rq).error().path == "plan.price");
  }
}

TEST_CASE("A model too large for the cluster is infeasible, with the reason", "[budget][plan]") {
  sim::PlanRequest rq;
  rq.law = default_law();
  rq.params = 400e9;
  rq.tokens = 1e12;
  rq.cluster = cluster("dgx-h100", 1);
  rq.nodes_given = true;
  auto p = sim::make_plan(rq);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().code == ErrorCode::infeasible);
  CHECK(p.error().message.find("no layout fits in memory") != std::string::npos);
}
