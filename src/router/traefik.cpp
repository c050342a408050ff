#include "canaryd/router/traefik.h"

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"

#include "router/json_weight.h"
#include "router/object_writes.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

std::string describe(const api::Canary& canary) {
  return "TraefikService " + namespaceOf(canary) + "/" + apexServiceName(canary);
}

json service(const api::Canary& canary, const std::string& name, std::int64_t weight) {
  const std::int64_t port =
      canary.spec.service && canary.spec.service->port ? *canary.spec.service->port : 0;
  return {{"name", name}, {"namespace", namespaceOf(canary)}, {"port", port}, {"weight", weight}};
}

// The weighted services as Flagger writes them: the primary, then the canary while it has
// traffic. The primary's weight is written even when it is 0 (Flagger omits a 0, which Traefik
// reads as 1).
json services(const api::Canary& canary, const Weights& weights) {
  const std::string apex = apexServiceName(canary);
  json out = json::array({service(canary, apex + "-primary", weights.primary)});
  if (weights.canary > 0) out.push_back(service(canary, apex + "-canary", weights.canary));
  return out;
}

// The object's spec.weighted, made an object (someone may have broken it).
json& weightedOf(json& object) {
  if (!object.contains("spec") || !object["spec"].is_object()) object["spec"] = json::object();
  json& spec = object["spec"];
  if (!spec.contains("weighted") || !spec["weighted"].is_object())
    spec["weighted"] = json::object();
  return spec["weighted"];
}

// The weights of the primary's and the canary's Services of the Canary's namespace in
// spec.weighted.services; an absent service or weight is 0.
Result<Weights> weightsIn(const json& object, const api::Canary& canary, const std::string& what) {
  const std::string apex = apexServiceName(canary);
  Weights w{0, 0, false};
  const json* list = nullptr;
  if (object.is_object() && object.contains("spec") && object["spec"].is_object()) {
    const json& spec = object["spec"];
    if (spec.contains("weighted") && spec["weighted"].is_object() &&
        spec["weighted"].contains("services") && spec["weighted"]["services"].is_array())
      list = &spec["weighted"]["services"];
  }
  if (list != nullptr) {
    for (const json& entry : *list) {
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) continue;
      const std::string name = entry["name"].get<std::string>();
      if (name != apex + "-primary" && name != apex + "-canary") continue;
      // Traefik resolves a service without a namespace in the TraefikService's own.
      if (entry.contains("namespace") &&
          (!entry["namespace"].is_string() || entry["namespace"] != namespaceOf(canary)))
        continue;
      Result<std::int64_t> weight = wholeWeight(entry, what, "a weighted service");
      if (!weight) return weight.error();
      (name == apex + "-primary" ? w.primary : w.canary) = *weight;
    }
  }
  if (w.primary == 0 && w.canary == 0) {
    return Error::unavailable(what + " routes nothing to " + apex + "-primary or " + apex +
                              "-canary; the next reconcile restores its weighted services");
  }
  return w;
}

}  // namespace

api::JsonValue buildTraefikService(const api::Canary& canary, const Weights& weights,
                                   const api::JsonValue& existing, const std::string& apiVersion) {
  json object;
  if (existing.present() && existing.get().is_object()) {
    object = existing.get();
  } else {
    object["metadata"] = {{"name", apexServiceName(canary)},
                          {"namespace", namespaceOf(canary)},
                          {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}};
  }
  object["apiVersion"] = apiVersion;
  object["kind"] = "TraefikService";

  json& meta = object["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (meta.contains("labels") && !meta["labels"].is_object()) meta.erase("labels");
  if (meta.contains("annotations") && !meta["annotations"].is_object()) meta.erase("annotations");
  if (canary.spec.service && canary.spec.service->apex) {
    for (const auto& [key, value] : canary.spec.service->apex->labels)
      meta["labels"][key] = value;
    for (const auto& [key, value] : canary.spec.service->apex->annotations)
      meta["annotations"][key] = value;
  }
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    meta["annotations"][std::string(key)] = std::string(value);

  weightedOf(object)["services"] = services(canary, weights);
  return api::JsonValue(std::move(object));
}

TraefikRouter::TraefikRouter(cluster::Client& client, cluster::Resource resource)
    : client_(client), resource_(std::move(resource)) {}

Status TraefikRouter::reconcile(const api::Canary& canary) {
  const std::string what = describe(canary);
  return createOrUpdateObject(client_, resource_, {namespaceOf(canary), apexServiceName(canary)},
                              what, [&](const api::JsonValue& existing) {
                                // A new TraefikService sends everything to the primary; a rewrite
                                // keeps the weights (setRoutes sets them; all on the primary when
                                // they cannot be read).
                                if (!existing.present())
                                  return buildTraefikService(canary, {}, existing,
                                                             resource_.apiVersion());
                                Result<Weights> current = weightsIn(existing.get(), canary, what);
                                return buildTraefikService(canary, current ? *current : Weights{},
                                                           existing, resource_.apiVersion());
                              });
}

Status TraefikRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string what = describe(canary);
  if (weights.mirror) {
    return Error::invalidInput(what +
                               ": the Traefik router does not mirror traffic (nor does Flagger's); "
                               "use analysis.iterations without mirror");
  }
  if (weights.primary == 0 && weights.canary == 0) {
    return Error::invalidInput(what + ": no valid weights (primary 0, canary 0)");
  }
  return updateObject(
      client_, resource_, {namespaceOf(canary), apexServiceName(canary)}, what,
      [&](const api::JsonValue& existing) -> Result<api::JsonValue> {
        json object = existing.get();
        if (!object.is_object()) {
          return Error::unavailable("the answer is not an object; the next reconcile restores it");
        }
        // Only the weighted services change, as in Flagger; reconcile owns the rest.
        weightedOf(object)["services"] = services(canary, weights);
        return api::JsonValue(std::move(object));
      });
}

Result<Weights> TraefikRouter::getRoutes(const api::Canary& canary) {
  const std::string what = describe(canary);
  Result<api::JsonValue> object =
      client_.get(resource_, {namespaceOf(canary), apexServiceName(canary)});
  if (!object) return object.error().withContext(what);
  return weightsIn(object->get(), canary, what);
}

std::vector<RouterPlugin> traefikRouters() {
  std::vector<RouterPlugin> plugins;
  for (const cluster::Resource* resource : {&kTraefikServices, &kTraefikContainousServices}) {
    api::RouterEntry entry;
    entry.name = resource == &kTraefikServices ? "traefik" : "traefik:containo.us";
    entry.can.weights = true;
    // A Service target brings its own -primary and -canary Services: the object is the same.
    entry.can.targetKinds = {"Deployment", "DaemonSet", "Service"};
    const cluster::Resource r = *resource;
    plugins.push_back({entry, [r](const RouterContext& c) -> std::unique_ptr<Router> {
                         return std::make_unique<TraefikRouter>(c.client, r);
                       }});
  }
  return plugins;
}

}  // namespace canaryd::router
