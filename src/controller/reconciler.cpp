#include "canaryd/controller/reconciler.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/api/knative.h"
#include "canaryd/api/validate.h"
#include "canaryd/cluster/knative.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/controller/primary.h"
#include "canaryd/controller/rollout.h"
#include "canaryd/controller/webhooks.h"
#include "canaryd/core/text.h"
#include "canaryd/router/router.h"
#include "canaryd/runtime/event_recorder.h"

#include "announcer.h"
#include "canary_names.h"
#include "conditions.h"
#include "generated_objects.h"
#include "references.h"
#include "step_gates.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

// How soon to retry a step a router refused (a route not yet accepted by its Gateway).
constexpr Duration kRouterRetry = std::chrono::seconds(1);
// How soon to look again while waiting for Deployments during deletion.
constexpr Duration kTerminatingRetry = std::chrono::seconds(2);

ReconcileOutcome outcome(bool exists, Duration requeueAfter, std::string phase) {
  ReconcileOutcome o;
  o.exists = exists;
  o.requeueAfter = requeueAfter;
  o.phase = std::move(phase);
  return o;
}

// The stall reason of the first error `canaryd validate` finds.
std::string stallReason(const api::Problem& problem) {
  if (problem.path == "spec.provider" || problem.path == "canaryd run --provider") {
    return "UnsupportedProvider";
  }
  if (problem.path == "spec.targetRef.kind") return "UnsupportedTarget";
  if (problem.message.find("canaryd's routers") != std::string::npos) return "UnsupportedFeature";
  return "InvalidSpec";
}

}  // namespace

struct Reconciler::Impl {
  Impl(cluster::Client& c, const Clock& k, notify::Notifier& n, ReconcilerOptions o,
       ProviderFactory m, std::function<void(Duration)> sleep)
      : client(c),
        clock(k),
        options(std::move(o)),
        metrics(std::move(m)),
        webhooks(k, std::move(sleep), options.webhookTransport, options.addresses),
        events(c, k),
        announcer(k, n, webhooks, events) {
    options.catalog.defaultProvider = options.provider;
  }

  Result<ReconcileOutcome> reconcile(const cluster::ObjectRef& ref);
  Result<ReconcileOutcome> finalize(const api::Canary& canary, const api::JsonValue& raw,
                                    router::Router& router, GeneratedObjects& generated,
                                    const router::Selector& selector);
  // Applies one of the step's cluster actions; events, alerts and hooks wait for the status.
  Status apply(const Action& action, const api::Canary& canary, const api::JsonValue& target,
               const TrackedConfigs& tracked, const std::string& revision,
               GeneratedObjects& generated, router::Router& router);
  Status setFinalizer(const api::Canary& canary, bool present);
  // A Canary the daemon cannot act on (unreadable spec, unsupported target or provider, missing
  // target): its conditions say why (controller/conditions.h), one Warning event and one alert
  // per generation. The error tells the controller to retry after the interval; fixing the
  // Canary (a new generation) or creating its target wakes it.
  Error stall(const cluster::ObjectRef& ref, const api::JsonValue& raw,
              const std::optional<api::Canary>& canary, const std::string& reason,
              const std::string& message);

  cluster::Client& client;
  const Clock& clock;
  ReconcilerOptions options;
  ProviderFactory metrics;
  WebhookRunner webhooks;
  runtime::EventRecorder events;
  Announcer announcer;
};

Reconciler::Reconciler(cluster::Client& client, const Clock& clock, notify::Notifier& notifier,
                       ReconcilerOptions options, ProviderFactory metrics,
                       std::function<void(Duration)> webhookSleep)
    : impl_(std::make_unique<Impl>(client, clock, notifier, std::move(options), std::move(metrics),
                                   std::move(webhookSleep))) {}

Reconciler::~Reconciler() = default;

Result<ReconcileOutcome> Reconciler::reconcile(const cluster::ObjectRef& canary) {
  return impl_->reconcile(canary);
}

