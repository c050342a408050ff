// ControllerSimulator: plays the controllers a cluster runs next to its API server, so that
// objects canaryd writes converge as they would in a cluster.
// - Deployments: after a spec change, the status (observedGeneration, replicas,
//   updatedReplicas, readyReplicas, availableReplicas, the Available and Progressing
//   conditions) converges after `delay`. A pod template annotated
//   kubesim.canaryd.dev/never-ready: "true" never becomes ready (progress deadlines).
// - DaemonSets: after a spec change, the status (observedGeneration, desiredNumberScheduled,
//   currentNumberScheduled, updatedNumberScheduled, numberReady, numberAvailable,
//   numberUnavailable, numberMisscheduled) converges after `delay`, one pod on each simulated
//   node its template's nodeSelector fits (kubesim/nodes.h); none with a selector no node
//   matches (Flagger's scale to zero). The never-ready annotation works as for Deployments.
// - HTTPRoutes (when their CRD is installed): a Gateway controller accepts each route after
//   `delay`, writing status.parents[] with Accepted and ResolvedRefs True at the route's
//   generation for every parentRef.
// Runs its own thread; thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "kubesim/store.h"

namespace canaryd::kubesim {

inline constexpr const char* kNeverReadyAnnotation = "kubesim.canaryd.dev/never-ready";
inline constexpr const char* kGatewayControllerName = "kubesim.canaryd.dev/gateway-controller";

// A Deployment's status as its controller writes it: `current` replicas of the current template
// out of `wanted`, `ready` of them ready; Available and Progressing conditions to match.
nlohmann::json deploymentStatusFor(const std::string& name, std::int64_t generation,
                                   std::int64_t wanted, std::int64_t current, std::int64_t ready);

// A DaemonSet's status as its controller writes it: `desired` pods scheduled and up to date,
// `ready` of them ready and available.
nlohmann::json daemonSetStatusFor(std::int64_t generation, std::int64_t desired,
                                  std::int64_t ready);

// The kinds whose controllers are played here, and what they write: the generation an
// object's status reflects, and the status its controller writes for `current` at
// `generation` on a cluster of `nodes` simulated nodes. Shared with the simulator's
// virtual-time cluster (sim/cluster.h).
bool isDeployment(const ResourceType& type);
bool isDaemonSet(const ResourceType& type);
bool isHttpRoute(const ResourceType& type);
std::int64_t observedGeneration(const ResourceType& type, const nlohmann::json& object);
nlohmann::json convergedStatus(const ResourceType& type, const nlohmann::json& current,
                               std::int64_t generation, std::int64_t nodes = 1);

class ControllerSimulator {
 public:
  // Deployments for which `skip` answers true get their status elsewhere (the WorkloadRunner).
  // DaemonSets schedule on `nodes` simulated nodes.
  ControllerSimulator(Store& store, std::chrono::milliseconds delay,
                      std::function<bool(const nlohmann::json&)> skip = nullptr,
                      std::int64_t nodes = 1);
  ~ControllerSimulator();
  // Feed every store event here (Store::setObserver).
  void observe(const ResourceType& type, const Event& event);

 private:
  struct Due {
    std::chrono::steady_clock::time_point when;
    std::int64_t generation = 0;
    ResourceType type;
  };
  void run();
  void converge(const std::string& key, const Due& due);

  Store& store_;
  std::chrono::milliseconds delay_;
  std::function<bool(const nlohmann::json&)> skip_;
  std::int64_t nodes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Due> due_;  // "resource|ns/name"
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace canaryd::kubesim
