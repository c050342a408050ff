#include "kubesim/controller_simulator.h"

#include "canaryd/core/clock.h"

#include "kubesim/api_error.h"
#include "kubesim/knative_serving.h"
#include "kubesim/nodes.h"

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

bool isDeployment(const ResourceType& type) {
  return type.group == "apps" && type.resource == "deployments";
}
bool isDaemonSet(const ResourceType& type) {
  return type.group == "apps" && type.resource == "daemonsets";
}
bool isHttpRoute(const ResourceType& type) {
  return type.group == "gateway.networking.k8s.io" && type.resource == "httproutes";
}

namespace {

bool neverReady(const json& podTemplate) {
  const json annotations =
      podTemplate.value("metadata", json::object()).value("annotations", json::object());
  return annotations.value(kNeverReadyAnnotation, "") == "true";
}

// The Deployment controller's status for the current spec.
json deploymentStatus(const json& current, std::int64_t generation) {
  const json& spec = current.value("spec", json::object());
  const std::int64_t replicas = spec.value("replicas", std::int64_t{1});
  const bool ready = !neverReady(spec.value("template", json::object()));
  return deploymentStatusFor(current["metadata"].value("name", ""), generation, replicas, replicas,
                             ready ? replicas : 0);
}

// The DaemonSet controller's status for the current spec: a pod on every node that fits.
json daemonSetStatus(const json& current, std::int64_t generation, std::int64_t nodes) {
  const json podTemplate = current.value("spec", json::object()).value("template", json::object());
  const std::int64_t desired = nodesFitting(podTemplate.value("spec", json::object()), nodes);
  return daemonSetStatusFor(generation, desired, neverReady(podTemplate) ? 0 : desired);
}

// A Gateway controller's status for an HTTPRoute: every parent accepts it.
json routeStatus(const json& current, std::int64_t generation) {
  json parents = json::array();
  for (const json& ref : current.value("spec", json::object()).value("parentRefs", json::array())) {
    json accepted = condition("Accepted", true, "Accepted", "Route is accepted");
    json resolved = condition("ResolvedRefs", true, "ResolvedRefs", "All references resolved");
    for (json* c : {&accepted, &resolved}) {
      c->erase("lastUpdateTime");
      (*c)["observedGeneration"] = generation;
    }
    parents.push_back({{"parentRef", ref},
                       {"controllerName", kGatewayControllerName},
                       {"conditions", {accepted, resolved}}});
  }
  return {{"parents", parents}};
}

}  // namespace

std::int64_t observedGeneration(const ResourceType& type, const json& object) {
  const json status = object.value("status", json::object());
  if (isDeployment(type) || isDaemonSet(type) || isKnativeService(type)) {
    return status.value("observedGeneration", std::int64_t{0});
  }
  // A route is converged when every parent's Accepted condition is at its generation.
  const json parents = status.value("parents", json::array());
  const json refs = object.value("spec", json::object()).value("parentRefs", json::array());
  if (parents.size() != refs.size()) return 0;
  std::int64_t observed = -1;
  for (const json& parent : parents) {
    for (const json& c : parent.value("conditions", json::array())) {
      if (c.value("type", "") != "Accepted") continue;
      const std::int64_t g = c.value("observedGeneration", std::int64_t{0});
      observed = observed < 0 ? g : std::min(observed, g);
    }
  }
  return observed < 0 ? object["metadata"].value("generation", std::int64_t{1}) : observed;
}

json convergedStatus(const ResourceType& type, const json& current, std::int64_t generation,
                     std::int64_t nodes) {
  if (isDeployment(type)) return deploymentStatus(current, generation);
  if (isDaemonSet(type)) return daemonSetStatus(current, generation, nodes);
  return routeStatus(current, generation);
}

json daemonSetStatusFor(std::int64_t generation, std::int64_t desired, std::int64_t ready) {
  return {{"observedGeneration", generation},
          {"desiredNumberScheduled", desired},
          {"currentNumberScheduled", desired},
          {"updatedNumberScheduled", desired},
          {"numberReady", ready},
          {"numberAvailable", ready},
          {"numberUnavailable", desired - ready},
          {"numberMisscheduled", 0}};
}

