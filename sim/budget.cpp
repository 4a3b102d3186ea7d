#include "sim/budget.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/format.hpp"
#include "sim/analytical.hpp"

namespace clustersim::sim {

namespace {

constexpr double kSecondsPerDay = 86400.0;
constexpr double kFirstGuessMfu = 0.4;  // starting point of the budget fixed point only; the sweep refines it

std::string positive_msg(double v) { return num(v) + " must be positive"; }

bool bad(double v) { return !(v > 0) || !std::isfinite(v); }

int pow2_at_least(double v) {
  int p = 1;
  while (p < v && p < (1 << 24)) p *= 2;
  return p;
}

std::string model_label(double params) {
  return params >= 1e9 ? "dense-" + num(params / 1e9) + "b" : "dense-" + num(params / 1e6) + "m";
}

model::ModelSpec shape_spec(std::int64_t h, int l, const ShapeRule& r) {
  model::ModelSpec s;
  s.layers = l;
  s.hidden = h;
  s.heads = static_cast<int>(h / r.head_dim);
  s.kv_heads = s.heads;
  s.head_dim = r.head_dim;
  // SwiGLU width 8h/3 rounded up to a multiple of 256 (Llama: 11008 for h = 4096), so 3 h f ~ 8 h^2.
  s.ffn_hidden = 256 * static_cast<std::int64_t>(std::ceil(8.0 * static_cast<double>(h) / 3.0 / 256.0));
  s.mlp = model::MlpKind::swiglu;
  s.vocab = r.vocab;
  s.tied_embeddings = false;
  s.position = model::PositionKind::rope;
  s.norm = model::NormKind::rmsnorm;
  return s;
}

}  // namespace

Expected<EnergyAssumptions> validate_energy(const EnergyAssumptions& e) {
  if (!(e.pue >= 1.0) || !std::isfinite(e.pue)) return invalid("energy.pue", num(e.pue) + " must be at least 1");
  if (!(e.grid_kg_per_kwh >= 0) || !std::isfinite(e.grid_kg_per_kwh))
    return invalid("energy.grid_kg_per_kwh", num(e.grid_kg_per_kwh) + " must not be negative");
  if (!(e.utilisation > 0 && e.utilisation <= 1.0))
    return invalid("energy.utilisation", num(e.utilisation) + " must be in (0, 1]");
  if (!(e.node_overhead >= 1.0) || !std::isfinite(e.node_overhead))
    return invalid("energy.node_overhead", num(e.node_overhead) + " must be at least 1");
  return e;
}

TrainingCost training_cost(int gpus, double seconds, Watts tdp, const std::optional<Price>& price,
                           const EnergyAssumptions& energy) {
  TrainingCost c;
  c.gpus = gpus;
  c.seconds = seconds;
  c.days = seconds / kSecondsPerDay;
  const double hours = seconds / 3600.0;
  c.gpu_hours = hours * gpus;
  if (price) {
    c.priced = true;
    c.cost_usd = c.gpu_hours * price->usd_per_gpu_hour;  // GPU-hours x $/GPU-hour
  }
  // E = GPUs x TDP x utilisation x node overhead x hours x PUE (shared reference sec. 6), in kWh.
  c.energy_kwh = gpus * tdp.value * energy.utilisation * energy.node_overhead * hours * energy.pue / 1000.0;
  c.co2_kg = c.energy_kwh * energy.grid_kg_per_kwh;  // CO2 = E x grid intensity (reference sec. 6)
  return c;
}

std::string describe(const ShapeRule& r) {
  return "dense decoder: heads = hidden/" + std::to_string(r.head_dim) + " a multiple of " +
         std::to_string(r.head_multiple) + ", layers a multiple of " + std::to_string(r.layer_multiple) + " from 32 on" +
         ", aspect ratio hidden/layers near " + num(r.aspect_ratio) + ", SwiGLU MLP 8h/3, RMSNorm, RoPE, untied " +
         std::to_string(r.vocab) + "-token vocabulary (12 l h^2 + 2 V h parameters)";
}

Expected<model::Model> dense_model_for_params(double params, const ShapeRule& r, bool non_embedding) {
  if (bad(params)) return invalid("plan.params", positive_msg(params));
  if (params < kShapeRuleMinParams)
    return invalid("plan.params", num(params) + " is below the smallest model the shape rule builds (" +
                                      num(kShapeRuleMinParams) + ")");
  if (params > kShapeRuleMaxParams)
    return invalid("plan.params", num(params) + " is above the largest model the shape rule builds (" +
                                      num(kShapeRuleMaxParams) + ")");
  const double h0 = std::cbrt(params * r.aspect_ratio / 12.0);  // N ~ 12 l h^2 with l = h / aspect
  struct Best {
    double err = 1e300, aspect_dev = 1e300;
    std::int64_t h = 0;
    int l = 0;
  } within, closest;
  // Hidden sizes in steps of head_dim x head_multiple (x 2 below 1024), from h0/4 to 2 h0.
  const std::int64_t step = r.head_dim * (h0 >= 1024 ? r.head_multiple : 2);
  const double st = static_cast<double>(step);
  const auto h_lo = std::max<std::int64_t>(step, static_cast<std::int64_t>(h0 / 4.0 / st) * step);
  const auto h_hi = static_cast<std::int64_t>(std::ceil(h0 * 2.0 / st)) * step;
  for (std::int64_t h = h_lo; h <= h_hi; h += step) {
    const auto one = validate_model(shape_spec(h, 1, r));
    if (!one) continue;
    const double per_layer = one->layer_params();
    const double fixed = (non_embedding ? one->non_embedding_params() : one->total_params()) - per_layer;
    const double l_cont = (params - fixed) / per_layer;
    if (l_cont <= 0) continue;
    // Layers a multiple of layer_multiple from 32 layers on (pipeline splits), any count of 2 or more below.
    const int lm = l_cont >= 32 ? r.layer_multiple : 1;
    const int lo = std::max(2, static_cast<int>(std::floor(l_cont / lm)) * lm);
    for (int l : {lo, lo + lm}) {
      const double aspect = static_cast<double>(h) / l;
      if (aspect < r.aspect_ratio / 4 || aspect > r.aspect_ratio * 4) continue;
      const double count = fixed + l * per_layer;
      const double err = std::abs(count / params - 1.0);
      const double dev = std::abs(std::log(aspect / r.aspect_ratio));
      if (err < closest.err) closest = {err, dev, h, l};
      if (err <= r.tolerance && dev < within.aspect_dev) within = {err, dev, h, l};
    }
  }
  const Best& pick = within.l > 0 ? within : closest;
  if (pick.l == 0)
    return invalid("plan.params", "the shape rule found no dense model of " + num(params) + " parameters");
  auto spec = shape_spec(pick.h, pick.l, r);
  auto m = validate_model(spec);
  if (!m) return m.error();
  spec.name = model_label(m->total_params());
  return validate_model(spec);
}

double model_flops_per_token(const model::Model& m, std::int64_t seq) {
  return model::model_flops_per_iteration(m, 1, seq) / static_cast<double>(seq);
}

ComputeCounting model_flops_counting(const ShapeRule& rule, std::int64_t seq, bool non_embedding) {
  ComputeCounting c;
  c.name = "model FLOPs of the shape rule's model at sequence length " + std::to_string(seq) +
           " (attention non-causal, LM head included)";
  c.flops_per_token = [rule, seq, non_embedding](double n) {
    const double clamped = std::clamp(n, kShapeRuleMinParams, kShapeRuleMaxParams);
    auto m = dense_model_for_params(clamped, rule, non_embedding);
    if (!m) return 6.0 * n;
    const double count = non_embedding ? m->non_embedding_params() : m->total_params();
    return model_flops_per_token(*m, seq) * n / count;
  };
  return c;
}

LayoutSearch best_layouts(const model::Model& model, const hardware::ClusterSpec& cluster,
                          const strategies::TrainingSpec& training, int k) {
  // Swap point for the sweep runner (sim/sweep.hpp): same contract, best k layouts for (model, cluster, training).
  using strategies::LayoutSpec;
  using strategies::Recompute;
  using strategies::Schedule;
  LayoutSearch out;
  const int gpus = cluster.total_gpus();
  const int layers = model.spec().layers;
  std::map<std::string, int> reasons;
  double least_peak = 0, capacity = 0;
  // Every layout placed on one fabric of the cluster, as estimate and sweeps cost them.
  auto fabric = hardware::Fabric::build(cluster);
  for (int tp = 1; tp <= cluster.gpus_per_node; tp *= 2) {
    if (cluster.gpus_per_node % tp != 0) break;
    for (int pp = 1; pp <= std::min(layers, 64); ++pp) {
      if (layers % pp != 0 || gpus % (tp * pp) != 0) continue;
      const int dp = gpus / (tp * pp);
      for (int v : {1, 2}) {
        if (v == 2 && (pp == 1 || layers % (2 * pp) != 0)) continue;
        for (int mb : {1, 2, 4}) {
          for (int zero = 0; zero <= 3; ++zero) {
            if (dp == 1 && zero > 0) continue;  // nothing to shard over
            for (auto rc : {Recompute::none, Recompute::selective, Recompute::full}) {
              LayoutSpec L;
              L.tp = tp;
              L.pp = pp;
              L.sequence_parallel = tp > 1;
              L.micro_batch = mb;
              L.virtual_stages = v;
              L.schedule = v > 1 ? Schedule::interleaved_1f1b : Schedule::one_f_one_b;
              L.zero = zero;
              L.recompute = rc;
              ++out.candidates;
              auto sc = strategies::validate_scenario(model, cluster, training, L);
              if (sc && fabric) sc = strategies::place_on_fabric(std::move(*sc), *fabric);
              if (!sc) {
                ++out.invalid;
                ++reasons[sc.error().what()];
                continue;
              }
              auto rep = estimate(*sc);
              if (!rep.memory.fits) {
                ++out.out_of_memory;
                const double peak = rep.memory.peak_device.value;
                if (least_peak == 0 || peak < least_peak) least_peak = peak;
                capacity = rep.memory.capacity.value;
                continue;
              }
              out.best.push_back({sc->layout, std::move(rep)});
            }
          }
        }
      }
    }
  }
  std::stable_sort(out.best.begin(), out.best.end(), [](const auto& a, const auto& b) {
    if (a.report.iteration_time_s != b.report.iteration_time_s)
      return a.report.iteration_time_s < b.report.iteration_time_s;
    return a.report.memory.peak_device < b.report.memory.peak_device;
  });
  if (static_cast<int>(out.best.size()) > k) out.best.resize(static_cast<std::size_t>(std::max(k, 0)));
  if (out.best.empty()) {
    if (out.out_of_memory > 0) {
      out.reason = "no layout fits in memory: the smallest peak is " + num(least_peak / kGiB) + " GiB per GPU, " +
                   num(capacity / kGiB) + " GiB available";
    } else if (!reasons.empty()) {
      const auto most = std::max_element(reasons.begin(), reasons.end(),
                                         [](const auto& a, const auto& b) { return a.second < b.second; });
      out.reason = "no valid layout (" + std::to_string(out.candidates) + " tried); most common reason: " + most->first;
    } else {
      out.reason = "no layout to try";
    }
  }
  return out;
}

std::vector<ClusterSizeOption> compare_cluster_sizes(const model::Model& model, const hardware::ClusterSpec& cluster,
                                                     const strategies::TrainingSpec& training,
                                                     const std::vector<int>& node_counts,
                                                     const std::optional<Price>& price, const EnergyAssumptions& energy) {
  std::vector<ClusterSizeOption> out;
  for (int nodes : node_counts) {
    if (nodes <= 0) continue;
    auto c = cluster;
    c.nodes = nodes;
    ClusterSizeOption o;
    o.nodes = nodes;
    o.gpus = c.total_gpus();
    auto s = best_layouts(model, c, training, 1);
    if (s.best.empty()) {
      o.reason = s.reason;
    } else {
      o.best = s.best.front();
      const double seconds = training.tokens > 0 ? training.tokens / o.best->report.tokens_per_s : 0.0;
      o.cost = training_cost(o.gpus, seconds, c.gpu.tdp, price, energy);
    }
    out.push_back(std::move(o));
  }
  return out;
}

std::int64_t global_batch_for_tokens(double batch_tokens, std::int64_t seq) {
  const double seqs = batch_tokens / static_cast<double>(seq);
  if (!(seqs > 1.0)) return 1;
  return std::int64_t{1} << static_cast<int>(std::lround(std::log2(seqs)));
}

Expected<PlanResult> make_plan(const PlanRequest& rq) {
  auto law_ok = validate_law(rq.law);
  if (!law_ok) return law_ok.error();
  const ScalingLaw& law = *law_ok;
  auto energy_ok = validate_energy(rq.energy);
  if (!energy_ok) return energy_ok.error();

  // --- the budget ---
  std::vector<std::string> given;
  for (auto [v, name] : {std::pair<const std::optional<double>*, const char*>{&rq.compute_flops, "compute"},
                         {&rq.budget_usd, "budget"}, {&rq.gpu_hours, "gpu_hours"}, {&rq.target_loss, "target_loss"},
                         {&rq.deadline_days, "days"}, {&rq.params, "params"}, {&rq.tokens, "tokens"},
                         {&rq.unique_tokens, "unique_tokens"}}) {
    if (*v && bad(**v)) return invalid(std::string("plan.") + name, positive_msg(**v));
  }
  if (rq.model && rq.params) return invalid("plan.params", "give either a model or a parameter count, not both");
  const bool fixed_model = rq.model || rq.params;
  if (rq.compute_flops) given.emplace_back("compute");
  if (rq.budget_usd) given.emplace_back("budget");
  if (rq.gpu_hours) given.emplace_back("gpu-hours");
  if (rq.target_loss) given.emplace_back("target-loss");
  if (fixed_model) given.emplace_back(rq.model ? "model" : "params");
  if (given.size() > 1)
    return invalid("plan.budget", "give one budget, got " + join(given) + " (--days may accompany any of them)");
  if (rq.tokens && !fixed_model) return invalid("plan.tokens", "a token count needs a model (--model or --params)");
  if (given.empty() && !rq.deadline_days)
    return invalid("plan.budget", "give a budget: --compute FLOPS, --budget USD, --gpu-hours H, --days D, "
                                  "--target-loss L, or a model (--model NAME or --params N)");
  if (rq.unique_tokens && !law.repetition)
    return invalid("plan.unique_tokens", "law " + law.name + " has no repetition decay constants");
  if (rq.price && bad(rq.price->usd_per_gpu_hour))
    return invalid("plan.price", positive_msg(rq.price->usd_per_gpu_hour));
  if (rq.seq_length <= 0) return invalid("plan.seq_length", positive_msg(static_cast<double>(rq.seq_length)));
  if (rq.global_batch && *rq.global_batch <= 0)
    return invalid("plan.global_batch", positive_msg(static_cast<double>(*rq.global_batch)));
  if (rq.top_k <= 0) return invalid("plan.top", positive_msg(rq.top_k));
  const bool time_budget = rq.budget_usd || rq.gpu_hours || (given.empty() && rq.deadline_days);
  if (time_budget && !rq.cluster)
    return invalid("plan.cluster", "a dollar, GPU-hour or deadline budget needs a cluster (--cluster)");
  if (rq.budget_usd && !rq.price)
    return invalid("plan.price", "a dollar budget needs a price per GPU-hour (--price NAME|USD)");

  PlanResult res;
  const ShapeRule& shape = rq.shape;
  ComputeCounting counting;
  if (rq.exact_flops) {
    if (rq.model) {
      const model::Model m = *rq.model;
      const double count = law.non_embedding_params ? m.non_embedding_params() : m.total_params();
      const double per_token = model_flops_per_token(m, rq.seq_length);
      counting.name = "model FLOPs of " + m.spec().name + " at sequence length " + std::to_string(rq.seq_length) +
                      " (attention non-causal, LM head included)";
      counting.flops_per_token = [per_token, count](double n) { return per_token * n / count; };
    } else {
      counting = model_flops_counting(shape, rq.seq_length, law.non_embedding_params);
    }
  }
  res.counting = counting.name;
  if (!law.loss_from.empty())
    res.notes.push_back("loss from " + law.loss_from + " (" + law.name + " allocates but has no loss of its own)");
  if (law.non_embedding_params) res.notes.push_back(law.name + " counts parameters without the embeddings");
  if (rq.unique_tokens && !law.repetition_from.empty())
    res.notes.push_back("repetition decay of " + law.repetition_from + " (Muennighoff et al. 2023) applied to " + law.name);
  if (rq.unique_tokens && law.form != LawForm::parametric)
    res.notes.push_back(law.name + " keeps its allocation with limited data; only the loss carries the penalty");

  auto alloc_for = [&](double c) { return optimal_allocation(law, c, counting, rq.unique_tokens); };
  auto build = [&](const Allocation& a) -> Expected<model::Model> {
    if (rq.model) return *rq.model;
    return dense_model_for_params(a.params, shape, law.non_embedding_params);
  };

  // --- the law alone ---
  Allocation alloc;
  if (rq.compute_flops) {
    res.budget = "compute";
    alloc = alloc_for(*rq.compute_flops);
  } else if (rq.target_loss) {
    res.budget = "target_loss";
    auto a = compute_for_loss(law, *rq.target_loss, counting);
    if (!a) return a.error();
    alloc = *a;
    if (rq.unique_tokens) res.notes.push_back("the compute for the target loss assumes fresh tokens");
  } else if (fixed_model) {
    res.budget = "model";
    double n = 0;
    if (rq.model) {
      n = law.non_embedding_params ? rq.model->non_embedding_params() : rq.model->total_params();
    } else {
      auto m = build(Allocation{*rq.params, 0, 0, 0});
      if (!m) return m.error();
      n = law.non_embedding_params ? m->non_embedding_params() : m->total_params();
    }
    alloc.params = n;
    alloc.tokens = rq.tokens ? *rq.tokens : optimal_tokens_for_params(law, n, counting).tokens;
    alloc.compute = counting.per_token(n) * alloc.tokens;
    alloc.loss = loss_at(law, n, alloc.tokens);
    if (!rq.tokens) res.notes.push_back("tokens: the compute-optimal count of " + law.name + " for this model");
  } else {
    res.budget = rq.budget_usd ? "usd" : rq.gpu_hours ? "gpu_hours" : "days";
  }

  if (rq.cluster) {
    hardware::ClusterSpec cl = *rq.cluster;
    const auto peak = cl.gpu.peak_for(rq.precision);
    if (!peak) return invalid("plan.precision", std::string(hardware::to_string(rq.precision)) + " is not supported by " + cl.gpu.name);

    auto training_for = [&](const Allocation& a) {
      strategies::TrainingSpec t;
      t.seq_length = rq.seq_length;
      t.precision = rq.precision;
      t.tokens = a.tokens;
      if (rq.global_batch) {
        t.global_batch = *rq.global_batch;
      } else if (auto hp = hyper_parameters(law, a.compute)) {
        t.global_batch = global_batch_for_tokens(hp->batch_tokens, rq.seq_length);
      } else {
        t.global_batch = global_batch_for_tokens(4.0 * 1024 * 1024, rq.seq_length);  // 4M tokens (Llama 3 stage 1)
      }
      return t;
    };
    struct Eval {
      model::Model model;
      strategies::TrainingSpec training;
      LayoutSearch search;
    };
    auto evaluate = [&](const Allocation& a, const hardware::ClusterSpec& c) -> Expected<Eval> {
      auto m = build(a);
      if (!m) return m.error();
      auto t = training_for(a);
      auto s = best_layouts(*m, c, t, rq.top_k);
      if (s.best.empty()) {
        return Error{ErrorCode::infeasible, "plan",
                     m->spec().name + " (" + num(m->total_params()) + " parameters, global batch " +
                         std::to_string(t.global_batch) + " x " + std::to_string(t.seq_length) + ") on " +
                         std::to_string(c.nodes) + " x " + c.name + ": " + s.reason +
                         " (a larger cluster: --nodes, or --days to size it)"};
      }
      return Eval{*m, t, std::move(s)};
    };
    auto tps = [](const Eval& e) { return e.search.best.front().report.tokens_per_s; };

    std::optional<Eval> ev;
    int iterations = 0;
    const double day_s = rq.deadline_days ? *rq.deadline_days * kSecondsPerDay : 0.0;
    if (time_budget) {
      double gpu_seconds = 0;
      if (rq.budget_usd) gpu_seconds = *rq.budget_usd / rq.price->usd_per_gpu_hour * 3600.0;
      else if (rq.gpu_hours) gpu_seconds = *rq.gpu_hours * 3600.0;
      else gpu_seconds = cl.total_gpus() * day_s;
      if (rq.deadline_days && !given.empty() && !rq.nodes_given) {
        cl.nodes = pow2_at_least(std::ceil(gpu_seconds / day_s / cl.gpus_per_node));
        res.notes.push_back("cluster sized to the deadline: " + std::to_string(cl.nodes) + " nodes (a power of two)");
      }
      // Fixed point: compute C buys a model whose measured throughput spends the GPU time on D tokens;
      // C' = f(N) D. Damped (geometric mean) so it settles in a few steps.
      double c = gpu_seconds * peak->value * kFirstGuessMfu;
      for (iterations = 1; iterations <= 12; ++iterations) {
        alloc = alloc_for(c);
        auto e = evaluate(alloc, cl);
        if (!e) return e.error();
        const double tokens = tps(*e) / cl.total_gpus() * gpu_seconds;
        const double c_new = counting.per_token(alloc.params) * tokens;
        if (std::abs(c_new / c - 1.0) < 2e-3) {
          c = c_new;
          break;
        }
        c = std::sqrt(c * c_new);
      }
      // The law's model for the settled compute, trained on exactly the tokens the GPU time buys.
      alloc = alloc_for(c);
      auto e = evaluate(alloc, cl);
      if (!e) return e.error();
      alloc.tokens = tps(*e) / cl.total_gpus() * gpu_seconds;
      alloc.compute = counting.per_token(alloc.params) * alloc.tokens;
      alloc.loss = loss_at(law, alloc.params, alloc.tokens);
      e->training.tokens = alloc.tokens;
      ev = std::move(*e);
    } else if (rq.deadline_days && !rq.nodes_given) {
      // Size the cluster: start from a 40 % MFU guess, double until the deadline is met, then halve while it still is.
      const double guess = alloc.compute / (peak->value * kFirstGuessMfu) / day_s / cl.gpus_per_node;
      cl.nodes = pow2_at_least(guess);
      std::optional<Eval> met;
      std::optional<Error> last;
      for (int step = 0; step < 24 && !met; ++step) {
        auto e = evaluate(alloc, cl);
        if (e && alloc.tokens / tps(*e) <= day_s) {
          met = std::move(*e);
          break;
        }
        if (!e) last = e.error();
        cl.nodes *= 2;
      }
      if (!met) {
        if (last) return *last;
        return Error{ErrorCode::infeasible, "plan.days", "no cluster of up to " + std::to_string(cl.nodes) +
                                                             " nodes finishes in " + num(*rq.deadline_days) + " days"};
      }
      while (cl.nodes > 1) {
        auto smaller = cl;
        smaller.nodes /= 2;
        auto e = evaluate(alloc, smaller);
        if (!e || alloc.tokens / tps(*e) > day_s) break;
        cl = smaller;
        met = std::move(*e);
      }
      ev = std::move(met);
      res.notes.push_back("cluster sized to the deadline: " + std::to_string(cl.nodes) + " nodes (a power of two)");
    } else {
      auto e = evaluate(alloc, cl);
      if (!e) return e.error();
      ev = std::move(*e);
    }
    if (!rq.nodes_given && !rq.deadline_days)
      res.notes.push_back("cluster size: " + std::to_string(cl.nodes) + " node(s) as in the preset (--nodes or --days to size it)");

    ClusterPlan run;
    run.training = ev->training;
    run.search = std::move(ev->search);
    run.tokens_per_s = run.search.best.front().report.tokens_per_s;
    run.cost = training_cost(cl.total_gpus(), alloc.tokens / run.tokens_per_s, cl.gpu.tdp, rq.price, rq.energy);
    run.budget_iterations = iterations;
    run.cluster = cl;
    if (rq.deadline_days && rq.nodes_given && !given.empty()) {
      res.notes.push_back(run.cost.days <= *rq.deadline_days
                              ? "deadline of " + num(*rq.deadline_days) + " days met"
                              : "deadline of " + num(*rq.deadline_days) + " days MISSED: the run takes " +
                                    num(run.cost.days) + " days on " + std::to_string(cl.nodes) + " nodes");
    }
    res.model = std::move(ev->model);
    res.run = std::move(run);
  } else {
    auto m = build(alloc);
    if (!m) return m.error();
    res.model = std::move(*m);
  }
  res.shaped = !rq.model;
  if (res.shaped) res.notes.push_back("model shape: " + describe(shape));
  if (rq.unique_tokens) {
    res.data = repeated_loss(law, *law.repetition, alloc.params, alloc.tokens, *rq.unique_tokens);
    alloc.loss = res.data->loss;
  }
  res.hyper = hyper_parameters(law, alloc.compute);
  res.allocation = alloc;
  return res;
}

}  // namespace clustersim::sim
