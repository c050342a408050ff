// The rollout state machine: one step of a Canary's rollout, Flagger's semantics.
//
// step() takes the Canary (spec with Flagger's defaults applied, and its status, which is the
// rollout's only memory), what the reconciler observed of the cluster, and a Gates object that
// answers the questions whose answers cost I/O (webhooks, metrics) — asked lazily, in Flagger's
// order, and only when the step needs them. It returns the next status and the actions to
// apply, in order. It reads no clock (the time is given) and does no I/O of its own, so the
// same step can be replayed after a crash: the reconciler writes the status through the
// status subresource with a resourceVersion precondition and applies the actions, which are
// all idempotent (set weights to, scale to, copy the template to).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "canaryd/analysis/judgement.h"
#include "canaryd/api/canary.h"
#include "canaryd/api/defaults.h"
#include "canaryd/core/clock.h"
#include "canaryd/core/duration.h"

namespace canaryd::controller {

// What the reconciler read from the cluster for this step.
struct Observation {
  std::string revision;  // hash of the target's pod template and tracked configs
  bool primaryReady = false;
  bool primaryDeadlineExceeded = false;  // not ready for progressDeadlineSeconds
  bool canaryReady = false;
  bool canaryDeadlineExceeded = false;
  std::string images;  // the target's images, "name=image, ..." (the revision as people see it)
};

// Named numbers behind a decision, in order ({"value", "92.1"}), for alerts and status.
using Facts = std::vector<std::pair<std::string, std::string>>;

struct CheckOutcome {
  bool passed = true;
  std::string failure;  // "request-success-rate 98.2 < 99", for the event and the alert
  Facts evidence;       // the failing metric's value and range, or the judge's numbers
  std::vector<std::pair<std::string, double>> values;  // each metric measured, for /metrics
  // With a statistical judge (spec.analysis.judge): its verdict on the run so far, and what to
  // keep in status.judge. Absent: Flagger's threshold checks decided (`passed`).
  std::optional<analysis::Verdict> verdict;
  std::optional<api::CanaryJudgeStatus> judge;
  bool webhook = false;  // a gate's webhook failed (not a metric)
  // The sequential judge, while inconclusive: the smallest increase of the error rate (a
  // fraction) the run so far would have caught; infinity: none yet.
  std::optional<double> detectableIncrease;
  // The sequential judge: how overdispersed the error counts are (1: independent errors).
  std::optional<double> dispersion;
  // The canary requests the judge has counted over the run (sequential), for minSamples.
  std::optional<double> judgedRequests;
};

// A check that failed (a metric's), and a webhook gate that failed.
inline CheckOutcome checkFailed(std::string why) {
  CheckOutcome c;
  c.passed = false;
  c.failure = std::move(why);
  return c;
}
inline CheckOutcome webhookFailed(std::string why) {
  CheckOutcome c;
  c.passed = false;
  c.failure = std::move(why);
  c.webhook = true;
  return c;
}

// Questions whose answers cost I/O. Implementations run the webhooks and metrics; tests
// script the answers and record the calls.
class Gates {
 public:
  virtual ~Gates() = default;
  virtual bool confirmRollout() = 0;     // confirm-rollout hooks accept the start
  virtual bool preRollout() = 0;         // pre-rollout hooks succeed (at weight 0)
  virtual bool rollbackRequested() = 0;  // a rollback hook answered 2xx
  virtual CheckOutcome runChecks() = 0;  // rollout hooks, then the metrics
  // The sequential judge alone, over the window since its last check (judge.checkInterval).
  virtual CheckOutcome judgeBetweenSteps() = 0;
  virtual bool confirmTrafficIncrease() = 0;  // confirm-traffic-increase hooks
  virtual bool confirmPromotion() = 0;        // confirm-promotion hooks
  // Why the last hooks asked for failed ("pre-rollout webhook gate failed: answered 500"),
  // for the failed check's event; "" when not known.
  virtual std::string lastHookFailure() const { return ""; }
};

struct Action {
  enum class Type {
    kInitializePrimary,  // create <target>-primary, the Services and the routing object
    kScaleTargetToZero,  // after the primary is ready: the target becomes the canary
    kScaleCanaryUp,      // the canary gets the primary's replicas for the analysis
    kScaleCanaryToZero,
    kSetWeights,        // primaryWeight / canaryWeight on the router
    kPromoteToPrimary,  // copy the canary's pod template and configs to the primary
    kRunPostRolloutHooks,
    kEvent,  // a Kubernetes Event (Normal or Warning)
    kAlert,  // a notification (info, warn or error)
  };
  Type type;
  std::int64_t primaryWeight = 0;
  std::int64_t canaryWeight = 0;
  bool mirror = false;   // kSetWeights: copy the primary's traffic to the canary
  std::string severity;  // Event: Normal / Warning; Alert: info / warn / error
  std::string message;
  Facts facts;  // kAlert: the evidence and the next step