Result<ReconcileOutcome> Reconciler::Impl::reconcile(const cluster::ObjectRef& ref) {
  Result<api::JsonValue> raw = client.get(cluster::kCanaries, ref);
  if (!raw) {
    if (raw.error().kind() == ErrorKind::kNotFound) return outcome(false, {}, "");
    return raw.error();
  }
  Result<api::Canary> decoded = api::canaryFromJson(*raw);
  if (!decoded) {
    return stall(ref, *raw, std::nullopt, "InvalidSpec",
                 "canary " + keyOf(ref) + " cannot be read: " + decoded.error().message());
  }
  api::Canary canary = api::withDefaults(*decoded);
  const std::string ns = ref.namespace_;
  // What `canaryd validate` refuses is not run: the first error names the field (the decoded
  // Canary, as written, is what validate judges).
  for (const api::Problem& problem : api::validate(*decoded, options.catalog)) {
    if (problem.severity != api::Severity::kError) continue;
    return stall(ref, *raw, canary, stallReason(problem),
                 "canary " + keyOf(ref) + ": " + problem.path + ": " + problem.message);
  }
  if (!canary.spec.targetRef || !canary.spec.analysis) {
    return stall(ref, *raw, canary, "InvalidSpec",
                 "canary " + keyOf(ref) + ": spec.targetRef and spec.analysis are required");
  }
  const std::string targetName = canary.spec.targetRef->name.value_or("");
  const std::string provider = canary.spec.provider.value_or(options.provider);
  if (!options.routers) return Error::internal("the reconciler was given no routers");
  const std::string kind = canary.spec.targetRef->kind.value_or("Deployment");
  const std::string apiVersion = canary.spec.targetRef->apiVersion.value_or("");
  Result<api::JsonValue> target = client.get(workloadResource(kind, apiVersion), {ns, targetName});
  if (!target && target.error().kind() != ErrorKind::kNotFound) return target.error();
  // The Services select the pods by the target's own selector label (Flagger's
  // -selector-labels); a deleted target leaves the default. A Service target selects its own.
  router::Selector selector;
  if (target && kind != "Service") {
    Result<router::Selector> found = selectorOf(*target, options.selectorLabels);
    if (found) {
      selector = *found;
    } else if (!canary.metadata.deletionTimestamp) {
      return stall(ref, *raw, canary, "UnsupportedTarget",
                   "canary " + keyOf(ref) + ": " + found.error().message());
    }
  }
  Result<std::unique_ptr<router::Router>> router =
      options.routers(provider, client, selector, kind);
  if (!router) {
    return stall(ref, *raw, canary, "UnsupportedProvider",
                 "canary " + keyOf(ref) + ": " + router.error().message());
  }
  GeneratedObjects generated(client, canary, selector);

  // Deletion: revert when asked to (finalizer), otherwise the owner references clean up.
  const bool hasFinalizer = std::count(canary.metadata.finalizers.begin(),
                                       canary.metadata.finalizers.end(), kFinalizer) > 0;
  if (canary.metadata.deletionTimestamp) {
    if (!hasFinalizer) return outcome(true, {}, phaseOf(canary));
    return finalize(canary, *raw, **router, generated, selector);
  }
  const bool wantFinalizer = canary.spec.revertOnDeletion.value_or(false);
  if (wantFinalizer != hasFinalizer) {
    if (Status s = setFinalizer(canary, wantFinalizer); !s) return s.error();
    // The resourceVersion changed: the next reconcile (the watch sees the update) goes on.
    return outcome(true, std::chrono::seconds(0), phaseOf(canary));
  }

  if (!target) {
    return stall(
        ref, *raw, canary, "TargetNotFound",
        "Halt advancement: target " + lowercase(kind) + " " + ns + "/" + targetName + " not found");
  }
  Result<std::optional<std::string>> missing = missingReference(client, canary);
  if (!missing) return missing.error();
  if (*missing) {
    return stall(ref, *raw, canary, "ReferenceNotFound", "canary " + keyOf(ref) + ": " + **missing);
  }
  Result<TrackedConfigs> tracked = readTrackedConfigs(client, ns, *target, options.digestKey);
  if (!tracked) return tracked.error();
  const std::string revision = revisionOf(*target, tracked->checksums);
  if (canary.status && tracked->checksums != tracked->legacyChecksums) {
    // Recorded before digests were keyed: the same revision, not a new one to analyse.
    const std::string legacy = revisionOf(*target, tracked->legacyChecksums);
    for (std::optional<std::string>* spec :
         {&canary.status->lastAppliedSpec, &canary.status->lastPromotedSpec}) {
      if (*spec == legacy) *spec = revision;
    }
  }

  // (1) The generated objects, then the Services every provider uses and its routing object.
  Result<std::optional<api::JsonValue>> primary = generated.ensure(*target, *tracked, revision);
  if (!primary) return primary.error();
  // The routes as they are at the current weight, with its session cookies (derived, so the
  // same whether or not a status write got through).
  api::Canary routed = canary;
  if (canary.status) {
    trackSessionCookies(*routed.status, canary, canary.status->canaryWeight.value_or(0), revision);
  }
  if (Status s = (*router)->reconcile(routed); !s) {
    // A Knative Service of which Knative has made no Revision yet has nothing to route: the
    // step waits for its primary Revision (Initializing).
    const bool noRevisionYet = isKnativeService(*target) && latestCreatedRevision(*target).empty();
    if (!noRevisionYet) return s.error();
  }

  // (2) The step.
  Result<std::optional<api::JsonValue>> canaryRevision = generated.canaryRevision(*target);
  if (!canaryRevision) return canaryRevision.error();
  const TimePoint now = clock.now();
  const Observation observed =
      observe(canary, *target, *primary, tracked->checksums, now, *canaryRevision);
  // Flagger renders {{ route }} as a Knative target's latest created Revision.
  const MetricCheckContext metricContext{
      client,
      metrics,
      options.metricsServer,
      options.provider,
      options.noCrossNamespaceRefs,
      isKnativeService(*target) ? latestCreatedRevision(*target) : std::string()};
  StepGates gates(canary, webhooks, metricContext, revision, now,
                  api::effectiveInterval(*canary.spec.analysis, options.minInterval));
  Step next = step(canary, observed, gates, now, options.minInterval);
  next.status.trackedConfigs = tracked->checksums;

  // (3) Its cluster actions. The routers see the status being written (session cookies), which
  // keeps the cookies of its weight even when no action sets one.
  trackSessionCookies(next.status, canary, next.status.canaryWeight.value_or(0), revision);
  api::Canary stepped = canary;
  for (const Action& action : next.actions) {
    if (action.type == Action::Type::kSetWeights)
      trackSessionCookies(next.status, canary, action.canaryWeight, revision);
    stepped.status = next.status;
    Status applied = apply(action, stepped, *target, *tracked, revision, generated, **router);
    if (!applied) {
      if (applied.error().kind() == ErrorKind::kUnavailable &&
          action.type == Action::Type::kSetWeights) {
        // The data plane has not caught up: keep the status, try the same step again soon.
        spdlog::info("canary {}: {}; retrying", keyOf(ref), applied.error().message());
        ReconcileOutcome retry = outcome(true, kRouterRetry, phaseOf(canary));
        retry.target = targetName;
        retry.canaryWeight = canary.status ? canary.status->canaryWeight.value_or(0) : 0;
        return retry;
      }
      if (applied.error().kind() == ErrorKind::kInvalidInput &&
          action.type == Action::Type::kSetWeights) {
        // The data plane refused the route (a Gateway that does not accept it): nothing to
        // retry until someone fixes it; the status says so and the step waits.
        return stall(ref, *raw, canary, "RouteNotAccepted",
                     "canary " + keyOf(ref) + ": " + applied.error().message());
      }
      return applied.error();
    }
  }

  // (4) The status, with the resourceVersion read in (1) as precondition.
  if (!canary.status || !(next.status == *canary.status)) {
    api::Canary written = *decoded;  // as read: the precondition is its resourceVersion
    written.status = next.status;
    Result<std::string> updated = cluster::updateCanaryStatus(client, written);
    if (!updated) return updated.error().withContext("status of canary " + keyOf(ref));
  }
  // (5) Telling.
  announcer.announce(canary, *raw, next, revision, imagesOf(*target));
  // A rollback of an analysed revision (not a promotion whose primary broke): Git still names
  // it. Told after the status is written; a failure never undoes the rollback.
  const bool rolledBack =
      next.status.phase == "Failed" && phaseOf(canary) != "Failed" &&
      std::any_of(next.actions.begin(), next.actions.end(),
                  [](const Action& a) { return a.type == Action::Type::kScaleCanaryToZero; });
  if (rolledBack && options.rollbacks != nullptr) {
    options.rollbacks->rolledBack(canary, *raw, next.status);
  }
  ReconcileOutcome done = outcome(true, next.requeueAfter, next.status.phase.value_or(""));
  done.target = targetName;
  done.canaryWeight = next.status.canaryWeight.value_or(0);
  done.metricValues = gates.values();
  const std::string before = phaseOf(canary);
  if (done.phase != before && (done.phase == "Succeeded" || done.phase == "Failed")) {
    done.finished = done.phase == "Succeeded" ? "succeeded" : "failed";
    done.rolledBackBy = std::string(toString(next.rolledBackBy));
  }
  switch (api::strategyOf(*canary.spec.analysis)) {
    case api::Strategy::kCanary:
      done.strategy = "canary";
      break;
    case api::Strategy::kABTesting:
      done.strategy = "ab-testing";
      break;
    default:
      done.strategy = "blue-green";
      break;
  }
  done.analysisSkipped = canary.spec.skipAnalysis.value_or(false);
  return done;
}

