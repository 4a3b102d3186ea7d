// The clustersim-gui window under the offscreen platform: it builds, edits update the result, invalid
// values are marked and keep the last valid result, open/save round-trips, cancel stops a running job.
#include <QtTest>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolButton>

#include "gui/budget_view.hpp"
#include "gui/cost_settings.hpp"
#include "gui/job_runner.hpp"
#include "gui/main_window.hpp"
#include "gui/memory_view.hpp"
#include "gui/overview_view.hpp"
#include "gui/scaling_view.hpp"
#include "gui/scenario_document.hpp"
#include "gui/scenario_editor.hpp"
#include "gui/sweep_view.hpp"
#include "gui/timeline_view.hpp"
#include "sim/analytical.hpp"

using namespace clustersim::gui;

namespace {

QLineEdit* line(MainWindow& w, const char* path) {
  auto* e = qobject_cast<QLineEdit*>(w.editor()->field_widget(QString::fromLatin1(path)));
  if (!e) qFatal("no line edit for %s", path);
  return e;
}

// Types into a field as a user does: Ctrl+A selects what is there, then the keys replace it.
void type(QLineEdit* e, const QString& text) {
  QTest::keyClick(e, Qt::Key_A, Qt::ControlModifier);
  if (text.isEmpty()) QTest::keyClick(e, Qt::Key_Delete);
  else QTest::keyClicks(e, text);
}

QJsonObject json_of(const QByteArray& bytes) {
  QJsonParseError err{};
  const auto doc = QJsonDocument::fromJson(bytes, &err);
  if (err.error != QJsonParseError::NoError) qFatal("not JSON: %s", qPrintable(err.errorString()));
  return doc.object();
}

QByteArray read(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(path));
  return f.readAll();
}

void write(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size()) qFatal("cannot write %s", qPrintable(path));
}

}  // namespace

