// The discrete-event evaluator on real scenarios: agreement with the closed form where it is exact,
// memory timeline, full mode, stragglers, determinism, bad input.
#include <catch2/catch.hpp>

#include <thread>

#include "sim/analytical.hpp"
#include "strategies/costs.hpp"
#include "strategies/memory.hpp"
#include "support.hpp"

using namespace clustersim;
using namespace clustersim::strategies;
using clustersim::testing::des_scenario;
using clustersim::testing::gpt_model;
using clustersim::testing::preset_cluster;
using clustersim::testing::run;
using clustersim::testing::scenario;

TEST_CASE("one stage, one replica: the simulation equals the closed form") {
  // p = 1, dp = 1, tp 8: nothing overlaps and nothing contends. Both evaluators give m x (forward +
  // backward + TP collectives of every layer, the embedding and the head) + the optimizer step.
  const auto sc = des_scenario(1, 8, Schedule::one_f_one_b);
  const auto est = sim::estimate(sc);
  const auto r = run(sc);
  CHECK(r.report.evaluator == "simulate");
  CHECK(r.report.iteration_time_s == Approx(est.iteration_time_s).epsilon(1e-9));
  CHECK(r.report.mfu == Approx(est.mfu).epsilon(1e-9));
  const auto rc = rank_costs(sc).front();
  CHECK(r.report.time.compute.value == Approx(((rc.forward + rc.backward) * 8.0).value).epsilon(1e-9));
  CHECK(r.report.time.exposed_comm.value == Approx((rc.tp_comm * 8.0).value).epsilon(1e-9));
  CHECK(r.report.time.optimizer.value == Approx(rc.optimizer.value).epsilon(1e-9));
}

TEST_CASE("the breakdown and the critical path account for the whole iteration") {
  // 1F1B on 4 stages (tp 2, dp 1) with real costs: the busiest GPU's compute stream
  // is computing, exposed to communication, in the optimizer, or idle (bubble); the four add up to the
  // step. The critical path runs from time zero to the end without gaps.
  const auto sc = des_scenario(4, 8, Schedule::one_f_one_b);
  const auto r = run(sc);
  const auto& t = r.report.time;
  CHECK((t.compute + t.recompute + t.exposed_comm + t.optimizer + t.bubble).value ==
        Approx(r.report.iteration_time_s).epsilon(1e-9));
  const auto& cp = r.critical_path;
  CHECK(cp.time.total() == Approx(cp.length).epsilon(1e-9));
  REQUIRE_FALSE(cp.steps.empty());
  CHECK(cp.steps.front().start == 0.0);
  CHECK(cp.steps.back().end == Approx(r.report.iteration_time_s));
  for (std::size_t i = 1; i < cp.steps.size(); ++i) {
    CHECK(cp.steps[i].start == Approx(cp.steps[i - 1].end));
    CHECK(cp.steps[i].rank != cp.steps[i - 1].rank);
    CHECK(cp.steps[i].time.total() == Approx(cp.steps[i].end - cp.steps[i].start));
  }
  // The 1F1B critical path crosses the pipeline: down with the first micro-batch, back with the last.
  CHECK(cp.stage_changes >= 2 * (4 - 1));
}

TEST_CASE("the 1F1B first stage holds p micro-batches at its peak") {
  // p = 4, m = 8, real costs, no recompute. At stage 0's peak (the backward of micro-batch 0, after the
  // forward of micro-batch p - 1) it holds p micro-batches of activations: p x (4 layers x stored +
  // embedding ids and mask), plus that backward's transient gradients, above its static bytes.
  const auto sc = des_scenario(4, 8, Schedule::one_f_one_b);
  const auto c = plan_costs(sc);
  const auto r = run(sc);
  const double per_mb = 4 * c.layer_stored + c.embedding_stored;
  CHECK(r.ranks[0].peak_bytes == Approx(c.static_bytes[0] + 4 * per_mb + c.grad_transient).epsilon(1e-12));
  CHECK(r.ranks[0].peak_at.find("backward") == 0);
  // The memory model (strategies/memory.cpp) counts the same in-flight micro-batches and terms.
  CHECK(r.report.memory.stages[0].allocated_peak.value ==
        Approx(memory_report(sc).stages[0].allocated_peak.value).epsilon(1e-9));
}

