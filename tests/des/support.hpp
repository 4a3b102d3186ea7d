#pragma once
// Scenarios and synthetic costs for the discrete-event tests: stages of equal work, so that the
// pipeline closed forms (Narayanan et al. 2021; Qi et al. 2023) are exact.
#include "../support/scenarios.hpp"
#include "sim/des.hpp"
#include "strategies/plan.hpp"

namespace clustersim::testing {

// 16 GPT layers (h 1024, 16 heads) on one DGX A100 (8 GPUs): tp 8 / pp, dp 1, micro-batch 1, seq 1024;
// m = global batch micro-batches.
inline strategies::Scenario des_scenario(int pp, int m, strategies::Schedule schedule, int v = 1, int tp = 0) {
  const auto model = gpt_model(16, 1024, 16);
  const auto cluster = preset_cluster("dgx-a100", 1);
  strategies::TrainingSpec t;
  t.seq_length = 1024;
  t.global_batch = m;
  strategies::LayoutSpec L;
  L.tp = tp > 0 ? tp : 8 / pp;
  L.pp = pp;
  L.dp = 8 / (L.tp * pp);
  L.schedule = schedule;
  L.virtual_stages = v;
  return scenario(model, cluster, t, L);
}

// Every layer pass takes `f` forward, `b` backward (of which `w` weight gradient) seconds; nothing else
// costs time. Each layer keeps `act` bytes from its forward to its backward; nothing else allocates.
inline strategies::PlanCosts uniform_costs(const strategies::Scenario& sc, double f, double b, double w, double act) {
  auto c = strategies::plan_costs(sc);
  c.layer_forward = Seconds(f);
  c.layer_backward_input = Seconds(b - w);
  c.layer_weight_grad = Seconds(w);
  c.layer_recompute = c.layer_recompute_tp = Seconds(0);
  c.embedding_forward = c.embedding_backward = Seconds(0);
  c.head_forward = c.head_backward_input = c.head_weight_grad = Seconds(0);
  c.layer_tp = c.embedding_tp = c.head_tp = c.pp_send = Seconds(0);
  for (auto& o : c.optimizer) o = Seconds(0);
  c.layer_stored = c.layer_full = act;
  c.weight_grad_keep = act;
  c.recompute_extra = c.grad_transient = c.embedding_stored = c.head_stored = c.logits = 0;
  for (auto& x : c.optimizer_extra) x = 0;
  return c;
}

inline sim::SimResult run_plan(const strategies::Scenario& sc, const strategies::PlanCosts& c,
                               const sim::SimulateOptions& o = {}) {
  auto res = sim::simulate_plan(sc, strategies::lower(sc, c), o);
  if (!res) FAIL(res.error().what());
  return std::move(*res);
}

inline sim::SimResult run(const strategies::Scenario& sc, const sim::SimulateOptions& o = {}) {
  auto res = sim::simulate(sc, o);
  if (!res) FAIL(res.error().what());
  return std::move(*res);
}

}  // namespace clustersim::testing
