#include "gui/main_window.hpp"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QPainter>
#include <QProgressBar>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QSvgGenerator>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "gui/budget_view.hpp"
#include "gui/cost_settings.hpp"
#include "gui/job_runner.hpp"
#include "gui/memory_view.hpp"
#include "gui/overview_view.hpp"
#include "gui/scaling_view.hpp"
#include "gui/scenario_document.hpp"
#include "gui/scenario_editor.hpp"
#include "gui/sweep_view.hpp"
#include "gui/timeline_view.hpp"

namespace clustersim::gui {

namespace {
constexpr int kMaxRecent = 8;
const char* kRecentKey = "recent_files";
}  // namespace

QString MainWindow::view_name(View v) {
  switch (v) {
    case View::overview: return QStringLiteral("overview");
    case View::memory: return QStringLiteral("memory");
    case View::timeline: return QStringLiteral("timeline");
    case View::sweep: return QStringLiteral("sweep");
    case View::scaling_law: return QStringLiteral("scaling-law");
    case View::budget: return QStringLiteral("budget");
  }
  return {};
}

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      doc_(new ScenarioDocument(this)),
      costs_(new CostSettings(this)),
      editor_(new ScenarioEditor(doc_, this)),
      tabs_(new QTabWidget(this)),
      overview_(new OverviewView(costs_, this)),
      memory_(new MemoryView(this)),
      timeline_(new TimelineView(this)),
      sweep_(new SweepView(costs_, this)),
      scaling_(new ScalingView(this)),
      budget_(new BudgetView(costs_, this)),
      banner_(new QLabel(this)),
      job_label_(new QLabel(this)),
      progress_(new QProgressBar(this)),
      cancel_(new QToolButton(this)) {
  auto* scroll = new QScrollArea(this);
  editor_scroll_ = scroll;
  scroll->setWidget(editor_);
  scroll->setWidgetResizable(true);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  scroll->setMinimumWidth(std::max(editor_->sizeHint().width() + 24, 430));

  auto* right = new QWidget(this);
  auto* col = new QVBoxLayout(right);
  col->setContentsMargins(0, 0, 0, 0);
  col->setSpacing(0);
  banner_->setWordWrap(true);
  banner_->setVisible(false);
  banner_->setMargin(8);
  banner_->setTextFormat(Qt::RichText);
  banner_->setObjectName(QStringLiteral("banner"));
  connect(banner_, &QLabel::linkActivated, this, [this](const QString&) { go_to_error(); });
  col->addWidget(banner_);
  // The views, or, while no version of this document has been valid yet, a page that says so (a view
  // never shows another document's result).
  pages_ = new QStackedWidget(right);
  pages_->addWidget(tabs_);
  empty_ = new QLabel(pages_);
  empty_->setAlignment(Qt::AlignCenter);
  empty_->setWordWrap(true);
  empty_->setMargin(40);
  pages_->addWidget(empty_);
  col->addWidget(pages_, 1);
  tabs_->setDocumentMode(true);
  tabs_->addTab(overview_, tr("Overview"));
  tabs_->addTab(memory_, tr("Memory"));
  tabs_->addTab(timeline_, tr("Timeline"));
  tabs_->addTab(sweep_, tr("Sweep"));
  tabs_->addTab(scaling_, tr("Scaling law"));
  tabs_->addTab(budget_, tr("Budget"));
  const QString tips[] = {
      tr("Iteration time, throughput, MFU, days and cost to train, memory fit at a glance (Ctrl+1)"),
      tr("Memory per GPU of each pipeline stage against the HBM (Ctrl+2)"),
      tr("The simulated iteration per stage and stream (Ctrl+3)"),
      tr("Many layouts: time against cost, tp x pp heatmap, sortable table (Ctrl+4)"),
      tr("Predicted loss against compute, with this plan and a target loss (Ctrl+5)"),
      tr("Cost, energy and CO2; export the report (Ctrl+6)")};
  for (int i = 0; i < kViewCount; ++i) tabs_->setTabToolTip(i, tips[i]);

  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(scroll);
  split->addWidget(right);
  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 1);
  split->setChildrenCollapsible(false);
  setCentralWidget(split);

