#include "generated_objects.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/api/knative.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/cluster/knative.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/core/digest.h"
#include "canaryd/core/json_read.h"
#include "canaryd/core/text.h"

#include "canary_names.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

constexpr const char* kConfigTrackingAnnotation = "flagger.app/config-tracking";
// kubectl's record of the user's last apply: copied to a generated Service it would make the
// next apply of that Service compute its patch from the user's object (Flagger drops it too).
constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

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

// Flux's opt-out annotations, for every object canaryd generates.
json optOutAnnotations() {
  json out = json::object();
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    out[std::string(key)] = std::string(value);
  return out;
}

// Creates the object, or replaces the existing one's `fields` with the wanted ones (and sets
// its wanted labels, owner references and annotations). `keep` are fields of the existing
// object's spec the server assigned (a Service's clusterIP), kept as they are.
Status createOrUpdate(cluster::Client& client, const cluster::Resource& resource,
                      const json& wanted, const std::vector<std::string>& fields,
                      const std::vector<std::string>& keep = {}) {
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
          json value = wanted.value(field, json());
          for (const std::string& k : keep) {
            const json* have = jsonread::member(next.value(field, json::object()), k);
            if (have != nullptr && value.is_object()) value[k] = *have;
          }
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

}  // namespace

bool isServiceTarget(const api::Canary& canary) {
  return canary.spec.targetRef && canary.spec.targetRef->kind.value_or("") == "Service";
}

