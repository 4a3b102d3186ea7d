// The lowering of a scenario to per-stage programs (strategies/plan.hpp): pass orders of the schedules
// and the ops each pass emits.
#include <catch2/catch.hpp>

#include <algorithm>

#include "support.hpp"

using namespace clustersim;
using namespace clustersim::strategies;
using clustersim::testing::des_scenario;
using clustersim::testing::gpt_model;
using clustersim::testing::preset_cluster;
using clustersim::testing::scenario;

namespace {
std::string letters(const std::vector<Pass>& passes) {
  std::string s;
  for (const auto& p : passes) s += p.type;
  return s;
}
int count(const std::vector<PlanOp>& ops, OpKind k) {
  return static_cast<int>(std::count_if(ops.begin(), ops.end(), [&](const PlanOp& o) { return o.kind == k; }));
}
// A stage's layer TP collective time: on the TP stream (hidden) and on the compute stream (exposed).
std::pair<double, double> layer_tp_split(const StageProgram& st) {
  double hidden = 0, exposed = 0;
  for (const auto& op : st.ops) {
    if (op.kind != OpKind::tp_comm || op.part != Part::layer) continue;
    (op.stream == Stream::tp ? hidden : exposed) += op.duration;
  }
  return {hidden, exposed};
}
}  // namespace

TEST_CASE("1F1B: p - r - 1 warm-up forwards, then one forward one backward, then the cool-down") {
  // p = 4, m = 6: stage 0 warms up with 3 forwards, stage 3 with none (PipeDream-Flush).
  CHECK(letters(pass_order(Schedule::one_f_one_b, 4, 0, 6, 1)) == "FFFFBFBFBBBB");
  CHECK(letters(pass_order(Schedule::one_f_one_b, 4, 3, 6, 1)) == "FBFBFBFBFBFB");
  // Fewer micro-batches than the warm-up: all forwards first.
  CHECK(letters(pass_order(Schedule::one_f_one_b, 4, 0, 2, 1)) == "FFBB");
}

TEST_CASE("GPipe: all forwards, then all backwards") {
  CHECK(letters(pass_order(Schedule::gpipe, 4, 1, 3, 1)) == "FFFBBB");
}

TEST_CASE("ZB-H1: stage r delays its weight gradients by r passes") {
  // p = 2, m = 4 (Qi et al. 2023 Fig. 3, PyTorch's rule): stage 0 runs W right after each B; stage 1
  // holds its first W back one pass and flushes the last at the end.
  CHECK(letters(pass_order(Schedule::zero_bubble_h1, 2, 0, 4, 1)) == "FFBWFBWFBWBW");
  CHECK(letters(pass_order(Schedule::zero_bubble_h1, 2, 1, 4, 1)) == "FBFBWFBWFBWW");
}

TEST_CASE("interleaved 1F1B: Megatron's warm-up and chunk order") {
  // p = 2, v = 2, m = 4, stage 0: warm-up 2 (p - 1) + (v - 1) p = 4 chunk-passes; forwards visit
  // micro-batches 0, 1 on chunk 0, then 0, 1 on chunk 1, then 2, 3 on chunk 0 ...; backwards start with
  // the last chunk.
  const auto passes = pass_order(Schedule::interleaved_1f1b, 2, 0, 4, 2);
  REQUIRE(passes.size() == 16);
  CHECK(letters(passes) == "FFFFFBFBFBFBBBBB");
  CHECK(passes[2].chunk == 1);
  CHECK(passes[2].micro_batch == 0);
  CHECK(passes[4].chunk == 0);
  CHECK(passes[4].micro_batch == 2);
  CHECK(passes[5].type == 'B');
  CHECK(passes[5].chunk == 1);
  CHECK(passes[5].micro_batch == 0);
}

