// The generic event engine (sim/engine): ordering, resources with queues, edges, max-min flow sharing,
// critical path, determinism. Every expected number is worked out by hand in the comment above it.
#include <catch2/catch.hpp>

#include <thread>

#include "sim/engine/engine.hpp"

using namespace clustersim::sim::engine;

TEST_CASE("events come out by time, then insertion order") {
  EventQueue q;
  q.push(2.0, 0, 1);
  q.push(1.0, 0, 2);
  q.push(2.0, 0, 3);
  q.push(1.0, 0, 4);
  // Time 1 first (targets 2 then 4, pushed in that order), then time 2 (1 then 3).
  std::vector<std::uint32_t> order;
  while (!q.empty()) order.push_back(q.pop().target);
  CHECK(order == std::vector<std::uint32_t>{2, 4, 1, 3});
}

TEST_CASE("an in-order resource runs its tasks one after another, in the order they were added") {
  Engine e;
  const auto r = e.add_resource();
  const auto a = e.add_task(1.0, r), b = e.add_task(2.0, r), c = e.add_task(3.0, r);
  REQUIRE(e.run());
  // 0-1, 1-3, 3-6.
  CHECK(e.end_time(a) == 1.0);
  CHECK(e.start_time(b) == 1.0);
  CHECK(e.end_time(b) == 3.0);
  CHECK(e.end_time(c) == 6.0);
  CHECK(e.start_cause(c).kind == CauseKind::finish_of);
  CHECK(e.start_cause(c).task == b);
}

TEST_CASE("queue disciplines: in-order blocks behind a waiting head, ready-order does not") {
  // y (5 s, no resource) gates x; z has no dependency but is queued after x.
  for (auto d : {Discipline::in_order, Discipline::ready_order}) {
    Engine e;
    const auto r = e.add_resource(1, d);
    const auto y = e.add_task(5.0);
    const auto x = e.add_task(1.0, r);
    const auto z = e.add_task(2.0, r);
    e.add_edge(y, x);
    REQUIRE(e.run());
    if (d == Discipline::in_order) {
      // x starts at 5 and ends at 6; z waits behind it: 6-8.
      CHECK(e.start_time(x) == 5.0);
      CHECK(e.start_time(z) == 6.0);
      CHECK(e.end_time(z) == 8.0);
    } else {
      // z is ready first: 0-2; x at 5-6.
      CHECK(e.start_time(z) == 0.0);
      CHECK(e.start_time(x) == 5.0);
      CHECK(e.end_time(x) == 6.0);
    }
  }
}

TEST_CASE("a resource of capacity 2 runs two tasks at once") {
  Engine e;
  const auto r = e.add_resource(2, Discipline::ready_order);
  const auto a = e.add_task(4.0, r), b = e.add_task(1.0, r), c = e.add_task(1.0, r);
  (void)b;
  REQUIRE(e.run());
  // a and b start at 0; c takes b's place at 1 and ends at 2; a ends at 4.
  CHECK(e.start_time(c) == 1.0);
  CHECK(e.end_time(c) == 2.0);
  CHECK(e.end_time(a) == 4.0);
}

TEST_CASE("finish-to-start, start-to-start and finish-to-finish edges") {
  Engine e;
  const auto a = e.add_task(3.0);
  const auto fs = e.add_task(1.0);
  const auto ss = e.add_task(1.0);
  const auto ff = e.add_task(1.0);
  e.add_edge(a, fs, EdgeKind::finish_to_start);
  e.add_edge(a, ss, EdgeKind::start_to_start);
  e.add_edge(a, ff, EdgeKind::finish_to_finish);
  REQUIRE(e.run());
  // fs runs 3-4 after a; ss starts with a (0-1); ff does its own second 0-1 but cannot end before a (3).
  CHECK(e.start_time(fs) == 3.0);
  CHECK(e.end_time(fs) == 4.0);
  CHECK(e.start_time(ss) == 0.0);
  CHECK(e.end_time(ss) == 1.0);
  CHECK(e.start_time(ff) == 0.0);
  CHECK(e.end_time(ff) == 3.0);
  CHECK(e.end_cause(ff).task == a);
}

