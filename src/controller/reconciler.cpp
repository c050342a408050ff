#include "canaryd/controller/reconciler.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/api/validate.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/controller/judging.h"
#include "canaryd/controller/primary.h"
#include "canaryd/controller/rollout.h"
#include "canaryd/controller/webhooks.h"
#include "canaryd/core/digest.h"
#include "canaryd/core/json_read.h"
#include "canaryd/core/log.h"
#include "canaryd/core/text.h"
#include "canaryd/router/router.h"
#include "canaryd/runtime/event_recorder.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

// How soon to retry a step a router refused (a route not yet accepted by its Gateway).
constexpr Duration kRouterRetry = std::chrono::seconds(1);
// How soon to look again while waiting for Deployments during deletion.
constexpr Duration kTerminatingRetry = std::chrono::seconds(2);
constexpr const char* kConfigTrackingAnnotation = "flagger.app/config-tracking";

ReconcileOutcome outcome(bool exists, Duration requeueAfter, std::string phase) {
  ReconcileOutcome o;
  o.exists = exists;
  o.requeueAfter = requeueAfter;
  o.phase = std::move(phase);
  return o;
}

std::string lowered(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string keyOf(const cluster::ObjectRef& ref) {
  return ref.namespace_ + "/" + ref.name;
}

json metadataOf(const json& object) {
  return object.value("metadata", json::object());
}

bool isRegistrySecret(const json& secret) {
  const std::string type = secret.value("type", "Opaque");
  return type == "kubernetes.io/dockerconfigjson" || type == "kubernetes.io/dockercfg" ||
         type == "kubernetes.io/service-account-token";
}

bool trackingDisabled(const json& object) {
  return metadataOf(object)
             .value("annotations", json::object())
             .value(kConfigTrackingAnnotation, "") == "disabled";
}

// The ConfigMaps and Secrets of the target that canaryd copies to `<name>-primary`, with the
// checksums of their data (`configmap/<name>` / `secret/<name>` -> checksum).
struct TrackedConfigs {
  ConfigRefs refs;
  // Keyed (HMAC with the install's key) when there is a key: status.trackedConfigs must not let
  // a reader of the Canary guess a Secret's contents.
  std::map<std::string, std::string> checksums;
  // The unkeyed digests of canaryd before keys, to recognise a revision recorded by them.
  std::map<std::string, std::string> legacyChecksums;
  std::vector<std::pair<cluster::Resource, json>> objects;
};

Result<TrackedConfigs> readTrackedConfigs(cluster::Client& client, const std::string& ns,
                                          const json& target, const std::string& key) {
  TrackedConfigs out;
  const ConfigRefs refs = configReferences(
      api::JsonValue(target.value("spec", json::object()).value("template", json::object())));
  auto track = [&](const cluster::Resource& resource, const std::string& name,
                   const char* kind) -> Status {
    Result<api::JsonValue> object = client.get(resource, {ns, name});
    if (!object) {
      // A missing optional config is the pod's business; canaryd has nothing to copy.
      if (object.error().kind() == ErrorKind::kNotFound) return {};
      return object.error();
    }
    const json& o = object->get();
    if (trackingDisabled(o) || (resource == cluster::kSecrets && isRegistrySecret(o))) return {};
    json data = {{"data", o.value("data", json::object())},
                 {"binaryData", o.value("binaryData", json::object())}};
    const std::string id = std::string(kind) + "/" + name;
    const api::JsonValue value(std::move(data));
    const std::string legacy = digest(value).substr(0, 16);
    out.legacyChecksums[id] = legacy;
    out.checksums[id] = key.empty() ? legacy : hmacSha256Hex(key, value.dump()).substr(0, 16);
    (resource == cluster::kSecrets ? out.refs.secrets : out.refs.configMaps).insert(name);
    out.objects.emplace_back(resource, o);
    return {};
  };
  for (const std::string& name : refs.configMaps) {
    if (Status s = track(cluster::kConfigMaps, name, "configmap"); !s) return s.error();
  }
  for (const std::string& name : refs.secrets) {
    if (Status s = track(cluster::kSecrets, name, "secret"); !s) return s.error();
  }
  return out;
}

// Flux's opt-out annotations, for every object canaryd generates.
json optOutAnnotations() {
  json out = json::object();
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    out[std::string(key)] = std::string(value);
  return out;
}

// Creates the object, or replaces the existing one's `fields` with the wanted ones (and sets
// its wanted labels, owner references and annotations).
Status createOrUpdate(cluster::Client& client, const cluster::Resource& resource,
                      const json& wanted, const std::vector<std::string>& fields) {
  const cluster::ObjectRef ref{wanted["metadata"].value("namespace", ""),
                               wanted["metadata"].value("name", "")};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client.get(resource, ref);
        if (!existing) {
          if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
          return client.create(resource, ref.namespace_, api::JsonValue(wanted));
        }
        json next = existing->get();
        bool changed = false;
        for (const std::string& field : fields) {
          const json value = wanted.value(field, json());
          if (next.value(field, json()) != value) {
            changed = true;
            if (value.is_null()) {
              next.erase(field);
            } else {
              next[field] = value;
            }
          }
        }
        const json annotations = wanted["metadata"].value("annotations", json::object());
        for (auto it = annotations.begin(); it != annotations.end(); ++it) {
          json& have = next["metadata"]["annotations"][it.key()];
          if (have != *it) {
            have = *it;
            changed = true;
          }
        }
        for (const char* part : {"labels", "ownerReferences"}) {
          if (wanted["metadata"].contains(part) &&
              next["metadata"][part] != wanted["metadata"][part]) {
            next["metadata"][part] = wanted["metadata"][part];
            changed = true;
          }
        }
        if (!changed) return existing;
        return client.update(resource, api::JsonValue(next));
      });
  if (!written) return written.error().withContext(resource.kind + " " + keyOf(ref));
  return {};
}

