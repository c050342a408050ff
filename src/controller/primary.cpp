#include "canaryd/controller/primary.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/api/knative.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/cluster/knative.h"
#include "canaryd/core/json_read.h"
#include "canaryd/core/text.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

// A DaemonSet's pod template as its owner wrote it: without canaryd's scale-to-zero selector
// (and without the empty nodeSelector removing it may leave).
void withoutScaleToZero(json& podTemplate) {
  if (!podTemplate.is_object() || !podTemplate.contains("spec")) return;
  json& spec = podTemplate["spec"];
  if (!spec.is_object() || !spec.contains("nodeSelector")) return;
  json& selector = spec["nodeSelector"];
  if (selector.is_object()) selector.erase(kScaleToZeroLabel);
  if (selector.is_null() || (selector.is_object() && selector.empty())) spec.erase("nodeSelector");
}

void collect(const json& podSpec, ConfigRefs& refs) {
  for (const json& v : podSpec.value("volumes", json::array())) {
    if (v.contains("configMap")) refs.configMaps.insert(v["configMap"].value("name", ""));
    if (v.contains("secret")) refs.secrets.insert(v["secret"].value("secretName", ""));
    if (v.contains("projected")) {
      for (const json& s : v["projected"].value("sources", json::array())) {
        if (s.contains("configMap")) refs.configMaps.insert(s["configMap"].value("name", ""));
        if (s.contains("secret")) refs.secrets.insert(s["secret"].value("name", ""));
      }
    }
  }
  for (const char* list : {"containers", "initContainers"}) {
    for (const json& c : podSpec.value(list, json::array())) {
      for (const json& e : c.value("env", json::array())) {
        const json from = e.value("valueFrom", json::object());
        if (from.contains("configMapKeyRef"))
          refs.configMaps.insert(from["configMapKeyRef"].value("name", ""));
        if (from.contains("secretKeyRef"))
          refs.secrets.insert(from["secretKeyRef"].value("name", ""));
      }
      for (const json& e : c.value("envFrom", json::array())) {
        if (e.contains("configMapRef")) refs.configMaps.insert(e["configMapRef"].value("name", ""));
        if (e.contains("secretRef")) refs.secrets.insert(e["secretRef"].value("name", ""));
      }
    }
  }
  refs.configMaps.erase("");
  refs.secrets.erase("");
}

void renameRef(json& holder, const char* key, const std::set<std::string>& tracked) {
  if (holder.contains(key) && holder[key].is_string() &&
      tracked.contains(holder[key].get<std::string>())) {
    holder[key] = holder[key].get<std::string>() + "-primary";
  }
}

void renameConfigs(json& podSpec, const ConfigRefs& tracked) {
  for (json& v : podSpec["volumes"]) {
    if (v.contains("configMap")) renameRef(v["configMap"], "name", tracked.configMaps);
    if (v.contains("secret")) renameRef(v["secret"], "secretName", tracked.secrets);
    if (v.contains("projected")) {
      for (json& s : v["projected"]["sources"]) {
        if (s.contains("configMap")) renameRef(s["configMap"], "name", tracked.configMaps);
        if (s.contains("secret")) renameRef(s["secret"], "name", tracked.secrets);
      }
    }
  }
  for (const char* list : {"containers", "initContainers"}) {
    if (!podSpec.contains(list)) continue;
    for (json& c : podSpec[list]) {
      if (c.contains("env")) {
        for (json& e : c["env"]) {
          if (!e.contains("valueFrom")) continue;
          json& from = e["valueFrom"];
          if (from.contains("configMapKeyRef"))
            renameRef(from["configMapKeyRef"], "name", tracked.configMaps);
          if (from.contains("secretKeyRef"))
            renameRef(from["secretKeyRef"], "name", tracked.secrets);
        }
      }
      if (c.contains("envFrom")) {
        for (json& e : c["envFrom"]) {
          if (e.contains("configMapRef")) renameRef(e["configMapRef"], "name", tracked.configMaps);
          if (e.contains("secretRef")) renameRef(e["secretRef"], "name", tracked.secrets);
        }
      }
    }
  }
  if (podSpec.contains("volumes") && podSpec["volumes"].is_null()) podSpec.erase("volumes");
}