  // Job status: what runs, how far, and Cancel.
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(220);
  progress_->setTextVisible(false);
  cancel_->setText(tr("Cancel"));
  cancel_->setToolTip(tr("Stop the running job (Esc); its partial result is dropped."));
  cancel_->setObjectName(QStringLiteral("cancel"));
  statusBar()->addPermanentWidget(job_label_);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_);
  connect(cancel_, &QToolButton::clicked, this, [this] {
    for (auto* r : runners_) r->cancel();
  });
  watch(timeline_->runner());
  watch(sweep_->runner());
  update_job_status();

  editor_->confirm_discard = [this](const QString& q) {
    return QMessageBox::question(this, tr("Discard changes?"), q) == QMessageBox::Yes;
  };
  ask_save = [this](const QString& text) {
    return QMessageBox::warning(this, tr("Unsaved changes"), text,
                                QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
  };
  show_error = [this](const QString& text) { QMessageBox::critical(this, tr("clustersim"), text); };

  connect(doc_, &ScenarioDocument::changed, this, &MainWindow::on_document_changed);
  connect(doc_, &ScenarioDocument::modified_changed, this, &QWidget::setWindowModified);
  connect(doc_, &ScenarioDocument::file_path_changed, this, &MainWindow::update_title);
  connect(sweep_, &SweepView::row_chosen, this, [this](const SweepRow& row) {
    doc_->apply_layout(row.layout, row.nodes);
    statusBar()->showMessage(tr("Loaded tp %1 pp %2 dp %3 micro-batch %4 on %5 nodes from the sweep (Ctrl+Z undoes)")
                                 .arg(row.layout.tp)
                                 .arg(row.layout.pp)
                                 .arg(row.layout.dp)
                                 .arg(row.layout.micro_batch)
                                 .arg(row.nodes),
                             8000);
  });
  connect(budget_, &BudgetView::export_requested, this, &MainWindow::export_report);

  build_menus();
  update_title();
  on_document_changed();
  resize(1400, 900);
}

MainWindow::~MainWindow() {
  for (auto* r : runners_) r->cancel();
}