Status Reconciler::Impl::apply(const Action& action, const api::Canary& canary,
                               const api::JsonValue& target, const TrackedConfigs& tracked,
                               const std::string& revision, GeneratedObjects& generated,
                               router::Router& router) {
  switch (action.type) {
    case Action::Type::kInitializePrimary:
      return {};  // ensure() already made the primary, Services and route
    case Action::Type::kScaleTargetToZero:
    case Action::Type::kScaleCanaryToZero:
      return generated.scaleTarget(0);
    case Action::Type::kScaleCanaryUp:
      // The canary gets the primary's replicas (at least one) for the analysis.
      return generated.scaleTarget(generated.primaryReplicas());
    case Action::Type::kSetWeights:
      return router.setRoutes(canary, {action.primaryWeight, action.canaryWeight, action.mirror});
    case Action::Type::kPromoteToPrimary:
      return generated.promote(target, tracked, revision);
    case Action::Type::kRunPostRolloutHooks:
    case Action::Type::kEvent:
    case Action::Type::kAlert:
      return {};  // after the status is written (the announcer)
  }
  return {};
}

Error Reconciler::Impl::stall(const cluster::ObjectRef& ref, const api::JsonValue& raw,
                              const std::optional<api::Canary>& canary, const std::string& reason,
                              const std::string& message) {
  std::optional<std::string> patch = stalledStatusPatch(raw, reason, message, clock.now());
  if (!patch) return Error::invalidInput(message);  // told already for this generation
  Result<api::JsonValue> written =
      client.patch(cluster::kCanaries, ref, cluster::PatchType::kMerge, *patch, true);
  if (!written)
    spdlog::warn("canary {}: status not written: {}", keyOf(ref), written.error().message());
  announcer.stalled(raw, canary, reason, message);
  return Error::invalidInput(message);
}