// Renames selector label values `from` -> `to` wherever pods select each other.
void renameSelectors(json& podSpec, const std::string& label, const std::string& from,
                     const std::string& to) {
  auto fix = [&](json& selector) {
    if (!selector.is_object() || !selector.contains("matchLabels")) return;
    json& labels = selector["matchLabels"];
    if (labels.value(label, "") == from) labels[label] = to;
  };
  if (podSpec.contains("affinity")) {
    for (const char* kind : {"podAntiAffinity", "podAffinity"}) {
      if (!podSpec["affinity"].contains(kind)) continue;
      json& a = podSpec["affinity"][kind];
      for (const char* mode : {"requiredDuringSchedulingIgnoredDuringExecution",
                               "preferredDuringSchedulingIgnoredDuringExecution"}) {
        if (!a.contains(mode)) continue;
        for (json& term : a[mode]) {
          if (term.contains("podAffinityTerm")) {
            fix(term["podAffinityTerm"]["labelSelector"]);
          } else if (term.contains("labelSelector")) {
            fix(term["labelSelector"]);
          }
        }
      }
    }
  }
  if (podSpec.contains("topologySpreadConstraints")) {
    for (json& c : podSpec["topologySpreadConstraints"]) {
      if (c.contains("labelSelector")) fix(c["labelSelector"]);
    }
  }
}

// Labels or annotations without Flux's (as Flagger drops them), and on the object itself (not
// its pods) without any GitOps engine's tracking keys either.
json withoutFlux(const json& map) {
  json out = json::object();
  if (!map.is_object()) return out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it.key().find("toolkit.fluxcd.io") == std::string::npos) out[it.key()] = *it;
  }
  return out;
}
json withoutTracking(const json& map) {
  json out = json::object();
  if (!map.is_object()) return out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!cluster::isGitopsTrackingKey(it.key())) out[it.key()] = *it;
  }
  return out;
}

}  // namespace

ConfigRefs configReferences(const api::JsonValue& podTemplate) {
  ConfigRefs refs;
  const json& t = podTemplate.get();
  if (t.contains("spec") && t["spec"].is_object()) collect(t["spec"], refs);
  return refs;
}

std::string digest(const api::JsonValue& value) {
  // FNV-1a, 64 bits, over the canonical text: stable across runs and builds.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : value.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string revisionOf(const api::JsonValue& target,
                       const std::map<std::string, std::string>& trackedConfigs) {
  if (isKnativeService(target)) {
    return digest(api::JsonValue(json{{"knativeRevision", latestCreatedRevision(target)}}));
  }
  if (target.get().value("kind", "") == "Service") {
    // A Service target's revision is its spec, without what the API server assigns.
    json spec = target.get().value("spec", json::object());
    spec.erase("clusterIP");
    spec.erase("clusterIPs");
    return digest(api::JsonValue(json{{"service", spec}}));
  }
  json podTemplate = target.get().value("spec", json::object()).value("template", json::object());
  withoutScaleToZero(podTemplate);
  json parts = {{"template", podTemplate}, {"configs", trackedConfigs}};
  return digest(api::JsonValue(parts));
}

Result<router::Selector> selectorOf(const api::JsonValue& targetValue,
                                    const std::vector<std::string>& labels) {
  const json& target = targetValue.get();
  const json* spec = jsonread::object(target, "spec");
  const json* selector = spec == nullptr ? nullptr : jsonread::object(*spec, "selector");
  const json* matchLabels =
      selector == nullptr ? nullptr : jsonread::object(*selector, "matchLabels");
  for (const std::string& label : labels) {
    if (matchLabels == nullptr) break;
    const std::string value = jsonread::string(*matchLabels, label);
    if (!value.empty()) return router::Selector{label, value};
  }
  const json* meta = jsonread::object(target, "metadata");
  return Error::invalidInput(
      "the target " + (meta == nullptr ? std::string() : jsonread::string(*meta, "name")) +
      " selects its pods by none of the labels " + join(labels, ", ") +
      " (spec.selector.matchLabels); canaryd names the primary's pods and the Services' "
      "selectors after that label (canaryd run --selector-labels)");
}

