#include "sim/scaling_laws.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "common/format.hpp"

namespace clustersim::sim {

namespace {

constexpr double kPetaflopDay = 1e15 * 86400.0;  // 1 PF-day = 8.64e19 FLOPs (Kaplan et al. 2020 sec. 1.3)

// x in [lo, hi] where the increasing function f crosses `target` (bisection on a log scale).
template <class F>
double solve_increasing_log(F f, double target, double lo, double hi) {
  double a = std::log(lo), b = std::log(hi);
  for (int i = 0; i < 200 && b - a > 1e-13; ++i) {
    const double mid = 0.5 * (a + b);
    if (f(std::exp(mid)) < target) a = mid; else b = mid;
  }
  return std::exp(0.5 * (a + b));
}

// x in [lo, hi] that minimises the unimodal function f (golden-section search on a log scale).
template <class F>
double minimise_log(F f, double lo, double hi) {
  const double phi = (std::sqrt(5.0) - 1.0) / 2.0;
  double a = std::log(lo), b = std::log(hi);
  double c = b - phi * (b - a), d = a + phi * (b - a);
  double fc = f(std::exp(c)), fd = f(std::exp(d));
  for (int i = 0; i < 300 && b - a > 1e-12; ++i) {
    if (fc < fd) {
      b = d; d = c; fd = fc;
      c = b - phi * (b - a); fc = f(std::exp(c));
    } else {
      a = c; c = d; fc = fd;
      d = a + phi * (b - a); fd = f(std::exp(d));
    }
  }
  return std::exp(0.5 * (a + b));
}

double parametric_loss(const ParametricLoss& p, double n, double d) {
  // Hoffmann et al. 2022 eq. 2.
  return p.e + p.a / std::pow(n, p.alpha) + p.b / std::pow(d, p.beta);
}

// G = (alpha A / (beta B))^(1 / (alpha + beta)) (Hoffmann et al. 2022 eq. 4 / App. D.2).
double g_factor(const ParametricLoss& p) { return std::pow(p.alpha * p.a / (p.beta * p.b), 1.0 / (p.alpha + p.beta)); }

// The N whose compute-optimal token count (6ND closed form) is D: N = G (D G)^(beta/alpha)
// (Muennighoff et al. 2023, datablations README `D_to_N`).
double params_optimal_for_tokens(const ParametricLoss& p, double d) {
  const double g = g_factor(p);
  return g * std::pow(d * g, p.beta / p.alpha);
}

double kaplan_joint(const KaplanConstants& k, double n, double d) {
  // Kaplan et al. 2020 eq. 1.5: L(N, D) = [(N_c / N)^(alpha_N / alpha_D) + D_c / D]^alpha_D.
  const double nt = std::pow(k.joint_n_c / n, k.joint_alpha_n / k.joint_alpha_d);
  const double dt = std::isinf(d) ? 0.0 : k.joint_d_c / d;
  return std::pow(nt + dt, k.joint_alpha_d);
}

Error positive(const std::string& path, double v) {
  return invalid(path, num(v) + " must be positive");
}

}  // namespace

const char* to_string(LawForm f) {
  switch (f) {
    case LawForm::kaplan: return "kaplan";
    case LawForm::parametric: return "parametric";
    case LawForm::tokens_per_param: return "tokens-per-param";
    case LawForm::tokens_power: return "tokens-power";
  }
  return "?";
}

Expected<ScalingLaw> validate_law(const ScalingLaw& law) {
  const std::string at = law.name.empty() ? "law" : "law " + law.name;
  auto check = [&](const char* field, double v) -> std::optional<Error> {
    if (!(v > 0) || !std::isfinite(v)) return positive(at + "." + field, v);
    return std::nullopt;
  };
  if (law.form == LawForm::kaplan) {
    const auto& k = law.kaplan;
    for (auto [f, v] : {std::pair<const char*, double>{"kaplan.n_c", k.n_c}, {"kaplan.alpha_n", k.alpha_n},
                        {"kaplan.d_c", k.d_c}, {"kaplan.alpha_d", k.alpha_d}, {"kaplan.c_c_min", k.c_c_min},
                        {"kaplan.alpha_c_min", k.alpha_c_min}, {"kaplan.joint_n_c", k.joint_n_c},
                        {"kaplan.joint_d_c", k.joint_d_c}, {"kaplan.joint_alpha_n", k.joint_alpha_n},
                        {"kaplan.joint_alpha_d", k.joint_alpha_d}, {"kaplan.n_opt_coeff", k.n_opt_coeff},
                        {"kaplan.n_opt_exponent", k.n_opt_exponent}})
      if (auto e = check(f, v)) return *e;
  } else {
    const auto& p = law.loss;
    if (!(p.e >= 0)) return invalid(at + ".loss.E", num(p.e) + " must not be negative");
    for (auto [f, v] : {std::pair<const char*, double>{"loss.A", p.a}, {"loss.B", p.b}, {"loss.alpha", p.alpha},
                        {"loss.beta", p.beta}})
      if (auto e = check(f, v)) return *e;
  }
  if (law.form == LawForm::tokens_per_param) {
    if (auto e = check("tokens_per_param", law.tokens_per_param)) return *e;
  }
  if (law.form == LawForm::tokens_power) {
    if (auto e = check("tokens.coeff", law.tokens_coeff)) return *e;
    if (auto e = check("tokens.exponent", law.tokens_exponent)) return *e;
    if (law.tokens_exponent >= 1.0)
      return invalid(at + ".tokens.exponent", num(law.tokens_exponent) + " must be below 1 (D = k C^e with N = C / (6D))");
  }
  if (law.repetition) {
    if (auto e = check("repetition.r_d_star", law.repetition->r_d_star)) return *e;
    if (auto e = check("repetition.r_n_star", law.repetition->r_n_star)) return *e;
  }
  if (law.hyper) {
    if (auto e = check("hyper.lr_coeff", law.hyper->lr_coeff)) return *e;
    if (auto e = check("hyper.batch_coeff", law.hyper->batch_coeff)) return *e;
  }
  return law;
}

double kaplan_loss_params(const KaplanConstants& k, double n) {
  return std::pow(k.n_c / n, k.alpha_n);  // Kaplan et al. 2020 eq. 1.1
}
double kaplan_loss_tokens(const KaplanConstants& k, double d) {
  return std::pow(k.d_c / d, k.alpha_d);  // Kaplan et al. 2020 eq. 1.2
}
double kaplan_loss_compute(const KaplanConstants& k, double c) {
  return std::pow(k.c_c_min / (c / kPetaflopDay), k.alpha_c_min);  // Kaplan et al. 2020 eq. 1.3 (C in PF-days)
}

double loss_at(const ScalingLaw& law, double n, double d) {
  if (law.form == LawForm::kaplan) return kaplan_joint(law.kaplan, n, d);
  return parametric_loss(law.loss, n, d);
}

RepeatedData repeated_loss(const ScalingLaw& law, const RepetitionDecay& decay, double n, double d, double unique) {
  RepeatedData r;
  r.unique_tokens = unique;
  r.epochs = d / unique;
  r.loss_fresh = loss_at(law, n, d);
  // Muennighoff et al. 2023 eq. 5: D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*)), R_D = D / U_D - 1 repetitions.
  const double u_d = std::min(unique, d);
  const double r_d = std::max(d / u_d - 1.0, 0.0);
  r.effective_tokens = u_d + u_d * decay.r_d_star * (1.0 - std::exp(-r_d / decay.r_d_star));
  if (law.form == LawForm::kaplan) {
    r.effective_params = n;
    r.loss = kaplan_joint(law.kaplan, n, r.effective_tokens);
    return r;
  }
  // Same for parameters beyond U_N = min(N, N_opt(U_D)): N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*)).
  const double u_n = std::min(n, params_optimal_for_tokens(law.loss, u_d));
  const double r_n = std::max(n / u_n - 1.0, 0.0);
  r.effective_params = u_n + u_n * decay.r_n_star * (1.0 - std::exp(-r_n / decay.r_n_star));
  r.loss = parametric_loss(law.loss, r.effective_params, r.effective_tokens);
  return r;
}

Allocation parametric_closed_form_optimum(const ParametricLoss& p, double c) {
  // Hoffmann et al. 2022 eq. 4: N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b, a = beta/(alpha+beta), b = alpha/(alpha+beta).
  const double g = g_factor(p);
  const double a = p.beta / (p.alpha + p.beta), b = p.alpha / (p.alpha + p.beta);
  Allocation out;
  out.compute = c;
  out.params = g * std::pow(c / 6.0, a);
  out.tokens = std::pow(c / 6.0, b) / g;
  out.loss = parametric_loss(p, out.params, out.tokens);
  return out;
}

Allocation optimal_allocation(const ScalingLaw& law, double c, const ComputeCounting& counting,
                              std::optional<double> unique) {
  assert((!unique || law.repetition) && "unique tokens need the law's repetition decay");
  const bool repeated = unique && law.repetition;
  auto loss_of = [&](double n, double d) {
    return repeated ? repeated_loss(law, *law.repetition, n, d, *unique).loss : loss_at(law, n, d);
  };
  Allocation out;
  out.compute = c;
  switch (law.form) {
    case LawForm::parametric: {
      const auto closed = parametric_closed_form_optimum(law.loss, c);
      if (counting.is_6nd() && !repeated) return closed;
      // Minimise L(N, C / f(N)) over N around the 6ND optimum (the loss is unimodal in log N).
      out.params = minimise_log([&](double n) { return loss_of(n, c / counting.per_token(n)); }, closed.params * 1e-4,
                                closed.params * 1e4);
      out.tokens = c / counting.per_token(out.params);
      break;
    }
    case LawForm::kaplan:
      // Kaplan et al. 2020 sec. 6.1: N_opt = k C_min^0.73 (C_min in PF-days); D from C = f(N) D.
      out.params = law.kaplan.n_opt_coeff * std::pow(c / kPetaflopDay, law.kaplan.n_opt_exponent);
      out.tokens = c / counting.per_token(out.params);
      break;
    case LawForm::tokens_per_param: {
      // D = r N and C = f(N) D: solve f(N) r N = C.
      const double r = law.tokens_per_param;
      out.params = solve_increasing_log([&](double n) { return counting.per_token(n) * r * n; }, c, 1.0, 1e20);
      out.tokens = r * out.params;
      break;
    }
    case LawForm::tokens_power:
      // Llama 3 (2024) sec. 3.2.1 / DeepSeek LLM (2024) sec. 3.2: D_opt = k C^e; then N from C = f(N) D.
      out.tokens = law.tokens_coeff * std::pow(c, law.tokens_exponent);
      out.params = solve_increasing_log([&](double n) { return counting.per_token(n); }, c / out.tokens, 1e-3, 1e20);
      break;
  }
  out.loss = loss_of(out.params, out.tokens);
  return out;
}

Expected<Allocation> compute_for_loss(const ScalingLaw& law, double target, const ComputeCounting& counting) {
  const double floor = law.form == LawForm::kaplan ? 0.0 : law.loss.e;
  if (!(target > floor) || !std::isfinite(target)) {
    return invalid("plan.target_loss", num(target) + " is at or below the lowest loss " + law.name +
                                           " can reach (irreducible loss E = " + num(floor) + ")");
  }
  if (law.form == LawForm::parametric && counting.is_6nd()) {
    // On the frontier L - E = K (C/6)^(-alpha beta / (alpha + beta)), K = A G^-alpha + B G^beta
    // (substituting Hoffmann et al. 2022 eq. 4 into eq. 2), so C = 6 (K / (L - E))^((alpha + beta) / (alpha beta)).
    const auto& p = law.loss;
    const double g = g_factor(p);
    const double k = p.a * std::pow(g, -p.alpha) + p.b * std::pow(g, p.beta);
    const double c = 6.0 * std::pow(k / (target - p.e), (p.alpha + p.beta) / (p.alpha * p.beta));
    return parametric_closed_form_optimum(p, c);
  }
  constexpr double kLo = 1e6, kHi = 1e40;
  auto frontier = [&](double c) { return optimal_allocation(law, c, counting).loss; };
  if (frontier(kHi) > target)
    return invalid("plan.target_loss", num(target) + " is not reached by " + law.name + " below " + num(kHi) + " FLOPs");
  // The frontier loss falls with compute: bisect on -loss, which rises.
  const double c = solve_increasing_log([&](double x) { return -frontier(x); }, -target, kLo, kHi);
  return optimal_allocation(law, c, counting);
}

Allocation optimal_tokens_for_params(const ScalingLaw& law, double n, const ComputeCounting& counting) {
  Allocation out;
  out.params = n;
  switch (law.form) {
    case LawForm::tokens_per_param:
      out.tokens = law.tokens_per_param * n;
      break;
    case LawForm::tokens_power: {
      // C = f(N) k C^e  =>  C = (f(N) k)^(1 / (1 - e)).
      const double c = std::pow(counting.per_token(n) * law.tokens_coeff, 1.0 / (1.0 - law.tokens_exponent));
      out.tokens = c / counting.per_token(n);
      break;
    }
    case LawForm::kaplan: {
      // Inverse of N_opt = k C_min^0.73.
      const double c = std::pow(n / law.kaplan.n_opt_coeff, 1.0 / law.kaplan.n_opt_exponent) * kPetaflopDay;
      out.tokens = c / counting.per_token(n);
      break;
    }
    case LawForm::parametric: {
      const double c = solve_increasing_log([&](double x) { return optimal_allocation(law, x, counting).params; }, n,
                                            1e6, 1e40);
      out.tokens = optimal_allocation(law, c, counting).tokens;
      break;
    }
  }
  out.compute = counting.per_token(n) * out.tokens;
  out.loss = loss_at(law, n, out.tokens);
  return out;
}

std::optional<HyperParameters> hyper_parameters(const ScalingLaw& law, double c) {
  if (!law.hyper) return std::nullopt;
  // DeepSeek LLM 2024 sec. 3.1: eta_opt = 0.3118 C^-0.1250, B_opt = 0.2920 C^0.3271 (tokens).
  return HyperParameters{law.hyper->lr_coeff * std::pow(c, law.hyper->lr_exponent),
                         law.hyper->batch_coeff * std::pow(c, law.hyper->batch_exponent)};
}

}  // namespace clustersim::sim
