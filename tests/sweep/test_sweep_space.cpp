// Enumeration of sweep spaces against the brute-force reference (every point of the product through
// validate_scenario), and the closed-form sizes of "auto" spaces.
#include "fixtures.hpp"

using namespace clustersim;
using namespace clustersim::testing;

namespace {

struct Reference {
  std::uint64_t size = 0, invalid = 0, excluded = 0;
  std::vector<std::uint64_t> evaluable;  // indices, in order
  std::vector<strategies::Scenario> scenarios;
};

Reference reference(const sim::SweepSpec& spec) {
  Reference r;
  r.size = brute_force(spec, [&](std::uint64_t i, std::uint32_t b, const strategies::LayoutSpec&,
                                 const Expected<strategies::Scenario>& sc) {
    if (!sc) {
      ++r.invalid;
    } else if (breaks_constraints(spec, spec.bases[b], *sc)) {
      ++r.excluded;
    } else {
      r.evaluable.push_back(i);
      r.scenarios.push_back(*sc);
    }
  });
  return r;
}

// Checks the space's enumeration of [0, size) against the reference, point by point.
void check_against_reference(const sim::SweepSpec& spec) {
  const auto ref = reference(spec);
  const auto space = make_space(spec);
  REQUIRE(space.size() == ref.size);
  sim::SweepCounts counts;
  std::vector<sim::LayoutPoint> points;
  space.for_each(0, space.size(), counts, [&](const sim::LayoutPoint& p) { points.push_back(p); });
  CHECK(counts.invalid_total() == ref.invalid);
  CHECK(counts.excluded_total() == ref.excluded);
  REQUIRE(points.size() == ref.evaluable.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const auto& sc = ref.scenarios[i];
    INFO("point " << i << " index " << p.index);
    REQUIRE(p.index == ref.evaluable[i]);
    CHECK(p.tp == sc.layout.tp);
    CHECK(p.pp == sc.layout.pp);
    CHECK(p.dp == sc.layout.dp);
    CHECK(p.cp == sc.layout.cp);
    CHECK(p.micro_batch == sc.layout.micro_batch);
    CHECK(p.virtual_stages == sc.layout.virtual_stages);
    CHECK(p.schedule == sc.layout.schedule);
    CHECK(p.zero == sc.layout.zero);
    CHECK(p.recompute == sc.layout.recompute);
    CHECK(p.sequence_parallel == sc.layout.sequence_parallel);
    CHECK(p.attention == sc.layout.attention);
    CHECK(p.micro_batches == sc.micro_batches);
  }
  // Counting without visiting agrees, over the whole space and over arbitrary sub-ranges.
  const auto all = space.count(0, space.size());
  CHECK(all.invalid_total() == ref.invalid);
  CHECK(all.excluded_total() == ref.excluded);
  CHECK(all.feasible() == ref.evaluable.size());
  for (std::uint64_t lo : {std::uint64_t{0}, std::uint64_t{1}, ref.size / 7, ref.size / 2, ref.size - 1}) {
    for (std::uint64_t len : {std::uint64_t{1}, std::uint64_t{13}, std::uint64_t{977}, ref.size}) {
      const auto hi = std::min(ref.size, lo + len);
      const auto c = space.count(lo, hi);
      const auto expected = static_cast<std::uint64_t>(
          std::lower_bound(ref.evaluable.begin(), ref.evaluable.end(), hi) -
          std::lower_bound(ref.evaluable.begin(), ref.evaluable.end(), lo));
      INFO("range [" << lo << ", " << hi << ")");
      CHECK(c.feasible() == expected);
      CHECK(c.layouts() == hi - lo);
    }
  }
  // locate(from, k) is the k-th evaluable index at or after `from`.
  for (std::uint64_t from : {std::uint64_t{0}, ref.size / 3, ref.size - 1}) {
    const auto first = std::lower_bound(ref.evaluable.begin(), ref.evaluable.end(), from) - ref.evaluable.begin();
    for (std::uint64_t k : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{5}, std::uint64_t{100000}}) {
      const auto at = static_cast<std::size_t>(first) + k;
      const auto expected = at < ref.evaluable.size() ? ref.evaluable[at] : ref.size;
      CHECK(space.locate(from, k) == expected);
    }
  }
}

}  // namespace

TEST_CASE("enumeration equals the brute-force reference on a space with invalid values on every axis") {
  // 5 tp x 2 sp x 5 pp x 2 cp x 1 dp x 1 ep x 4 schedules x 3 v x 4 micro-batches x 2 zero x 4 recompute x
  // 2 attention = 153,600 points, each checked by validate_scenario.
  check_against_reference(messy_spec());
}

