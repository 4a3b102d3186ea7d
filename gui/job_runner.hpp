#pragma once
// Runs jobs (gui/job_control.hpp) on a worker thread with QtConcurrent, reports their progress through a
// QFutureWatcher, and cancels them on request. The window never waits on a job and never pumps events
// inside one.
#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

#include "gui/job_control.hpp"

namespace clustersim::gui {

// How the latest job ended.
struct JobOutcome {
  QString title;
  bool cancelled = false;
  QString error;            // non-empty when the job threw
  std::int64_t done = 0;    // last progress it reported
  std::int64_t total = 0;
  double seconds = 0;
};

// JobRunner holds at most one current job. start() cancels the job before it (whose result is then
// dropped), runs `work` on the global thread pool, and calls `done` on the GUI thread only when the
// work finished without being cancelled and is still current. cancel() asks the job to stop: it returns
// at its next stop_requested() check and `done` is not called. Destroying the runner cancels and waits.
class JobRunner : public QObject {
  Q_OBJECT
 public:
  using Work = std::function<void(JobControl&)>;
  using Done = std::function<void()>;

  explicit JobRunner(QString name, QObject* parent = nullptr);
  ~JobRunner() override;

  void start(const QString& title, Work work, Done done);

  // A job that returns a value: `done` receives it on the GUI thread.
  template <class R>
  void start_with_result(const QString& title, std::function<R(JobControl&)> work, std::function<void(R)> done) {
    auto slot = std::make_shared<std::optional<R>>();
    start(
        title, [work = std::move(work), slot](JobControl& c) { *slot = work(c); },
        [done = std::move(done), slot]() {
          if (*slot) done(std::move(**slot));
        });
  }

  void cancel();
  [[nodiscard]] bool is_running() const;
  [[nodiscard]] const QString& name() const { return name_; }
  [[nodiscard]] const JobOutcome& last_outcome() const { return last_; }
  // Runs a local event loop until the current job has ended (for --screenshot and tests; never called
  // from inside a job).
  void wait_until_idle();

 Q_SIGNALS:
  void started(const QString& title);
  void progress(qint64 done, qint64 total, const QString& what);
  void finished(bool cancelled);

 private:
  struct Live;
  QString name_;
  std::shared_ptr<Live> current_;
  std::vector<std::shared_ptr<Live>> retiring_;  // superseded jobs still winding down
  JobOutcome last_;
  void on_finished(const std::shared_ptr<Live>& live);
};

}  // namespace clustersim::gui
