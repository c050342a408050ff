#include "kubesim/deployment_simulator.h"

#include <ctime>

#include "canaryd/core/clock.h"

#include "kubesim/api_error.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

std::string now() {
  return formatRfc3339(std::chrono::system_clock::now());
}

json condition(const std::string& type, bool status, const std::string& reason,
               const std::string& message) {
  return {{"type", type},
          {"status", status ? "True" : "False"},
          {"reason", reason},
          {"message", message},
          {"lastUpdateTime", now()},
          {"lastTransitionTime", now()}};
}

}  // namespace

DeploymentSimulator::DeploymentSimulator(Store& store, ResourceRegistry& registry,
                                         std::chrono::milliseconds delay)
    : store_(store), deployments_(*registry.find("apps", "v1", "deployments")), delay_(delay) {
  thread_ = std::thread([this] { run(); });
}

DeploymentSimulator::~DeploymentSimulator() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DeploymentSimulator::observe(const ResourceType& type, const Event& event) {
  if (type.group != "apps" || type.resource != "deployments") return;
  const json& meta = event.object["metadata"];
  const std::string key = meta.value("namespace", "") + "/" + meta.value("name", "");
  std::lock_guard lock(mu_);
  if (event.type == "DELETED") {
    due_.erase(key);
    return;
  }
  const std::int64_t generation = meta.value("generation", std::int64_t{1});
  const json status = event.object.value("status", json::object());
  if (status.value("observedGeneration", std::int64_t{0}) == generation) return;
  due_[key] = {std::chrono::steady_clock::now() + delay_, generation};
  cv_.notify_all();
}

void DeploymentSimulator::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto soonest = due_.begin();
    for (auto it = due_.begin(); it != due_.end(); ++it) {
      if (it->second.first < soonest->second.first) soonest = it;
    }
    if (std::chrono::steady_clock::now() < soonest->second.first) {
      cv_.wait_until(lock, soonest->second.first);
      continue;
    }
    const std::string key = soonest->first;
    const std::int64_t generation = soonest->second.second;
    due_.erase(soonest);
    lock.unlock();
    const std::string ns = key.substr(0, key.find('/'));
    const std::string name = key.substr(key.find('/') + 1);
    try {
      store_.patch(
          deployments_, ns, name,
          [&](const json& current) {
            json next = current;
            if (current["metadata"].value("generation", std::int64_t{1}) != generation) return next;
            const json& spec = current.value("spec", json::object());
            const std::int64_t replicas = spec.value("replicas", std::int64_t{1});
            const json annotations = spec.value("template", json::object())
                                         .value("metadata", json::object())
                                         .value("annotations", json::object());
            const bool neverReady = annotations.value(kNeverReadyAnnotation, "") == "true";
            const std::int64_t ready = neverReady ? 0 : replicas;
            json status = {
                {"observedGeneration", generation}, {"replicas", replicas},
                {"updatedReplicas", replicas},      {"readyReplicas", ready},
                {"availableReplicas", ready},       {"unavailableReplicas", replicas - ready}};
            status["conditions"] = {
                condition(
                    "Available", ready == replicas,
                    ready == replicas ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                    ready == replicas ? "Deployment has minimum availability."
                                      : "Deployment does not have minimum availability."),
                condition("Progressing", true,
                          neverReady ? "ReplicaSetUpdated" : "NewReplicaSetAvailable",
                          neverReady ? "ReplicaSet \"" + name + "\" is progressing."
                                     : "ReplicaSet \"" + name + "\" has successfully progressed.")};
            next["status"] = status;
            return next;
          },
          /*status=*/true);
    } catch (const ApiError&) {
      // Deleted meanwhile: nothing to converge.
    }
    lock.lock();
  }
}

}  // namespace canaryd::kubesim