Result<TrackedConfigs> readTrackedConfigs(cluster::Client& client, const std::string& ns,
                                          const api::JsonValue& targetValue,
                                          const std::string& key) {
  TrackedConfigs out;
  const json& target = targetValue.get();
  if (target.value("kind", "") == "Service") return out;
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
    out.objects.emplace_back(&resource, *object);
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

GeneratedObjects::GeneratedObjects(cluster::Client& client, const api::Canary& canary,
                                   const router::Selector& selector)
    : client_(client),
      canary_(canary),
      selector_(selector),
      ns_(canary.metadata.namespace_.value_or("default")),
      target_(canary.spec.targetRef ? canary.spec.targetRef->name.value_or("") : ""),
      kind_(canary.spec.targetRef ? canary.spec.targetRef->kind.value_or("Deployment")
                                  : "Deployment"),
      apiVersion_(canary.spec.targetRef ? canary.spec.targetRef->apiVersion.value_or("") : ""),
      knative_(canary.spec.targetRef && api::isKnativeService(*canary.spec.targetRef)) {}

// `<name>-primary` copies of the tracked ConfigMaps and Secrets, owned by the Canary.
Status GeneratedObjects::copyConfigs(const TrackedConfigs& tracked) {
  for (const auto& [resource, value] : tracked.objects) {
    const json& object = value.get();
    json copy = {{"apiVersion", "v1"},
                 {"kind", resource->kind},
                 {"metadata",
                  {{"name", metadataOf(object).value("name", "") + "-primary"},
                   {"namespace", metadataOf(object).value("namespace", "")},
                   {"labels", metadataOf(object).value("labels", json::object())},
                   {"annotations", optOutAnnotations()},
                   {"ownerReferences", json::array({api::ownerReferenceTo(canary_).get()})}}}};
    std::vector<std::string> fields = {"data", "binaryData"};
    for (const std::string& f : fields) {
      if (object.contains(f)) copy[f] = object[f];
    }
    if (*resource == cluster::kSecrets) {
      copy["type"] = object.value("type", "Opaque");
      fields.push_back("type");
    }
    if (Status s = createOrUpdate(client_, *resource, copy, fields); !s) return s;
  }
  return {};
}

// Flagger's ServiceController: `<target>-canary` follows the target's spec at every reconcile;
// `<target>-primary` is created from it once and then changes only on promotion.
Status GeneratedObjects::ensureServiceCopies(const api::JsonValue& targetValue,
                                             bool updatePrimary) {
  const json& target = targetValue.get();
  json spec = target.value("spec", json::object());
  spec.erase("clusterIP");
  spec.erase("clusterIPs");
  if (canary_.spec.service && canary_.spec.service->trafficDistribution) {
    spec["trafficDistribution"] = *canary_.spec.service->trafficDistribution;
  }
  json annotations = metadataOf(target).value("annotations", json::object());
  annotations.erase(kLastApplied);
  annotations.update(optOutAnnotations());
  for (const char* suffix : {"-canary", "-primary"}) {
    const std::string name = target_ + suffix;
    json wanted = {{"apiVersion", "v1"},
                   {"kind", "Service"},
                   {"metadata",
                    {{"name", name},
                     {"namespace", ns_},
                     {"labels", metadataOf(target).value("labels", json::object())},
                     {"annotations", annotations},
                     {"ownerReferences", json::array({api::ownerReferenceTo(canary_).get()})}}},
                   {"spec", spec}};
    if (std::string(suffix) == "-primary" && !updatePrimary) {
      Result<api::JsonValue> created =
          client_.create(cluster::kServices, ns_, api::JsonValue(wanted));
      if (!created && created.error().kind() != ErrorKind::kConflict) {
        return created.error().withContext("Service " + ns_ + "/" + name);
      }
      continue;
    }
    if (Status s = createOrUpdate(client_, cluster::kServices, wanted, {"spec"},
                                  {"clusterIP", "clusterIPs"});
        !s) {
      return s;
    }
  }
  return {};
}

Result<std::optional<api::JsonValue>> GeneratedObjects::ensure(const api::JsonValue& target,
                                                               const TrackedConfigs& tracked,
                                                               const std::string& revision) {
  if (knative_) {
    std::string primary = primaryRevision(target);
    const std::string phase = canary_.status ? canary_.status->phase.value_or("") : std::string();
    const std::string latest = latestCreatedRevision(target);
    if ((phase.empty() || phase == "Initializing") && !latest.empty() && primary != latest) {
      if (Status s = setPrimaryRevision(target, latest); !s) return s.error();
      primary = latest;
    }
    return revisionNamed(primary);
  }
  if (kind_ == "Service") {
    if (Status s = ensureServiceCopies(target, false); !s) return s.error();
    return std::optional<api::JsonValue>();
  }
  const cluster::Resource& workloads = workloadResource(kind_, apiVersion_);
  std::optional<api::JsonValue> primary;
  Result<api::JsonValue> existing = client_.get(workloads, {ns_, target_ + "-primary"});
  if (existing) {
    primary = *existing;
  } else if (existing.error().kind() != ErrorKind::kNotFound) {
    return existing.error();
  } else {
    // First sight (or the primary was deleted): the primary starts from the current target.
    if (Status s = copyConfigs(tracked); !s) return s.error();
    Result<api::JsonValue> created = client_.create(
        workloads, ns_, buildPrimaryDeployment(canary_, target, tracked.refs, revision, selector_));
    if (!created && created.error().kind() != ErrorKind::kConflict) return created.error();
    if (created) primary = *created;
  }
  if (Status s = ensureAutoscaler(); !s) return s.error();
  return primary;
}

Status GeneratedObjects::ensureAutoscaler() {
  const auto& ref = canary_.spec.autoscalerRef;
  if (!ref || ref->kind.value_or("HorizontalPodAutoscaler") != "HorizontalPodAutoscaler") {
    return {};
  }
  const std::string name = ref->name.value_or("");
  Result<api::JsonValue> hpa = client_.get(cluster::kHorizontalPodAutoscalers, {ns_, name});
  if (!hpa) {
    if (hpa.error().kind() == ErrorKind::kNotFound) return {};  // nothing to copy yet
    return hpa.error();
  }
  json spec = hpa->get().value("spec", json::object());
  spec["scaleTargetRef"]["name"] = target_ + "-primary";
  json wanted = {{"apiVersion", "autoscaling/v2"},
                 {"kind", "HorizontalPodAutoscaler"},
                 {"metadata",
                  {{"name", name + "-primary"},
                   {"namespace", ns_},
                   {"annotations", optOutAnnotations()},
                   {"ownerReferences", json::array({api::ownerReferenceTo(canary_).get()})}}},
                 {"spec", spec}};
  return createOrUpdate(client_, cluster::kHorizontalPodAutoscalers, wanted, {"spec"});
}

Result<std::optional<api::JsonValue>> GeneratedObjects::canaryRevision(
    const api::JsonValue& target) {
  if (!knative_) return std::optional<api::JsonValue>();
  return revisionNamed(latestCreatedRevision(target));
}

Result<std::optional<api::JsonValue>> GeneratedObjects::revisionNamed(const std::string& name) {
  if (name.empty()) return std::optional<api::JsonValue>();
  Result<api::JsonValue> found = client_.get(cluster::kKnativeRevisions, {ns_, name});
  if (found) return std::optional<api::JsonValue>(*found);
  if (found.error().kind() == ErrorKind::kNotFound) return std::optional<api::JsonValue>();
  return found.error().withContext("Knative Revision " + ns_ + "/" + name);
}

Status GeneratedObjects::setPrimaryRevision(const api::JsonValue& target,
                                            const std::string& revision) {
  if (primaryRevision(target) == revision) return {};
  // A merge patch of the one annotation: the rest of the Service is the user's (and Knative's).
  const json patch = {{"metadata", {{"annotations", {{api::kKnativePrimaryRevision, revision}}}}}};
  Result<api::JsonValue> written = client_.patch(cluster::kKnativeServices, {ns_, target_},
                                                 cluster::PatchType::kMerge, patch.dump());
  if (!written) return written.error().withContext("Knative Service " + ns_ + "/" + target_);
  return {};
}

Status GeneratedObjects::promote(const api::JsonValue& target, const TrackedConfigs& tracked,
                                 const std::string& revision) {
  // Flagger's KnativeController.Promote: the latest created Revision becomes the primary (the
  // revision analysed: a newer one would have restarted the analysis).
  if (knative_) return setPrimaryRevision(target, latestCreatedRevision(target));
  if (kind_ == "Service") return ensureServiceCopies(target, true);
  if (Status s = copyConfigs(tracked); !s) return s;
  const cluster::Resource& workloads = workloadResource(kind_, apiVersion_);
  json wanted = buildPrimaryDeployment(canary_, target, tracked.refs, revision, selector_).get();
  // An autoscaler owns the primary's replicas: keep them.
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(workloads, {ns_, target_ + "-primary"});
        if (!existing) return existing.error();
        json next = existing->get();
        const json replicas = next["spec"].value("replicas", json());
        next["spec"] = wanted["spec"];
        if (canary_.spec.autoscalerRef && !replicas.is_null()) next["spec"]["replicas"] = replicas;
        next["metadata"]["labels"] = wanted["metadata"].value("labels", json::object());
        if (next == existing->get()) return existing;
        return client_.update(workloads, api::JsonValue(next));
      });
  if (!written) return written.error().withContext("promoting " + ns_ + "/" + target_);
  return {};
}

Status GeneratedObjects::scaleTarget(std::int64_t replicas) {
  if (kind_ == "Service") return {};
  Result<api::JsonValue> r = client_.patch(workloadResource(kind_, apiVersion_), {ns_, target_},
                                           cluster::PatchType::kMerge, scalePatch(kind_, replicas));
  if (!r) return r.error().withContext("scaling " + lowercase(kind_) + " " + ns_ + "/" + target_);
  return {};
}

std::int64_t GeneratedObjects::primaryReplicas() {
  if (kind_ == "Service") return 1;
  Result<api::JsonValue> primary =
      client_.get(workloadResource(kind_, apiVersion_), {ns_, target_ + "-primary"});
  if (!primary) return 1;
  return std::max<std::int64_t>(1, primary->get()["spec"].value("replicas", std::int64_t{1}));
}

}  // namespace canaryd::controller