Status Reconciler::Impl::setFinalizer(const api::Canary& canary, bool present) {
  const cluster::ObjectRef ref{canary.metadata.namespace_.value_or("default"),
                               canary.metadata.name.value_or("")};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> current = client.get(cluster::kCanaries, ref);
        if (!current) return current.error();
        json next = current->get();
        json finalizers = next["metadata"].value("finalizers", json::array());
        json kept = json::array();
        for (const json& f : finalizers) {
          if (f != kFinalizer) kept.push_back(f);
        }
        if (present) kept.push_back(kFinalizer);
        if (kept == finalizers) return current;
        next["metadata"]["finalizers"] = kept;
        return client.update(cluster::kCanaries, api::JsonValue(next));
      });
  if (!written) return written.error().withContext("finalizer of canary " + keyOf(ref));
  return {};
}

// revertOnDeletion: give the target its traffic and replicas back, keep the apex Service
// (pointing at the target's pods) when the Canary and what it generated are deleted, then let
// the deletion finish.
Result<ReconcileOutcome> Reconciler::Impl::finalize(const api::Canary& canary,
                                                    const api::JsonValue& raw,
                                                    router::Router& router,
                                                    GeneratedObjects& generated,
                                                    const router::Selector& selector) {
  const std::string ns = canary.metadata.namespace_.value_or("default");
  const std::string targetName = canary.spec.targetRef->name.value_or("");
  if (phaseOf(canary) != "Terminating") {
    api::Canary written = canary;
    written.status = canary.status.value_or(api::CanaryStatus{});
    written.status->phase = "Terminating";
    written.status->lastTransitionTime = formatRfc3339(clock.now());
    Result<std::string> updated = cluster::updateCanaryStatus(client, written);
    if (!updated) return updated.error();
    announcer.event(raw, "Normal", "Synced", "Terminating: reverting " + ns + "/" + targetName);
  }
  const std::string kind = canary.spec.targetRef->kind.value_or("Deployment");
  const std::string apiVersion = canary.spec.targetRef->apiVersion.value_or("");
  Result<api::JsonValue> target = client.get(workloadResource(kind, apiVersion), {ns, targetName});
  if (target) {
    if (scaleOf(*target) == 0) {
      if (Status s = generated.scaleTarget(generated.primaryReplicas()); !s) return s.error();
      return outcome(true, kTerminatingRetry, "Terminating");
    }
    const Readiness ready = workloadReadiness(*target, api::kDefaultReadyThreshold);
    if (!ready.ready) return outcome(true, kTerminatingRetry, "Terminating");
  } else if (target.error().kind() != ErrorKind::kNotFound) {
    return target.error();
  }
  // All traffic to the canary Service (the target's pods), best effort: the routing object is
  // owned by the Canary and goes with it.
  if (Status s = router.setRoutes(canary, {0, 100, false}); !s) {
    spdlog::info("canary {}/{}: route not reverted: {}", ns, canary.metadata.name.value_or(""),
                 s.error().message());
  }
  // A Knative Service forgets its primary Revision (Flagger's KnativeRouter.Finalize); all its
  // traffic is on its latest Revision now.
  if (target && isKnativeService(*target)) {
    const json annotationPatch = {
        {"metadata", {{"annotations", {{api::kKnativePrimaryRevision, nullptr}}}}}};
    Result<api::JsonValue> service =
        client.patch(cluster::kKnativeServices, {ns, targetName}, cluster::PatchType::kMerge,
                     annotationPatch.dump());
    if (!service && service.error().kind() != ErrorKind::kNotFound) return service.error();
  }
  // The apex Service keeps selecting the target's pods (a Service target is its own apex).
  const std::string apex = router::apexServiceName(canary);
  if (kind != "Service") {
    json servicePatch = {
        {"metadata", {{"ownerReferences", nullptr}}},
        {"spec",
         {{"selector", {{selector.label, selector.value.empty() ? targetName : selector.value}}}}},
    };
    Result<api::JsonValue> service = client.patch(cluster::kServices, {ns, apex},
                                                  cluster::PatchType::kMerge, servicePatch.dump());
    if (!service && service.error().kind() != ErrorKind::kNotFound) return service.error();
  }
  if (Status s = setFinalizer(canary, false); !s) return s.error();
  announcer.event(raw, "Normal", "Synced", "Terminated: " + ns + "/" + targetName + " reverted");
  return outcome(false, {}, "Terminated");
}

}  // namespace canaryd::controller