// `<name>-primary` copies of the tracked ConfigMaps and Secrets, owned by the Canary.
Status copyConfigsToPrimary(cluster::Client& client, const api::Canary& canary,
                            const TrackedConfigs& tracked) {
  for (const auto& [resource, object] : tracked.objects) {
    json copy = {{"apiVersion", "v1"},
                 {"kind", resource.kind},
                 {"metadata",
                  {{"name", metadataOf(object).value("name", "") + "-primary"},
                   {"namespace", metadataOf(object).value("namespace", "")},
                   {"labels", metadataOf(object).value("labels", json::object())},
                   {"annotations", optOutAnnotations()},
                   {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}}}};
    std::vector<std::string> fields = {"data", "binaryData"};
    for (const std::string& f : fields) {
      if (object.contains(f)) copy[f] = object[f];
    }
    if (resource == cluster::kSecrets) {
      copy["type"] = object.value("type", "Opaque");
      fields.push_back("type");
    }
    if (Status s = createOrUpdate(client, resource, copy, fields); !s) return s;
  }
  return {};
}

std::string phaseOf(const api::Canary& canary) {
  return canary.status ? canary.status->phase.value_or("") : "";
}

// The gates of a step: webhooks and metric checks, asked by the state machine when needed.
class ReconcileGates final : public Gates {
 public:
  ReconcileGates(const api::Canary& canary, const WebhookRunner& webhooks,
                 const MetricCheckContext& metrics, std::string checksum, TimePoint now,
                 Duration interval)
      : canary_(canary),
        webhooks_(webhooks),
        metrics_(metrics),
        checksum_(std::move(checksum)),
        now_(now),
        interval_(interval) {}

