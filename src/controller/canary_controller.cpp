#include "canaryd/controller/canary_controller.h"

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "canaryd/controller/controller_metrics.h"
#include "canaryd/core/json_read.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

const json& member(const json& object, std::string_view key) {
  static const json kNone;
  const json* m = jsonread::member(object, key);
  return m == nullptr ? kNone : *m;
}

std::string keyOf(const json& object) {
  const json& meta = member(object, "metadata");
  return jsonread::string(meta, "namespace") + "/" + jsonread::string(meta, "name");
}

std::string targetKeyOf(const json& canary) {
  const std::string name = jsonread::string(member(member(canary, "spec"), "targetRef"), "name");
  if (name.empty()) return "";
  return jsonread::string(member(canary, "metadata"), "namespace") + "/" + name;
}

}  // namespace

CanaryController::CanaryController(cluster::Client& client, const Clock& clock,
                                   Reconciler& reconciler, ControllerOptions options)
    : clock_(clock), reconciler_(reconciler), options_(std::move(options)), queue_(clock) {
  if (options_.metrics != nullptr) {
    queue_.setObserver([metrics = options_.metrics](Duration waited, std::size_t depth) {
      metrics->observeQueue(waited, depth);
    });
  }
  // One namespace never holds every worker: with N workers, at most N-1 (at least 1).
  queue_.setFairShare(std::max(1, options_.workers - 1));
  std::vector<std::string> namespaces = options_.namespaces;
  if (namespaces.empty()) namespaces.push_back("");
  for (const std::string& ns : namespaces) {
    runtime::InformerOptions informerOptions;
    informerOptions.namespace_ = ns;
    auto canaries =
        std::make_unique<runtime::Informer>(client, cluster::kCanaries, clock, informerOptions);
    canaries->addHandlers({
        [this](const api::JsonValue& c) { watchCanary(nullptr, c, false); },
        [this](const api::JsonValue& before, const api::JsonValue& after) {
          watchCanary(&before, after, false);
        },
        [this](const api::JsonValue& c) { watchCanary(nullptr, c, true); },
    });
    informers_.push_back(std::move(canaries));
    // A change of a target (Deployment or DaemonSet) or its primary wakes the Canary.
    for (const cluster::Resource* workloads : {&cluster::kDeployments, &cluster::kDaemonSets}) {
      auto targets =
          std::make_unique<runtime::Informer>(client, *workloads, clock, informerOptions);
      targets->addHandlers({
          [this](const api::JsonValue& d) { watchDeployment(d); },
          [this](const api::JsonValue&, const api::JsonValue& after) { watchDeployment(after); },
          [this](const api::JsonValue& d) { watchDeployment(d); },
      });
      informers_.push_back(std::move(targets));
    }
  }
}

CanaryController::~CanaryController() {
  queue_.shutDown();
  for (auto& informer : informers_)
    informer->stop();
}

std::vector<runtime::Informer*> CanaryController::informers() {
  std::vector<runtime::Informer*> out;
  for (auto& informer : informers_)
    out.push_back(informer.get());
  return out;
}

void CanaryController::watchCanary(const api::JsonValue* before, const api::JsonValue& after,
                                   bool deleted) {
  const json& object = after.get();
  const std::string key = keyOf(object);
  {
    std::lock_guard lock(mu_);
    auto old = targetOf_.find(key);
    if (old != targetOf_.end()) {
      byTarget_[old->second].erase(key);
      if (byTarget_[old->second].empty()) byTarget_.erase(old->second);
      targetOf_.erase(old);
    }
    const std::string target = targetKeyOf(object);
    if (!deleted && !target.empty()) {
      targetOf_[key] = target;
      byTarget_[target].insert(key);
    }
  }
  if (before != nullptr) {
    const json& b = member(before->get(), "metadata");
    const json& a = member(object, "metadata");
    const bool resync =
        jsonread::string(b, "resourceVersion") == jsonread::string(a, "resourceVersion");
    const bool specChanged =
        jsonread::integer(b, "generation") != jsonread::integer(a, "generation");
    const bool metaChanged = member(b, "finalizers") != member(a, "finalizers") ||
                             jsonread::member(a, "deletionTimestamp") != nullptr;
    if (!resync && !specChanged && !metaChanged) return;  // a status write: nothing to do
  }
  queue_.add(key);
}

void CanaryController::watchDeployment(const api::JsonValue& deployment) {
  std::string key = keyOf(deployment.get());
  const std::string suffix = "-primary";
  std::vector<std::string> wake;
  {
    std::lock_guard lock(mu_);
    for (const std::string& candidate : {key, key.size() > suffix.size() && key.ends_with(suffix)
                                                  ? key.substr(0, key.size() - suffix.size())
                                                  : std::string()}) {
      auto it = byTarget_.find(candidate);
      if (it != byTarget_.end()) wake.insert(wake.end(), it->second.begin(), it->second.end());
    }
  }
  for (const std::string& canary : wake)
    queue_.add(canary);
}

// The reconcile boundary: nothing that escapes one Canary's reconcile stops the others. An
// exception here is a defect in canaryd (every parser of outside bytes returns errors): it is
// logged with the Canary, counted as an error and retried with backoff.
Result<ReconcileOutcome> CanaryController::reconcileGuarded(const cluster::ObjectRef& ref) {
  std::string what;
  try {
    return reconciler_.reconcile(ref);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception that is not a std::exception";
  }
  spdlog::error("defect: the reconcile of canary {}/{} threw: {}", ref.namespace_, ref.name, what);
  return Error::internal("defect: the reconcile threw: " + what);
}

bool CanaryController::processNext() {
  std::optional<std::string> key = queue_.tryGet();
  if (!key) return false;
  process(*key);
  return true;
}

void CanaryController::process(const std::string& key) {
  const auto slash = key.find('/');
  const cluster::ObjectRef ref{key.substr(0, slash), key.substr(slash + 1)};
  const auto started = std::chrono::steady_clock::now();
  Result<ReconcileOutcome> outcome = reconcileGuarded(ref);
  ++reconciles_;
  if (options_.metrics != nullptr) {
    options_.metrics->recordReconcile(
        ref, outcome,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (outcome) {
    queue_.forget(key);
    if (outcome->exists) queue_.addAfter(key, outcome->requeueAfter);
  } else {
    ++failures_;
    const Error& e = outcome.error();
    switch (e.kind()) {
      case ErrorKind::kConflict:
        spdlog::debug("canary {}: {}; retrying", key, e.message());
        queue_.add(key);
        break;
      case ErrorKind::kInvalidInput:
        spdlog::warn("canary {}: {}", key, e.message());
        queue_.forget(key);
        queue_.addAfter(key, options_.invalidRetry);
        break;
      default:
        spdlog::warn("canary {}: {}; retrying with backoff", key, e.message());
        queue_.addRateLimited(key);
        break;
    }
  }
  queue_.done(key);
  if (options_.onReconciled) options_.onReconciled(ref, outcome);
}

void CanaryController::run(const std::atomic<bool>& stop) {
  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers.emplace_back([this, &stop] {
      while (!stop && !queue_.shuttingDown()) {
        std::optional<std::string> key = queue_.get(std::chrono::milliseconds(200));
        if (!key) continue;
        process(*key);
      }
    });
  }
  for (std::thread& t : workers)
    t.join();
}

}  // namespace canaryd::controller