TEST_CASE("a pass is one op per layer, with its TP collectives and PP send") {
  // p = 4 (tp 2, no SP), 4 layers per stage, m = 8: stage 1 runs 8 x 4 layer forwards and backwards,
  // each followed by its TP collectives on the compute stream; it sends 8 activations and 8 gradients.
  const auto sc = des_scenario(4, 8, Schedule::one_f_one_b);
  const auto plan = lower(sc);
  REQUIRE(plan.stages.size() == 4);
  const auto& ops = plan.stages[1].ops;
  CHECK(count(ops, OpKind::forward) == 32);
  CHECK(count(ops, OpKind::backward) == 32);
  CHECK(count(ops, OpKind::tp_comm) == 64);
  CHECK(count(ops, OpKind::pp_send) == 16);
  CHECK(count(ops, OpKind::optimizer) == 1);
  // Stage 0 also embeds (a forward and a backward per micro-batch; its TP collective in the forward);
  // the last stage has the head (TP collectives in both passes) and sends no activations.
  CHECK(count(plan.stages[0].ops, OpKind::forward) == 40);
  CHECK(count(plan.stages[3].ops, OpKind::tp_comm) == 64 + 16);
  CHECK(count(plan.stages[3].ops, OpKind::pp_send) == 8);
  // Every op's dependency names an existing op.
  for (const auto& st : plan.stages)
    for (const auto& d : st.deps) CHECK(d.op < plan.stages[d.stage].ops.size());
}

TEST_CASE("overlapped TP collectives leave 1/t exposed on the compute stream") {
  // tp 8 with tp_comm_overlap, no sequence parallelism (all-reduces): each collective is split into a
  // hidden (t - 1)/t on the TP stream and an exposed 1/t on the compute stream (Wang et al. 2022),
  // together the whole collective.
  auto sc = des_scenario(1, 2, Schedule::one_f_one_b);
  sc.layout.tp_comm_overlap = true;
  const auto c = plan_costs(sc);
  const auto [hidden, exposed] = layer_tp_split(lower(sc, c).stages[0]);
  // 2 micro-batches x 16 layers x 2 passes.
  CHECK(hidden + exposed == Approx(64 * c.layer_tp.value));
  CHECK(exposed == Approx(64 * c.layer_tp.value / 8));
}

TEST_CASE("overlapped TP collectives with sequence parallelism keep the share their GEMMs cannot hide") {
  auto sc = des_scenario(1, 2, Schedule::one_f_one_b);
  sc.layout.tp_comm_overlap = true;
  sc.layout.sequence_parallel = true;
  const auto c = plan_costs(sc);
  REQUIRE(c.layer_tp_exposed_share >= 1.0 / 8);
  REQUIRE(c.layer_tp_exposed_share <= 1.0);
  const auto [hidden, exposed] = layer_tp_split(lower(sc, c).stages[0]);
  CHECK(hidden + exposed == Approx(64 * c.layer_tp.value));
  CHECK(exposed == Approx(64 * c.layer_tp.value * c.layer_tp_exposed_share));
}

TEST_CASE("FSDP under pipeline parallelism gathers each unit once per iteration and reduces it once") {
  // 2 stages x 8 layers, 4 micro-batches, dp 2 (tp 2): FSDP keeps the gathered parameters from the
  // first forward to the last backward and reduce-scatters after the last backward only.
  const auto model = gpt_model(16, 1024, 16);
  const auto cluster = preset_cluster("dgx-a100", 1);
  TrainingSpec t;
  t.seq_length = 1024;
  t.global_batch = 8;
  t.framework = Framework::fsdp;
  const auto sc = scenario(model, cluster, t, {.tp = 2, .pp = 2, .dp = 2, .zero = 3});
  REQUIRE(sc.micro_batches == 4);
  const auto plan = lower(sc);
  for (const auto& st : plan.stages) {
    // Units: 8 layers, plus the embedding on stage 0 and the head on stage 1.
    CHECK(count(st.ops, OpKind::param_gather) == 9);
    CHECK(count(st.ops, OpKind::grad_reduce) == 9);
    double alloc = 0, release = 0;
    for (const auto& op : st.ops) {
      alloc += op.alloc;
      release += op.release;
    }
    CHECK(alloc == Approx(release).epsilon(1e-12));
  }
  // Megatron-style ZeRO-3 (reshards after every pass) gathers per micro-batch and pass.
  auto megatron = t;
  megatron.framework = Framework::megatron;
  const auto per_pass = lower(scenario(model, cluster, megatron, {.tp = 2, .pp = 2, .dp = 2, .zero = 3}));
  CHECK(count(per_pass.stages[0].ops, OpKind::param_gather) == 9 * 4 * 2);
}