  bool confirmRollout() override { return hooks("confirm-rollout"); }
  bool preRollout() override { return hooks("pre-rollout"); }
  bool rollbackRequested() override {
    WebhookResult r = webhooks_.run(canary_, "rollback", phaseOf(canary_), checksum_);
    return r.ok && !r.called.empty();
  }
  CheckOutcome runChecks() override {
    WebhookResult r = webhooks_.run(canary_, "rollout", phaseOf(canary_), checksum_);
    if (!r.ok) return checkFailed(r.failure);
    if (!usesStatisticalJudge(canary_)) {
      CheckOutcome checked = runMetricChecks(canary_, metrics_);
      values_ = checked.values;
      return checked;
    }
    if (canary_.spec.analysis->judge->type.value_or("") == "sequential") {
      // The sequential judge decides on errors; the other metrics (latency, custom) keep
      // their thresholds, and a miss counts as a failed check as in Flagger.
      CheckOutcome others = runMetricChecks(canary_, metrics_, {"request-success-rate"});
      values_ = others.values;
      if (!others.passed) return others;
    }
    return judge();
  }
  CheckOutcome judgeBetweenSteps() override { return judge(); }
  // The metric values this step measured.
  const std::vector<std::pair<std::string, double>>& values() const { return values_; }
  bool confirmTrafficIncrease() override { return hooks("confirm-traffic-increase"); }
  bool confirmPromotion() override { return hooks("confirm-promotion"); }
  std::string lastHookFailure() const override { return lastHookFailure_; }

 private:
  CheckOutcome judge() {
    JudgeRun run = runJudge(canary_, metrics_, now_, judgeWindow(canary_, now_, interval_));
    return {run.judgement.verdict != analysis::Verdict::kFail,
            run.judgement.evidence.explanation,
            evidenceOf(canary_.spec.analysis->judge->type.value_or(""), run.judgement),
            values_,
            run.judgement.verdict,
            run.status};
  }
  bool hooks(const char* type) {
    WebhookResult r = webhooks_.run(canary_, type, phaseOf(canary_), checksum_);
    if (!r.ok)
      spdlog::info("{} hooks of {}: {}", type, canary_.metadata.name.value_or(""), r.failure);
    lastHookFailure_ = r.failure;
    return r.ok;
  }

  const api::Canary& canary_;
  const WebhookRunner& webhooks_;
  const MetricCheckContext& metrics_;
  std::string checksum_;
  TimePoint now_;
  Duration interval_;
  std::vector<std::pair<std::string, double>> values_;
  std::string lastHookFailure_;
};

}  // namespace

struct Reconciler::Impl {
  Impl(cluster::Client& c, const Clock& k, notify::Notifier& n, ReconcilerOptions o,
       ProviderFactory m, std::function<void(Duration)> sleep)
      : client(c),
        clock(k),
        notifier(n),
        options(std::move(o)),
        metrics(std::move(m)),
        webhooks(k, std::move(sleep), options.webhookTransport, options.addresses),
        events(c, k) {
    options.catalog.defaultProvider = options.provider;
  }

  Result<ReconcileOutcome> reconcile(const cluster::ObjectRef& ref);
  Result<ReconcileOutcome> finalize(const api::Canary& canary, const api::JsonValue& raw,
                                    const std::string& targetName, router::Router& router,
                                    const router::Selector& selector);
  Status ensureObjects(const api::Canary& canary, const json& target, const TrackedConfigs& tracked,
                       const std::string& revision, std::optional<api::JsonValue>& primary,
                       router::Router& router, const router::Selector& selector);
  Status ensurePrimaryAutoscaler(const api::Canary& canary);
  Status apply(const Action& action, const api::Canary& canary, const json& target,
               const TrackedConfigs& tracked, const std::string& revision, router::Router& router,
               const router::Selector& selector);
  Status scale(const std::string& kind, const std::string& ns, const std::string& name,
               std::int64_t replicas);
  Status setFinalizer(const api::Canary& canary, bool present);
  void announce(const api::Canary& canary, const api::JsonValue& involved, const Step& step,
                const std::string& checksum, const std::string& images);
  // A Canary the daemon cannot act on (unreadable spec, unsupported target or provider, missing
  // target): conditions Ready=False and Stalled=True with `reason` and `message`, and
  // observedGeneration, so kubectl, Flux and Argo CD see why; one Warning event and one alert
  // per generation. The error tells the controller to retry after the interval; fixing the
  // Canary (a new generation) or creating its target wakes it.
  Error stall(const cluster::ObjectRef& ref, const api::JsonValue& raw,
              const std::optional<api::Canary>& canary, const std::string& reason,
              const std::string& message);

