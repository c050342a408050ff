// CanaryController: the daemon's scheduler. Informers watch Canaries and Deployments; changes
// that matter put the Canary's key on the one work queue; worker threads (at most
// --max-concurrent-canaries) take keys and run the Reconciler. The analysis interval is a
// delayed re-add of the key, not a thread or a timer per Canary, so 10,000 Canaries cost
// 10,000 queue entries.
//
// What wakes a Canary: its creation, a spec change (generation), its deletion, any change of
// its target Deployment or of `<target>-primary`, an informer resync, and its own requeue.
// Its status writes do not (the state machine keeps analysis steps one interval apart
// anyway). Errors: a conflict retries at once, a wrong manifest after the interval, anything
// else with per-key exponential backoff.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "canaryd/cluster/client.h"
#include "canaryd/controller/reconciler.h"
#include "canaryd/core/clock.h"
#include "canaryd/runtime/informer.h"
#include "canaryd/runtime/work_queue.h"

namespace canaryd::controller {

struct ControllerOptions {
  std::vector<std::string> namespaces;         // empty: every namespace
  int workers = 4;                             // --max-concurrent-canaries
  class ControllerMetrics* metrics = nullptr;  // records every reconcile when set
  Duration invalidRetry = std::chrono::seconds(60);
  // Told of each finished reconcile, after its key was requeued (the simulator's timeline).
  // Called on the worker's thread, for different keys at once: keep it cheap and thread-safe.
  // Null: nobody.
  std::function<void(const cluster::ObjectRef&, const Result<ReconcileOutcome>&)> onReconciled;
};

class CanaryController {
 public:
  CanaryController(cluster::Client& client, const Clock& clock, Reconciler& reconciler,
                   ControllerOptions options = {});
  ~CanaryController();

  // The informers to run (the Manager runs them on every replica).
  std::vector<runtime::Informer*> informers();
  // Runs the workers until `stop`; reconciles in flight finish first.
  void run(const std::atomic<bool>& stop);
  // Takes one ready key, if any, and reconciles it (for tests driving a VirtualClock).
  bool processNext();

  runtime::WorkQueue& queue() { return queue_; }
  std::uint64_t reconciles() const { return reconciles_; }
  std::uint64_t failures() const { return failures_; }

 private:
  void watchCanary(const api::JsonValue* before, const api::JsonValue& after, bool deleted);
  void watchDeployment(const api::JsonValue& deployment);
  void process(const std::string& key);
  Result<ReconcileOutcome> reconcileGuarded(const cluster::ObjectRef& ref);

  const Clock& clock_;
  Reconciler& reconciler_;
  ControllerOptions options_;
  runtime::WorkQueue queue_;
  std::vector<std::unique_ptr<runtime::Informer>> informers_;
  std::mutex mu_;
  std::map<std::string, std::set<std::string>> byTarget_;  // "ns/deployment" -> canary keys
  std::map<std::string, std::string> targetOf_;            // canary key -> "ns/deployment"
  std::atomic<std::uint64_t> reconciles_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace canaryd::controller
