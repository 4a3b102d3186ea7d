// The data models behind the GUI views (gui/*_model.hpp): plain C++ checked with Qt Test.
#include <QtTest>

#include <atomic>
#include <cmath>
#include <map>

#include "gui/budget_model.hpp"
#include "gui/scaling_model.hpp"
#include "gui/sweep_model.hpp"
#include "gui/timeline_model.hpp"
#include "presets/scenario_json.hpp"
#include "sim/analytical.hpp"

using namespace clustersim;
using namespace clustersim::gui;

namespace {

strategies::Scenario scenario(const char* text) {
  auto sc = presets::scenario_from_json(nlohmann::json::parse(text));
  if (!sc) qFatal("test scenario invalid: %s", sc.error().what().c_str());
  return *sc;
}

// A JobControl that counts progress calls and stops when asked to.
class TestControl : public JobControl {
 public:
  bool stop = false;
  int progress_calls = 0;
  std::int64_t last_done = 0, last_total = 0;
  [[nodiscard]] bool stop_requested() const override { return stop; }
  void on_progress(std::int64_t done, std::int64_t total, const std::string&) override {
    ++progress_calls;
    QVERIFY(done >= last_done);  // monotonic
    last_done = done;
    last_total = total;
  }
};

}  // namespace

class TestGuiModels : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // Epoch AI refit (shared reference sec. 1.3): D/N = 18.4 at C = 5.76e23 with N = 72B; Chinchilla's
  // rounded constants put it at 92.6 with N = 32B. Derivation: N_opt = G (C/6)^a, D_opt = C / (6 N_opt).
  void compute_optimal_allocation_matches_the_reference() {
    const auto& laws = scaling_laws();
    QVERIFY(laws.size() >= 2);
    const double c = 5.76e23;
    const auto& epoch = laws[0];
    QCOMPARE(QString::fromStdString(epoch.name).contains(QStringLiteral("Epoch")), true);
    QVERIFY(std::abs(epoch.optimal_tokens(c) / epoch.optimal_params(c) - 18.4) < 0.2);
    QVERIFY(std::abs(epoch.optimal_params(c) / 72e9 - 1.0) < 0.02);
    const auto& chin = laws[1];
    QVERIFY(std::abs(chin.optimal_tokens(c) / chin.optimal_params(c) - 92.6) < 1.0);
    QVERIFY(std::abs(chin.optimal_params(c) / 32e9 - 1.0) < 0.03);
    // 6 N D = C by construction.
    QVERIFY(std::abs(6.0 * epoch.optimal_params(c) * epoch.optimal_tokens(c) / c - 1.0) < 1e-12);
  }

  // The optimum is the minimum of its iso-FLOP profile, and the inverse functions invert.
  void scaling_law_curves_are_consistent() {
    const auto& law = scaling_laws()[0];
    const double c = 1e24;
    const double n_opt = law.optimal_params(c);
    const auto curve = iso_flop_curve(law, c, n_opt / 100, n_opt * 100, 201);
    QCOMPARE(static_cast<int>(curve.size()), 201);
    double best = 1e9;
    for (const auto& [n, l] : curve) best = std::min(best, l);
    QVERIFY(best >= law.optimal_loss(c) - 1e-9);
    QVERIFY(best - law.optimal_loss(c) < 1e-3);
    QVERIFY(std::abs(law.compute_for_loss(law.optimal_loss(c)) / c - 1.0) < 1e-6);
    QVERIFY(std::abs(law.tokens_for_loss(7e10, law.loss(7e10, 1.5e13)) / 1.5e13 - 1.0) < 1e-9);
    QVERIFY(std::isnan(law.compute_for_loss(law.E)));           // the irreducible loss is never reached
    QVERIFY(std::isnan(law.tokens_for_loss(1e6, law.E + 0.01)));  // a tiny model cannot reach it either
    const auto frontier = optimal_frontier(law, 1e20, 1e26, 30);
    for (std::size_t i = 1; i < frontier.size(); ++i) QVERIFY(frontier[i].second < frontier[i - 1].second);
  }

  void pareto_front_keeps_the_non_dominated_points() {
    //            0    1    2    3    4    5
    const std::vector<double> x = {1.0, 2.0, 3.0, 2.0, 4.0, 0.5};
    const std::vector<double> y = {5.0, 3.0, 1.0, 4.0, 0.5, 9.0};
    const std::vector<bool> ok = {true, true, true, true, true, false};
    const auto front = pareto_front(x, y, ok);
    // 3 is dominated by 1 (same x, more y); 5 is not eligible; the rest trade time for cost.
    QCOMPARE(front, (std::vector<int>{0, 1, 2, 4}));
  }

  // The timeline honours the schedule: per rank no two compute passes overlap; a forward starts after
  // the previous stage's forward of that micro-batch arrived, a backward after the next stage's.
  void timeline_respects_pipeline_dependencies_data() {
    QTest::addColumn<QString>("layout");
    QTest::addColumn<int>("chunks");
    QTest::newRow("gpipe") << QStringLiteral(R"({"tp": 8, "pp": 4, "schedule": "gpipe"})") << 1;
    QTest::newRow("1f1b") << QStringLiteral(R"({"tp": 8, "pp": 4, "schedule": "1f1b", "recompute": "full"})") << 1;
    QTest::newRow("interleaved") << QStringLiteral(R"({"tp": 8, "pp": 4, "virtual_stages": 2})") << 2;
    QTest::newRow("zb-h1") << QStringLiteral(R"({"tp": 8, "pp": 4, "schedule": "zb-h1"})") << 1;
  }
  void timeline_respects_pipeline_dependencies() {
    QFETCH(QString, layout);
    QFETCH(int, chunks);
    const std::string text = R"({"model": "llama2-13b", "cluster": {"base": "dgx-h100", "nodes": 8},
                                 "training": {"seq_length": 4096, "global_batch": 32}, "layout": )" +
                             layout.toStdString() + "}";
    const auto sc = scenario(text.c_str());
    const auto t = timeline_from_estimate(sc);
    const int p = sc.layout.pp, m = sc.micro_batches;
    QCOMPARE(static_cast<int>(t.lanes.size()), 2 * p);
    std::map<std::tuple<int, int, int>, const TimelineBlock*> fwd, bwd;  // (stage, mb, chunk)
    int forwards = 0, backwards = 0, weight_grads = 0;
    for (const auto& b : t.blocks) {
      QVERIFY(b.end_s >= b.start_s);
      QVERIFY(b.end_s <= t.makespan_s + 1e-12);
      const int stage = t.lanes[b.lane].stage;
      if (b.kind == BlockKind::forward) {
        ++forwards;
        fwd[{stage, b.micro_batch, b.chunk}] = &b;
      }
      if (b.kind == BlockKind::backward) {
        ++backwards;
        bwd[{stage, b.micro_batch, b.chunk}] = &b;
      }
      if (b.kind == BlockKind::weight_grad) ++weight_grads;
    }
    QCOMPARE(forwards, p * m * chunks);
    QCOMPARE(backwards, p * m * chunks);
    QCOMPARE(weight_grads, sc.layout.schedule == strategies::Schedule::zero_bubble_h1 ? p * m : 0);
    // No overlap on a compute lane (blocks are sorted by lane, then start).
    for (std::size_t i = 1; i < t.blocks.size(); ++i) {
      const auto& a = t.blocks[i - 1];
      const auto& b = t.blocks[i];
      if (a.lane == b.lane && t.lanes[a.lane].stream == Stream::compute) QVERIFY(b.start_s >= a.end_s - 1e-12);
    }
    // Dependencies along the virtual pipeline k = chunk * p + stage.
    for (int mb = 0; mb < m; ++mb)
      for (int k = 1; k < p * chunks; ++k) {
        const auto* prev = fwd.at({(k - 1) % p, mb, (k - 1) / p});
        const auto* cur = fwd.at({k % p, mb, k / p});
        QVERIFY(cur->start_s >= prev->end_s);
        const auto* later = bwd.at({k % p, mb, k / p});
        const auto* earlier = bwd.at({(k - 1) % p, mb, (k - 1) / p});
        QVERIFY(earlier->start_s >= later->end_s);
      }
    // Every rank is busy m (f + b) at least, so the makespan cannot be shorter than the busiest rank.
    const auto report = sim::estimate(sc);
    QVERIFY(t.makespan_s > 0);
    QVERIFY(t.makespan_s >= report.time.compute.value * 0.999);
  }

  void timeline_stops_when_asked() {
    const auto sc = scenario(R"({"model": "llama2-13b", "cluster": {"base": "dgx-h100", "nodes": 8},
                                 "training": {"seq_length": 4096, "global_batch": 64}, "layout": {"tp": 8, "pp": 4}})");
    TestControl ctl;
    ctl.stop = true;
    const auto t = timeline_from_estimate(sc, &ctl);
    QVERIFY(t.blocks.empty());
  }

  // Budget (shared reference sec. 6): E = GPU-hours x W per GPU x PUE; dgx-h100 draws 10.2 kW per
  // 8 GPUs = 1275 W per GPU; cost = GPU-hours x price; CO2 = E x intensity.
  void budget_arithmetic() {
    const auto sc = scenario(R"({"model": "llama3-70b", "cluster": {"base": "dgx-h100", "nodes": 128},
                                 "training": {"seq_length": 8192, "global_batch": 1024, "tokens": 1.5e13},
                                 "layout": {"tp": 8, "pp": 4, "virtual_stages": 5, "sequence_parallel": true,
                                            "zero": 1, "recompute": "selective"}})");
    const Evaluated ev{sc, sim::estimate(sc)};
    const BudgetInputs in{2.5, 1.25, 0.4};
    const auto b = compute_budget(ev, in);
    QVERIFY(b.has_target);
    QCOMPARE(b.gpu_hours, ev.report.gpu_hours);
    QCOMPARE(b.cost_usd, ev.report.gpu_hours * 2.5);
    QCOMPARE(b.watts_per_gpu, 1275.0);
    QVERIFY(std::abs(b.energy_kwh - ev.report.gpu_hours * 1.275 * 1.25) < 1e-6 * b.energy_kwh);
    QVERIFY(std::abs(b.co2_kg - b.energy_kwh * 0.4) < 1e-9 * b.co2_kg);
    // Per iteration: iteration time x GPUs x price / 3600.
    QVERIFY(std::abs(b.cost_per_iteration_usd - ev.report.iteration_time_s * 1024 * 2.5 / 3600.0) < 1e-9);
    const QString md = QString::fromStdString(budget_report_markdown(ev, b, in));
    QVERIFY(md.contains(QStringLiteral("# Training budget: llama3-70b")));
    QVERIFY(md.contains(QStringLiteral("$2.50 per GPU-hour")));
    const auto j = nlohmann::json::parse(budget_report_json(ev, b, in));
    QCOMPARE(j.at("budget").at("cost_usd").get<double>(), b.cost_usd);
    QVERIFY(j.contains("iteration_time_s"));
  }

  void layout_scan_counts_and_front() {
    const auto sc = scenario(R"({"model": "llama2-7b", "cluster": {"base": "dgx-a100", "nodes": 2},
                                 "training": {"seq_length": 2048, "global_batch": 64}, "layout": {"tp": 2}})");
    ScanSpec spec;
    spec.tp = {1, 2, 4, 8};
    spec.pp = {1, 2, 3};  // 3 divides neither 16 GPUs nor 32 layers evenly into the GPU count: invalid
    spec.micro_batch = {1, 2};
    QCOMPARE(spec.size(), 24);
    TestControl ctl;
    const auto r = run_layout_scan(sc, spec, ctl);
    QCOMPARE(r.layouts_total, 24);
    QCOMPARE(r.evaluated + r.invalid, 24);
    QCOMPARE(static_cast<std::int64_t>(r.rows.size()), r.evaluated);
    QVERIFY(r.invalid >= 8);  // every pp = 3 layout
    QVERIFY(!r.pareto.empty());
    QCOMPARE(ctl.last_done, 24);
    for (int i : r.pareto) {
      const auto& a = r.rows[static_cast<std::size_t>(i)];
      QVERIFY(a.fits);
      for (const auto& b : r.rows)
        if (b.fits)
          QVERIFY(!(b.iteration_time_s < a.iteration_time_s && b.gpu_hours_per_iteration() < a.gpu_hours_per_iteration()));
    }
    TestControl stop;
    stop.stop = true;
    const auto none = run_layout_scan(sc, spec, stop);
    QCOMPARE(none.evaluated + none.invalid, 0);
  }
};

QTEST_APPLESS_MAIN(TestGuiModels)
#include "test_gui_models.moc"