void MainWindow::build_menus() {
  auto* file = menuBar()->addMenu(tr("&File"));
  auto* a = file->addAction(tr("&New"), this, [this] {
    if (maybe_save()) doc_->load_default();
  });
  a->setShortcut(QKeySequence::New);
  a = file->addAction(tr("&Open…"), this, [this] {
    if (!maybe_save()) return;
    const QString dir = doc_->file_path().isEmpty() ? QDir::currentPath() : QFileInfo(doc_->file_path()).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open scenario"), dir,
                                                      tr("Scenario JSON (*.json);;All files (*)"));
    if (!path.isEmpty()) open_file(path);
  });
  a->setShortcut(QKeySequence::Open);
  recent_menu_ = file->addMenu(tr("Open &Recent"));
  rebuild_recent_menu();
  file->addSeparator();
  a = file->addAction(tr("&Save"), this, [this] { save(); });
  a->setShortcut(QKeySequence::Save);
  a = file->addAction(tr("Save &As…"), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save scenario as"),
                                                      doc_->file_path().isEmpty() ? QStringLiteral("scenario.json")
                                                                                  : doc_->file_path(),
                                                      tr("Scenario JSON (*.json)"));
    if (!path.isEmpty()) save_to(path);
  });
  a->setShortcut(QKeySequence::SaveAs);
  file->addSeparator();
  a = file->addAction(tr("&Export Report…"), this, &MainWindow::export_report);
  a->setShortcut(QKeySequence(tr("Ctrl+E")));
  a = file->addAction(tr("Export View &Image…"), this, &MainWindow::export_view_image);
  a->setShortcut(QKeySequence(tr("Ctrl+Shift+E")));
  file->addSeparator();
  a = file->addAction(tr("&Quit"), this, &QWidget::close);
  a->setShortcut(QKeySequence::Quit);

  auto* edit = menuBar()->addMenu(tr("&Edit"));
  undo_action_ = edit->addAction(tr("&Undo"), doc_, &ScenarioDocument::undo);
  undo_action_->setShortcut(QKeySequence::Undo);
  redo_action_ = edit->addAction(tr("&Redo"), doc_, &ScenarioDocument::redo);
  redo_action_->setShortcuts({QKeySequence::Redo, QKeySequence(tr("Ctrl+Y"))});
  edit->addSeparator();
  a = edit->addAction(tr("Go to &Error"), this, &MainWindow::go_to_error);
  a->setShortcut(QKeySequence(tr("Ctrl+J")));

  auto* view = menuBar()->addMenu(tr("&View"));
  const QString names[] = {tr("&Overview"), tr("&Memory"), tr("&Timeline"), tr("S&weep"), tr("&Scaling Law"), tr("&Budget")};
  for (int i = 0; i < kViewCount; ++i) {
    a = view->addAction(names[i], this, [this, i] { tabs_->setCurrentIndex(i); });
    a->setShortcut(QKeySequence(QStringLiteral("Ctrl+%1").arg(i + 1)));
  }
  view->addSeparator();
  auto* themes = view->addMenu(tr("&Theme"));
  auto* group = new QActionGroup(this);
  const int current = QSettings().value(QStringLiteral("theme"), 0).toInt();
  const std::pair<QString, theme::Mode> modes[] = {
      {tr("&System"), theme::Mode::system}, {tr("&Light"), theme::Mode::light}, {tr("&Dark"), theme::Mode::dark}};
  for (const auto& [label, mode] : modes) {
    a = themes->addAction(label, this, [this, mode = mode] { set_theme(mode); });
    a->setCheckable(true);
    a->setChecked(static_cast<int>(mode) == current);
    group->addAction(a);
  }

  auto* run = menuBar()->addMenu(tr("&Run"));
  a = run->addAction(tr("Run &Sweep"), this, [this] {
    tabs_->setCurrentWidget(sweep_);
    sweep_->run();
  });
  a->setShortcut(QKeySequence(Qt::Key_F5));
  a = run->addAction(tr("&Cancel Running Job"), this, [this] {
    for (auto* r : runners_) r->cancel();
  });
  a->setShortcut(QKeySequence(Qt::Key_Escape));

  auto* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About clustersim-gui"), this, [this] {
    QMessageBox::about(this, tr("About clustersim-gui"),
                       tr("<b>clustersim-gui</b> %1<br>What-if exploration of LLM training cost on GPU clusters: "
                          "the same core and the same scenario files as the clustersim command.<br><br>"
                          "Hover any field for what it means. Up/Down steps numbers; Ctrl+1..6 switch views; "
                          "F5 runs a sweep; Esc cancels; Ctrl+Z undoes.")
                           .arg(QStringLiteral(CLUSTERSIM_VERSION_STRING)));
  });
}

void MainWindow::watch(JobRunner* r) {
  runners_.push_back(r);
  connect(r, &JobRunner::started, this, &MainWindow::update_job_status);
  connect(r, &JobRunner::progress, this, [this, r](qint64 done, qint64 total, const QString& what) {
    if (!r->is_running()) return;
    job_label_->setText(tr("%1: %2 (%3 of %4)").arg(r->name(), what).arg(done).arg(total));
    progress_->setValue(total > 0 ? static_cast<int>(1000.0 * static_cast<double>(done) / static_cast<double>(total)) : 0);
  });
  connect(r, &JobRunner::finished, this, [this, r](bool cancelled) {
    const auto& o = r->last_outcome();
    if (!o.error.isEmpty()) statusBar()->showMessage(tr("%1 failed: %2").arg(o.title, o.error), 10000);
    else if (cancelled) statusBar()->showMessage(tr("%1 cancelled").arg(o.title), 5000);
    else statusBar()->showMessage(tr("%1 done in %2 s").arg(o.title).arg(o.seconds, 0, 'f', 2), 5000);
    update_job_status();
  });
}

void MainWindow::update_job_status() {
  JobRunner* running = nullptr;
  for (auto* r : runners_)
    if (r->is_running()) running = r;
  job_label_->setVisible(running != nullptr);
  progress_->setVisible(running != nullptr);
  cancel_->setVisible(running != nullptr);
  if (running) {
    job_label_->setText(tr("%1: starting…").arg(running->name()));
    progress_->setValue(0);
  }
}

