#pragma once
// The clustersim-gui window: the scenario editor beside the views, menus, file handling, job status.
#include <QMainWindow>
#include <QMessageBox>

#include <functional>

#include "gui/evaluation.hpp"
#include "gui/theme.hpp"

class QLabel;
class QMenu;
class QProgressBar;
class QScrollArea;
class QStackedWidget;
class QTabWidget;
class QToolButton;

namespace clustersim::gui {

class BudgetView;
class CostSettings;
class JobRunner;
class MemoryView;
class OverviewView;
class ScalingView;
class ScenarioDocument;
class ScenarioEditor;
class SweepView;
class TimelineView;

// MainWindow wires one ScenarioDocument to the ScenarioEditor and to every view. Each change of the
// document is evaluated at once; when the document is invalid, the views keep showing the last valid
// result and a banner names the field and the reason. Long work (timeline, sweep; later the
// discrete-event simulation) runs in each view's JobRunner; the status bar shows the running job with
// its progress and a Cancel button (Esc). Opening, closing or starting a new scenario over unsaved edits
// asks first (ask_save, replaceable for tests); recent files are remembered in QSettings.
class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  enum class View { overview, memory, timeline, sweep, scaling_law, budget };
  static constexpr int kViewCount = 6;
  static QString view_name(View v);  // "overview", "memory", "timeline", "sweep", "scaling-law", "budget"

  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // File operations without dialogs (the menu actions ask for the path, then call these).
  bool open_file(const QString& path);
  bool save_to(const QString& path);
  bool save();  // to the current file, or asks for one
  bool maybe_save();  // true when it is fine to drop the document (saved, discarded, or unmodified)

  // Asked "save changes?" before unsaved edits would be lost: Save, Discard or Cancel.
  std::function<QMessageBox::StandardButton(const QString& text)> ask_save;
  // Reports an error that is not a field of the scenario (a file could not be read).
  std::function<void(const QString& text)> show_error;

  void show_view(View v);
  [[nodiscard]] QWidget* view_widget(View v) const;
  [[nodiscard]] ScenarioDocument* document() const { return doc_; }
  [[nodiscard]] ScenarioEditor* editor() const { return editor_; }
  [[nodiscard]] OverviewView* overview() const { return overview_; }
  [[nodiscard]] MemoryView* memory() const { return memory_; }
  [[nodiscard]] TimelineView* timeline() const { return timeline_; }
  [[nodiscard]] SweepView* sweep() const { return sweep_; }
  [[nodiscard]] ScalingView* scaling() const { return scaling_; }
  [[nodiscard]] BudgetView* budget() const { return budget_; }
  [[nodiscard]] QLabel* banner() const { return banner_; }
  [[nodiscard]] QToolButton* cancel_button() const { return cancel_; }
  [[nodiscard]] CostSettings* costs() const { return costs_; }
  // Waits (event loop, not busy) until no view has a job running.
  void wait_for_jobs();

  // Renders every view to DIR/<view>.png (the --screenshot mode); returns the files written.
  QStringList render_screenshots(const QString& dir, QString* error = nullptr);

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  ScenarioDocument* doc_;
  CostSettings* costs_;
  ScenarioEditor* editor_;
  QScrollArea* editor_scroll_ = nullptr;
  QTabWidget* tabs_;
  QStackedWidget* pages_ = nullptr;
  QLabel* empty_ = nullptr;
  OverviewView* overview_;
  MemoryView* memory_;
  TimelineView* timeline_;
  SweepView* sweep_;
  ScalingView* scaling_;
  BudgetView* budget_;
  QLabel* banner_;
  QLabel* job_label_;
  QProgressBar* progress_;
  QToolButton* cancel_;
  QMenu* recent_menu_;
  QAction* undo_action_ = nullptr;
  QAction* redo_action_ = nullptr;
  std::vector<JobRunner*> runners_;
  EvaluatedPtr shown_;  // the result the views show

  void build_menus();
  void watch(JobRunner* r);
  void update_job_status();
  void on_document_changed();
  void update_title();
  void add_recent(const QString& path);
  void rebuild_recent_menu();
  void export_report();
  void export_view_image();
  void set_theme(theme::Mode mode);
  void go_to_error();  // scrolls the editor to the marked field or group and focuses it
};

}  // namespace clustersim::gui