TEST_CASE("a rendezvous: members on their streams wait for the last to arrive, then share one transfer") {
  // Two streams; member m0 arrives at 0, m1 after a 2 s task. The shared transfer (latency 0.5, 10 units
  // at 10 units/s) starts when both arrived (2) and ends at 2 + 0.5 + 1 = 3.5; both members end then,
  // and what follows on each stream starts at 3.5.
  Engine e;
  const auto s0 = e.add_resource(), s1 = e.add_resource();
  const auto l = e.add_link(10.0);
  const auto pre = e.add_task(2.0, s1);
  const auto m0 = e.add_task(0.0, s0);
  const auto m1 = e.add_task(0.0, s1);
  const auto work = e.add_task(0.0);
  const LinkUse use{l, 1.0};
  e.add_transfer(0.5, 10.0, FlowModel::kUnbounded, {&use, 1});
  const auto after0 = e.add_task(1.0, s0);
  for (auto m : {m0, m1}) {
    e.add_edge(m, work, EdgeKind::start_to_start);
    e.add_edge(work, m, EdgeKind::finish_to_finish);
  }
  REQUIRE(e.run());
  CHECK(e.start_time(work) == 2.0);
  CHECK(e.end_time(work) == Approx(3.5));
  CHECK(e.end_time(m0) == Approx(3.5));
  CHECK(e.end_time(m1) == Approx(3.5));
  CHECK(e.start_time(after0) == Approx(3.5));
  // The critical path: pre (0-2) on stream 1, whose member arrived last, then the transfer (2-3.5), then
  // what followed on stream 0 (3.5-4.5).
  const auto path = e.critical_path();
  REQUIRE(path.size() == 3);
  CHECK(path[0].task == pre);
  CHECK(path[1].task == work);
  CHECK(path[1].to == Approx(3.5));
  CHECK(path[2].task == after0);
  CHECK(path[2].to == Approx(4.5));
}

TEST_CASE("a task on several resources starts when it heads every queue, and holds them all") {
  // Streams s0 and s1; s1 is busy with a 2 s task first. The collective c (1 s) sits on both: s0 reaches
  // it at 0 but must wait for s1 (2), so it runs 2-3; what follows it on s0 starts at 3, and its start
  // is bound to the task that held s1.
  Engine e;
  const auto s0 = e.add_resource(), s1 = e.add_resource();
  const auto busy = e.add_task(2.0, s1);
  const ResourceId both[] = {s0, s1};
  const auto c = e.add_task(1.0, std::span<const ResourceId>(both));
  const auto after = e.add_task(0.5, s0);
  REQUIRE(e.run());
  CHECK(e.start_time(c) == 2.0);
  CHECK(e.end_time(c) == 3.0);
  CHECK(e.start_time(after) == 3.0);
  CHECK(e.start_cause(c).kind == CauseKind::finish_of);
  CHECK(e.start_cause(c).task == busy);
}

TEST_CASE("shared transfer phases and link lists behave as their own copies") {
  // Two tasks with the same phase (10 units over one 10/s link), the second sharing the first's: they
  // run at once and split the link, 5/s each: both end at 2 s.
  Engine e;
  const auto l = e.add_link(10.0);
  const LinkUse use{l, 1.0};
  const auto list = e.add_use_list({&use, 1});
  const auto a = e.add_task(0.0);
  e.add_transfer(0.0, 10.0, FlowModel::kUnbounded, list);
  const auto b = e.add_task(0.0);
  e.share_transfers(a);
  REQUIRE(e.run());
  CHECK(e.end_time(a) == Approx(2.0));
  CHECK(e.end_time(b) == Approx(2.0));
}

TEST_CASE("flows sharing a link get equal rates; the engine jumps to each completion") {
  // One link of 10 units/s; flows of 10 and 30 units start together. Both get 5/s; the first ends at
  // 10/5 = 2 s, the second has 30 - 10 = 20 left and the whole link: 2 + 20/10 = 4 s.
  Engine e;
  const auto l = e.add_link(10.0);
  const LinkUse use{l, 1.0};
  const auto a = e.add_task(0.0);
  e.add_transfer(0.0, 10.0, FlowModel::kUnbounded, {&use, 1});
  const auto b = e.add_task(0.0);
  e.add_transfer(0.0, 30.0, FlowModel::kUnbounded, {&use, 1});
  const auto stats = e.run();
  REQUIRE(stats);
  CHECK(e.end_time(a) == Approx(2.0));
  CHECK(e.end_time(b) == Approx(4.0));
  CHECK(stats->makespan == Approx(4.0));
  CHECK(stats->flows == 2);
}

