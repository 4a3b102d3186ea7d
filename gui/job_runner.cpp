#include "gui/job_runner.hpp"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QPromise>
#include <QtConcurrent/QtConcurrentRun>

#include <atomic>
#include <limits>
#include <mutex>

namespace clustersim::gui {

namespace {

// The JobControl a worker sees: stop_requested() reads the cancel flag (set by cancel() or by
// QFuture::cancel()); on_progress() stores the numbers and nudges the watcher through the promise's
// progress value, which Qt delivers (rate-limited) on the GUI thread.
class PromiseControl final : public JobControl {
 public:
  void attach(QPromise<void>* p) { promise_ = p; }
  void request_stop() { stop_.store(true); }
  [[nodiscard]] bool stop_requested() const override {
    return stop_.load() || (promise_ != nullptr && promise_->isCanceled());
  }
  void on_progress(std::int64_t done, std::int64_t total, const std::string& what) override {
    done_.store(done);
    total_.store(total);
    {
      std::lock_guard lock(mutex_);
      what_ = what;
    }
    // The promise's progress value only wakes the watcher (Qt rate-limits it to 25 signals a second);
    // the numbers themselves are read from the atomics above.
    if (promise_ != nullptr && calls_ < std::numeric_limits<int>::max()) promise_->setProgressValue(++calls_);
  }
  [[nodiscard]] std::int64_t done() const { return done_.load(); }
  [[nodiscard]] std::int64_t total() const { return total_.load(); }
  [[nodiscard]] QString what() const {
    std::lock_guard lock(mutex_);
    return QString::fromStdString(what_);
  }
  std::string error;  // written by the worker before it returns, read after the future finished

 private:
  QPromise<void>* promise_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> done_{0}, total_{0};
  int calls_ = 0;  // worker thread only
  mutable std::mutex mutex_;
  std::string what_;
};

}  // namespace

struct JobRunner::Live {
  QString title;
  std::shared_ptr<PromiseControl> ctl = std::make_shared<PromiseControl>();
  QFutureWatcher<void> watcher;
  Done done;
  QElapsedTimer clock;
};

JobRunner::JobRunner(QString name, QObject* parent) : QObject(parent), name_(std::move(name)) {}

JobRunner::~JobRunner() {
  if (current_) retiring_.push_back(current_);
  for (auto& live : retiring_) {
    live->ctl->request_stop();
    live->watcher.disconnect();
    live->watcher.waitForFinished();
  }
}

void JobRunner::start(const QString& title, Work work, Done done) {
  if (current_) {
    current_->ctl->request_stop();
    current_->done = nullptr;
    retiring_.push_back(current_);
  }
  auto live = std::make_shared<Live>();
  live->title = title;
  live->done = std::move(done);
  live->clock.start();
  auto ctl = live->ctl;
  current_ = live;
  std::weak_ptr<Live> weak = live;
  connect(&live->watcher, &QFutureWatcherBase::progressValueChanged, this, [this, weak](int) {
    auto l = weak.lock();
    if (l && l == current_) Q_EMIT progress(l->ctl->done(), l->ctl->total(), l->ctl->what());
  });
  connect(&live->watcher, &QFutureWatcherBase::finished, this, [this, weak]() {
    if (auto l = weak.lock()) on_finished(l);
  });
  live->watcher.setFuture(QtConcurrent::run([work = std::move(work), ctl](QPromise<void>& promise) {
    ctl->attach(&promise);
    promise.setProgressRange(0, std::numeric_limits<int>::max());
    try {
      work(*ctl);
    } catch (const std::exception& e) {
      ctl->error = e.what();
    } catch (...) {
      ctl->error = "unknown exception";
    }
    ctl->attach(nullptr);
  }));
  Q_EMIT started(title);
}

void JobRunner::cancel() {
  if (!current_) return;
  current_->ctl->request_stop();
  current_->watcher.cancel();
}

bool JobRunner::is_running() const { return current_ != nullptr; }

void JobRunner::wait_until_idle() {
  if (!current_) return;
  QEventLoop loop;
  const auto c = connect(this, &JobRunner::finished, &loop, [&loop, this](bool) {
    if (!current_) loop.quit();
  });
  loop.exec();
  disconnect(c);
}

void JobRunner::on_finished(const std::shared_ptr<Live>& live) {
  // The watcher is still emitting: release the job only once control is back in the event loop.
  QMetaObject::invokeMethod(this, [keep = live]() {}, Qt::QueuedConnection);
  std::erase(retiring_, live);
  if (live != current_) return;  // superseded: its result is dropped
  current_.reset();
  last_.title = live->title;
  last_.cancelled = live->ctl->stop_requested() || live->watcher.isCanceled();
  last_.error = QString::fromStdString(live->ctl->error);
  last_.done = live->ctl->done();
  last_.total = live->ctl->total();
  last_.seconds = static_cast<double>(live->clock.elapsed()) / 1000.0;
  if (!last_.cancelled && last_.error.isEmpty() && live->done) live->done();
  Q_EMIT finished(last_.cancelled);
}

}  // namespace clustersim::gui