api::JsonValue buildPrimaryDeployment(const api::Canary& canary, const api::JsonValue& targetValue,
                                      const ConfigRefs& tracked, const std::string& revision,
                                      const router::Selector& selector) {
  const json& target = targetValue.get();
  const std::string name = target["metadata"].value("name", "");
  const std::string primary = name + "-primary";
  const std::string& label = selector.label;
  const std::string pods = selector.value.empty() ? name : selector.value;
  const std::string primaryPods = pods + "-primary";
  json spec = target.value("spec", json::object());
  json podTemplate = spec.value("template", json::object());
  withoutScaleToZero(podTemplate);
  const bool daemonSet = target.value("kind", "") == "DaemonSet";
  json& templateMeta = podTemplate["metadata"];
  if (!templateMeta.is_object()) templateMeta = json::object();
  templateMeta["labels"] = withoutFlux(templateMeta.value("labels", json::object()));
  templateMeta["labels"][label] = primaryPods;
  templateMeta["annotations"] = withoutFlux(templateMeta.value("annotations", json::object()));
  templateMeta["annotations"]["flagger-id"] = revision;
  if (podTemplate.contains("spec")) {
    renameConfigs(podTemplate["spec"], tracked);
    renameSelectors(podTemplate["spec"], label, pods, primaryPods);
  }
  json labels = withoutTracking(target["metadata"].value("labels", json::object()));
  labels[label] = primaryPods;
  json annotations = withoutTracking(target["metadata"].value("annotations", json::object()));
  annotations.erase("kubectl.kubernetes.io/last-applied-configuration");
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    annotations[std::string(key)] = std::string(value);
  json out = {
      {"apiVersion", "apps/v1"},
      {"kind", daemonSet ? "DaemonSet" : "Deployment"},
      {"metadata",
       {{"name", primary},
        {"namespace", target["metadata"].value("namespace", "default")},
        {"labels", labels},
        {"annotations", annotations},
        {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}}},
      {"spec",
       {{"selector", {{"matchLabels", {{label, primaryPods}}}}}, {"template", podTemplate}}}};
  for (const char* field : {"strategy", "updateStrategy", "minReadySeconds", "revisionHistoryLimit",
                            "progressDeadlineSeconds"}) {
    if (spec.contains(field)) out["spec"][field] = spec[field];
  }
  if (!canary.spec.autoscalerRef && !daemonSet) out["spec"]["replicas"] = spec.value("replicas", 1);
  return api::JsonValue(std::move(out));
}

Readiness deploymentReadiness(const api::JsonValue& deploymentValue, std::int64_t readyThreshold) {
  const json& d = deploymentValue.get();
  const std::string name = d.value("metadata", json::object()).value("name", "");
  const std::int64_t generation =
      d.value("metadata", json::object()).value("generation", std::int64_t{0});
  const json status = d.value("status", json::object());
  const std::int64_t replicas = d.value("spec", json::object()).value("replicas", std::int64_t{1});
  if (status.value("observedGeneration", std::int64_t{0}) < generation) {
    return {false, "waiting for the rollout of " + name + " to be observed"};
  }
  for (const json& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == "Progressing" &&
        c.value("reason", "") == "ProgressDeadlineExceeded") {
      return {false, "deployment " + name + " exceeded its progress deadline"};
    }
  }
  const std::int64_t updated = status.value("updatedReplicas", std::int64_t{0});
  const std::int64_t available = status.value("availableReplicas", std::int64_t{0});
  if (updated < replicas) {
    return {false, "waiting for " + name + " rollout: " + std::to_string(updated) + " of " +
                       std::to_string(replicas) + " updated replicas"};
  }
  // At least readyThreshold percent of the replicas available (rounded up).
  const std::int64_t needed = (replicas * readyThreshold + 99) / 100;
  if (available < needed) {
    return {false, "waiting for " + name + " rollout: " + std::to_string(available) + " of " +
                       std::to_string(replicas) + " replicas available (" +
                       std::to_string(readyThreshold) + "% needed)"};
  }
  return {true, ""};
}

const cluster::Resource& workloadResource(const std::string& kind, const std::string& apiVersion) {
  if (kind == "Service") {
    return apiVersion == api::kKnativeServingApiVersion ? cluster::kKnativeServices
                                                        : cluster::kServices;
  }
  return kind == "DaemonSet" ? cluster::kDaemonSets : cluster::kDeployments;
}

std::int64_t scaleOf(const api::JsonValue& workload) {
  const json& w = workload.get();
  if (w.value("kind", "") == "Service") return 1;
  if (w.value("kind", "") != "DaemonSet") {
    return w.value("spec", json::object()).value("replicas", std::int64_t{1});
  }
  const json selector = w.value(json::json_pointer("/spec/template/spec/nodeSelector"), json());
  return selector.is_object() && selector.contains(kScaleToZeroLabel) ? 0 : 1;
}

std::string scalePatch(const std::string& kind, std::int64_t replicas) {
  if (kind != "DaemonSet") return json{{"spec", {{"replicas", replicas}}}}.dump();
  const json value = replicas == 0 ? json("true") : json();
  return json{
      {"spec", {{"template", {{"spec", {{"nodeSelector", {{kScaleToZeroLabel, value}}}}}}}}}}
      .dump();
}

