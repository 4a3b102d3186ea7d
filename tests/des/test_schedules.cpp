// Pipeline schedules in the discrete-event simulator against their closed forms, on stages of equal work
// with no communication (no overlap, no contention: where both are exact).
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace clustersim;
using namespace clustersim::strategies;
using clustersim::testing::des_scenario;
using clustersim::testing::run_plan;
using clustersim::testing::uniform_costs;

namespace {
constexpr double kMs = 1e-3;
}  // namespace

TEST_CASE("1F1B: iteration (m + p - 1)(F + B), bubble (p - 1)/(m + p - 1) of the step") {
  // p = 4 stages of 4 layers, m = 8; a layer's forward 1 ms, backward 2 ms, so a stage's F = 4 ms and
  // B = 8 ms. PipeDream-Flush (Narayanan et al. 2021 sec. 2.2.1): T = (m + p - 1)(F + B) = 11 x 12 ms.
  const auto sc = des_scenario(4, 8, Schedule::one_f_one_b);
  const auto r = run_plan(sc, uniform_costs(sc, 1 * kMs, 2 * kMs, 0, 0));
  CHECK(r.report.iteration_time_s == Approx(11 * 12 * kMs).epsilon(1e-12));
  // Every stage computes m (F + B) = 96 ms; the rest, (p - 1)(F + B) = 36 ms, is bubble: 3/11 of the step.
  CHECK(r.report.time.compute.value == Approx(96 * kMs).epsilon(1e-12));
  CHECK(r.report.time.bubble.value / r.report.iteration_time_s == Approx(3.0 / 11.0).epsilon(1e-12));
  CHECK(r.report.time.exposed_comm.value == Approx(0).margin(1e-15));
  // The critical path covers the iteration and, without communication, is all compute.
  CHECK(r.critical_path.length == Approx(r.report.iteration_time_s));
  CHECK(r.critical_path.time.compute == Approx(r.report.iteration_time_s).epsilon(1e-12));
}

TEST_CASE("GPipe and 1F1B take the same time; GPipe holds m micro-batches, 1F1B p, on the first stage") {
  // Same setup; each layer keeps 1 MiB of activations from its forward to its backward. GPipe: all
  // forwards, then all backwards: T = (m + p - 1) F + (m + p - 1) B, equal to 1F1B's (m + p - 1)(F + B).
  // Stage 0 holds all m = 8 micro-batches x 4 layers = 32 MiB under GPipe (Huang et al. 2019), p = 4
  // micro-batches x 4 layers = 16 MiB under 1F1B (PipeDream-Flush), above its static bytes.
  const auto sc_g = des_scenario(4, 8, Schedule::gpipe);
  const auto sc_1 = des_scenario(4, 8, Schedule::one_f_one_b);
  const auto g = run_plan(sc_g, uniform_costs(sc_g, 1 * kMs, 2 * kMs, 0, kMiB));
  const auto o = run_plan(sc_1, uniform_costs(sc_1, 1 * kMs, 2 * kMs, 0, kMiB));
  CHECK(g.report.iteration_time_s == Approx(o.report.iteration_time_s).epsilon(1e-12));
  CHECK(g.report.iteration_time_s == Approx(11 * 12 * kMs).epsilon(1e-12));
  const double static0 = plan_costs(sc_1).static_bytes[0];
  CHECK(g.ranks[0].peak_bytes - static0 == Approx(32 * kMiB));
  CHECK(o.ranks[0].peak_bytes - static0 == Approx(16 * kMiB));
  // 1F1B stage r holds p - r: the last stage one micro-batch (4 MiB).
  CHECK(o.ranks[3].peak_bytes - plan_costs(sc_1).static_bytes[3] == Approx(4 * kMiB));
}

TEST_CASE("interleaved 1F1B divides the bubble by v") {
  // p = 4, v = 2 chunks of 2 layers per stage, m = 8 (a multiple of p). Per stage F = 4 ms, B = 8 ms in
  // all; Narayanan et al. 2021 sec. 2.2.2: T = m (F + B) + (p - 1)(F + B)/v = 96 + 36/2 = 114 ms.
  const auto sc = des_scenario(4, 8, Schedule::interleaved_1f1b, 2);
  const auto r = run_plan(sc, uniform_costs(sc, 1 * kMs, 2 * kMs, 0, 0));
  CHECK(r.report.iteration_time_s == Approx(114 * kMs).epsilon(1e-12));
  CHECK(r.report.time.bubble.value == Approx(18 * kMs).epsilon(1e-9));
  SECTION("v = 4: bubble 36/4 = 9 ms") {
    const auto sc4 = des_scenario(4, 8, Schedule::interleaved_1f1b, 4);
    const auto r4 = run_plan(sc4, uniform_costs(sc4, 1 * kMs, 2 * kMs, 0, 0));
    CHECK(r4.report.iteration_time_s == Approx(105 * kMs).epsilon(1e-12));
  }
  SECTION("any number of micro-batches completes (Megatron's micro-batch group size)") {
    // m not a multiple of p takes groups of g > p micro-batches (Megatron: the last group may not be
    // smaller than p, or the schedule deadlocks); m < p is rejected when the scenario is validated. A stage has 16 / p layers of 0.5 p ms
    // forward and p ms backward: F = 8 ms, B = 16 ms. Every stage computes m (F + B) = m x 24 ms, so the
    // step takes at least that; when p divides m it is m (F + B) + (p - 1)(F + B)/v.
    for (const auto& [p, v] : {std::pair{4, 2}, std::pair{4, 4}, std::pair{8, 2}}) {
      for (int m = p; m <= 3 * p + 1; ++m) {  // fewer than p micro-batches is rejected by validation
        INFO("p " << p << " v " << v << " m " << m << " group " << interleaved_group_size(p, m));
        const auto scm = des_scenario(p, m, Schedule::interleaved_1f1b, v);
        auto res = sim::simulate_plan(scm, lower(scm, uniform_costs(scm, 0.5 * p * kMs, 1.0 * p * kMs, 0, 0)));
        REQUIRE(res);
        CHECK(res->report.iteration_time_s >= Approx(m * 24 * kMs));
        if (m % p == 0) CHECK(res->report.iteration_time_s == Approx((m + (p - 1.0) / v) * 24 * kMs).epsilon(1e-12));
      }
    }
    CHECK(interleaved_group_size(8, 10) == 10);
    CHECK(interleaved_group_size(8, 16) == 8);
    CHECK(interleaved_group_size(4, 11) == 6);  // 11 mod 4 = 3, 11 mod 5 = 1: both below p; 11 mod 6 = 5
  }
}

