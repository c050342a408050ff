// Reconciler: one reconcile of one Canary — read what the cluster holds, let the state
// machine decide (controller/rollout.h), apply its actions, write the status.
//
// The order makes a crash at any instant safe. (1) The generated objects are ensured: the
// Services, the routing object, `<target>-primary` with its ConfigMap/Secret copies and HPA.
// (2) The step is computed from the Canary's status. (3) Its cluster actions (scaling,
// weights, promotion) are applied; they are idempotent ("set weight to 20", not "add 10").
// (4) The status is written through the status subresource with the resourceVersion read in
// (1) as precondition: a 409 discards the step, which the next reconcile recomputes from the
// fresh status. (5) Only then events, alerts and post-rollout hooks go out. A daemon killed
// before (4) replays the same step; killed after it, it goes on from the new status: no step
// is applied twice or skipped. When a router refuses a change (an HTTPRoute not yet accepted
// by its Gateway) the step stops before (4) and is retried shortly.
//
// The parts, each its own file in src/controller/: the generated objects (generated_objects.h:
// the primary, its config copies and autoscaler, or a Service target's copies), what the
// Canary must name that exists (references.h), the step's gates (step_gates.h), the stalled
// conditions (conditions.h) and the announcer (announcer.h: events, alerts, hooks). This file
// reads, decides through controller/rollout.h, and applies in the order above.
//
// Reaches the world only through interfaces: cluster::Client, the routers and metrics::Provider
// (through the factories the composition root injects), notify::Notifier, RollbackListener (Git
// write-back), the Clock and the webhooks' sleep. Thread-safe: reconciles of different Canaries may
// run at once (the work queue never hands out one key twice at a time).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "canaryd/api/catalog.h"
#include "canaryd/api/defaults.h"
#include "canaryd/cluster/client.h"
#include "canaryd/controller/metric_checks.h"
#include "canaryd/controller/rollback_listener.h"
#include "canaryd/core/clock.h"
#include "canaryd/notify/notifier.h"
#include "canaryd/router/router.h"

namespace canaryd::runtime {
class EventRecorder;
}

namespace canaryd::controller {

struct ReconcilerOptions {
  std::string provider = "kubernetes";                   // when a Canary names none (--provider)
  std::string metricsServer = "http://prometheus:9090";  // --metrics-server
  Duration minInterval = api::kMinAnalysisInterval;      // --min-interval (Flagger: 10s)
  // The routers, by provider name (required), and what they can do: a Canary the catalog
  // refuses (as `canaryd validate` does) is stalled with the problem, never run differently.
  router::RouterFactory routers;
  api::Catalog catalog;
  // Told of rollbacks (Git write-back); null: nobody.
  RollbackListener* rollbacks = nullptr;
  // The install's key for the digests of tracked ConfigMaps and Secrets in Canary status
  // (HMAC-SHA256); empty: unkeyed digests (the simulator, tests).
  std::string digestKey;
  // Sends the webhooks (empty: HTTP; the simulator answers them itself).
  HttpTransport webhookTransport;
  // The addresses webhooks may reach (--allow-address); null: any.
  std::shared_ptr<const AddressPolicy> addresses;
  // The labels a target may select its pods by, first found wins (--selector-labels; Flagger's
  // -selector-labels default).
  std::vector<std::string> selectorLabels = {"app", "name", "app.kubernetes.io/name"};
  // templateRefs to another namespace than the Canary's are refused (--no-cross-namespace-refs).
  bool noCrossNamespaceRefs = false;
};

struct ReconcileOutcome {
  bool exists = true;  // false: the Canary is gone, forget the key
  Duration requeueAfter{};
  std::string phase;
  std::string target;  // the target Deployment's name
  std::int64_t canaryWeight = 0;
  // What this reconcile measured and decided (flagger_canary_metric_analysis and the
  // successes/failures counters).
  std::vector<std::pair<std::string, double>> metricValues;
  std::string finished;             // "succeeded" or "failed" when the run ended here
  std::string rolledBackBy;         // when it failed here: judge, threshold, inconclusive, ...
  std::string strategy = "canary";  // canary, blue-green, ab-testing (Flagger's label values)
  bool analysisSkipped = false;     // spec.skipAnalysis
};

inline constexpr const char* kFinalizer = "finalizer.flagger.app";

class Reconciler {
 public:
  Reconciler(cluster::Client& client, const Clock& clock, notify::Notifier& notifier,
             ReconcilerOptions options, ProviderFactory metrics,
             std::function<void(Duration)> webhookSleep = nullptr);
  ~Reconciler();

  // Errors: kConflict (someone wrote in between: retry at once), kInvalidInput (the Canary or
  // what it refers to is wrong: the message says what; retry after the interval), others
  // (the API or a router is unavailable: retry with backoff).
  Result<ReconcileOutcome> reconcile(const cluster::ObjectRef& canary);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace canaryd::controller
