#pragma once
// The Sweep view: many layouts of the current scenario, as a time-cost scatter with its Pareto front, a
// TP x PP heatmap and a sortable table. Clicking a point, a cell or a row loads that layout.
#include <QAbstractTableModel>
#include <QWidget>

#include <memory>

#include "gui/evaluation.hpp"
#include "gui/sweep_model.hpp"

class QChartView;
class QCheckBox;
class QLabel;
class QPushButton;
class QScatterSeries;
class QSortFilterProxyModel;
class QTableView;

namespace clustersim::gui {

class CostSettings;
class JobRunner;

// SweepTableModel shows a SweepResult's rows; the Qt::UserRole of every cell is its number, for sorting.
class SweepTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  SweepTableModel(CostSettings* costs, QObject* parent = nullptr);
  void set_result(std::shared_ptr<const SweepResult> r, double tokens);
  [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
  [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
  [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
  [[nodiscard]] QVariant headerData(int section, Qt::Orientation o, int role) const override;
  enum class Column { iteration, days, cost, mfu, tokens_per_s, nodes, gpus, tp, pp, dp, micro_batch, virtual_stages,
                      schedule, zero, recompute, sequence_parallel, fits };
  static constexpr int kColumns = static_cast<int>(Column::fits) + 1;

 private:
  CostSettings* costs_;
  std::shared_ptr<const SweepResult> result_;
  double tokens_ = 0;
};

// HeatmapWidget: the best fitting iteration time for each (tp, pp) at the scenario's node count.
class HeatmapWidget : public QWidget {
  Q_OBJECT
 public:
  explicit HeatmapWidget(QWidget* parent = nullptr);
  void set_result(std::shared_ptr<const SweepResult> r, int nodes);
  [[nodiscard]] QSize sizeHint() const override { return {360, 300}; }
  [[nodiscard]] int best_row(int tp, int pp) const;

 Q_SIGNALS:
  void row_chosen(int row);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  bool event(QEvent* e) override;

 private:
  std::shared_ptr<const SweepResult> result_;
  std::vector<int> tps_, pps_;
  std::vector<int> best_;  // row index per cell (pp-major), -1 when none fits
  std::vector<int> valid_; // layouts evaluated per cell
  double t_min_ = 0, t_max_ = 0;
  int nodes_ = 0;
  [[nodiscard]] QRect cell_rect(int col, int row) const;
  [[nodiscard]] QRect grid_rect() const;
  [[nodiscard]] std::pair<int, int> cell_at(const QPoint& p) const;
};

// SweepView runs the layout scan (sim::sweep's stand-in, gui/sweep_model.hpp) on a worker thread with
// progress and cancel, and shows its result until the next run. row_chosen() asks the window to load
// a row's layout; the view marks when the scenario has changed since the sweep ran.
class SweepView : public QWidget {
  Q_OBJECT
 public:
  SweepView(CostSettings* costs, QWidget* parent = nullptr);
  void show_result(const EvaluatedPtr& ev);
  // Starts a sweep of the current scenario (default_scan unless `spec` is given).
  void run(std::optional<ScanSpec> spec = std::nullopt);
  [[nodiscard]] JobRunner* runner() const { return runner_; }
  [[nodiscard]] std::shared_ptr<const SweepResult> result() const { return result_; }
  [[nodiscard]] QTableView* table() const { return table_; }
  [[nodiscard]] HeatmapWidget* heatmap() const { return heatmap_; }
  [[nodiscard]] QChartView* scatter() const { return scatter_; }
  [[nodiscard]] QPushButton* run_button() const { return run_button_; }
  // Emits row_chosen for the row under a table index (through the sort proxy).
  void choose_table_row(int proxy_row);

 Q_SIGNALS:
  void row_chosen(const clustersim::gui::SweepRow& row);

 protected:
  void changeEvent(QEvent* e) override;

 private:
  CostSettings* costs_;
  JobRunner* runner_;
  EvaluatedPtr ev_, swept_;
  std::shared_ptr<const SweepResult> result_;
  QLabel* summary_;
  QPushButton* run_button_;
  QCheckBox* show_unfit_;
  QChartView* scatter_;
  HeatmapWidget* heatmap_;
  SweepTableModel* model_;
  QSortFilterProxyModel* proxy_;
  QTableView* table_;
  std::vector<int> scatter_rows_[3];  // row index of each point of the other / Pareto / current series
  QScatterSeries* current_ = nullptr;  // the star: rows with the scenario's layout
  double cost_unit_ = 1.0;             // the scatter's cost axis is in dollars / 1e3 / 1e6
  void render();
  void update_summary();
  void update_current();
  void render_scatter();
  void choose(int row);
};

}  // namespace clustersim::gui