TEST_CASE("ZB-H1's bubble is a third of 1F1B's when F = B = W") {
  // Per layer F = 1 ms, B (input gradient) = 1 ms, W (weight gradient) = 1 ms; a stage of 4 layers has
  // F = B = W = 4 ms. 1F1B runs B and W together: bubble (p - 1)(F + B + W) = 3 x 12 = 36 ms. ZB-H1
  // (Qi et al. 2023 sec. 3.1): (p - 1)(F + B - W) = 3 x 4 = 12 ms, a third. T = m (F + B + W) + bubble.
  const auto sc_zb = des_scenario(4, 8, Schedule::zero_bubble_h1);
  const auto sc_1 = des_scenario(4, 8, Schedule::one_f_one_b);
  const auto zb = run_plan(sc_zb, uniform_costs(sc_zb, 1 * kMs, 2 * kMs, 1 * kMs, kMiB));
  const auto one = run_plan(sc_1, uniform_costs(sc_1, 1 * kMs, 2 * kMs, 1 * kMs, kMiB));
  CHECK(one.report.iteration_time_s == Approx(96 * kMs + 36 * kMs).epsilon(1e-12));
  CHECK(zb.report.iteration_time_s == Approx(96 * kMs + 12 * kMs).epsilon(1e-12));
  CHECK(zb.report.time.bubble.value / one.report.time.bubble.value == Approx(1.0 / 3.0).epsilon(1e-9));
  // Same peak memory as 1F1B (W keeps all of a layer's activations here): p micro-batches on stage 0.
  CHECK(zb.report.memory.peak_allocated.value == Approx(one.report.memory.peak_allocated.value));
}

TEST_CASE("one stage runs micro-batches one after another: m (F + B), no bubble") {
  // p = 1 (tp 8): T = m (F + B) = 8 x 16 layers x 3 ms = 384 ms; one micro-batch in flight.
  const auto sc = des_scenario(1, 8, Schedule::one_f_one_b);
  const auto r = run_plan(sc, uniform_costs(sc, 1 * kMs, 2 * kMs, 0, kMiB));
  CHECK(r.report.iteration_time_s == Approx(384 * kMs).epsilon(1e-12));
  CHECK(r.report.time.bubble.value == Approx(0).margin(1e-12));
  CHECK(r.ranks[0].peak_bytes - plan_costs(sc).static_bytes[0] == Approx(16 * kMiB));
}

TEST_CASE("PP sends block the sender: each transfer adds to the chain it is on") {
  // 1F1B, p = 2 stages of 8 layers, m = 4: F = 8 ms, B = 16 ms per stage, and a 1 ms send after every
  // pass that has a neighbour (stage 0 sends activations, stage 1 gradients). Stage 0 runs F0, send;
  // stage 1 F0, B0, send: the first gradient reaches stage 0 at 8 + 1 + 8 + 16 + 1 = 34 ms. From then on
  // both stages cycle with period F + B + send = 25 ms (stage 0: B, F, send; stage 1: F, B, send) three
  // more times, and stage 0's last backward takes 16 ms: 34 + 3 x 25 + 16 = 125 ms.
  const auto sc = des_scenario(2, 4, Schedule::one_f_one_b);
  auto c = uniform_costs(sc, 1 * kMs, 2 * kMs, 0, 0);
  c.pp_send = Seconds(1 * kMs);
  const auto r = run_plan(sc, c);
  CHECK(r.report.iteration_time_s == Approx(125 * kMs).epsilon(1e-12));
  // Stage 0 (the busiest: 4 x 24 ms of compute plus 4 sends) sent 4 activations: 4 ms of PP time.
  CHECK(r.report.time.pp_comm.value == Approx(4 * kMs).epsilon(1e-12));
}
