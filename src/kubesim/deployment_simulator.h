// DeploymentSimulator: plays the Deployment controller. After a Deployment's spec changes, its
// status (observedGeneration, replicas, updatedReplicas, readyReplicas, availableReplicas and
// the Available/Progressing conditions) converges after a delay. A pod template annotated
// kubesim.canaryd.dev/never-ready: "true" never becomes ready, to exercise progress deadlines.
// Runs its own thread; thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "kubesim/store.h"

namespace canaryd::kubesim {

inline constexpr const char* kNeverReadyAnnotation = "kubesim.canaryd.dev/never-ready";

class DeploymentSimulator {
 public:
  DeploymentSimulator(Store& store, ResourceRegistry& registry, std::chrono::milliseconds delay);
  ~DeploymentSimulator();
  // Feed every store event here (Store::setObserver).
  void observe(const ResourceType& type, const Event& event);

 private:
  void run();

  Store& store_;
  ResourceType deployments_;
  std::chrono::milliseconds delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  // ns/name -> (when, generation to converge to)
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::int64_t>> due_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace canaryd::kubesim
