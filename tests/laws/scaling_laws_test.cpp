// Scaling laws against closed forms and the published numbers (shared reference formulas-specs-prices.md sec. 1).
#include <catch2/catch.hpp>

#include <cmath>

#include "presets/laws_json.hpp"
#include "sim/scaling_laws.hpp"

using namespace clustersim;

namespace {
sim::ScalingLaw law(const char* name) {
  auto l = presets::find_law(name);
  REQUIRE(l.has_value());
  return *l;
}
// Chinchilla 70B on 1.4T tokens: C = 6 N D = 6 x 70e9 x 1.4e12 = 5.88e23 FLOPs (Kaplan sec. 2.1 counting).
constexpr double kChinchillaCompute = 6.0 * 70e9 * 1.4e12;
}  // namespace

TEST_CASE("Chinchilla 70B on 1.4T tokens is about 5.9e23 FLOPs by 6ND", "[laws]") {
  // 6 x 70e9 x 1.4e12 = 5.88e23.
  sim::ComputeCounting six;
  CHECK(six.is_6nd());
  CHECK(six.per_token(70e9) * 1.4e12 == Approx(5.88e23).epsilon(1e-12));
  CHECK(kChinchillaCompute == Approx(5.9e23).epsilon(0.01));
}

TEST_CASE("Kaplan 2020 single-variable laws", "[laws][kaplan]") {
  const auto k = law("kaplan2020").kaplan;
  // Eq. 1.1: L(N = 1e9) = (8.8e13 / 1e9)^0.076 = 88000^0.076 = 2.376 (reference sec. 1.1 worked check).
  CHECK(sim::kaplan_loss_params(k, 1e9) == Approx(2.376).margin(5e-4));
  // Eq. 1.2: L(D = 5.4e11) = (5.4e13 / 5.4e11)^0.095 = 100^0.095 = 10^0.19.
  CHECK(sim::kaplan_loss_tokens(k, 5.4e11) == Approx(std::pow(10.0, 0.19)).epsilon(1e-12));
  // Eq. 1.3: C_min = 3.1e6 PF-days = 3.1e6 x 8.64e19 FLOPs gives L = 100^0.05 = 10^0.1.
  CHECK(sim::kaplan_loss_compute(k, 3.1e6 * 8.64e19) == Approx(std::pow(10.0, 0.1)).epsilon(1e-12));
}

TEST_CASE("Kaplan 2020 frontier puts most compute into parameters", "[laws][kaplan]") {
  const auto l = law("kaplan2020");
  // N_opt = 1.3e9 C_min^0.73 with C in PF-days: 1 PF-day -> 1.3e9, 1000 PF-days -> 1.3e9 x 1000^0.73.
  const auto one = sim::optimal_allocation(l, 8.64e19);
  CHECK(one.params == Approx(1.3e9).epsilon(1e-12));
  CHECK(one.tokens == Approx(8.64e19 / (6.0 * 1.3e9)).epsilon(1e-12));  // D = C / 6N
  const auto big = sim::optimal_allocation(l, 8.64e22);
  CHECK(big.params / one.params == Approx(std::pow(1000.0, 0.73)).epsilon(1e-9));
  // Joint Eq. 1.5 at D -> infinity reduces to (N_c / N)^alpha_N with the joint fit's N_c = 6.4e13.
  CHECK(sim::loss_at(l, 1e9, INFINITY) == Approx(std::pow(6.4e13 / 1e9, 0.076)).epsilon(1e-12));
  CHECK(l.non_embedding_params);
}

TEST_CASE("Epoch AI refit: about 20 tokens per parameter at Chinchilla's compute", "[laws][chinchilla]") {
  const auto l = law("chinchilla-epoch2024");
  // Reference sec. 1.3 [D]: D/N = 18.4 (N = 72B) at C = 5.76e23 with a = beta/(alpha+beta) = 0.513.
  const auto at576 = sim::optimal_allocation(l, 5.76e23);
  CHECK(at576.tokens_per_param() == Approx(18.4).margin(0.05));
  CHECK(at576.params == Approx(72.2e9).epsilon(0.01));
  const auto at588 = sim::optimal_allocation(l, kChinchillaCompute);
  CHECK(at588.tokens_per_param() >= 18.0);
  CHECK(at588.tokens_per_param() <= 20.0);
  CHECK(at588.params * at588.tokens * 6.0 == Approx(kChinchillaCompute).epsilon(1e-12));
}