void MainWindow::wait_for_jobs() {
  for (bool busy = true; busy;) {
    busy = false;
    for (auto* r : runners_)
      if (r->is_running()) {
        busy = true;
        r->wait_until_idle();
      }
  }
}

void MainWindow::on_document_changed() {
  const auto& err = doc_->error();
  const auto ev = doc_->last_valid();
  if (err) {
    const QString where = err->path.empty() ? QString() : QStringLiteral("<b>%1</b>: ").arg(QString::fromStdString(err->path));
    banner_->setText(tr("⚠ %1%2 — %3 <a href=\"#field\">Go to field</a>")
                         .arg(where, QString::fromStdString(err->message).toHtmlEscaped(),
                              ev ? tr("the views show the last valid scenario.") : tr("no valid scenario yet.")));
    const bool dark = theme::is_dark(palette());
    banner_->setStyleSheet(dark ? QStringLiteral("QLabel { background: #5a2a22; color: #ffd9cf; }")
                                : QStringLiteral("QLabel { background: #fde3dc; color: #6b1d0e; }"));
    banner_->setVisible(true);
  } else {
    banner_->setVisible(false);
  }
  undo_action_->setEnabled(doc_->can_undo());
  redo_action_->setEnabled(doc_->can_redo());
  setWindowModified(doc_->is_modified());
  if (!ev) {
    shown_.reset();
    empty_->setText(tr("<h3>No valid scenario yet</h3><p>Fix the field marked in the editor (%1); the results "
                       "appear as soon as the scenario is valid.</p>")
                        .arg(err ? QString::fromStdString(err->what()).toHtmlEscaped() : QString()));
    pages_->setCurrentWidget(empty_);
    return;
  }
  pages_->setCurrentWidget(tabs_);
  if (ev == shown_) return;
  shown_ = ev;
  overview_->show_result(ev);
  memory_->show_result(ev);
  timeline_->show_result(ev);
  sweep_->show_result(ev);
  scaling_->show_result(ev);
  budget_->show_result(ev);
}

void MainWindow::update_title() {
  const QString path = doc_->file_path();
  setWindowTitle(tr("%1[*] — clustersim").arg(path.isEmpty() ? tr("Untitled scenario") : QFileInfo(path).fileName()));
  setWindowFilePath(path);
  setWindowModified(doc_->is_modified());
}

bool MainWindow::open_file(const QString& path) {
  if (const auto err = doc_->open(path)) {
    show_error(tr("Could not open %1:\n%2").arg(path, QString::fromStdString(err->what())));
    QSettings s;
    QStringList recent = s.value(QLatin1String(kRecentKey)).toStringList();
    if (recent.removeAll(QFileInfo(path).absoluteFilePath()) > 0) {
      s.setValue(QLatin1String(kRecentKey), recent);
      rebuild_recent_menu();
    }
    return false;
  }
  add_recent(path);
  statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
  if (doc_->error()) go_to_error();
  return true;
}

bool MainWindow::save_to(const QString& path) {
  if (const auto err = doc_->save(path)) {
    show_error(tr("Could not save:\n%1").arg(QString::fromStdString(err->what())));
    return false;
  }
  add_recent(path);
  statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
  return true;
}

bool MainWindow::save() {
  if (!doc_->file_path().isEmpty()) return save_to(doc_->file_path());
  const QString path = QFileDialog::getSaveFileName(this, tr("Save scenario"), QStringLiteral("scenario.json"),
                                                    tr("Scenario JSON (*.json)"));
  return !path.isEmpty() && save_to(path);
}

bool MainWindow::maybe_save() {
  if (!doc_->is_modified()) return true;
  const auto answer = ask_save(tr("The scenario has unsaved changes. Save them first?"));
  if (answer == QMessageBox::Save) return save();
  return answer == QMessageBox::Discard;
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (!maybe_save()) {
    e->ignore();
    return;
  }
  for (auto* r : runners_) r->cancel();
  e->accept();
}

