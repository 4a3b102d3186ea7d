#pragma once
// The scenario editor: model, cluster, training target and layout, each field with its unit, a tooltip
// that explains the term, and the reason inline when the scenario reader or validator rejects it.
#include <QWidget>

#include <functional>
#include <map>
#include <optional>

#include "common/expected.hpp"

class QComboBox;
class QLabel;
class QGroupBox;
class QFormLayout;

namespace clustersim::gui {

class ScenarioDocument;
enum class FieldKind;
enum class Part;

// ScenarioEditor shows a ScenarioDocument as a form and writes every keystroke back to it; it keeps no
// state of its own beyond the widgets. Empty fields show in grey what applies (the preset's value or
// the default) and leave the JSON unwritten. When the document's error names a field ("layout.tp"),
// that field is outlined, its label turns red and the reason appears under it; a path that names a
// whole part ("layout") marks the part's group. Switching a preset that carries overrides asks first
// (confirm_discard); integer fields step with the Up/Down keys (doubling for parallel degrees).
class ScenarioEditor : public QWidget {
  Q_OBJECT
 public:
  explicit ScenarioEditor(ScenarioDocument* doc, QWidget* parent = nullptr);

  // Asked before a change would drop what the user wrote; returns true to go ahead.
  std::function<bool(const QString& question)> confirm_discard;

  // The editing widget of a field path ("layout.tp"), its error label, and the path the current error
  // was shown on (tests and the window's "go to error").
  [[nodiscard]] QWidget* field_widget(const QString& path) const;
  [[nodiscard]] QLabel* error_label(const QString& path) const;
  [[nodiscard]] QComboBox* preset_combo(Part part) const;
  [[nodiscard]] QString marked_path() const { return marked_; }
  // The widget that shows the current error: the field's editor, or the group's message.
  [[nodiscard]] QWidget* marked_widget() const;
  void focus_error();

 private:
  struct Field {
    QString path;
    FieldKind kind;
    QWidget* editor = nullptr;
    QLabel* label = nullptr;
    QLabel* error = nullptr;
    QString base_tip;
  };
  enum class Widget { line, combo, check };
  struct FieldDef {
    const char* path;
    const char* label;
    FieldKind kind;
    Widget widget;
    const char* unit;
    const char* tip;
    bool doubling = false;
  };

  ScenarioDocument* doc_;
  std::map<QString, Field> fields_;
  std::map<QString, QLabel*> group_errors_;  // "model", "cluster", "training", "layout", "" (top)
  std::map<QString, QLabel*> infos_;
  QComboBox* model_preset_ = nullptr;
  QComboBox* cluster_preset_ = nullptr;
  QString editing_;  // the field whose keystroke is being written (not refreshed from the document)
  QString marked_;

  QGroupBox* make_group(const QString& title, const QString& part, QFormLayout*& form);
  void add_field(QFormLayout* form, const FieldDef& def, const QList<QPair<QString, QString>>& options = {});
  QComboBox* add_preset_row(QFormLayout* form, Part part);
  void write(const Field& f, const QString& text, bool merge = false);
  void refresh();
  void refresh_field(Field& f);
  void refresh_presets();
  void refresh_infos();
  void show_error(const std::optional<Error>& error);
  void on_preset_chosen(Part part, QComboBox* combo);
};

}  // namespace clustersim::gui
