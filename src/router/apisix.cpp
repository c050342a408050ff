#include "canaryd/router/apisix.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/core/json_read.h"

#include "router/json_weight.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

constexpr const char* kApiVersion = "apisix.apache.org/v2";
// Flagger's maxPriority: the canary route wins over the user's route, which matches the same
// requests.
constexpr std::int64_t kCanaryPriority = 10000;
// kubectl's record of the user's last apply: copied onto the canary route, it would make an
// apply of that route compute its patch from the user's object.
constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

std::string routeRefName(const api::Canary& canary) {
  return canary.spec.routeRef ? canary.spec.routeRef->name.value_or("") : "";
}

std::string describe(const api::Canary& canary) {
  return "ApisixRoute " + namespaceOf(canary) + "/" + apisixCanaryRouteName(canary);
}

std::string describeUser(const api::Canary& canary) {
  return "ApisixRoute " + namespaceOf(canary) + "/" + routeRefName(canary) + " (spec.routeRef)";
}

const json* member(const json& parent, const char* key, json::value_t type) {
  if (!parent.is_object() || !parent.contains(key) || parent[key].type() != type) return nullptr;
  return &parent[key];
}

bool hasBackend(const json& http, const std::string& service) {
  const json* backends = member(http, "backends", json::value_t::array);
  if (backends == nullptr) return false;
  for (const json& backend : *backends) {
    if (jsonread::string(backend, "serviceName") == service) return true;
  }
  return false;
}

// The index of the first http route of `route` with a backend `service` (as Flagger's
// getTargetHttpRoute); nothing when there is none.
std::optional<std::size_t> httpRouteWith(const json& route, const std::string& service) {
  const json* spec = member(route, "spec", json::value_t::object);
  const json* http = spec != nullptr ? member(*spec, "http", json::value_t::array) : nullptr;
  if (http == nullptr) return std::nullopt;
  for (std::size_t i = 0; i < http->size(); ++i) {
    if (hasBackend((*http)[i], service)) return i;
  }
  return std::nullopt;
}

// The weights of the primary's and the canary's backends of the canary route.
Result<Weights> weightsIn(const json& route, const api::Canary& canary, const std::string& what) {
  const std::string apex = apexServiceName(canary);
  Weights w{0, 0, false};
  if (std::optional<std::size_t> index = httpRouteWith(route, apex + "-primary")) {
    for (const json& backend : route["spec"]["http"][*index]["backends"]) {
      const std::string name = jsonread::string(backend, "serviceName");
      if (name != apex + "-primary" && name != apex + "-canary") continue;
      Result<std::int64_t> weight = wholeWeight(backend, what, "a backend");
      if (!weight) return weight.error();
      (name == apex + "-primary" ? w.primary : w.canary) = *weight;
    }
  }
  if (w.primary == 0 && w.canary == 0) {
    return Error::unavailable(what + " routes nothing to " + apex + "-primary or " + apex +
                              "-canary; the next reconcile restores its backends");
  }
  return w;
}

// The user's route's labels or annotations that the canary route carries: all but GitOps
// tracking keys (Flux or Argo CD would adopt the canary route) and kubectl's last apply.
void copyMetadata(const json& from, json& to, const char* field) {
  const json* values = member(from, field, json::value_t::object);
  if (values == nullptr) return;
  for (auto it = values->begin(); it != values->end(); ++it) {
    if (!it->is_string() || cluster::isGitopsTrackingKey(it.key()) || it.key() == kLastApplied)
      continue;
    to[field][it.key()] = *it;
  }
}

}  // namespace

std::string apisixCanaryRouteName(const api::Canary& canary) {
  return routeRefName(canary) + "-" + apexServiceName(canary) + "-canary";
}

Result<api::JsonValue> buildApisixCanaryRoute(const api::Canary& canary, const Weights& weights,
                                              const api::JsonValue& userRoute,
                                              const api::JsonValue& existing) {
  const std::string apex = apexServiceName(canary);
  const std::string user = describeUser(canary);
  const json& source = userRoute.get();  // null when absent
  const json* spec = member(source, "spec", json::value_t::object);
  const json* http = spec != nullptr ? member(*spec, "http", json::value_t::array) : nullptr;
  if (http == nullptr || http->empty()) return Error::invalidInput(user + ": spec.http is empty");
  std::optional<std::size_t> index = httpRouteWith(source, apex);
  if (!index) {
    return Error::invalidInput(user + ": no http route has the backend " + apex +
                               " (the apex Service)");
  }
  json target = (*http)[*index];
  const json& backends = target["backends"];
  if (backends.size() != 1) {
    return Error::invalidInput(user + ": http route " + jsonread::string(target, "name") + " has " +
                               std::to_string(backends.size()) + " backends; only one backend (" +
                               apex + ") is supported");
  }

  // The user's backend, pointed at the primary; the canary's beside it.
  json primary = backends[0];
  primary["serviceName"] = apex + "-primary";
  primary["weight"] = weights.primary;
  json canaryBackend = {{"serviceName", apex + "-canary"}, {"weight", weights.canary}};
  for (const char* field : {"servicePort", "resolveGranularity", "subset"}) {
    // Flagger's typed copy omits an empty resolveGranularity or subset.
    if (primary.contains(field) && !(primary[field].is_string() && primary[field] == ""))
      canaryBackend[field] = primary[field];
  }
  target["backends"] = json::array({primary, canaryBackend});
  target["priority"] = kCanaryPriority;
  // Flagger's typed copy always writes websocket.
  if (!target.contains("websocket")) target["websocket"] = false;

  json object;
  if (existing.present() && existing.get().is_object()) {
    object = existing.get();
  } else {
    object["metadata"] = {{"name", apisixCanaryRouteName(canary)},
                          {"namespace", namespaceOf(canary)},
                          {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}};
  }
  object["apiVersion"] = kApiVersion;
  object["kind"] = "ApisixRoute";
  json& meta = object["metadata"];
  if (!meta.is_object()) meta = json::object();
  for (const char* field : {"labels", "annotations"}) {
    if (meta.contains(field) && !meta[field].is_object()) meta.erase(field);
  }
  const json* userMeta = member(source, "metadata", json::value_t::object);
  if (userMeta != nullptr) {
    copyMetadata(*userMeta, meta, "labels");
    copyMetadata(*userMeta, meta, "annotations");
  }
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    meta["annotations"][std::string(key)] = std::string(value);

  // The user's spec (stream routes and all) with only the target http route.
  json canarySpec = *spec;
  canarySpec["http"] = json::array({target});
  object["spec"] = canarySpec;
  return api::JsonValue(std::move(object));
}