  friend bool operator==(const Action&, const Action&) = default;
};

// Why a run was rolled back, as a user would name it (the benchmark counts rollbacks by it).
enum class RollbackCause { kNone, kJudge, kThreshold, kInconclusive, kNoData, kWebhook, kDeadline };
std::string_view toString(RollbackCause cause);  // "judge", ..., "" for kNone

struct Step {
  api::CanaryStatus status;
  std::vector<Action> actions;
  Duration requeueAfter{};
  RollbackCause rolledBackBy = RollbackCause::kNone;  // set when this step rolls back
};

// Builds the Observation from the objects read: the target Deployment, the primary (absent
// before the first reconcile), the checksums of the tracked configs, and the time. A
// Deployment that has not become ready within progressDeadlineSeconds of the Canary's last
// transition (or whose own Progressing condition says ProgressDeadlineExceeded) is past its
// deadline. `canary` must have Flagger's defaults applied. A Knative Service target's readiness
// is its Revisions' (Flagger's KnativeController): `primary` is the Revision its annotation
// names and `canaryRevision` its latest created Revision (absent: not ready).
Observation observe(const api::Canary& canary, const api::JsonValue& target,
                    const std::optional<api::JsonValue>& primary,
                    const std::map<std::string, std::string>& trackedConfigs, TimePoint now,
                    const std::optional<api::JsonValue>& canaryRevision = std::nullopt);

// `canary` must have Flagger's defaults applied (api::withDefaults). `minInterval` is the floor
// of the analysis interval (Flagger's 10s unless the daemon is told otherwise).
//
// Besides Flagger's phase and Promoted condition (unchanged), every step writes what GitOps
// engines read (canaryd's extension): status.observedGeneration, and the kstatus conditions
//   Reconciling  True while a revision is in flight (Initializing, Waiting, Progressing,
//                WaitingPromotion, Promoting, Finalising) — from the reconcile the target's
//                change triggers, not the next analysis tick;
//   Stalled      True when stuck: Failed (rolled back), or the primary past its progress
//                deadline while initializing;
//   Ready        True when the target's current revision is promoted and nothing is in flight;
// each with observedGeneration, reason (the phase) and a message; and lastAppliedRevision /
// lastPromotedRevision, the images.
Step step(const api::Canary& canary, const Observation& observed, Gates& gates, TimePoint now,
          Duration minInterval = api::kMinAnalysisInterval);

// Session affinity (analysis.sessionAffinity), as Flagger keeps it: before the routes go to
// `canaryWeight`, the status gets the cookies the routers pin users with. A weight above 0 gives
// status.sessionAffinityCookie `<cookieName>=<10 letters>` (and, when primaryCookieName is set,
// status.primarySessionAffinityCookie) if it has none; weight 0 moves the canary cookie to
// status.previousSessionAffinityCookie (whose route expires it). The letters derive from the
// Canary's uid and `revision`, so a retried step sets the same cookie. No-op without
// sessionAffinity.
void trackSessionCookies(api::CanaryStatus& status, const api::Canary& canary,
                         std::int64_t canaryWeight, const std::string& revision);

// Where the statistical judge's next window starts (judge.checkInterval): the later of the
// last analysis step (the Promoted condition's lastUpdateTime) and the end of the judge's last
// window (status.judge.lastCheckTime); nothing when the status records neither.
std::optional<TimePoint> judgeWindowStart(const api::CanaryStatus& status);

}  // namespace canaryd::controller
