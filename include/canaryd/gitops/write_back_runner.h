// WriteBackRunner: Git write-back as its own runnable. The reconciler tells it of a rollback
// (controller::RollbackListener) and goes on; the runner's thread decides whether the Canary
// asked for write-back and the operator's fence allows it, reads the credentials Secret of the
// Canary's namespace, clones, commits and pushes (gitops/write_back.h), and reports on the
// Canary: a Normal or Warning event GitWriteBack, and an error alert when the write failed. A
// network failure is retried once. Never on a reconcile worker: a slow Git server delays only
// other write-backs. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "canaryd/cluster/client.h"
#include "canaryd/controller/rollback_listener.h"
#include "canaryd/core/clock.h"
#include "canaryd/gitops/fence.h"
#include "canaryd/gitops/write_back.h"
#include "canaryd/notify/notifier.h"

namespace canaryd::runtime {
class EventRecorder;
}

namespace canaryd::gitops {

using Writer = std::function<Result<Outcome>(const Request&, const Credentials&)>;

class WriteBackRunner final : public controller::RollbackListener {
 public:
  // `fence`: the operator's file (--git-write-back-config); null: write-back is off in every
  // namespace (the Canary is told so). `ownThread`: false runs nothing until drain() is called
  // (tests, the simulator).
  WriteBackRunner(cluster::Client& client, const Clock& clock, notify::Notifier& notifier,
                  std::shared_ptr<const Fence> fence, Writer writer = writeBack,
                  bool ownThread = true);
  // Finishes the write-backs already queued, then stops.
  ~WriteBackRunner() override;

  void rolledBack(const api::Canary& canary, const api::JsonValue& involved,
                  const api::CanaryStatus& status) override;
  // Runs the queued write-backs on the calling thread until none is left.
  void drain();

 private:
  struct Job {
    api::Canary canary;
    api::JsonValue involved;
    api::CanaryStatus status;
  };
  void run(const Job& job);
  void loop();

  cluster::Client& client_;
  const Clock& clock_;
  notify::Notifier& notifier_;
  std::shared_ptr<const Fence> fence_;
  Writer writer_;
  std::unique_ptr<runtime::EventRecorder> events_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace canaryd::gitops