class TestGuiWindow : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("clustersim-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_gui_window"));
    QSettings().clear();
    theme::apply(*qApp, theme::Mode::light);
  }

  void window_builds_with_every_view() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    for (int i = 0; i < MainWindow::kViewCount; ++i) QVERIFY(w.view_widget(static_cast<MainWindow::View>(i)) != nullptr);
    QVERIFY(w.document()->last_valid());
    QVERIFY(!w.document()->error());
    QVERIFY(!w.banner()->isVisible());
    const QString t = w.overview()->card_text(QStringLiteral("iteration_time"));
    QVERIFY2(t.endsWith(QLatin1String(" s")) || t.endsWith(QLatin1String(" ms")), qPrintable(t));
    QVERIFY(!w.isWindowModified());
    QVERIFY(w.windowTitle().contains(QStringLiteral("Untitled")));
  }

  void editing_a_field_updates_the_result() {
    MainWindow w;
    w.show();
    const QString before = w.overview()->card_text(QStringLiteral("iteration_time"));
    const double t_before = w.document()->last_valid()->report.iteration_time_s;
    type(line(w, "layout.tp"), QStringLiteral("4"));
    const auto ev = w.document()->last_valid();
    QCOMPARE(ev->scenario.layout.tp, 4);
    QCOMPARE(ev->scenario.layout.dp, 64);  // dp is left to the GPU count in the default scenario
    QVERIFY(ev->report.iteration_time_s != t_before);
    QVERIFY(w.overview()->card_text(QStringLiteral("iteration_time")) != before);
    QVERIFY(w.isWindowModified());
    QVERIFY(w.document()->field_text(QStringLiteral("layout.tp")) == QLatin1String("4"));
    // Up doubles a parallel degree, as a user edit.
    QTest::keyClick(line(w, "layout.tp"), Qt::Key_Up);
    QCOMPARE(w.document()->last_valid()->scenario.layout.tp, 8);
    // Undo goes back one edit at a time (typing merges, a step is its own), down to the unmodified document.
    w.document()->undo();
    QCOMPARE(w.document()->last_valid()->scenario.layout.tp, 4);
    w.document()->undo();
    QCOMPARE(w.document()->last_valid()->scenario.layout.tp, 8);
    QVERIFY(!w.isWindowModified());
  }

  void invalid_value_marks_the_field_and_keeps_the_last_valid_result() {
    MainWindow w;
    w.show();
    const auto valid = w.document()->last_valid();
    const QString shown = w.overview()->card_text(QStringLiteral("iteration_time"));
    // 16 divides the GPUs and the 64 heads but not the 8 kv_heads (and the "1" typed on the way is
    // invalid too: sequence parallelism needs tp > 1), so the last valid result stays the one before.
    type(line(w, "layout.tp"), QStringLiteral("16"));
    QVERIFY(w.document()->error());
    QCOMPARE(QString::fromStdString(w.document()->error()->path), QStringLiteral("layout.tp"));
    auto* tp = w.editor()->field_widget(QStringLiteral("layout.tp"));
    QCOMPARE(tp->property("invalid").toBool(), true);
    QLabel* reason = w.editor()->error_label(QStringLiteral("layout.tp"));
    QVERIFY(!reason->isHidden());
    QVERIFY2(reason->text().contains(QStringLiteral("does not divide")), qPrintable(reason->text()));
    QVERIFY(!w.banner()->isHidden());
    QVERIFY(w.banner()->text().contains(QStringLiteral("layout.tp")));
    // The views keep the last valid result; nothing was changed behind the user's back.
    QCOMPARE(w.document()->last_valid(), valid);
    QCOMPARE(w.overview()->card_text(QStringLiteral("iteration_time")), shown);
    QCOMPARE(line(w, "layout.tp")->text(), QStringLiteral("16"));
    type(line(w, "layout.tp"), QStringLiteral("8"));
    QVERIFY(!w.document()->error());
    QCOMPARE(tp->property("invalid").toBool(), false);
    QVERIFY(reason->isHidden());
    QVERIFY(w.banner()->isHidden());
    // Text that is not a number is kept as written and marked with the reader's reason.
    const auto valid_again = w.document()->last_valid();
    QCOMPARE(valid_again->report.iteration_time_s, valid->report.iteration_time_s);
    type(line(w, "layout.pp"), QStringLiteral("four"));
    QCOMPARE(QString::fromStdString(w.document()->error()->path), QStringLiteral("layout.pp"));
    QVERIFY(w.editor()->error_label(QStringLiteral("layout.pp"))->text().contains(QStringLiteral("expected an integer")));
    QVERIFY(json_of(w.document()->text()).value(QStringLiteral("layout")).toObject().value(QStringLiteral("pp")) ==
            QStringLiteral("four"));
    QCOMPARE(w.document()->last_valid(), valid_again);
    // An error on a whole part marks its group.
    type(line(w, "layout.pp"), QStringLiteral("4"));
    type(line(w, "layout.dp"), QStringLiteral("7"));
    QCOMPARE(QString::fromStdString(w.document()->error()->path), QStringLiteral("layout"));
    QVERIFY(!w.editor()->error_label(QStringLiteral("layout"))->isHidden());
  }

  void preset_fields_override_and_restore() {
    MainWindow w;
    auto* doc = w.document();
    QCOMPARE(doc->preset(Part::model), QStringLiteral("llama3-70b"));
    auto* hidden = line(w, "model.hidden");
    QCOMPARE(hidden->text(), QString());
    QCOMPARE(hidden->placeholderText(), QStringLiteral("8192"));  // the preset's value, shown in grey
    type(hidden, QStringLiteral("4096"));
    QCOMPARE(doc->last_valid()->scenario.model.spec().hidden, 4096);
    const auto model = json_of(doc->text()).value(QStringLiteral("model")).toObject();
    QCOMPARE(model.value(QStringLiteral("base")).toString(), QStringLiteral("llama3-70b"));
    QCOMPARE(model.value(QStringLiteral("hidden")).toInt(), 4096);
    QCOMPARE(doc->overridden_fields(Part::model), QStringList{QStringLiteral("hidden")});
    // Switching the preset would drop the override: the editor asks, and a "no" keeps everything.
    int asked = 0;
    w.editor()->confirm_discard = [&asked](const QString&) {
      ++asked;
      return false;
    };
    auto* combo = w.editor()->preset_combo(Part::model);
    combo->setCurrentIndex(combo->findData(QStringLiteral("llama2-7b")));
    Q_EMIT combo->activated(combo->currentIndex());
    QCOMPARE(asked, 1);
    QCOMPARE(doc->preset(Part::model), QStringLiteral("llama3-70b"));
    QCOMPARE(combo->currentData().toString(), QStringLiteral("llama3-70b"));
    QCOMPARE(doc->last_valid()->scenario.model.spec().hidden, 4096);
    // Clearing the field restores the preset's value and the plain preset name in the file.
    type(hidden, QString());
    QCOMPARE(json_of(doc->text()).value(QStringLiteral("model")).toString(), QStringLiteral("llama3-70b"));
    QCOMPARE(doc->last_valid()->scenario.model.spec().hidden, 8192);
  }

  void open_save_round_trips_a_scenario() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray original = R"({
  "name": "round trip",
  "training": { "tokens": 2e12, "seq_length": 4096, "global_batch": 512, "precision": "bf16" },
  "model": { "base": "llama2-13b", "vocab": 32000, "max_seq_length": 4096 },
  "cluster": { "base": "dgx-a100", "nodes": 16, "gpu": "a100-80gb" },
  "layout": { "pp": 4, "tp": 4, "stage_layers": [9, 11, 11, 9], "recompute": "full", "zero": 1,
              "sequence_parallel": true, "overlap_grad_reduce": false }
})";
    const QString in = dir.filePath(QStringLiteral("in.json")), out = dir.filePath(QStringLiteral("out.json"));
    write(in, original);
    MainWindow w;
    QVERIFY(w.open_file(in));
    QVERIFY2(!w.document()->error(), w.document()->error() ? w.document()->error()->what().c_str() : "");
    QCOMPARE(w.document()->last_valid()->scenario.cluster.nodes, 16);
    QCOMPARE(line(w, "layout.stage_layers")->text(), QStringLiteral("9, 11, 11, 9"));
    QVERIFY(!w.isWindowModified());
    QVERIFY(w.save_to(out));
    // Same meaning, key for key and value for value.
    QCOMPARE(json_of(read(out)), json_of(original));
    // The same file the CLI reads: opening the saved file gives the same evaluation.
    const double t = w.document()->last_valid()->report.iteration_time_s;
    MainWindow w2;
    QVERIFY(w2.open_file(out));
    QCOMPARE(w2.document()->last_valid()->report.iteration_time_s, t);
    // Saving again is byte-for-byte stable.
    const QString again = dir.filePath(QStringLiteral("again.json"));
    QVERIFY(w2.save_to(again));
    QCOMPARE(read(again), read(out));
    // An edit, saved, is read back.
    type(line(w2, "layout.micro_batch"), QStringLiteral("2"));
    QVERIFY(w2.isWindowModified());
    QVERIFY(w2.save_to(again));
    QVERIFY(!w2.isWindowModified());
    QCOMPARE(json_of(read(again)).value(QStringLiteral("layout")).toObject().value(QStringLiteral("micro_batch")).toInt(), 2);
    // A file that is not JSON is refused and the document is left as it was.
    const QString bad = dir.filePath(QStringLiteral("bad.json"));
    write(bad, "{ \"model\": ");
    QString reported;
    w2.show_error = [&reported](const QString& text) { reported = text; };
    QVERIFY(!w2.open_file(bad));
    QVERIFY(reported.contains(QStringLiteral("not valid JSON")));
    QCOMPARE(w2.document()->file_path(), again);
    // Recent files remember what was opened and saved.
    QVERIFY(QSettings().value(QStringLiteral("recent_files")).toStringList().contains(QFileInfo(again).absoluteFilePath()));
  }

  void unsaved_edits_are_not_lost_without_asking() {
    MainWindow w;
    w.show();
    type(line(w, "training.global_batch"), QStringLiteral("2048"));
    QVERIFY(w.isWindowModified());
    int asked = 0;
    w.ask_save = [&asked](const QString&) {
      ++asked;
      return QMessageBox::Cancel;
    };
    QVERIFY(!w.close());
    QCOMPARE(asked, 1);
    QVERIFY(w.isVisible());
    QCOMPARE(w.document()->last_valid()->scenario.training.global_batch, 2048);
    w.ask_save = [&asked](const QString&) {
      ++asked;
      return QMessageBox::Discard;
    };
    QVERIFY(w.close());
    QCOMPARE(asked, 2);
  }

  // A job of a hundred million closed-form estimates (hours if it ran to the end), checking the cancel
  // flag between evaluations: once it is running and reporting, the status bar's Cancel stops it, and
  // its result is never delivered.
  void cancel_stops_a_running_job() {
    MainWindow w;
    w.show();
    const auto ev = w.document()->last_valid();
    auto* runner = w.sweep()->runner();
    QSignalSpy progress(runner, &JobRunner::progress);
    QSignalSpy finished(runner, &JobRunner::finished);
    constexpr std::int64_t kEstimates = 100'000'000;
    bool delivered = false;
    runner->start_with_result<std::int64_t>(
        QStringLiteral("estimates"),
        [ev](JobControl& ctl) {
          std::int64_t i = 0;
          for (; i < kEstimates && !ctl.stop_requested(); ++i) {
            const auto r = clustersim::sim::estimate(ev->scenario);
            if (r.iteration_time_s <= 0) break;
            if (i % 16 == 0) ctl.on_progress(i, kEstimates, "estimating");
          }
          return i;
        },
        [&delivered](std::int64_t) { delivered = true; });
    QVERIFY(runner->is_running());
    QVERIFY(progress.wait(60000));  // running and reporting
    QVERIFY(!w.cancel_button()->isHidden());
    QTest::mouseClick(w.cancel_button(), Qt::LeftButton);
    if (finished.isEmpty()) QVERIFY(finished.wait(60000));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toBool(), true);
    const auto& outcome = runner->last_outcome();
    QVERIFY(outcome.cancelled);
    QVERIFY(outcome.done > 0);
    QVERIFY2(outcome.done < kEstimates, qPrintable(QString::number(outcome.done)));
    QCOMPARE(outcome.total, kEstimates);
    QVERIFY(!delivered);
    QVERIFY(!runner->is_running());
    QVERIFY(w.cancel_button()->isHidden());
  }

  // A sweep cancelled as it starts keeps the previous state: no result, the Run button back.
  void cancel_stops_a_running_sweep() {
    MainWindow w;
    w.show();
    // About 29 000 mostly valid layouts (node counts 1 to 1024), over a second of work.
    ScanSpec scan;
    for (int n = 1; n <= 1024; n *= 2) scan.nodes.push_back(n);
    scan.tp = {1, 2, 4, 8};
    scan.pp = {1, 2, 4, 8, 16};
    for (int mb = 1; mb <= 1024; mb *= 2) scan.micro_batch.push_back(mb);
    scan.zero = {0, 1, 2, 3};
    scan.recompute = {clustersim::strategies::Recompute::none, clustersim::strategies::Recompute::selective,
                      clustersim::strategies::Recompute::full};
    scan.virtual_stages = {1};
    auto* runner = w.sweep()->runner();
    QSignalSpy finished(runner, &JobRunner::finished);
    w.sweep()->run(scan);
    QVERIFY(runner->is_running());
    QVERIFY(!w.sweep()->run_button()->isEnabled());
    QTest::mouseClick(w.cancel_button(), Qt::LeftButton);
    if (finished.isEmpty()) QVERIFY(finished.wait(60000));
    QCOMPARE(finished.first().first().toBool(), true);
    QVERIFY(runner->last_outcome().done < scan.size());
    QVERIFY(!w.sweep()->result());  // the partial result was dropped
    QVERIFY(w.sweep()->run_button()->isEnabled());
    QVERIFY(w.cancel_button()->isHidden());
  }

  void sweep_rows_load_their_layout() {
    MainWindow w;
    w.show();
    ScanSpec small;
    small.tp = {4, 8};
    small.pp = {2, 4, 8};
    small.micro_batch = {1, 2};
    small.virtual_stages = {1};
    QSignalSpy finished(w.sweep()->runner(), &JobRunner::finished);
    w.sweep()->run(small);
    w.wait_for_jobs();
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toBool(), false);
    const auto result = w.sweep()->result();
    QVERIFY(result);
    QCOMPARE(result->layouts_total, 12);
    QVERIFY(w.sweep()->table()->model()->rowCount() > 0);
    // The table is sorted by iteration time: its first row is the fastest fitting layout.
    const auto before = w.document()->last_valid();
    w.sweep()->choose_table_row(0);
    const auto& L = w.document()->last_valid()->scenario.layout;
    double fastest = 1e300;
    for (const auto& r : result->rows)
      if (r.fits) fastest = std::min(fastest, r.iteration_time_s);
    QCOMPARE(w.document()->last_valid()->report.iteration_time_s, fastest);
    QVERIFY(L.tp == 4 || L.tp == 8);
    // One undo step restores the layout that was there.
    w.document()->undo();
    QCOMPARE(w.document()->last_valid()->scenario.layout.tp, before->scenario.layout.tp);
    QCOMPARE(w.document()->last_valid()->scenario.layout.pp, before->scenario.layout.pp);
    QCOMPARE(w.document()->last_valid()->scenario.layout.virtual_stages, before->scenario.layout.virtual_stages);
    // The heatmap's best cell for (tp 8, pp 4) is a fitting row with those degrees.
    const int best = w.sweep()->heatmap()->best_row(8, 4);
    if (best >= 0) {
      QCOMPARE(result->rows[static_cast<std::size_t>(best)].layout.tp, 8);
      QCOMPARE(result->rows[static_cast<std::size_t>(best)].layout.pp, 4);
      QVERIFY(result->rows[static_cast<std::size_t>(best)].fits);
    }
  }

  void memory_view_shows_the_quadratic_attention_term() {
    MainWindow w;
    const QString scores = QStringLiteral("attention scores (s²)");
    QVERIFY(!w.memory()->series_names().contains(scores));
    auto* attention = qobject_cast<QComboBox*>(w.editor()->field_widget(QStringLiteral("layout.attention")));
    auto* recompute = qobject_cast<QComboBox*>(w.editor()->field_widget(QStringLiteral("layout.recompute")));
    QVERIFY(attention && recompute);
    recompute->setCurrentIndex(recompute->findData(QStringLiteral("none")));
    Q_EMIT recompute->activated(recompute->currentIndex());
    attention->setCurrentIndex(attention->findData(QStringLiteral("materialized")));
    Q_EMIT attention->activated(attention->currentIndex());
    QCOMPARE(w.document()->field_text(QStringLiteral("layout.attention")), QStringLiteral("materialized"));
    QVERIFY(w.memory()->series_names().contains(scores));
  }

  void budget_follows_the_price() {
    QTemporaryDir dir;
    MainWindow w;
    const QString cost = w.overview()->card_text(QStringLiteral("cost"));
    w.budget()->price_box()->setValue(w.costs()->inputs().usd_per_gpu_hour * 2);
    QVERIFY(w.overview()->card_text(QStringLiteral("cost")) != cost);
    QVERIFY(!w.budget()->value_text(QStringLiteral("co2")).isEmpty());
    const QString out = dir.filePath(QStringLiteral("report.json"));
    QVERIFY(!w.budget()->export_report(out));
    const auto j = json_of(read(out));
    QVERIFY(j.contains(QStringLiteral("iteration_time_s")));
    QCOMPARE(j.value(QStringLiteral("budget")).toObject().value(QStringLiteral("inputs")).toObject().value(
                 QStringLiteral("usd_per_gpu_hour")).toDouble(),
             w.costs()->inputs().usd_per_gpu_hour);
    QVERIFY(read(out).startsWith("{"));
    const QString md = dir.filePath(QStringLiteral("report.md"));
    QVERIFY(!w.budget()->export_report(md));
    QVERIFY(read(md).startsWith("# Training budget"));
  }

  void timeline_and_scaling_views_render() {
    MainWindow w;
    w.show();
    w.show_view(MainWindow::View::timeline);
    w.wait_for_jobs();
    const auto data = w.timeline()->data();
    QVERIFY(data);
    QCOMPARE(static_cast<int>(data->lanes.size()), 2 * w.document()->last_valid()->scenario.layout.pp);
    QVERIFY(data->makespan_s > 0);
    QVERIFY(w.scaling()->summary_text().contains(QStringLiteral("This plan")));
  }

  void screenshots_render_every_view() {
    QTemporaryDir dir;
    MainWindow w;
    w.show();
    w.resize(1280, 800);
    QString error;
    const QStringList files = w.render_screenshots(dir.path(), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(files.size(), MainWindow::kViewCount);
    for (int i = 0; i < MainWindow::kViewCount; ++i) {
      const QString expected =
          QDir(dir.path()).filePath(MainWindow::view_name(static_cast<MainWindow::View>(i)) + QStringLiteral(".png"));
      QCOMPARE(files[i], expected);
      QImage img(expected);
      QVERIFY(!img.isNull());
      QVERIFY(img.width() >= 1280);
      // Not a blank picture: a sample of its pixels holds many colours (text, charts, fields).
      QSet<QRgb> colours;
      for (int y = 0; y < img.height(); y += 8)
        for (int x = 0; x < img.width(); x += 8) colours.insert(img.pixel(x, y));
      QVERIFY2(colours.size() > 40, qPrintable(QStringLiteral("%1: %2 colours").arg(expected).arg(colours.size())));
    }
  }
};

QTEST_MAIN(TestGuiWindow)
#include "test_gui_window.moc"