  cluster::Client& client;
  const Clock& clock;
  notify::Notifier& notifier;
  ReconcilerOptions options;
  ProviderFactory metrics;
  WebhookRunner webhooks;
  runtime::EventRecorder events;
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
    std::string reason = "InvalidSpec";
    if (problem.path == "spec.provider" || problem.path == "canaryd run --provider") {
      reason = "UnsupportedProvider";
    } else if (problem.path == "spec.targetRef.kind") {
      reason = "UnsupportedTarget";
    } else if (problem.message.find("canaryd's routers") != std::string::npos) {
      reason = "UnsupportedFeature";
    }
    return stall(ref, *raw, canary, reason,
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
  const cluster::Resource& workloads = workloadResource(kind);
  Result<api::JsonValue> target = client.get(workloads, {ns, targetName});
  if (!target && target.error().kind() != ErrorKind::kNotFound) return target.error();
  // The Services select the pods by the target's own selector label (Flagger's
  // -selector-labels); a deleted target leaves the default.
  router::Selector selector;
  if (target) {
    Result<router::Selector> found = selectorOf(*target, options.selectorLabels);
    if (found) {
      selector = *found;
    } else if (!canary.metadata.deletionTimestamp) {
      return stall(ref, *raw, canary, "UnsupportedTarget",
                   "canary " + keyOf(ref) + ": " + found.error().message());
    }
  }
  Result<std::unique_ptr<router::Router>> router = options.routers(provider, client, selector);
  if (!router) {
    return stall(ref, *raw, canary, "UnsupportedProvider",
                 "canary " + keyOf(ref) + ": " + router.error().message());
  }

  // Deletion: revert when asked to (finalizer), otherwise the owner references clean up.
  const bool hasFinalizer = std::count(canary.metadata.finalizers.begin(),
                                       canary.metadata.finalizers.end(), kFinalizer) > 0;
  if (canary.metadata.deletionTimestamp) {
    if (!hasFinalizer) return outcome(true, {}, phaseOf(canary));
    return finalize(canary, *raw, targetName, **router, selector);
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
        "Halt advancement: target " + lowered(kind) + " " + ns + "/" + targetName + " not found");
  }
  Result<TrackedConfigs> tracked = readTrackedConfigs(client, ns, target->get(), options.digestKey);
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

  std::optional<api::JsonValue> primary;
  if (Status s =
          ensureObjects(canary, target->get(), *tracked, revision, primary, **router, selector);
      !s) {
    return s.error();
  }

  const TimePoint now = clock.now();
  const Observation observed = observe(canary, *target, primary, tracked->checksums, now);
  const MetricCheckContext metricContext{client, metrics, options.metricsServer, options.provider,
                                         options.noCrossNamespaceRefs};
  ReconcileGates gates(canary, webhooks, metricContext, revision, now,
                       api::effectiveInterval(*canary.spec.analysis, options.minInterval));
  Step next = step(canary, observed, gates, now, options.minInterval);
  next.status.trackedConfigs = tracked->checksums;

  for (const Action& action : next.actions) {
    Status applied = apply(action, canary, target->get(), *tracked, revision, **router, selector);
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
      return applied.error();
    }
  }

  if (!canary.status || !(next.status == *canary.status)) {
    api::Canary written = *decoded;  // as read: the precondition is its resourceVersion
    written.status = next.status;
    Result<std::string> updated = cluster::updateCanaryStatus(client, written);
    if (!updated) return updated.error().withContext("status of canary " + keyOf(ref));
  }
  announce(canary, *raw, next, revision, imagesOf(*target));
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