TEST_CASE("Chinchilla's rounded constants put the optimum near 90 tokens per parameter", "[laws][chinchilla]") {
  // Reference sec. 1.3 [D]: rounded (1.69/406.4/410.7/0.34/0.28) give D/N = 92.6 (N = 32B) at 5.76e23;
  // the unrounded TeX constants 58.9 (N = 40B).
  const auto rounded = sim::optimal_allocation(law("chinchilla2022"), 5.76e23);
  CHECK(rounded.tokens_per_param() == Approx(92.6).margin(0.1));
  CHECK(rounded.params == Approx(32.2e9).epsilon(0.01));
  CHECK(sim::optimal_allocation(law("chinchilla2022"), kChinchillaCompute).tokens_per_param() ==
        Approx(90.0).margin(5.0));
  CHECK(sim::optimal_allocation(law("chinchilla2022-unrounded"), 5.76e23).tokens_per_param() ==
        Approx(58.9).margin(0.1));
}

TEST_CASE("The numeric optimum matches the closed form when both count 6ND", "[laws][chinchilla]") {
  // A counting that is 6N but not flagged as 6ND forces the golden-section search; Hoffmann eq. 4 is exact.
  const auto l = law("chinchilla-epoch2024");
  sim::ComputeCounting numeric;
  numeric.flops_per_token = [](double n) { return 6.0 * n; };
  numeric.name = "6N by function";
  for (double c : {1e19, 5.88e23, 3.8e25}) {
    const auto closed = sim::optimal_allocation(l, c);
    const auto searched = sim::optimal_allocation(l, c, numeric);
    CHECK(searched.params == Approx(closed.params).epsilon(1e-6));
    CHECK(searched.tokens == Approx(closed.tokens).epsilon(1e-6));
    CHECK(searched.loss == Approx(closed.loss).epsilon(1e-12));
  }
}

TEST_CASE("Counting more FLOPs per token moves the optimum to fewer parameters", "[laws]") {
  // With f(N) = 7.2 N (20 % more than 6N, e.g. attention), a given C buys fewer (N, D) pairs: the
  // optimum has C = 7.2 N D exactly and a higher loss than the 6ND optimum.
  const auto l = law("chinchilla-epoch2024");
  sim::ComputeCounting heavier;
  heavier.flops_per_token = [](double n) { return 7.2 * n; };
  const auto a = sim::optimal_allocation(l, 1e23, heavier);
  const auto b = sim::optimal_allocation(l, 1e23);
  CHECK(7.2 * a.params * a.tokens == Approx(1e23).epsilon(1e-9));
  CHECK(a.params < b.params);
  CHECK(a.loss > b.loss);
  // Equivalent to the 6ND optimum at C / 1.2 (the loss only sees N and D).
  const auto c = sim::optimal_allocation(l, 1e23 / 1.2);
  CHECK(a.params == Approx(c.params).epsilon(1e-6));
}

TEST_CASE("Compute for a target loss inverts the frontier", "[laws]") {
  for (const char* name : {"chinchilla-epoch2024", "chinchilla2022", "tokens-per-param-20", "llama3-2024", "kaplan2020"}) {
    const auto l = law(name);
    const auto at = sim::optimal_allocation(l, 2e23);
    auto back = sim::compute_for_loss(l, at.loss);
    INFO(name);
    REQUIRE(back.has_value());
    CHECK(back->compute == Approx(2e23).epsilon(1e-6));
    CHECK(back->params == Approx(at.params).epsilon(1e-5));
  }
}

TEST_CASE("A target loss at or below the irreducible loss is an error", "[laws]") {
  const auto l = law("chinchilla-epoch2024");
  SECTION("equal to E") {
    auto r = sim::compute_for_loss(l, l.loss.e);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().path == "plan.target_loss");
    CHECK(r.error().message.find("irreducible") != std::string::npos);
  }
  SECTION("below E") { CHECK_FALSE(sim::compute_for_loss(l, 1.0).has_value()); }
  SECTION("negative") { CHECK_FALSE(sim::compute_for_loss(l, -2.0).has_value()); }
}

