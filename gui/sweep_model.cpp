#include "gui/sweep_model.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "common/format.hpp"
#include "sim/analytical.hpp"

namespace clustersim::gui {

using strategies::Recompute;

double SweepRow::days(double tokens) const {
  if (tokens <= 0 || tokens_per_s <= 0) return iteration_time_s / 86400.0;
  return tokens / tokens_per_s / 86400.0;
}

double SweepRow::gpu_hours(double tokens) const {
  if (tokens <= 0 || tokens_per_s <= 0) return gpu_hours_per_iteration();
  return tokens / tokens_per_s / 3600.0 * gpus;
}

std::int64_t ScanSpec::size() const {
  auto n = [](std::size_t s) { return static_cast<std::int64_t>(std::max<std::size_t>(s, 1)); };
  return n(nodes.size()) * n(tp.size()) * n(pp.size()) * n(micro_batch.size()) * n(zero.size()) *
         n(recompute.size()) * n(virtual_stages.size());
}

namespace {
std::string list(const std::vector<int>& v) {
  std::vector<std::string> s;
  for (int x : v) s.push_back(std::to_string(x));
  return join(s, ", ");
}
}  // namespace

std::string ScanSpec::describe() const {
  std::vector<std::string> rec;
  for (auto r : recompute) rec.emplace_back(strategies::to_string(r));
  return std::to_string(size()) + " layouts: nodes " + list(nodes) + "; tp " + list(tp) + "; pp " + list(pp) +
         "; micro-batch " + list(micro_batch) + "; ZeRO " + list(zero) + "; recompute " + join(rec, ", ") +
         "; virtual stages " + list(virtual_stages);
}

ScanSpec default_scan(const strategies::Scenario& base) {
  ScanSpec s;
  const int n = base.cluster.nodes;
  if (n >= 2) s.nodes.push_back(n / 2);
  s.nodes.push_back(n);
  s.nodes.push_back(n * 2);
  for (int t = 1; t <= base.cluster.gpus_per_node; t *= 2) s.tp.push_back(t);
  const int layers = base.model.spec().layers;
  for (int p = 1; p <= std::min(16, layers); ++p)
    if ((p & (p - 1)) == 0 || layers % p == 0) s.pp.push_back(p);
  s.micro_batch = {1, 2, 4};
  s.zero = {0, 1, 3};
  s.recompute = {Recompute::none, Recompute::selective, Recompute::full};
  s.virtual_stages = {1, 2};
  // The scenario's own values, so that its layout is one of the points.
  auto with = [](std::vector<int>& axis, int v) {
    if (std::find(axis.begin(), axis.end(), v) == axis.end()) axis.push_back(v);
    std::sort(axis.begin(), axis.end());
  };
  with(s.tp, base.layout.tp);
  with(s.pp, base.layout.pp);
  with(s.micro_batch, base.layout.micro_batch);
  with(s.zero, base.layout.zero);
  with(s.virtual_stages, base.layout.virtual_stages);
  return s;
}

SweepResult run_layout_scan(const strategies::Scenario& base, const ScanSpec& spec, JobControl& ctl) {
  const auto t0 = std::chrono::steady_clock::now();
  SweepResult res;
  res.base_nodes = base.cluster.nodes;
  res.layouts_total = spec.size();
  auto or_base = [](const std::vector<int>& axis, int own) { return axis.empty() ? std::vector<int>{own} : axis; };
  const auto nodes = or_base(spec.nodes, base.cluster.nodes);
  const auto tps = or_base(spec.tp, base.layout.tp);
  const auto pps = or_base(spec.pp, base.layout.pp);
  const auto mbs = or_base(spec.micro_batch, base.layout.micro_batch);
  const auto zeros = or_base(spec.zero, base.layout.zero);
  const auto vs = or_base(spec.virtual_stages, base.layout.virtual_stages);
  const auto recs = spec.recompute.empty() ? std::vector<Recompute>{base.layout.recompute} : spec.recompute;

  std::int64_t done = 0;
  for (int nd : nodes) {
    auto cluster = base.cluster;
    cluster.nodes = nd;
    // The layouts of this cluster size on one fabric, as estimate and `clustersim sweep` cost them.
    auto fabric = hardware::Fabric::build(cluster);
    for (int tp : tps)
      for (int pp : pps)
        for (int mb : mbs)
          for (int z : zeros)
            for (auto rc : recs)
              for (int v : vs) {
                if (ctl.stop_requested()) return res;
                ++done;
                auto L = base.layout;
                L.tp = tp;
                L.pp = pp;
                L.dp = 0;
                L.micro_batch = mb;
                L.zero = z;
                L.recompute = rc;
                L.virtual_stages = v;
                L.schedule = v > 1 ? strategies::Schedule::interleaved_1f1b
                                   : (L.schedule == strategies::Schedule::interleaved_1f1b
                                          ? strategies::Schedule::one_f_one_b
                                          : L.schedule);
                if (pp == 1 && L.schedule != strategies::Schedule::gpipe) L.schedule = strategies::Schedule::one_f_one_b;
                L.sequence_parallel = tp > 1;
                L.stage_layers.clear();
                auto sc = strategies::validate_scenario(base.model, cluster, base.training, L);
                if (sc && fabric) sc = strategies::place_on_fabric(std::move(*sc), *fabric);
                if (!sc) {
                  ++res.invalid;
                  if (res.first_invalid_reasons.size() < 5) res.first_invalid_reasons.push_back(sc.error().what());
                } else {
                  const auto rep = sim::estimate(*sc);
                  ++res.evaluated;
                  SweepRow row;
                  row.layout = sc->layout;
                  row.nodes = nd;
                  row.gpus = sc->gpus;
                  row.micro_batches = sc->micro_batches;
                  row.iteration_time_s = rep.iteration_time_s;
                  row.tokens_per_s = rep.tokens_per_s;
                  row.mfu = rep.mfu;
                  row.peak_bytes = rep.memory.peak_device.value;
                  row.capacity_bytes = rep.memory.capacity.value;
                  row.fits = rep.memory.fits;
                  row.evaluator = rep.evaluator;
                  if (!row.fits) ++res.infeasible;
                  res.rows.push_back(std::move(row));
                }
                if (done % 64 == 0 || done == res.layouts_total)
                  ctl.on_progress(done, res.layouts_total, "evaluating layouts");
              }
  }
  std::vector<double> x, y;
  std::vector<bool> ok;
  for (const auto& r : res.rows) {
    x.push_back(r.iteration_time_s);
    y.push_back(r.gpu_hours_per_iteration());
    ok.push_back(r.fits);
  }
  res.pareto = pareto_front(x, y, ok);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

std::vector<int> pareto_front(const std::vector<double>& x, const std::vector<double>& y, const std::vector<bool>& eligible) {
  std::vector<int> idx;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (eligible[i]) idx.push_back(static_cast<int>(i));
  std::sort(idx.begin(), idx.end(), [&](int a, int b) { return x[a] != x[b] ? x[a] < x[b] : y[a] < y[b]; });
  std::vector<int> front;
  double best_y = 0;
  for (int i : idx) {
    if (front.empty() || y[i] < best_y) {
      front.push_back(i);
      best_y = y[i];
    }
  }
  return front;
}

}  // namespace clustersim::gui
