#pragma once
// Neural scaling laws: what to train for a compute budget, and the loss it should reach.
//
// A ScalingLaw is plain data (its constants come from presets/data/laws/*.json, each with its source,
// or from tests that build it in code). Four forms cover the published laws:
//   kaplan            Kaplan et al. 2020: L(N), L(D), L(C_min) power laws, the joint L(N, D) and
//                     the compute-efficient frontier N_opt = k C_min^0.73 (N without embeddings).
//   parametric        L(N, D) = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022 approach 3, the
//                     Besiroglu et al. 2024 refit, Muennighoff et al. 2023), optimum in closed form.
//   tokens_per_param  D = r N (the "20 tokens per parameter" rule), allocation only.
//   tokens_power      D_opt = k C^e (Llama 3 2024; DeepSeek LLM 2024), allocation only.
// Allocation-only laws borrow the loss of a parametric law (`loss_from` names it). Compute C is counted
// as 6ND (Kaplan et al. 2020 sec. 2.1) or, through ComputeCounting, as the exact FLOPs per token of a
// model of N parameters; every answer says which. Everything here is pure arithmetic: no I/O.
#include <functional>
#include <optional>
#include <string>

#include "common/expected.hpp"

namespace clustersim::sim {

enum class LawForm { kaplan, parametric, tokens_per_param, tokens_power };
const char* to_string(LawForm f);

// Kaplan et al. 2020 (arXiv:2001.08361). N is non-embedding parameters, D tokens, C_min in PF-days.
struct KaplanConstants {
  double n_c = 8.8e13, alpha_n = 0.076;           // L(N) = (N_c / N)^alpha_N             (Eq. 1.1)
  double d_c = 5.4e13, alpha_d = 0.095;           // L(D) = (D_c / D)^alpha_D             (Eq. 1.2)
  double c_c_min = 3.1e8, alpha_c_min = 0.050;    // L(C_min) = (C_c / C_min)^alpha_C     (Eq. 1.3)
  double joint_n_c = 6.4e13, joint_d_c = 1.8e13;  // L(N, D) = [(N_c/N)^(aN/aD) + D_c/D]^aD (Eq. 1.5)
  double joint_alpha_n = 0.076, joint_alpha_d = 0.103;
  double n_opt_coeff = 1.3e9, n_opt_exponent = 0.73;  // N_opt = k C_min^0.73 (C_min in PF-days)
};

// L(N, D) = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022 eq. 2).
struct ParametricLoss {
  double e = 0, a = 0, b = 0, alpha = 0, beta = 0;
};

// Muennighoff et al. 2023 (arXiv:2305.16264) eq. 5: repeated tokens and excess parameters decay in
// value with e-folding constants R_D* and R_N*.
struct RepetitionDecay {
  double r_d_star = 0;
  double r_n_star = 0;
};

// DeepSeek LLM 2024 (arXiv:2401.02954 sec. 3.1): learning rate eta = k C^e, batch B = k C^e tokens.
struct HyperParameterLaw {
  double lr_coeff = 0, lr_exponent = 0;
  double batch_coeff = 0, batch_exponent = 0;
};

struct ScalingLaw {
  std::string name;            // preset name, e.g. "chinchilla-epoch2024"
  std::string title;           // "Chinchilla approach 3, Epoch AI refit (Besiroglu et al. 2024)"
  std::string citation;        // paper and where the constants are
  LawForm form = LawForm::parametric;
  bool non_embedding_params = false;  // N excludes the embedding and LM head (Kaplan)
  KaplanConstants kaplan;      // form == kaplan
  ParametricLoss loss;         // form == parametric: its own; allocation-only forms: the companion's
  std::string loss_from;       // the law whose loss is borrowed ("" when its own)
  double tokens_per_param = 0;                      // form == tokens_per_param
  double tokens_coeff = 0, tokens_exponent = 0;     // form == tokens_power: D_opt = k C^e
  std::optional<RepetitionDecay> repetition;        // for --unique-tokens
  std::string repetition_from; // the law whose decay constants are borrowed ("" when its own)
  std::optional<HyperParameterLaw> hyper;
};

// Checks that every constant the form needs is positive; names the field ("law.loss.alpha").
Expected<ScalingLaw> validate_law(const ScalingLaw& law);

// How training compute is counted: C = flops_per_token(N) x D. Empty: 6N (Kaplan et al. 2020 sec. 2.1:
// forward 2N, backward 4N per token, attention over the context dropped).
struct ComputeCounting {
  std::function<double(double)> flops_per_token;
  std::string name = "6ND";
  [[nodiscard]] double per_token(double n) const { return flops_per_token ? flops_per_token(n) : 6.0 * n; }
  [[nodiscard]] bool is_6nd() const { return !flops_per_token; }
};

// One point of a law: N parameters trained on D tokens with C FLOPs reaches `loss`.
struct Allocation {
  double params = 0;
  double tokens = 0;
  double compute = 0;
  double loss = 0;
  [[nodiscard]] double tokens_per_param() const { return params > 0 ? tokens / params : 0.0; }
};

// Kaplan's single-variable laws (Eq. 1.1-1.3); compute in FLOPs (1 PF-day = 8.64e19 FLOPs).
double kaplan_loss_params(const KaplanConstants& k, double non_embedding_params);
double kaplan_loss_tokens(const KaplanConstants& k, double tokens);
double kaplan_loss_compute(const KaplanConstants& k, double compute_flops);

// Loss at N parameters trained on D fresh (never repeated) tokens.
double loss_at(const ScalingLaw& law, double params, double tokens);

// Loss when the D training tokens are drawn from only `unique_tokens` distinct ones (Muennighoff et al.
// 2023 eq. 5). For the Kaplan form only the data term decays (its loss has no compute-optimal N(D)).
struct RepeatedData {
  double unique_tokens = 0;
  double epochs = 0;             // D / U
  double effective_tokens = 0;   // D'
  double effective_params = 0;   // N'
  double loss = 0;               // at (N', D')
  double loss_fresh = 0;         // at (N, D), every token new
  [[nodiscard]] double penalty() const { return loss - loss_fresh; }
};
RepeatedData repeated_loss(const ScalingLaw& law, const RepetitionDecay& decay, double params, double tokens,
                           double unique_tokens);

// The compute-optimal (N, D) for C FLOPs. With `unique_tokens`, parametric laws minimise the
// data-constrained loss (so the optimum moves to fewer epochs and more parameters); the other forms keep
// their allocation and only the loss carries the penalty.
Allocation optimal_allocation(const ScalingLaw& law, double compute, const ComputeCounting& counting = {},
                              std::optional<double> unique_tokens = std::nullopt);

// The compute (and its optimal N, D) that reaches `target_loss` on the compute-optimal frontier; an error
// when the target is at or below what the law can reach (E for parametric losses).
Expected<Allocation> compute_for_loss(const ScalingLaw& law, double target_loss, const ComputeCounting& counting = {});

// The token count a law would train N parameters on (inverse of the allocation: the D of the compute
// whose optimal N is `params`).
Allocation optimal_tokens_for_params(const ScalingLaw& law, double params, const ComputeCounting& counting = {});

// Suggested peak learning rate and global batch in tokens for compute C, when the law has them.
struct HyperParameters {
  double learning_rate = 0;
  double batch_tokens = 0;
};
std::optional<HyperParameters> hyper_parameters(const ScalingLaw& law, double compute);

// Tokens per parameter at the optimum of the 6ND parametric closed form (Hoffmann et al. 2022 eq. 4):
// N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b, G = (alpha A / (beta B))^(1/(alpha+beta)), a = beta/(alpha+beta).
Allocation parametric_closed_form_optimum(const ParametricLoss& p, double compute);

}  // namespace clustersim::sim
