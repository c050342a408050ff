#include "kubesim/knative_serving.h"

#include <cstdio>
#include <optional>

#include "kubesim/api_error.h"
#include "kubesim/controller_simulator.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

constexpr const char* kGroup = "serving.knative.dev";
constexpr const char* kServiceLabel = "serving.knative.dev/service";
constexpr const char* kGenerationLabel = "serving.knative.dev/configurationGeneration";

json readyCondition(const std::string& type, bool ready, const std::string& reason) {
  json c = {{"type", type}, {"status", ready ? "True" : "Unknown"}};
  if (!ready) c["reason"] = reason;
  return c;
}

std::int64_t configurationGeneration(const json& revision) {
  const std::string value = revision.value("metadata", json::object())
                                .value("labels", json::object())
                                .value(kGenerationLabel, "0");
  if (value.empty() || value.size() > 18 ||
      value.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  return std::stoll(value);
}

bool isReady(const json& revision) {
  for (const json& c :
       revision.value("status", json::object()).value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

// The Revision Knative makes of `service`'s current template: the `number`th.
json revisionOf(const json& service, std::int64_t number) {
  const json& meta = service["metadata"];
  const std::string name = meta.value("name", "");
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "-%05lld", static_cast<long long>(number));
  const json podTemplate = service.value("spec", json::object()).value("template", json::object());
  json labels = podTemplate.value("metadata", json::object()).value("labels", json::object());
  labels[kServiceLabel] = name;
  labels["serving.knative.dev/configuration"] = name;
  labels[kGenerationLabel] = std::to_string(number);
  return {{"apiVersion", std::string(kGroup) + "/v1"},
          {"kind", "Revision"},
          {"metadata",
           {{"name", name + suffix},
            {"namespace", meta.value("namespace", "")},
            {"labels", labels},
            {"annotations",
             podTemplate.value("metadata", json::object()).value("annotations", json::object())},
            {"ownerReferences",
             {{{"apiVersion", std::string(kGroup) + "/v1"},
               {"kind", "Service"},
               {"name", name},
               {"uid", meta.value("uid", "")},
               {"controller", true}}}}}},
          {"spec", podTemplate.value("spec", json::object())}};
}

// The Route's status.traffic for spec.traffic, `latestRevision` resolved to `latestReady`.
json servedTraffic(const json& service, const std::string& latestReady) {
  const json spec = service.value("spec", json::object());
  json traffic = spec.value("traffic", json::array());
  if (!traffic.is_array() || traffic.empty()) {
    return json::array(
        {{{"latestRevision", true}, {"percent", 100}, {"revisionName", latestReady}}});
  }
  json served = json::array();
  for (json entry : traffic) {
    if (!entry.is_object()) continue;
    const bool latest = entry.value("latestRevision", !entry.contains("revisionName"));
    entry["latestRevision"] = latest;
    if (latest) entry["revisionName"] = latestReady;
    served.push_back(entry);
  }
  return served;
}

}  // namespace

bool isKnativeService(const ResourceType& type) {
  return type.group == kGroup && type.resource == "services";
}

void convergeKnativeService(Store& store, const ResourceRegistry& registry, const std::string& ns,
                            const std::string& name, std::int64_t generation) {
  const std::optional<ResourceType> services = registry.find(kGroup, "v1", "services");
  const std::optional<ResourceType> revisions = registry.find(kGroup, "v1", "revisions");
  if (!services || !revisions) {
    throw ApiError{404, "NotFound", "the Knative Serving CRDs are not served"};
  }
  const json service = store.get(*services, ns, name);
  if (service["metadata"].value("generation", std::int64_t{1}) != generation) return;

  // The Service's Revisions; the newest is the one of the highest configuration generation.
  ListQuery ofService;
  ofService.labelSelector = std::string(kServiceLabel) + "=" + name;
  const json listed = store.list(*revisions, ns, ofService);
  std::optional<json> newest;
  std::int64_t count = 0;
  for (const json& revision : listed.value("items", json::array())) {
    ++count;
    if (!newest || configurationGeneration(revision) > configurationGeneration(*newest)) {
      newest = revision;
    }
  }
  const json podTemplate = service.value("spec", json::object()).value("template", json::object());
  const json wantedSpec = podTemplate.value("spec", json::object());
  std::string latestReady =
      service.value("status", json::object()).value("latestReadyRevisionName", "");
  const json wantedAnnotations =
      podTemplate.value("metadata", json::object()).value("annotations", json::object());
  const bool sameTemplate =
      newest && newest->value("spec", json::object()) == wantedSpec &&
      (*newest)["metadata"].value("annotations", json::object()) == wantedAnnotations;
  if (!sameTemplate) {
    json made = store.create(*revisions, ns, revisionOf(service, count + 1));
    const bool ready = wantedAnnotations.value(kNeverReadyAnnotation, "") != "true";
    const std::string madeName = made["metadata"].value("name", "");
    newest = store.patch(
        *revisions, ns, madeName,
        [&](const json& current) {
          json next = current;
          next["status"] = {{"observedGeneration", current["metadata"].value("generation", 1)},
                            {"conditions", {readyCondition("Ready", ready, "Deploying")}}};
          return next;
        },
        /*status=*/true);
  }
  const std::string latestCreated = (*newest)["metadata"].value("name", "");
  if (isReady(*newest)) latestReady = latestCreated;
  const bool ready = latestReady == latestCreated;
  store.patch(
      *services, ns, name,
      [&](const json& current) {
        json next = current;
        next["status"] = {{"observedGeneration", generation},
                          {"latestCreatedRevisionName", latestCreated},
                          {"latestReadyRevisionName", latestReady},
                          {"url", "http://" + name + "." + ns + ".example.com"},
                          {"traffic", servedTraffic(current, latestReady)},
                          {"conditions",
                           {readyCondition("ConfigurationsReady", ready, "RevisionMissing"),
                            readyCondition("Ready", ready, "RevisionMissing"),
                            readyCondition("RoutesReady", true, "")}}};
        if (latestReady.empty()) next["status"].erase("latestReadyRevisionName");
        return next;
      },
      /*status=*/true);
}

}  // namespace canaryd::kubesim