ApisixRouter::ApisixRouter(cluster::Client& client) : client_(client) {}

Status ApisixRouter::reconcile(const api::Canary& canary) {
  if (routeRefName(canary).empty()) {
    return Error::invalidInput(
        "provider apisix needs spec.routeRef.name (the ApisixRoute to "
        "derive the canary route from)");
  }
  const std::string ns = namespaceOf(canary);
  const std::string what = describe(canary);
  Result<api::JsonValue> userRoute = client_.get(kApisixRoutes, {ns, routeRefName(canary)});
  if (!userRoute) return userRoute.error().withContext(describeUser(canary));
  const cluster::ObjectRef ref{ns, apisixCanaryRouteName(canary)};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(kApisixRoutes, ref);
        if (!existing) {
          if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
          // A new route sends everything to the primary; a 409 (created meanwhile) looks again.
          Result<api::JsonValue> created =
              buildApisixCanaryRoute(canary, {}, *userRoute, api::JsonValue());
          if (!created) return created.error();
          return client_.create(kApisixRoutes, ns, *created);
        }
        // Weights are the business of setRoutes: a rewrite keeps them (all on the primary when
        // they cannot be read).
        Result<Weights> current = weightsIn(existing->get(), canary, what);
        Result<api::JsonValue> desired =
            buildApisixCanaryRoute(canary, current ? *current : Weights{}, *userRoute, *existing);
        if (!desired) return desired.error();
        if (desired->get() == existing->get()) return *existing;
        return client_.update(kApisixRoutes, *desired);
      });
  if (!written) return written.error().withContext(what);
  return {};
}

Status ApisixRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string what = describe(canary);
  if (weights.mirror) {
    return Error::invalidInput(what +
                               ": an ApisixRoute cannot mirror traffic (provider apisix); use "
                               "analysis.iterations without mirror");
  }
  if (weights.primary == 0 && weights.canary == 0) {
    return Error::invalidInput(what + ": no valid weights (primary 0, canary 0)");
  }
  const std::string apex = apexServiceName(canary);
  const cluster::ObjectRef ref{namespaceOf(canary), apisixCanaryRouteName(canary)};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(kApisixRoutes, ref);
        if (!existing) return existing.error();
        json route = existing->get();
        std::optional<std::size_t> index = httpRouteWith(route, apex + "-primary");
        if (!index || !hasBackend(route["spec"]["http"][*index], apex + "-canary")) {
          return Error::unavailable("it has no http route with the backends " + apex +
                                    "-primary and " + apex +
                                    "-canary; the next reconcile restores them");
        }
        // Only the weights change, as in Flagger; reconcile owns the rest.
        for (json& backend : route["spec"]["http"][*index]["backends"]) {
          const std::string name = jsonread::string(backend, "serviceName");
          if (name == apex + "-primary") backend["weight"] = weights.primary;
          if (name == apex + "-canary") backend["weight"] = weights.canary;
        }
        if (route == existing->get()) return *existing;
        return client_.update(kApisixRoutes, api::JsonValue(std::move(route)));
      });
  if (!written) return written.error().withContext(what);
  return {};
}

Result<Weights> ApisixRouter::getRoutes(const api::Canary& canary) {
  const std::string what = describe(canary);
  Result<api::JsonValue> route =
      client_.get(kApisixRoutes, {namespaceOf(canary), apisixCanaryRouteName(canary)});
  if (!route) return route.error().withContext(what);
  return weightsIn(route->get(), canary, what);
}

std::vector<RouterPlugin> apisixRouters() {
  api::RouterEntry entry;
  entry.name = "apisix";
  entry.can.weights = true;
  // A Service target brings its own -primary and -canary Services: the route is the same.
  entry.can.targetKinds = {"Deployment", "DaemonSet", "Service"};
  entry.check = [](const api::Canary& canary) {
    api::FieldProblems problems;
    const auto& ref = canary.spec.routeRef;
    if (!ref) {
      problems.push_back({"spec.routeRef",
                          "provider apisix derives the canary route from an ApisixRoute: set "
                          "spec.routeRef (apiVersion apisix.apache.org/v2, kind ApisixRoute, "
                          "name)"});
      return problems;
    }
    if (!ref->name || ref->name->empty()) {
      problems.push_back(
          {"spec.routeRef.name", "the name of the ApisixRoute to derive the canary route from"});
    }
    if (ref->kind && *ref->kind != "ApisixRoute") {
      problems.push_back({"spec.routeRef.kind",
                          "provider apisix routes through an ApisixRoute, not a " + *ref->kind});
    }
    return problems;
  };
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<ApisixRouter>(c.client);
           }}};
}

}  // namespace canaryd::router