TEST_CASE("full mode: every GPU, and without contention the same as the representative mode") {
  // tp 8 inside each of 2 DGX A100 nodes, pp 2, dp 1: TP collectives use each node's NVLink ports alone,
  // PP transfers go NIC to NIC in opposite directions. Nothing shares a link, so the full simulation of
  // 16 GPUs matches the one-GPU-per-stage one.
  const auto model = gpt_model(16, 1024, 16);
  strategies::TrainingSpec t;
  t.seq_length = 1024;
  t.global_batch = 8;
  const auto sc = scenario(model, preset_cluster("dgx-a100", 2), t, {.tp = 8, .pp = 2, .sequence_parallel = true});
  const auto rep = run(sc);
  sim::SimulateOptions o;
  o.full = true;
  const auto full = run(sc, o);
  CHECK(full.ranks.size() == 16);
  CHECK(full.stats.flows > 0);
  CHECK(full.report.iteration_time_s == Approx(rep.report.iteration_time_s).epsilon(1e-9));
  CHECK(full.report.memory.peak_allocated.value == Approx(rep.report.memory.peak_allocated.value).epsilon(1e-12));
}

TEST_CASE("a straggler slows the whole step") {
  // 4 nodes of 8 A100s: tp 8, pp 2, dp 2. GPU 3 (stage 0, DP replica 0) runs its kernels 2x slower.
  // Its TP group waits for it at every collective, the pipeline behind it waits for its sends, and DP
  // replica 1 waits at the gradient reduction: the step takes longer than without it, and at least as
  // long as the slow GPU's own compute (twice its normal kernel time).
  const auto model = gpt_model(16, 1024, 16);
  strategies::TrainingSpec t;
  t.seq_length = 1024;
  t.global_batch = 16;
  const auto sc = scenario(model, preset_cluster("dgx-a100", 4), t, {.tp = 8, .pp = 2, .sequence_parallel = true});
  sim::SimulateOptions full;
  full.full = true;
  const auto base = run(sc, full);
  auto slow_opt = full;
  slow_opt.stragglers.push_back({sim::Straggler::Kind::gpu, 3, 2.0});
  const auto slow = run(sc, slow_opt);
  CHECK(slow.report.iteration_time_s > base.report.iteration_time_s * 1.2);
  CHECK(slow.report.iteration_time_s >= 2.0 * base.ranks[3].compute_busy);
  // Its healthy DP peer (GPU 11 = tp 3 of replica 1, stage 0) waits for it at the gradient reduction.
  CHECK(slow.ranks[11].end > base.ranks[11].end);
  SECTION("the representative mode slows the straggler's stage") {
    sim::SimulateOptions o;
    o.stragglers = slow_opt.stragglers;
    const auto rep = run(sc, o);
    CHECK(rep.report.iteration_time_s > run(sc).report.iteration_time_s * 1.2);
  }
  SECTION("a slow NIC slows the transfers through it") {
    // GPU 3's NIC at a tenth of its bandwidth: its PP sends to stage 1 take 10x as long.
    auto nic = full;
    nic.stragglers.push_back({sim::Straggler::Kind::nic, 3, 10.0});
    const auto r = run(sc, nic);
    CHECK(r.report.iteration_time_s > base.report.iteration_time_s);
  }
}

TEST_CASE("same input, same trace: runs are deterministic, also side by side in threads") {
  const auto sc = des_scenario(4, 8, Schedule::interleaved_1f1b, 2);
  sim::SimulateOptions o;
  o.trace = true;
  // A trace's fingerprint: FNV-1a over every event's fields.
  auto hash = [](const sim::SimResult& r) {
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&](const void* p, std::size_t n) {
      const auto* b = static_cast<const unsigned char*>(p);
      for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    };
    for (const auto& e : r.trace) {
      mix(&e.rank, sizeof e.rank);
      mix(&e.kind, sizeof e.kind);
      mix(&e.micro_batch, sizeof e.micro_batch);
      mix(&e.start, sizeof e.start);
      mix(&e.duration, sizeof e.duration);
    }
    for (const auto& m : r.memory) {
      mix(&m.time, sizeof m.time);
      mix(&m.bytes, sizeof m.bytes);
    }
    return h;
  };
  const auto first = sim::simulate(sc, o);
  REQUIRE(first);
  REQUIRE_FALSE(first->trace.empty());
  const auto reference = hash(*first);
  std::uint64_t h1 = 0, h2 = 0;
  std::thread a([&] { auto r = sim::simulate(sc, o); if (r) h1 = hash(*r); });
  std::thread b([&] { auto r = sim::simulate(sc, o); if (r) h2 = hash(*r); });
  a.join();
  b.join();
  CHECK(h1 == reference);
  CHECK(h2 == reference);
}