bool isKnativeService(const api::JsonValue& object) {
  const json& o = object.get();
  return o.is_object() && jsonread::string(o, "kind") == "Service" &&
         jsonread::string(o, "apiVersion") == api::kKnativeServingApiVersion;
}

std::string latestCreatedRevision(const api::JsonValue& knativeService) {
  const json* status = jsonread::object(knativeService.get(), "status");
  return status == nullptr ? "" : jsonread::string(*status, "latestCreatedRevisionName");
}

std::string primaryRevision(const api::JsonValue& knativeService) {
  const json* meta = jsonread::object(knativeService.get(), "metadata");
  const json* annotations = meta == nullptr ? nullptr : jsonread::object(*meta, "annotations");
  return annotations == nullptr ? "" : jsonread::string(*annotations, api::kKnativePrimaryRevision);
}

Readiness revisionReadiness(const api::JsonValue& revision) {
  const json& r = revision.get();
  const json* meta = jsonread::object(r, "metadata");
  const std::string name = meta == nullptr ? "" : jsonread::string(*meta, "name");
  const std::int64_t generation =
      meta == nullptr ? 0 : jsonread::integer(*meta, "generation").value_or(0);
  const json* status = jsonread::object(r, "status");
  if (status == nullptr ||
      jsonread::integer(*status, "observedGeneration").value_or(0) < generation) {
    return {false, "waiting for Knative to observe Revision " + name};
  }
  const json* conditions = jsonread::array(*status, "conditions");
  for (const json& c : conditions == nullptr ? json::array() : *conditions) {
    if (jsonread::string(c, "type") != "Ready") continue;
    if (jsonread::string(c, "status") == "True") return {true, ""};
    const std::string why = jsonread::string(c, "message");
    return {false, "Knative Revision " + name + " is not ready" + (why.empty() ? "" : ": " + why)};
  }
  return {false, "Knative Revision " + name + " is not ready (no Ready condition yet)"};
}

Readiness workloadReadiness(const api::JsonValue& workload, std::int64_t readyThreshold) {
  if (workload.get().value("kind", "") == "Revision") return revisionReadiness(workload);
  // A Service has no pods of its own to wait for (Flagger's ServiceController: always ready).
  if (workload.get().value("kind", "") == "Service") return {true, ""};
  return workload.get().value("kind", "") == "DaemonSet"
             ? daemonSetReadiness(workload, readyThreshold)
             : deploymentReadiness(workload, readyThreshold);
}

Readiness daemonSetReadiness(const api::JsonValue& daemonSet, std::int64_t readyThreshold) {
  const json& d = daemonSet.get();
  const std::string name = d.value("metadata", json::object()).value("name", "");
  const std::int64_t generation =
      d.value("metadata", json::object()).value("generation", std::int64_t{0});
  const json status = d.value("status", json::object());
  if (status.value("observedGeneration", std::int64_t{0}) < generation) {
    return {false, "waiting for the rollout of " + name + " to be observed"};
  }
  const std::int64_t desired = status.value("desiredNumberScheduled", std::int64_t{0});
  const std::int64_t updated = status.value("updatedNumberScheduled", std::int64_t{0});
  const std::int64_t available = status.value("numberAvailable", std::int64_t{0});
  if (updated < desired) {
    return {false, "waiting for " + name + " rollout: " + std::to_string(updated) + " of " +
                       std::to_string(desired) + " scheduled pods updated"};
  }
  const std::int64_t needed = (desired * readyThreshold + 99) / 100;
  if (available < needed) {
    return {false, "waiting for " + name + " rollout: " + std::to_string(available) + " of " +
                       std::to_string(desired) + " scheduled pods available (" +
                       std::to_string(readyThreshold) + "% needed)"};
  }
  return {true, ""};
}

std::string imagesOf(const api::JsonValue& deployment) {
  std::string out;
  const nlohmann::json& pod = deployment.get().value(
      nlohmann::json::json_pointer("/spec/template/spec"), nlohmann::json::object());
  for (const char* list : {"containers", "initContainers"}) {
    for (const nlohmann::json& c : pod.value(list, nlohmann::json::array())) {
      if (!out.empty()) out += ", ";
      // A Knative Service's single container may go unnamed: its image alone.
      const std::string name = c.value("name", "");
      out += (name.empty() ? "" : name + "=") + c.value("image", "");
    }
  }
  return out;
}

}  // namespace canaryd::controller