Status Reconciler::Impl::ensureObjects(const api::Canary& canary, const json& target,
                                       const TrackedConfigs& tracked, const std::string& revision,
                                       std::optional<api::JsonValue>& primary,
                                       router::Router& router, const router::Selector& selector) {
  const std::string ns = canary.metadata.namespace_.value_or("default");
  const std::string primaryName = canary.spec.targetRef->name.value_or("") + "-primary";
  const cluster::Resource& workloads =
      workloadResource(canary.spec.targetRef->kind.value_or("Deployment"));
  Result<api::JsonValue> existing = client.get(workloads, {ns, primaryName});
  if (existing) {
    primary = *existing;
  } else if (existing.error().kind() != ErrorKind::kNotFound) {
    return existing.error();
  } else {
    // First sight (or the primary was deleted): the primary starts from the current target.
    if (Status s = copyConfigsToPrimary(client, canary, tracked); !s) return s;
    Result<api::JsonValue> created = client.create(
        workloads, ns,
        buildPrimaryDeployment(canary, api::JsonValue(target), tracked.refs, revision, selector));
    if (!created && created.error().kind() != ErrorKind::kConflict) return created.error();
    if (created) primary = *created;
  }
  if (Status s = ensurePrimaryAutoscaler(canary); !s) return s;
  // The Services every provider uses, then the provider's own routing object.
  return router.reconcile(canary);
}

Status Reconciler::Impl::ensurePrimaryAutoscaler(const api::Canary& canary) {
  const auto& ref = canary.spec.autoscalerRef;
  if (!ref || ref->kind.value_or("HorizontalPodAutoscaler") != "HorizontalPodAutoscaler") {
    return {};
  }
  const std::string ns = canary.metadata.namespace_.value_or("default");
  const std::string name = ref->name.value_or("");
  Result<api::JsonValue> hpa = client.get(cluster::kHorizontalPodAutoscalers, {ns, name});
  if (!hpa) {
    if (hpa.error().kind() == ErrorKind::kNotFound) return {};  // nothing to copy yet
    return hpa.error();
  }
  json spec = hpa->get().value("spec", json::object());
  spec["scaleTargetRef"]["name"] = canary.spec.targetRef->name.value_or("") + "-primary";
  json wanted = {{"apiVersion", "autoscaling/v2"},
                 {"kind", "HorizontalPodAutoscaler"},
                 {"metadata",
                  {{"name", name + "-primary"},
                   {"namespace", ns},
                   {"annotations", optOutAnnotations()},
                   {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}}},
                 {"spec", spec}};
  return createOrUpdate(client, cluster::kHorizontalPodAutoscalers, wanted, {"spec"});
}

Status Reconciler::Impl::scale(const std::string& kind, const std::string& ns,
                               const std::string& name, std::int64_t replicas) {
  Result<api::JsonValue> r = client.patch(workloadResource(kind), {ns, name},
                                          cluster::PatchType::kMerge, scalePatch(kind, replicas));
  if (!r) return r.error().withContext("scaling " + lowered(kind) + " " + ns + "/" + name);
  return {};
}

Status Reconciler::Impl::apply(const Action& action, const api::Canary& canary, const json& target,
                               const TrackedConfigs& tracked, const std::string& revision,
                               router::Router& router, const router::Selector& selector) {
  const std::string ns = canary.metadata.namespace_.value_or("default");
  const std::string targetName = canary.spec.targetRef->name.value_or("");
  const std::string kind = canary.spec.targetRef->kind.value_or("Deployment");
  const cluster::Resource& workloads = workloadResource(kind);
  switch (action.type) {
    case Action::Type::kInitializePrimary:
      return {};  // ensureObjects() already made the primary, Services and route
    case Action::Type::kScaleTargetToZero:
    case Action::Type::kScaleCanaryToZero:
      return scale(kind, ns, targetName, 0);
    case Action::Type::kScaleCanaryUp: {
      // The canary gets the primary's replicas (at least one) for the analysis.
      std::int64_t replicas = 1;
      Result<api::JsonValue> primary = client.get(workloads, {ns, targetName + "-primary"});
      if (primary) {
        replicas =
            std::max<std::int64_t>(1, primary->get()["spec"].value("replicas", std::int64_t{1}));
      }
      return scale(kind, ns, targetName, replicas);
    }
    case Action::Type::kSetWeights: {
      return router.setRoutes(canary, {action.primaryWeight, action.canaryWeight, action.mirror});
    }
    case Action::Type::kPromoteToPrimary: {
      if (Status s = copyConfigsToPrimary(client, canary, tracked); !s) return s;
      json wanted =
          buildPrimaryDeployment(canary, api::JsonValue(target), tracked.refs, revision, selector)
              .get();
      // An autoscaler owns the primary's replicas: keep them.
      Result<api::JsonValue> written =
          cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
            Result<api::JsonValue> existing = client.get(workloads, {ns, targetName + "-primary"});
            if (!existing) return existing.error();
            json next = existing->get();
            const json replicas = next["spec"].value("replicas", json());
            next["spec"] = wanted["spec"];
            if (canary.spec.autoscalerRef && !replicas.is_null())
              next["spec"]["replicas"] = replicas;
            next["metadata"]["labels"] = wanted["metadata"].value("labels", json::object());
            if (next == existing->get()) return existing;
            return client.update(workloads, api::JsonValue(next));
          });
      if (!written) return written.error().withContext("promoting " + ns + "/" + targetName);
      return {};
    }
    case Action::Type::kRunPostRolloutHooks:
    case Action::Type::kEvent:
    case Action::Type::kAlert:
      return {};  // after the status is written (announce)
  }
  return {};
}