void MainWindow::add_recent(const QString& path) {
  QSettings s;
  QStringList recent = s.value(QLatin1String(kRecentKey)).toStringList();
  const QString abs = QFileInfo(path).absoluteFilePath();
  recent.removeAll(abs);
  recent.prepend(abs);
  while (recent.size() > kMaxRecent) recent.removeLast();
  s.setValue(QLatin1String(kRecentKey), recent);
  rebuild_recent_menu();
}

void MainWindow::rebuild_recent_menu() {
  recent_menu_->clear();
  const QStringList recent = QSettings().value(QLatin1String(kRecentKey)).toStringList();
  for (int i = 0; i < recent.size(); ++i) {
    const QString path = recent[i];
    auto* a = recent_menu_->addAction(QStringLiteral("&%1 %2").arg(i + 1).arg(QFileInfo(path).fileName()), this, [this, path] {
      if (maybe_save()) open_file(path);
    });
    a->setToolTip(path);
    a->setStatusTip(path);
  }
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::export_report() {
  if (!doc_->last_valid()) return show_error(tr("There is no valid scenario to report on yet."));
  const QString base = doc_->file_path().isEmpty() ? QStringLiteral("report") : QFileInfo(doc_->file_path()).completeBaseName() + QStringLiteral("-report");
  const QString path = QFileDialog::getSaveFileName(this, tr("Export report"), base + QStringLiteral(".md"),
                                                    tr("Markdown (*.md);;JSON (*.json)"));
  if (path.isEmpty()) return;
  if (const auto err = budget_->export_report(path)) show_error(QString::fromStdString(err->what()));
  else statusBar()->showMessage(tr("Report written to %1").arg(path), 5000);
}

void MainWindow::export_view_image() {
  QWidget* w = tabs_->currentWidget();
  const QString name = view_name(static_cast<View>(tabs_->currentIndex()));
  const QString path = QFileDialog::getSaveFileName(this, tr("Export view"), name + QStringLiteral(".png"),
                                                    tr("PNG image (*.png);;SVG drawing (*.svg)"));
  if (path.isEmpty()) return;
  bool ok = false;
  if (path.endsWith(QLatin1String(".svg"), Qt::CaseInsensitive)) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(w->size());
    svg.setViewBox(QRect(QPoint(0, 0), w->size()));
    svg.setTitle(name);
    QPainter painter;
    ok = painter.begin(&svg);
    if (ok) {
      w->render(&painter);
      ok = painter.end();
    }
  } else {
    ok = w->grab().save(path);
  }
  if (!ok) show_error(tr("Could not write %1").arg(path));
}

void MainWindow::set_theme(theme::Mode mode) {
  QSettings().setValue(QStringLiteral("theme"), static_cast<int>(mode));
  theme::apply(*qApp, mode);
  on_document_changed();
}

void MainWindow::go_to_error() {
  if (QWidget* w = editor_->marked_widget()) {
    editor_scroll_->ensureWidgetVisible(w, 20, 60);
    editor_->focus_error();
  }
}

void MainWindow::show_view(View v) { tabs_->setCurrentIndex(static_cast<int>(v)); }

QWidget* MainWindow::view_widget(View v) const { return tabs_->widget(static_cast<int>(v)); }

QStringList MainWindow::render_screenshots(const QString& dir, QString* error) {
  QStringList written;
  if (!QDir().mkpath(dir)) {
    if (error) *error = tr("cannot create %1").arg(dir);
    return written;
  }
  const int before = tabs_->currentIndex();
  for (int i = 0; i < kViewCount; ++i) {
    const auto v = static_cast<View>(i);
    show_view(v);
    if (v == View::sweep && !sweep_->result() && doc_->last_valid()) sweep_->run();
    wait_for_jobs();
    QApplication::sendPostedEvents();
    QApplication::processEvents();
    const QString path = QDir(dir).filePath(view_name(v) + QStringLiteral(".png"));
    if (!grab().save(path)) {
      if (error) *error = tr("cannot write %1").arg(path);
      return written;
    }
    written << path;
  }
  tabs_->setCurrentIndex(before);
  return written;
}

}  // namespace clustersim::gui
