#pragma once
// The data behind the Scaling-law view: a parametric loss law L(N, D) = E + A / N^alpha + B / D^beta
// (Hoffmann et al. 2022 eq. 2) with compute C = 6 N D, its compute-optimal frontier and iso-FLOP curves.
//
// scaling_laws() is the adapter the view reads: today it holds the two fits of the shared reference
// (formulas-specs-prices.md sec. 1.2-1.3); the lead points it at sim/scaling_laws when that lands, and
// the view does not change.
#include <string>
#include <utility>
#include <vector>

namespace clustersim::gui {

// ParametricLaw is one fitted law. Its methods are closed forms (eq. 4 of Hoffmann et al. 2022 for the
// optimum) or a bisection where no closed form exists; all return NaN outside their domain (a loss at
// or below the irreducible E).
struct ParametricLaw {
  std::string name;
  std::string source;
  double E = 0, A = 0, B = 0, alpha = 0, beta = 0;

  [[nodiscard]] double loss(double params, double tokens) const;
  // N_opt(C) = G (C/6)^a, D_opt(C) = G^-1 (C/6)^b, G = (alpha A / (beta B))^(1/(alpha+beta)),
  // a = beta/(alpha+beta), b = alpha/(alpha+beta)  (Hoffmann et al. 2022 eq. 4).
  [[nodiscard]] double optimal_params(double compute) const;
  [[nodiscard]] double optimal_tokens(double compute) const;
  [[nodiscard]] double optimal_loss(double compute) const;
  // The least compute whose optimal loss reaches `target` (bisection on log C).
  [[nodiscard]] double compute_for_loss(double target) const;
  // Tokens a model of `params` needs to reach `target`: D = (B / (target - E - A/N^alpha))^(1/beta).
  [[nodiscard]] double tokens_for_loss(double params, double target) const;
};

// The laws the GUI offers, first the default (the Epoch AI refit of Chinchilla).
const std::vector<ParametricLaw>& scaling_laws();

using Curve = std::vector<std::pair<double, double>>;  // (x, y) points

// Loss against parameters at fixed compute (D = C / 6N), log-spaced over [n_min, n_max].
Curve iso_flop_curve(const ParametricLaw& law, double compute, double n_min, double n_max, int samples = 60);
// Loss against compute along the compute-optimal frontier, log-spaced over [c_min, c_max].
Curve optimal_frontier(const ParametricLaw& law, double c_min, double c_max, int samples = 60);
// Loss against compute for a model of fixed size (D = C / 6N), log-spaced over [c_min, c_max].
Curve fixed_size_curve(const ParametricLaw& law, double params, double c_min, double c_max, int samples = 60);

}  // namespace clustersim::gui