void Reconciler::Impl::announce(const api::Canary& canary, const api::JsonValue& involved,
                                const Step& step, const std::string& checksum,
                                const std::string& images) {
  const std::string phase = step.status.phase.value_or("");
  api::Canary after = canary;
  after.status = step.status;
  for (const Action& action : step.actions) {
    switch (action.type) {
      case Action::Type::kEvent: {
        events.record(involved, action.severity, "Synced", action.message);
        // One log line per decision, with the fields to filter on.
        logInfoWithFields(action.message,
                          {{"canary", canary.metadata.name.value_or("")},
                           {"namespace", canary.metadata.namespace_.value_or("")},
                           {"phase", phase},
                           {"weight", std::to_string(step.status.canaryWeight.value_or(0))},
                           {"revision", images}});
        WebhookResult r = webhooks.event(after, phase, checksum, action.message, action.severity);
        if (!r.ok) spdlog::warn("event webhook: {}", r.failure);
        break;
      }
      case Action::Type::kAlert: {
        notify::Alert alert;
        alert.severity = action.severity;
        alert.message = action.message;
        alert.phase = phase;
        alert.time = clock.now();
        const std::int64_t threshold =
            canary.spec.analysis->threshold.value_or(api::kDefaultThreshold);
        // A rollback resets the count: report the one that reached the threshold.
        const std::int64_t failed = phase == "Failed" && canary.status
                                        ? canary.status->failedChecks.value_or(0)
                                        : step.status.failedChecks.value_or(0);
        alert.fields = {
            {"revision", images},
            {"phase", phase},
            {"canaryWeight", std::to_string(step.status.canaryWeight.value_or(0))},
            {"failedChecks", std::to_string(failed) + " of " + std::to_string(threshold)}};
        alert.fields.insert(alert.fields.end(), action.facts.begin(), action.facts.end());
        if (Status s = notifier.notify(after, alert); !s) {
          spdlog::warn("alert for {}: {}", canary.metadata.name.value_or(""), s.error().message());
        }
        break;
      }
      case Action::Type::kRunPostRolloutHooks: {
        WebhookResult r = webhooks.run(after, "post-rollout", phase, checksum);
        if (!r.ok) {
          events.record(involved, "Warning", "Synced", "post-rollout hooks failed: " + r.failure);
        }
        break;
      }
      default:
        break;
    }
  }
}