TEST_CASE("20 tokens per parameter", "[laws]") {
  const auto l = law("tokens-per-param-20");
  // C = 6 N (20 N) = 120 N^2, so N = sqrt(5.88e23 / 120) = 7.0e10 and D = 1.4e12: Chinchilla itself.
  const auto a = sim::optimal_allocation(l, kChinchillaCompute);
  CHECK(a.params == Approx(70e9).epsilon(1e-9));
  CHECK(a.tokens == Approx(1.4e12).epsilon(1e-9));
  CHECK(l.loss_from == "chinchilla-epoch2024");
  CHECK(a.loss == Approx(sim::loss_at(law("chinchilla-epoch2024"), 70e9, 1.4e12)).epsilon(1e-12));
}

TEST_CASE("Llama 3 tokens law", "[laws]") {
  auto l = law("llama3-2024");
  // D*(C) = 0.29 C^0.53; at 3.8e25 FLOPs that is 1.046e13 tokens and N = C / 6D = 6.05e11.
  const auto a = sim::optimal_allocation(l, 3.8e25);
  CHECK(a.tokens == Approx(0.29 * std::pow(3.8e25, 0.53)).epsilon(1e-12));
  CHECK(a.params == Approx(3.8e25 / (6.0 * a.tokens)).epsilon(1e-9));
  // With alpha = 0.537 the law gives the paper's extrapolation: 402B parameters on 16.55T tokens (sec. 3.2.1).
  l.tokens_exponent = 0.537;
  const auto paper = sim::optimal_allocation(l, 3.8e25);
  CHECK(paper.tokens == Approx(16.55e12).epsilon(0.05));
  CHECK(paper.params == Approx(402e9).epsilon(0.02));
}

TEST_CASE("DeepSeek LLM tokens, batch and learning-rate laws", "[laws]") {
  const auto l = law("deepseek2024");
  // D_opt = 5.8316 C^0.4757; M_opt = 0.1715 C^0.5243 and M_opt D_opt = 1.0001 C, so N = C / 6D = M_opt / 6.
  const auto a = sim::optimal_allocation(l, 1e21);
  CHECK(a.tokens == Approx(5.8316 * std::pow(1e21, 0.4757)).epsilon(1e-12));
  CHECK(6.0 * a.params == Approx(0.1715 * std::pow(1e21, 0.5243)).epsilon(2e-4));
  // B_opt = 0.2920 C^0.3271 tokens, eta_opt = 0.3118 C^-0.125: at 1e20, 1.017e6 tokens and 9.86e-4.
  const auto h = sim::hyper_parameters(l, 1e20);
  REQUIRE(h.has_value());
  CHECK(h->batch_tokens == Approx(0.2920 * std::pow(1e20, 0.3271)).epsilon(1e-12));
  CHECK(h->learning_rate == Approx(0.3118 * std::pow(1e20, -0.125)).epsilon(1e-12));
  // Every other bundled law borrows these hyper-parameter laws.
  CHECK(law("chinchilla-epoch2024").hyper.has_value());
}

TEST_CASE("Muennighoff 2023 data-constrained loss reproduces the authors' example", "[laws][data]") {
  const auto l = law("muennighoff2023");
  REQUIRE(l.repetition.has_value());
  // datablations README: scaling_law(6.34e9, 242e9, 25e9) = 2.2256440889984477 and
  // scaling_law(8.67e9, 178e9, 25e9) = 2.2269634075087867 (Figure 1 right).
  CHECK(sim::repeated_loss(l, *l.repetition, 6.34e9, 242e9, 25e9).loss == Approx(2.2256440889984477).epsilon(1e-12));
  CHECK(sim::repeated_loss(l, *l.repetition, 8.67e9, 178e9, 25e9).loss == Approx(2.2269634075087867).epsilon(1e-12));
}

