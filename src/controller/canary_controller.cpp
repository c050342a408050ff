#include "canaryd/controller/canary_controller.h"

#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "canaryd/controller/controller_metrics.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

std::string keyOf(const json& object) {
  const json meta = object.value("metadata", json::object());
  return meta.value("namespace", "") + "/" + meta.value("name", "");
}

std::string targetKeyOf(const json& canary) {
  const std::string name =
      canary.value("spec", json::object()).value("targetRef", json::object()).value("name", "");
  if (name.empty()) return "";
  return canary["metadata"].value("namespace", "") + "/" + name;
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
    auto deployments =
        std::make_unique<runtime::Informer>(client, cluster::kDeployments, clock, informerOptions);
    deployments->addHandlers({
        [this](const api::JsonValue& d) { watchDeployment(d); },
        [this](const api::JsonValue&, const api::JsonValue& after) { watchDeployment(after); },
        [this](const api::JsonValue& d) { watchDeployment(d); },
    });
    informers_.push_back(std::move(canaries));
    informers_.push_back(std::move(deployments));
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
    const json& b = before->get()["metadata"];
    const json& a = object["metadata"];
    const bool resync = b.value("resourceVersion", "") == a.value("resourceVersion", "");
    const bool specChanged = b.value("generation", 0) != a.value("generation", 0);
    const bool metaChanged = b.value("finalizers", json()) != a.value("finalizers", json()) ||
                             a.contains("deletionTimestamp");
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
  Result<ReconcileOutcome> outcome = reconciler_.reconcile(ref);
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