Error Reconciler::Impl::stall(const cluster::ObjectRef& ref, const api::JsonValue& raw,
                              const std::optional<api::Canary>& canary, const std::string& reason,
                              const std::string& message) {
  const json& object = raw.get();
  const json* meta = jsonread::object(object, "metadata");
  const std::optional<std::int64_t> generation =
      meta == nullptr ? std::nullopt : jsonread::integer(*meta, "generation");
  const json* status = jsonread::object(object, "status");
  json conditions = json::array();
  if (const json* existing = status == nullptr ? nullptr : jsonread::array(*status, "conditions")) {
    conditions = *existing;
  }
  // Told already for this generation: nothing to write, no event or alert again.
  for (const json& c : conditions) {
    if (jsonread::string(c, "type") == "Stalled" && jsonread::string(c, "status") == "True" &&
        jsonread::string(c, "reason") == reason && jsonread::string(c, "message") == message &&
        jsonread::integer(c, "observedGeneration") == generation) {
      return Error::invalidInput(message);
    }
  }
  const std::string now = formatRfc3339(clock.now());
  auto upsert = [&](const std::string& type, bool value) {
    json* found = nullptr;
    for (json& c : conditions) {
      if (jsonread::string(c, "type") == type) found = &c;
    }
    if (found == nullptr) {
      conditions.push_back({{"type", type}});
      found = &conditions.back();
    }
    const std::string wanted = value ? "True" : "False";
    if (jsonread::string(*found, "status") != wanted) (*found)["lastTransitionTime"] = now;
    (*found)["status"] = wanted;
    (*found)["reason"] = reason;
    (*found)["message"] = type == "Reconciling" ? "No rollout in flight: " + message : message;
    if (generation) (*found)["observedGeneration"] = *generation;
  };
  upsert("Ready", false);
  upsert("Stalled", true);
  upsert("Reconciling", false);
  json patch = {{"status", {{"conditions", conditions}}}};
  if (generation) patch["status"]["observedGeneration"] = *generation;
  Result<api::JsonValue> written =
      client.patch(cluster::kCanaries, ref, cluster::PatchType::kMerge,
                   patch.dump(-1, ' ', false, json::error_handler_t::replace), true);
  if (!written)
    spdlog::warn("canary {}: status not written: {}", keyOf(ref), written.error().message());
  events.record(raw, "Warning", reason, message);
  if (canary) {
    notify::Alert alert;
    alert.severity = "error";
    alert.phase = canary->status ? canary->status->phase.value_or("") : "";
    alert.message = message;
    alert.fields = {{"reason", reason},
                    {"next", "canaryd acts on this Canary again once the problem is fixed"}};
    alert.time = clock.now();
    if (Status s = notifier.notify(*canary, alert); !s) {
      spdlog::warn("alert for {}: {}", keyOf(ref), s.error().message());
    }
  }
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
                                                    const std::string& targetName,
                                                    router::Router& router,
                                                    const router::Selector& selector) {
  const std::string ns = canary.metadata.namespace_.value_or("default");
  if (phaseOf(canary) != "Terminating") {
    api::Canary written = canary;
    written.status = canary.status.value_or(api::CanaryStatus{});
    written.status->phase = "Terminating";
    written.status->lastTransitionTime = formatRfc3339(clock.now());
    Result<std::string> updated = cluster::updateCanaryStatus(client, written);
    if (!updated) return updated.error();
    events.record(raw, "Normal", "Synced", "Terminating: reverting " + ns + "/" + targetName);
  }
  const std::string kind = canary.spec.targetRef->kind.value_or("Deployment");
  const cluster::Resource& workloads = workloadResource(kind);
  Result<api::JsonValue> target = client.get(workloads, {ns, targetName});
  if (target) {
    Result<api::JsonValue> primary = client.get(workloads, {ns, targetName + "-primary"});
    const std::int64_t replicas =
        primary ? std::max<std::int64_t>(1, primary->get()["spec"].value("replicas", 1)) : 1;
    if (scaleOf(*target) == 0) {
      if (Status s = scale(kind, ns, targetName, replicas); !s) return s.error();
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
  const std::string apex = router::apexServiceName(canary);
  json servicePatch = {
      {"metadata", {{"ownerReferences", nullptr}}},
      {"spec",
       {{"selector", {{selector.label, selector.value.empty() ? targetName : selector.value}}}}},
  };
  Result<api::JsonValue> service =
      client.patch(cluster::kServices, {ns, apex}, cluster::PatchType::kMerge, servicePatch.dump());
  if (!service && service.error().kind() != ErrorKind::kNotFound) return service.error();
  if (Status s = setFinalizer(canary, false); !s) return s.error();
  events.record(raw, "Normal", "Synced", "Terminated: " + ns + "/" + targetName + " reverted");
  return outcome(false, {}, "Terminated");
}

}  // namespace canaryd::controller