TEST_CASE("Repeated tokens are worth less than fresh ones", "[laws][data]") {
  const auto l = law("chinchilla-epoch2024");
  REQUIRE(l.repetition.has_value());
  const double rd = l.repetition->r_d_star;  // 15.387756
  SECTION("enough unique data: no penalty") {
    const auto r = sim::repeated_loss(l, *l.repetition, 7e10, 1.4e12, 2e12);
    CHECK(r.epochs == Approx(0.7));
    CHECK(r.effective_tokens == Approx(1.4e12));
    CHECK(r.penalty() == Approx(0.0).margin(1e-15));
  }
  SECTION("4 epochs") {
    // R_D = 3 repetitions: D' = U (1 + R_D* (1 - e^(-3/R_D*))) = 3.726 U instead of 4 U.
    const auto r = sim::repeated_loss(l, *l.repetition, 7e10, 1.4e12, 3.5e11);
    CHECK(r.epochs == Approx(4.0));
    CHECK(r.effective_tokens == Approx(3.5e11 * (1.0 + rd * (1.0 - std::exp(-3.0 / rd)))).epsilon(1e-12));
    CHECK(r.penalty() > 0.0);
    CHECK(r.penalty() < 0.01);  // "up to ~4 epochs cost little"
  }
  SECTION("40 epochs cost much more than 4") {
    const auto four = sim::repeated_loss(l, *l.repetition, 7e10, 1.4e12, 3.5e11);
    const auto forty = sim::repeated_loss(l, *l.repetition, 7e10, 1.4e12, 3.5e10);
    CHECK(forty.penalty() > 10.0 * four.penalty());
  }
}

TEST_CASE("With little unique data the optimum trains more epochs of a smaller model", "[laws][data]") {
  // datablations README: at the compute of 8.67B parameters on 178B tokens (C = 6 x 8.67e9 x 178e9 = 9.26e21)
  // with 25B unique tokens, the data-constrained optimum is 6.8B parameters on 227B tokens, 9.1 epochs
  // (their Figure 1: "many epochs, fewer params"; excess parameters decay faster, R_N* = 5.3 < R_D* = 15.4).
  const auto l = law("muennighoff2023");
  const double c = 6.0 * 8.67e9 * 178e9;
  const auto limited = sim::optimal_allocation(l, c, {}, 25e9);
  CHECK(limited.params == Approx(6.80e9).epsilon(0.005));
  CHECK(limited.tokens == Approx(227e9).epsilon(0.005));
  CHECK(limited.tokens / 25e9 == Approx(9.1).margin(0.05));
  CHECK(limited.loss == Approx(2.22527).epsilon(1e-5));
  CHECK(6.0 * limited.params * limited.tokens == Approx(c).epsilon(1e-9));
  const auto fresh = sim::optimal_allocation(l, c);
  CHECK(limited.params < fresh.params);
  CHECK(limited.loss > fresh.loss);
}

TEST_CASE("Tokens for a fixed model invert each law's allocation", "[laws]") {
  for (const char* name : {"chinchilla-epoch2024", "tokens-per-param-20", "llama3-2024", "deepseek2024", "kaplan2020"}) {
    const auto l = law(name);
    const auto a = sim::optimal_allocation(l, 3e23);
    const auto b = sim::optimal_tokens_for_params(l, a.params);
    INFO(name);
    CHECK(b.tokens == Approx(a.tokens).epsilon(1e-6));
    CHECK(b.compute == Approx(3e23).epsilon(1e-6));
  }
}

TEST_CASE("Law constants are validated field by field", "[laws]") {
  auto l = law("chinchilla-epoch2024");
  SECTION("alpha") {
    l.loss.alpha = -0.3;
    auto r = sim::validate_law(l);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().path == "law chinchilla-epoch2024.loss.alpha");
  }
  SECTION("A") {
    l.loss.a = 0;
    CHECK(sim::validate_law(l).error().path == "law chinchilla-epoch2024.loss.A");
  }
  SECTION("E") {
    l.loss.e = -1;
    CHECK(sim::validate_law(l).error().path == "law chinchilla-epoch2024.loss.E");
  }
  SECTION("tokens exponent of a power law") {
    auto p = law("llama3-2024");
    p.tokens_exponent = 1.2;
    CHECK(sim::validate_law(p).error().path == "law llama3-2024.tokens.exponent");
  }
  SECTION("repetition") {
    l.repetition->r_d_star = 0;
    CHECK(sim::validate_law(l).error().path == "law chinchilla-epoch2024.repetition.r_d_star");
  }
}