json deploymentStatusFor(const std::string& name, std::int64_t generation, std::int64_t wanted,
                         std::int64_t current, std::int64_t ready) {
  json status = {{"observedGeneration", generation}, {"replicas", current},
                 {"updatedReplicas", current},       {"readyReplicas", ready},
                 {"availableReplicas", ready},       {"unavailableReplicas", wanted - ready}};
  const bool available = ready == wanted;
  status["conditions"] = {
      condition("Available", available,
                available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                available ? "Deployment has minimum availability."
                          : "Deployment does not have minimum availability."),
      condition("Progressing", true, available ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                available ? "ReplicaSet \"" + name + "\" has successfully progressed."
                          : "ReplicaSet \"" + name + "\" is progressing.")};
  return status;
}

ControllerSimulator::ControllerSimulator(Store& store, std::chrono::milliseconds delay,
                                         std::function<bool(const nlohmann::json&)> skip,
                                         std::int64_t nodes)
    : store_(store), delay_(delay), skip_(std::move(skip)), nodes_(nodes) {
  thread_ = std::thread([this] { run(); });
}

ControllerSimulator::~ControllerSimulator() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ControllerSimulator::observe(const ResourceType& type, const Event& event) {
  if (!isDeployment(type) && !isDaemonSet(type) && !isHttpRoute(type)) return;
  if (isDeployment(type) && skip_ && skip_(event.object)) return;
  const json& meta = event.object["metadata"];
  const std::string key =
      type.resource + "|" + meta.value("namespace", "") + "/" + meta.value("name", "");
  std::lock_guard lock(mu_);
  if (event.type == "DELETED") {
    due_.erase(key);
    return;
  }
  const std::int64_t generation = meta.value("generation", std::int64_t{1});
  if (observedGeneration(type, event.object) == generation) return;
  // The store reports changes outside its lock, so an older object's event can arrive after a
  // newer one's: never let it replace the newer generation's due convergence.
  auto pending = due_.find(key);
  if (pending != due_.end() && pending->second.generation >= generation) return;
  due_[key] = {std::chrono::steady_clock::now() + delay_, generation, type};
  cv_.notify_all();
}

void ControllerSimulator::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto soonest = due_.begin();
    for (auto it = due_.begin(); it != due_.end(); ++it) {
      if (it->second.when < soonest->second.when) soonest = it;
    }
    // A copy: while waiting, observe() may erase or replace the entry.
    const auto when = soonest->second.when;
    if (std::chrono::steady_clock::now() < when) {
      cv_.wait_until(lock, when);
      continue;
    }
    const std::string key = soonest->first;
    const Due due = soonest->second;
    due_.erase(soonest);
    lock.unlock();
    converge(key, due);
    lock.lock();
  }
}

void ControllerSimulator::converge(const std::string& key, const Due& due) {
  const std::string ref = key.substr(key.find('|') + 1);
  const std::string ns = ref.substr(0, ref.find('/'));
  const std::string name = ref.substr(ref.find('/') + 1);
  std::int64_t newer = 0;
  try {
    store_.patch(
        due.type, ns, name,
        [&](const json& current) {
          json next = current;
          const std::int64_t generation = current["metadata"].value("generation", std::int64_t{1});
          if (generation != due.generation) {
            newer = generation;  // changed again meanwhile: converge that generation instead
            return next;
          }
          next["status"] = convergedStatus(due.type, current, due.generation, nodes_);
          return next;
        },
        /*status=*/true);
  } catch (const ApiError&) {
    return;  // deleted meanwhile: nothing to converge
  }
  if (newer > due.generation) {
    std::lock_guard lock(mu_);
    auto pending = due_.find(key);
    if (pending == due_.end() || pending->second.generation < newer) {
      due_[key] = {std::chrono::steady_clock::now() + delay_, newer, due.type};
      cv_.notify_all();
    }
  }
}

}  // namespace canaryd::kubesim