TEST_CASE("the plan balances its allocations and keeps what each layout needs") {
  // Whatever the layout, every byte allocated in an iteration is freed by its end, so the memory
  // timeline returns to the static bytes.
  const auto model = gpt_model(16, 1024, 16);
  strategies::TrainingSpec t;
  t.seq_length = 1024;
  t.global_batch = 16;
  const auto cl = preset_cluster("dgx-a100", 2);
  std::vector<LayoutSpec> layouts = {
      {.tp = 2, .pp = 2, .zero = 1},
      {.tp = 2, .pp = 2, .zero = 3},
      {.tp = 2, .pp = 2, .zero = 3, .overlap_param_gather = false},
      {.tp = 4, .pp = 2, .sequence_parallel = true, .recompute = Recompute::full},
      {.tp = 4, .pp = 2, .schedule = Schedule::zero_bubble_h1},
      {.tp = 2, .pp = 4, .virtual_stages = 2, .schedule = Schedule::interleaved_1f1b},
      {.tp = 8, .pp = 2, .sequence_parallel = true, .tp_comm_overlap = true},
      {.tp = 2, .pp = 2, .overlap_grad_reduce = false},
  };
  for (const auto& L : layouts) {
    const auto sc = scenario(model, cl, t, L);
    const auto plan = lower(sc);
    for (const auto& st : plan.stages) {
      double alloc = 0, release = 0;
      for (const auto& op : st.ops) {
        alloc += op.alloc;
        release += op.release;
      }
      CHECK(alloc == Approx(release).epsilon(1e-12));
    }
    sim::SimulateOptions o;
    o.trace = true;
    const auto r = run(sc, o);
    // The last memory sample of each GPU is back at its static bytes.
    for (std::uint32_t k = 0; k < r.ranks.size(); ++k) {
      double last = -1;
      for (const auto& m : r.memory)
        if (m.rank == k) last = m.bytes;
      CHECK(last == Approx(plan.stages[r.ranks[k].stage].static_bytes).epsilon(1e-9));
    }
    CHECK(r.report.iteration_time_s > 0);
  }
}

TEST_CASE("stragglers: parsing and bad input, one section per field") {
  SECTION("valid forms") {
    auto g = sim::parse_straggler("gpu=12:1.5");
    REQUIRE(g);
    CHECK(g->kind == sim::Straggler::Kind::gpu);
    CHECK(g->gpu == 12);
    CHECK(g->factor == 1.5);
    auto n = sim::parse_straggler("link=nic:3:4");
    REQUIRE(n);
    CHECK(n->kind == sim::Straggler::Kind::nic);
    CHECK(sim::to_string(*n) == "link=nic:3:4");
    auto v = sim::parse_straggler("link=nvlink:0:2");
    REQUIRE(v);
    CHECK(v->kind == sim::Straggler::Kind::nvlink);
  }
  SECTION("missing '='") { CHECK_FALSE(sim::parse_straggler("gpu12:2")); }
  SECTION("unknown kind") {
    const auto e = sim::parse_straggler("cpu=1:2");
    REQUIRE_FALSE(e);
    CHECK(e.error().path == "straggler");
    CHECK(e.error().message.find("unknown kind 'cpu'") != std::string::npos);
  }
  SECTION("unknown link") { CHECK_FALSE(sim::parse_straggler("link=pcie:1:2")); }
  SECTION("bad GPU id") {
    CHECK_FALSE(sim::parse_straggler("gpu=-1:2"));
    CHECK_FALSE(sim::parse_straggler("gpu=x:2"));
  }
  SECTION("bad factor") {
    CHECK_FALSE(sim::parse_straggler("gpu=1:0"));
    CHECK_FALSE(sim::parse_straggler("gpu=1:fast"));
    CHECK_FALSE(sim::parse_straggler("gpu=1"));
  }
  SECTION("a GPU the cluster does not have") {
    sim::SimulateOptions o;
    o.stragglers.push_back({sim::Straggler::Kind::gpu, 8, 2.0});
    const auto r = sim::simulate(des_scenario(4, 8, Schedule::one_f_one_b), o);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("does not exist") != std::string::npos);
  }
  SECTION("a slow link without --full") {
    sim::SimulateOptions o;
    o.stragglers.push_back({sim::Straggler::Kind::nic, 0, 2.0});
    const auto r = sim::simulate(des_scenario(4, 8, Schedule::one_f_one_b), o);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("--full") != std::string::npos);
  }
}
