// WorkloadRunner: kubesim's optional kubelet (`kubesim --run-workloads`). For every Deployment
// whose first container has a `command`, it keeps one local process per replica running the
// current pod template:
// - each process gets a free loopback port in the env var PORT (and POD_NAME, POD_NAMESPACE,
//   the container's literal `env` values), and its output in LOGDIR/<pod>.log;
// - a pod template change stops the old processes and starts new ones (the primary really
//   restarts on the new version when canaryd promotes); scaling down stops processes, scaling
//   to zero stops all;
// - readiness is an HTTP GET on the container's readinessProbe.httpGet.path ("/" by default)
//   answered with 2xx or 3xx; the Deployment's status (observedGeneration, replicas,
//   updatedReplicas, readyReplicas, availableReplicas, conditions) is written from it;
// - the Endpoints of every Service whose selector matches a Deployment's pods list the ready
//   processes (127.0.0.1 and each one's port), as the endpoints controller does;
// - the ready processes are written as a Prometheus file_sd target list (labels
//   kubernetes_namespace, kubernetes_pod_name, app), so Prometheus scrapes them as Kubernetes
//   service discovery would.
// Processes are stopped (SIGTERM, then SIGKILL after 2s) when kubesim exits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "kubesim/store.h"

namespace canaryd::kubesim {

struct WorkloadOptions {
  std::filesystem::path logDir;       // process output
  std::filesystem::path targetsFile;  // Prometheus file_sd JSON; none when empty
  std::chrono::milliseconds period{200};
};

class WorkloadRunner {
 public:
  WorkloadRunner(ResourceRegistry& registry, Store& store, WorkloadOptions options);
  ~WorkloadRunner();
  // Whether `deployment` is run here (its status is this runner's, not the simulator's).
  static bool runs(const nlohmann::json& deployment);

 private:
  struct Pod {
    std::string name;
    std::string templateHash;
    pid_t pid = -1;
    int port = 0;
    bool ready = false;
  };
  struct Workload {
    std::vector<Pod> pods;
    nlohmann::json labels;  // the pod template's labels
  };

  void run();
  void syncOnce();
  void syncDeployment(const nlohmann::json& deployment, Workload& workload);
  Pod start(const nlohmann::json& deployment, const std::string& templateHash);
  void stop(Pod& pod);
  void writeStatus(const nlohmann::json& deployment, const Workload& workload);
  void writeEndpoints(const std::map<std::string, Workload>& workloads);
  void writeTargets(const std::map<std::string, Workload>& workloads);

  ResourceRegistry& registry_;
  Store& store_;
  WorkloadOptions options_;
  std::map<std::string, Workload> workloads_;  // "ns/name"
  std::string lastTargets_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace canaryd::kubesim