TEST_CASE("max-min fairness by progressive filling") {
  // Bertsekas & Gallager's example shape: link A (1/s) carries flows 1 and 2, link B (2/s) flows 2 and 3.
  // Filling: all rise to 0.5, where A saturates (0.5 + 0.5 = 1): flows 1 and 2 freeze at 0.5. Flow 3
  // takes what B has left: 2 - 0.5 = 1.5.
  FlowModel fm;
  const auto A = fm.add_link(1.0), B = fm.add_link(2.0);
  const LinkUse u1[] = {{A, 1.0}}, u2[] = {{A, 1.0}, {B, 1.0}}, u3[] = {{B, 1.0}};
  const auto f1 = fm.start(0.0, 100.0, FlowModel::kUnbounded, u1, 1);
  const auto f2 = fm.start(0.0, 100.0, FlowModel::kUnbounded, u2, 2);
  const auto f3 = fm.start(0.0, 100.0, FlowModel::kUnbounded, u3, 1);
  CHECK(fm.rate(f1) == Approx(0.5));
  CHECK(fm.rate(f2) == Approx(0.5));
  CHECK(fm.rate(f3) == Approx(1.5));
  SECTION("a bound below the fair share frees capacity for the others") {
    // Flow 4 on A bounded at 0.1: A's remaining 0.9 splits between flows 1 and 2 (0.45 each); B gives
    // flow 3 2 - 0.45 = 1.55.
    const auto f4 = fm.start(0.0, 100.0, 0.1, u1, 1);
    CHECK(fm.rate(f4) == Approx(0.1));
    CHECK(fm.rate(f1) == Approx(0.45));
    CHECK(fm.rate(f2) == Approx(0.45));
    CHECK(fm.rate(f3) == Approx(1.55));
  }
  SECTION("when a flow finishes, its component is re-solved") {
    // Without flow 2: flow 1 alone on A (1/s), flow 3 alone on B (2/s).
    fm.finish(0.0, f2);
    CHECK(fm.rate(f1) == Approx(1.0));
    CHECK(fm.rate(f3) == Approx(2.0));
  }
  SECTION("weights: a flow putting 2 units on a link per unit of progress") {
    // Link C (3/s) with a weight-2 flow and a weight-1 flow: both rise to r with 2r + r = 3, r = 1.
    const auto C = fm.add_link(3.0);
    const LinkUse w2[] = {{C, 2.0}}, w1[] = {{C, 1.0}};
    const auto g2 = fm.start(0.0, 10.0, FlowModel::kUnbounded, w2, 1);
    const auto g1 = fm.start(0.0, 10.0, FlowModel::kUnbounded, w1, 1);
    CHECK(fm.rate(g2) == Approx(1.0));
    CHECK(fm.rate(g1) == Approx(1.0));
  }
}

TEST_CASE("a transfer waits its latency, then moves its amount") {
  // Latency 1 s, then 10 units over a 10/s link: ends at 2 s; a second phase of 5 units adds 0.5 s.
  Engine e;
  const auto l = e.add_link(10.0);
  const LinkUse use{l, 1.0};
  const auto t = e.add_task(0.25);
  e.add_transfer(1.0, 10.0, FlowModel::kUnbounded, {&use, 1});
  e.add_transfer(0.0, 5.0, FlowModel::kUnbounded, {&use, 1});
  REQUIRE(e.run());
  // 0.25 s of own work, then 1 + 1 + 0.5.
  CHECK(e.end_time(t) == Approx(2.75));
}

TEST_CASE("a graph that cannot finish is an error that names a task") {
  // An in-order stream whose head waits for a task queued behind it.
  Engine e;
  const auto r = e.add_resource();
  const auto head = e.add_task(1.0, r);
  const auto later = e.add_task(1.0, r);
  e.add_edge(later, head);
  const auto res = e.run();
  REQUIRE_FALSE(res);
  CHECK(res.error().message.find("never started") != std::string::npos);
}

TEST_CASE("the critical path covers the makespan without gaps") {
  // Two streams: s0 runs a (2) then c (1) where c also waits for b (4) on s1. The path is b (0-4) then
  // c (4-5): 5 s, the makespan; a is not on it.
  Engine e;
  const auto s0 = e.add_resource(), s1 = e.add_resource();
  const auto a = e.add_task(2.0, s0);
  const auto c = e.add_task(1.0, s0);
  const auto b = e.add_task(4.0, s1);
  e.add_edge(b, c);
  const auto stats = e.run();
  REQUIRE(stats);
  const auto path = e.critical_path();
  REQUIRE(path.size() == 2);
  CHECK(path[0].task == b);
  CHECK(path[1].task == c);
  CHECK(path[0].from == 0.0);
  CHECK(path[1].to == stats->makespan);
  CHECK(path[0].to == path[1].from);
  (void)a;
}

namespace {
// A graph with contention and ties, for determinism checks: a ring of flows over shared links.
std::vector<double> run_ring(int n) {
  Engine e;
  std::vector<LinkId> links;
  for (int i = 0; i < n; ++i) links.push_back(e.add_link(1.0 + (i % 3)));
  std::vector<TaskId> tasks;
  const auto r = e.add_resource(2, Discipline::ready_order);
  for (int i = 0; i < 4 * n; ++i) {
    const LinkUse uses[] = {{links[i % n], 1.0}, {links[(i + 1) % n], 1.0}};
    tasks.push_back(e.add_task(0.1 * (i % 5), i % 2 ? r : kNone));
    e.add_transfer(0.01, 1.0 + (i % 7), FlowModel::kUnbounded, uses);
    if (i >= n) e.add_edge(tasks[i - n], tasks[i]);
  }
  // No Catch2 assertion here: it runs in threads (Catch2 v2 assertions are not thread-safe).
  if (!e.run()) return {};
  std::vector<double> ends;
  for (auto t : tasks) ends.push_back(e.end_time(t));
  return ends;
}
}  // namespace

TEST_CASE("the same graph gives the same times, also with engines running side by side in threads") {
  const auto reference = run_ring(16);
  REQUIRE(reference.size() == 64);
  std::vector<double> a, b;
  std::thread t1([&] { a = run_ring(16); });
  std::thread t2([&] { b = run_ring(16); });
  t1.join();
  t2.join();
  CHECK(a == reference);
  CHECK(b == reference);
}
