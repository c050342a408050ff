#include "canaryd/router/kuma.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "canaryd/cluster/gitops.h"
#include "canaryd/core/json_read.h"

#include "router/json_weight.h"
#include "router/object_writes.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

constexpr const char* kApiVersion = "kuma.io/v1alpha1";
constexpr const char* kServiceTag = "kuma.io/service";
constexpr const char* kMeshAnnotation = "kuma.io/mesh";

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

std::string describe(const api::Canary& canary) {
  return "TrafficRoute " + apexServiceName(canary);
}

json split(const api::Canary& canary, const std::string& name, std::int64_t weight) {
  return {{"weight", weight}, {"destination", {{kServiceTag, kumaServiceTag(canary, name)}}}};
}

// The splits to the primary and the canary, in that order, as Flagger writes them.
json splits(const api::Canary& canary, const Weights& weights) {
  const std::string apex = apexServiceName(canary);
  return json::array({split(canary, apex + "-primary", weights.primary),
                      split(canary, apex + "-canary", weights.canary)});
}

// The parts of a Kuma service tag `<name>_<namespace>_svc_<port>`; false for any other text.
bool parseTag(const std::string& tag, std::string& name, std::string& ns) {
  const std::size_t first = tag.find('_');
  if (first == std::string::npos) return false;
  const std::size_t svc = tag.find("_svc_", first + 1);
  if (svc == std::string::npos || svc == first + 1) return false;
  name = tag.substr(0, first);
  ns = tag.substr(first + 1, svc - first - 1);
  return true;
}

std::string tagOf(const json& selector, const char* key) {
  const json* match = jsonread::object(selector, key);
  if (match == nullptr || !match->contains(kServiceTag) || !(*match)[kServiceTag].is_string())
    return "";
  return (*match)[kServiceTag].get<std::string>();
}

// Another Canary's TrafficRoute: its destination is the apex Service of another namespace (the
// object is cluster-scoped, named after the apex Service only).
Status checkNotForeign(const json& route, const api::Canary& canary) {
  const json* spec = jsonread::object(route, "spec");
  if (spec == nullptr || !spec->contains("destinations") || !(*spec)["destinations"].is_array())
    return {};
  for (const json& destination : (*spec)["destinations"]) {
    std::string name, ns;
    const std::string tag = tagOf(destination, "match");
    if (parseTag(tag, name, ns) && name == apexServiceName(canary) && ns != namespaceOf(canary)) {
      return Error::invalidInput(describe(canary) + " routes " + tag + " of namespace " + ns +
                                 ": it belongs to another Canary (a TrafficRoute is "
                                 "cluster-scoped and named after the apex Service; set "
                                 "spec.service.name to a name of its own)");
    }
  }
  return {};
}

Result<std::int64_t> weightOf(const json& entry, const std::string& what) {
  return wholeWeight(entry, what, "a split");
}

// The split as read from conf.split: the weights of the primary's and the canary's services of
// the Canary's namespace (at any port).
Result<Weights> weightsIn(const json& route, const api::Canary& canary, const std::string& what) {
  const std::string apex = apexServiceName(canary);
  Weights w{0, 0, false};
  const json* spec = jsonread::object(route, "spec");
  const json* conf = spec != nullptr ? jsonread::object(*spec, "conf") : nullptr;
  if (conf != nullptr && conf->contains("split") && (*conf)["split"].is_array()) {
    for (const json& entry : (*conf)["split"]) {
      std::string name, ns;
      if (!entry.is_object() || !parseTag(tagOf(entry, "destination"), name, ns) ||
          ns != namespaceOf(canary))
        continue;
      if (name != apex + "-primary" && name != apex + "-canary") continue;
      Result<std::int64_t> weight = weightOf(entry, what);
      if (!weight) return weight.error();
      (name == apex + "-primary" ? w.primary : w.canary) = *weight;
    }
  }
  if (w.primary == 0 && w.canary == 0) {
    return Error::unavailable(what + " routes nothing to " + apex + "-primary or " + apex +
                              "-canary; the next reconcile restores its splits");
  }
  return w;
}

}  // namespace

std::string kumaServiceTag(const api::Canary& canary, const std::string& name) {
  const std::int64_t port =
      canary.spec.service && canary.spec.service->port ? *canary.spec.service->port : 0;
  return name + "_" + namespaceOf(canary) + "_svc_" + std::to_string(port);
}

