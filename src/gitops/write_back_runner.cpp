#include "canaryd/gitops/write_back_runner.h"

#include <spdlog/spdlog.h>

#include "canaryd/cluster/typed.h"
#include "canaryd/core/text.h"
#include "canaryd/runtime/event_recorder.h"

namespace canaryd::gitops {

WriteBackRunner::WriteBackRunner(cluster::Client& client, const Clock& clock,
                                 notify::Notifier& notifier, std::shared_ptr<const Fence> fence,
                                 Writer writer, bool ownThread)
    : client_(client),
      clock_(clock),
      notifier_(notifier),
      fence_(std::move(fence)),
      writer_(std::move(writer)),
      events_(std::make_unique<runtime::EventRecorder>(client, clock)) {
  if (ownThread) thread_ = std::thread([this] { loop(); });
}

WriteBackRunner::~WriteBackRunner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WriteBackRunner::rolledBack(const api::Canary& canary, const api::JsonValue& involved,
                                 const api::CanaryStatus& status) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({canary, involved, status});
  }
  wake_.notify_one();
}

void WriteBackRunner::drain() {
  for (;;) {
    std::optional<Job> job;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    run(*job);
  }
}

void WriteBackRunner::loop() {
  for (;;) {
    std::optional<Job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued was written
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      run(*job);
    } catch (const std::exception& e) {
      spdlog::error("git write-back of {}: {}", job->canary.metadata.name.value_or(""), e.what());
    }
  }
}

void WriteBackRunner::run(const Job& job) {
  const api::Canary& canary = job.canary;
  const api::JsonValue& involved = job.involved;
  const api::CanaryStatus& status = job.status;
  const std::string failed = status.lastAppliedRevision.value_or("");
  const std::string primary = status.lastPromotedRevision.value_or("");
  Result<std::optional<Config>> config = gitOpsConfigOf(canary);
  if (!config) {
    events_->record(involved, "Warning", "GitWriteBack",
                    "Git write-back not attempted: " + config.error().message());
    return;
  }
  if (!*config) {
    events_->record(involved, "Normal", "GitWriteBack",
                    "Git still names the rolled-back revision " + failed +
                        " while the primary runs " + primary +
                        "; revert it in Git (or let canaryd do it: annotation " +
                        kWriteBackAnnotation + ")");
    return;
  }
  const std::string ns = canary.metadata.namespace_.value_or("default");
  const std::string name = canary.metadata.name.value_or("");
  if (!fence_) {
    events_->record(involved, "Warning", "GitWriteBack",
                    "Git write-back not attempted: it is not enabled in this cluster (the operator "
                    "lists each namespace's repositories in canaryd run --git-write-back-config)");
    return;
  }
  Result<Grant> grant = fence_->check(ns, **config);
  if (!grant) {
    events_->record(involved, "Warning", "GitWriteBack",
                    "Git write-back refused: " + grant.error().message());
    return;
  }
  Request request;
  request.config = **config;
  request.allowInsecureTransport = grant->insecure;
  request.failedImages = parseImages(failed);
  request.primaryImages = parseImages(primary);
  std::string why;
  if (status.lastFailedCheck && status.lastFailedCheck->message) {
    why = *status.lastFailedCheck->message;
  } else if (status.judge && status.judge->explanation) {
    why = *status.judge->explanation;
  }
  // The reason is tenant-influenced text (a metric's name, a server's answer): one line,
  // escaped and bounded, so it cannot add trailers or lines to the commit message.
  if (why.size() > 300) why = why.substr(0, 300) + "...";
  request.message = "Revert " + ns + "/" + name + " to " + primary + "\n\ncanaryd rolled back " +
                    failed + (why.empty() ? "" : ": " + printable(why)) + "\n\nCanary: " + ns +
                    "/" + name + "\n";
  request.reviewBranch =
      "canaryd/rollback-" + ns + "-" + name + "-" + status.lastAppliedSpec.value_or("revision");
  Credentials credentials;
  {
    const std::string secret = fence_->credentialsSecret();
    Result<std::map<std::string, std::string>> data =
        cluster::readSecret(client_, {ns, secret}, {"username", "token", "password", "identity"});
    if (!data && data.error().kind() != ErrorKind::kNotFound) {
      events_->record(involved, "Warning", "GitWriteBack",
                      "Git write-back failed: " + data.error().message());
      return;
    }
    if (data) {  // no Secret: a repository that needs no credentials
      credentials.username = (*data)["username"];
      credentials.token = data->contains("token") ? (*data)["token"] : (*data)["password"];
      credentials.identity = (*data)["identity"];
    }
  }
  // A network failure is retried once; a refusal (credentials, a missing file) is reported.
  Result<Outcome> written = writer_(request, credentials);
  if (!written && written.error().kind() == ErrorKind::kUnavailable) {
    written = writer_(request, credentials);
  }
  if (!written) {
    const std::string message =
        "Git write-back failed: " + written.error().message() + "; Git still names " + failed;
    events_->record(involved, "Warning", "GitWriteBack", message);
    notify::Alert alert;
    alert.severity = "error";
    alert.phase = "Failed";
    alert.message = "Canary " + name + "." + ns + ": " + message;
    alert.fields = {{"repository", shownRemote(request.config.repository)},
                    {"path", request.config.path}};
    alert.time = clock_.now();
    if (Status s = notifier_.notify(canary, alert); !s) {
      spdlog::warn("alert for {}: {}", name, s.error().message());
    }
    return;
  }
  if (written->commit.empty()) {
    events_->record(involved, "Normal", "GitWriteBack",
                    "Git already names " + primary + " in " + request.config.path);
    return;
  }
  events_->record(involved, "Normal", "GitWriteBack",
                  "Git write-back: commit " + written->commit.substr(0, 12) + " on " +
                      written->branch + " of " + shownRemote(request.config.repository) + " sets " +
                      request.config.path + " back to " + primary);
}

}  // namespace canaryd::gitops
