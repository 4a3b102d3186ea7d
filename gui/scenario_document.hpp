#pragma once
// The scenario being edited: the JSON the CLI reads, exactly as the user wrote it, and its evaluation.
#include <QObject>
#include <QString>
#include <QList>
#include <QStringList>

#include <memory>
#include <optional>

#include "common/expected.hpp"
#include "gui/evaluation.hpp"

namespace clustersim::gui {

enum class Part { model, cluster, training, layout };
const char* to_string(Part p);

// A bundled preset the editor offers: its name and one-line description.
struct PresetChoice {
  QString name;
  QString description;
};
enum class PresetGroup { model, cluster, gpu };
QList<PresetChoice> preset_choices(PresetGroup group);

// How an editor field's text becomes JSON. Text that does not parse as the kind is stored as a string,
// so the scenario reader reports it with the field's path and nothing the user typed is dropped.
enum class FieldKind { integer, number, int_list, text, boolean };

// ScenarioDocument owns the scenario JSON (key order kept, unknown fields kept) and is the only thing
// that changes it. Fields are addressed by the paths the readers name in errors ("layout.tp",
// "model.hidden", "cluster.nodes"). A model or cluster may be a preset name; editing one of its fields
// turns it into {"base": name, field: value}, and clearing the last override turns it back into the
// name. Every change is re-evaluated at once (validation and the closed-form estimate take
// microseconds): error() says why the current JSON is not a valid scenario, and last_valid() keeps the
// last one that was, so views never show a half-edited state. Whole-document snapshots give undo/redo;
// is_modified() compares with what was last opened or saved.
class ScenarioDocument : public QObject {
  Q_OBJECT
 public:
  explicit ScenarioDocument(QObject* parent = nullptr);
  ~ScenarioDocument() override;

  // The INTERFACES.md example scenario, untitled and unmodified.
  void load_default();
  // Reading errors (unreadable, not JSON, not an object) leave the document unchanged. A file that is
  // JSON but not a valid scenario is loaded, and its errors are shown on the fields.
  std::optional<Error> open(const QString& path);
  std::optional<Error> save(const QString& path);
  // Loads JSON text as an untitled, unmodified document (what open() does after reading the file).
  std::optional<Error> load_text(const QByteArray& text, const QString& path = {});
  [[nodiscard]] QByteArray text() const;  // what save() writes
  [[nodiscard]] QString file_path() const;
  [[nodiscard]] bool is_modified() const;

  [[nodiscard]] QString field_text(const QString& path) const;      // "" when the field is not written
  [[nodiscard]] QString inherited_text(const QString& path) const;  // what applies when it is not
  // Consecutive typed edits of one field merge into one undo step (merge = true); discrete edits
  // (a step with Up/Down, a choice in a list) are steps of their own.
  void set_field_text(const QString& path, const QString& text, FieldKind kind, bool merge = true);

  [[nodiscard]] QString preset(Part part) const;                   // "" for an inline object without base
  [[nodiscard]] QStringList overridden_fields(Part part) const;    // written on top of the preset
  void set_preset(Part part, const QString& name);                 // drops overrides: ask the user first
  void make_custom(Part part);                                     // inlines the preset's values; loses nothing

  // Loads a layout (and node count) picked in the Sweep view; one undo step.
  void apply_layout(const strategies::LayoutSpec& layout, int nodes);

  [[nodiscard]] bool can_undo() const;
  [[nodiscard]] bool can_redo() const;
  void undo();
  void redo();

  [[nodiscard]] const std::optional<Error>& error() const;
  [[nodiscard]] EvaluatedPtr last_valid() const;
  [[nodiscard]] std::uint64_t revision() const;  // grows with every evaluation

 Q_SIGNALS:
  void changed();  // the JSON changed and was evaluated again
  void modified_changed(bool modified);
  void file_path_changed(const QString& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> d_;
  void after_change(bool modified_before);
};

}  // namespace clustersim::gui