api::JsonValue buildTrafficRoute(const api::Canary& canary, const Weights& weights,
                                 const api::JsonValue& existing) {
  const std::string apex = apexServiceName(canary);
  json route;
  if (existing.present() && existing.get().is_object()) {
    route = existing.get();
  } else {
    // Cluster-scoped: no namespace, and no owner (a namespaced Canary cannot own it).
    route["metadata"] = {{"name", apex}};
    const auto mesh = canary.metadata.annotations.find(kMeshAnnotation);
    route["mesh"] = mesh != canary.metadata.annotations.end() ? mesh->second : "default";
  }
  route["apiVersion"] = kApiVersion;
  route["kind"] = "TrafficRoute";

  json& meta = route["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (canary.spec.service && canary.spec.service->apex) {
    for (const auto& [key, value] : canary.spec.service->apex->labels)
      meta["labels"][key] = value;
    for (const auto& [key, value] : canary.spec.service->apex->annotations)
      meta["annotations"][key] = value;
  }
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    meta["annotations"][std::string(key)] = std::string(value);

  if (!route.contains("spec") || !route["spec"].is_object()) route["spec"] = json::object();
  json& spec = route["spec"];
  spec["sources"] = json::array({{{"match", {{kServiceTag, "*"}}}}});
  spec["destinations"] = json::array({{{"match", {{kServiceTag, kumaServiceTag(canary, apex)}}}}});
  if (!spec.contains("conf") || !spec["conf"].is_object()) spec["conf"] = json::object();
  spec["conf"]["split"] = splits(canary, weights);
  return api::JsonValue(std::move(route));
}

KumaRouter::KumaRouter(cluster::Client& client) : client_(client) {}

Status KumaRouter::reconcile(const api::Canary& canary) {
  const std::string what = describe(canary);
  return createOrUpdateObject(client_, kKumaTrafficRoutes, {"", apexServiceName(canary)}, what,
                              [&](const api::JsonValue& existing) -> Result<api::JsonValue> {
                                // A new route sends everything to the primary.
                                if (!existing.present())
                                  return buildTrafficRoute(canary, {}, existing);
                                if (Status s = checkNotForeign(existing.get(), canary); !s)
                                  return s.error();
                                // Weights are the business of setRoutes: a rewrite keeps them (all
                                // on the primary when they cannot be read).
                                Result<Weights> current = weightsIn(existing.get(), canary, what);
                                return buildTrafficRoute(canary, current ? *current : Weights{},
                                                         existing);
                              });
}

Status KumaRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string what = describe(canary);
  if (weights.mirror) {
    return Error::invalidInput(what +
                               ": a Kuma TrafficRoute cannot mirror traffic (provider kuma); use "
                               "analysis.iterations without mirror");
  }
  return updateObject(client_, kKumaTrafficRoutes, {"", apexServiceName(canary)}, what,
                      [&](const api::JsonValue& existing) -> Result<api::JsonValue> {
                        if (Status s = checkNotForeign(existing.get(), canary); !s)
                          return s.error();
                        json route = existing.get();
                        if (!route.contains("spec") || !route["spec"].is_object())
                          route["spec"] = json::object();
                        if (!route["spec"].contains("conf") || !route["spec"]["conf"].is_object())
                          route["spec"]["conf"] = json::object();
                        // Only the splits change, as in Flagger; reconcile owns the rest.
                        route["spec"]["conf"]["split"] = splits(canary, weights);
                        return api::JsonValue(std::move(route));
                      });
}

Result<Weights> KumaRouter::getRoutes(const api::Canary& canary) {
  const std::string what = describe(canary);
  Result<api::JsonValue> route = client_.get(kKumaTrafficRoutes, {"", apexServiceName(canary)});
  if (!route) return route.error().withContext(what);
  return weightsIn(route->get(), canary, what);
}

std::vector<RouterPlugin> kumaRouters() {
  api::RouterEntry entry;
  entry.name = "kuma";
  entry.can.weights = true;
  // A Service target brings its own -primary and -canary Services: the route is the same.
  entry.can.targetKinds = {"Deployment", "DaemonSet", "Service"};
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<KumaRouter>(c.client);
           }}};
}

}  // namespace canaryd::router