TEST_CASE("enumeration equals the reference with constraints, listed dp and several bases") {
  auto spec = messy_spec();
  SECTION("degree constraints exclude valid layouts only") {
    spec.constraints.tp.max = 2;
    spec.constraints.pp.min = 2;
    spec.constraints.dp.max = 3;
    spec.constraints.micro_batch.max = 2;
    spec.constraints.virtual_stages.max = 2;
    check_against_reference(spec);
  }
  SECTION("tp within the node") {
    spec.bases[0].cluster = small_cluster(6, 2);  // 2 GPUs per node: tp 4 and 8 leave the node
    spec.constraints.tp_within_node = true;
    check_against_reference(spec);
  }
  SECTION("dp listed (tp x pp x cp x dp must equal the GPU count)") {
    spec.axes.dp = list<int>({1, 2, 3, 4, 6});
    check_against_reference(spec);
  }
  SECTION("several bases, each with its own auto values") {
    spec.axes.micro_batch = automatic<int>();
    spec.axes.tp = automatic<int>();
    spec.axes.pp = automatic<int>();
    spec.bases.push_back(sim::SweepBase{gqa_model(), small_cluster(2), training(512, 16), 0.0, "b"});
    spec.bases.push_back(sim::SweepBase{gqa_model(), small_cluster(3), training(1024, 36), 0.0, "c"});
    check_against_reference(spec);
  }
  SECTION("embedding and loss counted as layers") {
    spec.layout.embedding_as_layer = true;
    spec.layout.loss_as_layer = true;
    spec.axes.pp = automatic<int>();
    spec.axes.virtual_stages = automatic<int>();
    check_against_reference(spec);
  }
  SECTION("recompute_layers set in the base layout (needs recompute full)") {
    spec.layout.recompute_layers = 2;
    spec.constraints.micro_batch.max = 3;
    check_against_reference(spec);
  }
}

TEST_CASE("an all-auto space has the closed-form size") {
  // GPT-3 175B on 1,024 GPUs (the benchmark case): tp in {1..32} (powers of two dividing 96 heads and the
  // 1,024 GPUs: 6 values), sp 2, pp = divisors of gcd(1024, 96) = 32: 6, cp 1, dp 1, ep 1, schedules 4
  // (gpipe, 1f1b, interleaved-1f1b, zb-h1), virtual stages = divisors of 96: 12, micro-batch = divisors of
  // 1,536 = 2^9 x 3: 20, zero 4, recompute 4 (none, selective, selective-op, full), attention 2:
  // 6 x 2 x 6 x 4 x 12 x 20 x 4 x 4 x 2 = 2,211,840.
  const auto m = preset_model("gpt3-175b");
  sim::SweepSpec spec;
  spec.bases.push_back(sim::SweepBase{m, preset_cluster("dgx-a100", 128), training(2048, 1536), 0.0, ""});
  auto& A = spec.axes;
  A.tp = A.pp = A.dp = A.cp = A.ep = A.micro_batch = A.virtual_stages = A.zero = automatic<int>();
  A.schedule = automatic<Schedule>();
  A.recompute = automatic<Recompute>();
  A.sequence_parallel = automatic<bool>();
  A.attention = automatic<model::AttentionImpl>();
  const auto space = make_space(spec);
  CHECK(space.size() == 2211840);
  // Valid layouts by hand: for each (tp, pp) with dp = 1024 / (tp pp) dividing 1,536 (dp <= 512, i.e.
  // tp pp >= 2) and each micro-batch b | 1536 / dp (m = 1536 / (dp b) micro-batches): gpipe, 1f1b and
  // zb-h1 with v = 1, and interleaved with pp > 1, m >= pp and v >= 2, pp v | 96; sp only with tp > 1
  // (2 choices then, else 1); times zero 4 x recompute 4 x attention 2.
  std::uint64_t valid = 0;
  for (int tp : {1, 2, 4, 8, 16, 32})
    for (int pp : {1, 2, 4, 8, 16, 32}) {
      const int dp = 1024 / (tp * pp);
      if (1536 % dp != 0) continue;
      for (int b : brute_divisors(1536 / dp)) {
        const int micro_batches = 1536 / (dp * b);
        std::uint64_t schedules = 3;
        if (pp > 1 && micro_batches >= pp)
          for (int v = 2; v <= 96; ++v) schedules += (96 % (pp * v) == 0) ? 1 : 0;
        valid += (tp > 1 ? 2 : 1) * schedules * 4 * 4 * 2;
      }
    }
  CHECK(space.count(0, space.size()).feasible() == valid);
}

TEST_CASE("shards cut the space into contiguous ranges with equal numbers of layouts to evaluate") {
  const auto space = make_space(messy_spec());
  const auto total = space.count(0, space.size()).feasible();
  for (int n : {1, 2, 3, 7}) {
    std::uint64_t expected_begin = 0, sum = 0;
    for (int i = 0; i < n; ++i) {
      const auto [lo, hi] = sim::shard_range(space, i, n);
      INFO("shard " << i << " of " << n);
      CHECK(lo == expected_begin);
      expected_begin = hi;
      const auto c = space.count(lo, hi).feasible();
      CHECK(c >= total / n);
      CHECK(c <= total / n + 1);
      sum += c;
    }
    CHECK(expected_begin == space.size());
    CHECK(sum == total);
  }
}

TEST_CASE("point_at returns evaluable points only") {
  const auto space = make_space(messy_spec());
  std::vector<std::uint64_t> evaluable;
  sim::SweepCounts counts;
  space.for_each(0, space.size(), counts, [&](const sim::LayoutPoint& p) { evaluable.push_back(p.index); });
  REQUIRE(evaluable.size() > 2);
  for (std::uint64_t i = 0; i < std::min<std::uint64_t>(space.size(), 20000); ++i) {
    const auto p = space.point_at(i);
    INFO("index " << i);
    REQUIRE(p.has_value() == std::binary_search(evaluable.begin(), evaluable.end(), i));
    if (p) CHECK(p->index == i);
  }
  CHECK_FALSE(space.point_at(space.size()).has_value());
}
