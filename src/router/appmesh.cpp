#include "canaryd/router/appmesh.h"

#include <cmath>
#include <functional>

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/core/duration.h"

#include "router/json_weight.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

constexpr const char* kApiVersion = "appmesh.k8s.aws/v1beta2";
constexpr const char* kAccessLogAnnotation = "appmesh.flagger.app/accesslog";

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

const api::CanaryService& serviceOf(const api::Canary& canary) {
  static const api::CanaryService kNone;
  return canary.spec.service ? *canary.spec.service : kNone;
}

std::string primaryName(const api::Canary& canary) {
  return apexServiceName(canary) + "-primary";
}
std::string canaryName(const api::Canary& canary) {
  return apexServiceName(canary) + "-canary";
}

// Service.port, or service.targetPort when it is a positive number (Flagger's getContainerPort).
std::int64_t containerPort(const api::Canary& canary) {
  const api::CanaryService& service = serviceOf(canary);
  if (service.targetPort && service.targetPort->isInt() &&
      std::get<std::int64_t>(service.targetPort->value) > 0)
    return std::get<std::int64_t>(service.targetPort->value);
  return service.port.value_or(0);
}

std::string protocol(const api::Canary& canary) {
  const api::CanaryService& service = serviceOf(canary);
  return service.portName && service.portName->find("grpc") != std::string::npos ? "grpc" : "http";
}

json millis(std::int64_t value) {
  return {{"unit", "ms"}, {"value", value}};
}

// service.timeout as an App Mesh duration; null when unset or not a Go duration.
json timeoutDuration(const api::Canary& canary) {
  const api::CanaryService& service = serviceOf(canary);
  if (!service.timeout || service.timeout->empty()) return nullptr;
  Result<Duration> d = parseDuration(*service.timeout);
  if (!d) return nullptr;
  return millis(std::chrono::duration_cast<std::chrono::milliseconds>(*d).count());
}

// Flagger's makeRetryPolicy: null without service.retries; else attempts (default 1),
// perTryTimeout (default 250ms) and retryOn split at commas (default gateway-error).
json retryPolicy(const api::Canary& canary) {
  const api::CanaryService& service = serviceOf(canary);
  if (!service.retries.present() || !service.retries.get().is_object()) return nullptr;
  const json& retries = service.retries.get();
  std::int64_t timeout = 250;
  if (retries.contains("perTryTimeout") && retries["perTryTimeout"].is_string()) {
    if (Result<Duration> d = parseDuration(retries["perTryTimeout"].get<std::string>()); d)
      timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
  }
  std::int64_t attempts = 1;
  if (retries.contains("attempts") && retries["attempts"].is_number_integer() &&
      retries["attempts"].get<std::int64_t>() > 0)
    attempts = retries["attempts"].get<std::int64_t>();
  json events = json::array();
  std::string retryOn = retries.contains("retryOn") && retries["retryOn"].is_string()
                            ? retries["retryOn"].get<std::string>()
                            : "";
  if (retryOn.empty()) {
    events.push_back("gateway-error");
  } else {
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = retryOn.find(',', start);
      events.push_back(retryOn.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return {
      {"perRetryTimeout", millis(timeout)}, {"maxRetries", attempts}, {"httpRetryEvents", events}};
}

json weightedTargets(const api::Canary& canary, std::int64_t canaryWeight,
                     std::int64_t primaryWeight) {
  return {
      {"weightedTargets",
       json::array(
           {{{"virtualNodeRef", {{"name", canaryName(canary)}}}, {"weight", canaryWeight}},
            {{"virtualNodeRef", {{"name", primaryName(canary)}}}, {"weight", primaryWeight}}})}};
}

// The header matches of analysis.match, as Flagger's makeHeaders (keys in name order).
json headerMatches(const api::Canary& canary) {
  json headers = json::array();
  if (!canary.spec.analysis) return headers;
  for (const api::JsonValue& match : canary.spec.analysis->match) {
    if (!match.present() || !match.get().is_object() || !match.get().contains("headers") ||
        !match.get()["headers"].is_object())
      continue;
    for (const auto& [name, value] : match.get()["headers"].items()) {
      json method = json::object();
      for (const char* kind : {"exact", "prefix", "regex", "suffix"}) {
        if (value.is_object() && value.contains(kind) && value[kind].is_string() &&
            !value[kind].get<std::string>().empty())
          method[kind] = value[kind];
      }
      headers.push_back({{"name", name}, {"match", method}});
    }
  }
  return headers;
}

bool hasMatches(const api::Canary& canary) {
  return canary.spec.analysis && !canary.spec.analysis->match.empty();
}

json httpRoute(const api::Canary& canary, json match, json action) {
  json route = {{"match", std::move(match)}, {"action", std::move(action)}};
  if (json timeout = timeoutDuration(canary); !timeout.is_null())
    route["timeout"] = {{"perRequest", timeout}};
  if (json retry = retryPolicy(canary); !retry.is_null()) route["retryPolicy"] = retry;
  return route;
}

json routes(const api::Canary& canary, bool canaryRouter, const Weights& weights) {
  const api::CanaryService& service = serviceOf(canary);
  std::string prefix = "/";
  if (!service.match.empty() && service.match[0].present() && service.match[0].get().is_object()) {
    const json& first = service.match[0].get();
    if (first.contains("uri") && first["uri"].is_object() && first["uri"].contains("prefix") &&
        first["uri"]["prefix"].is_string() && !first["uri"]["prefix"].get<std::string>().empty())
      prefix = first["uri"]["prefix"].get<std::string>();
  }
  const std::string apex = apexServiceName(canary);
  const std::int64_t canaryWeight = canaryRouter ? 100 : weights.canary;
  const std::int64_t primaryWeight = canaryRouter ? 0 : weights.primary;
  if (!canaryRouter && hasMatches(canary)) {
    return json::array(
        {{{"name", apex + "-a"},
          {"priority", 10},
          {"httpRoute", httpRoute(canary, {{"prefix", prefix}, {"headers", headerMatches(canary)}},
                                  weightedTargets(canary, canaryWeight, primaryWeight))}},
         {{"name", apex + "-b"},
          {"priority", 20},
          {"httpRoute",
           httpRoute(canary, {{"prefix", prefix}},
                     {{"weightedTargets",
                       json::array({{{"virtualNodeRef", {{"name", primaryName(canary)}}},
                                     {"weight", 100}}})}})}}});
  }
  return json::array(
      {{{"name", canaryRouter ? canaryName(canary) : apex},
        {"httpRoute", httpRoute(canary, {{"prefix", prefix}},
                                weightedTargets(canary, canaryWeight, primaryWeight))}}});
}

json newObject(const api::Canary& canary, const char* kind, const std::string& name) {
  return {{"apiVersion", kApiVersion},
          {"kind", kind},
          {"metadata",
           {{"name", name},
            {"namespace", namespaceOf(canary)},
            {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}}}};
}

// The existing object, or a new one; the spec fields awsName and meshRef (set by the App Mesh
// controller) are kept.
json startFrom(const api::Canary& canary, const char* kind, const std::string& name,
               const api::JsonValue& existing, json spec) {
  json object;
  if (existing.present() && existing.get().is_object()) {
    object = existing.get();
    if (object.contains("spec") && object["spec"].is_object()) {
      for (const char* kept : {"awsName", "meshRef"}) {
        if (object["spec"].contains(kept)) spec[kept] = object["spec"][kept];
      }
    }
  } else {
    object = newObject(canary, kind, name);
  }
  object["apiVersion"] = kApiVersion;
  object["kind"] = kind;
  object["spec"] = std::move(spec);
  return object;
}

// The first route's action of a VirtualRouter; null when it has none.
const json* firstAction(const json& router) {
  if (!router.contains("spec") || !router["spec"].is_object()) return nullptr;
  const json& spec = router["spec"];
  if (!spec.contains("routes") || !spec["routes"].is_array() || spec["routes"].empty())
    return nullptr;
  const json& route = spec["routes"][0];
  if (!route.is_object() || !route.contains("httpRoute") || !route["httpRoute"].is_object() ||
      !route["httpRoute"].contains("action"))
    return nullptr;
  return &route["httpRoute"]["action"];
}

Result<std::int64_t> weightOf(const json& entry, const std::string& what) {
  return wholeWeight(entry, what, "a weighted target");
}

Result<Weights> weightsIn(const json& router, const api::Canary& canary, const std::string& what) {
  const json* action = firstAction(router);
  const std::string lost = " has no weighted targets for " + primaryName(canary) + " and " +
                           canaryName(canary) + "; the next reconcile restores its routes";
  if (action == nullptr || !action->is_object() || !action->contains("weightedTargets") ||
      !(*action)["weightedTargets"].is_array() || (*action)["weightedTargets"].size() != 2)
    return Error::unavailable(what + lost);
  Weights w{0, 0, false};
  for (const json& target : (*action)["weightedTargets"]) {
    if (!target.is_object() || !target.contains("virtualNodeRef") ||
        !target["virtualNodeRef"].is_object() || !target["virtualNodeRef"].contains("name") ||
        !target["virtualNodeRef"]["name"].is_string())
      continue;
    const std::string name = target["virtualNodeRef"]["name"].get<std::string>();
    if (name != primaryName(canary) && name != canaryName(canary)) continue;
    Result<std::int64_t> weight = weightOf(target, what);
    if (!weight) return weight.error();
    (name == primaryName(canary) ? w.primary : w.canary) = *weight;
  }
  if (w.primary == 0 && w.canary == 0) return Error::unavailable(what + lost);
  return w;
}

// Creates the object when missing, else updates it when `build` changes it.
Status apply(cluster::Client& client, const cluster::Resource& resource, const api::Canary& canary,
             const std::string& name,
             const std::function<api::JsonValue(const api::JsonValue&)>& build) {
  const cluster::ObjectRef ref{namespaceOf(canary), name};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client.get(resource, ref);
        if (!existing) {
          if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
          return client.create(resource, namespaceOf(canary), build(api::JsonValue()));
        }
        api::JsonValue desired = build(*existing);
        if (desired.get() == existing->get()) return *existing;
        return client.update(resource, desired);
      });
  if (!written) return written.error().withContext(resource.kind + " " + name);
  return {};
}

}  // namespace

api::JsonValue buildVirtualNode(const api::Canary& canary, const Selector& selector, bool primary,
                                const api::JsonValue& existing) {
  const api::CanaryService& service = serviceOf(canary);
  const std::string name = primary ? primaryName(canary) : canaryName(canary);
  std::string value = selector.value;
  if (value.empty() && canary.spec.targetRef) value = canary.spec.targetRef->name.value_or("");
  if (primary) value += "-primary";

  json listener = {
      {"portMapping", {{"port", containerPort(canary)}, {"protocol", protocol(canary)}}}};
  if (json timeout = timeoutDuration(canary); !timeout.is_null())
    listener["timeout"] = {{"http", {{"perRequest", timeout}}}};
  json spec = {
      {"listeners", json::array({listener})},
      {"serviceDiscovery",
       {{"dns", {{"hostname", name + "." + namespaceOf(canary) + ".svc.cluster.local."}}}}},
      {"podSelector", {{"matchLabels", {{selector.label, value}}}}}};
  const auto accessLog = canary.metadata.annotations.find(kAccessLogAnnotation);
  if (accessLog != canary.metadata.annotations.end() && accessLog->second == "enabled")
    spec["logging"] = {{"accessLog", {{"file", {{"path", "/dev/stdout"}}}}}};
  if (!service.backends.empty()) {
    json backends = json::array();
    for (const std::string& backend : service.backends) {
      backends.push_back(
          {{"virtualService", backend.rfind("arn:aws", 0) == 0
                                  ? json{{"virtualServiceARN", backend}}
                                  : json{{"virtualServiceRef", {{"name", backend}}}}}});
    }
    spec["backends"] = backends;
  }

  json node = startFrom(canary, "VirtualNode", name, existing, std::move(spec));
  json& meta = node["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (service.apex) {
    for (const auto& [key, val] : service.apex->labels)
      meta["labels"][key] = val;
    for (const auto& [key, val] : service.apex->annotations)
      meta["annotations"][key] = val;
  }
  for (const auto& [key, val] : cluster::kGitopsOptOut)
    meta["annotations"][std::string(key)] = std::string(val);
  return api::JsonValue(std::move(node));
}

api::JsonValue buildVirtualRouter(const api::Canary& canary, bool canaryRouter,
                                  const Weights& weights, const api::JsonValue& existing) {
  json spec = {
      {"listeners",
       json::array(
           {{{"portMapping", {{"port", containerPort(canary)}, {"protocol", protocol(canary)}}}}})},
      {"routes", routes(canary, canaryRouter, weights)}};
  // The weights are setRoutes' business: an existing router keeps its first route's action.
  if (existing.present() && existing.get().is_object()) {
    if (const json* action = firstAction(existing.get()); action != nullptr)
      spec["routes"][0]["httpRoute"]["action"] = *action;
  }
  const std::string name = canaryRouter ? canaryName(canary) : apexServiceName(canary);
  return api::JsonValue(startFrom(canary, "VirtualRouter", name, existing, std::move(spec)));
}

api::JsonValue buildVirtualService(const api::Canary& canary, bool canaryRouter) {
  const std::string name = canaryRouter ? canaryName(canary) : apexServiceName(canary);
  json service = newObject(canary, "VirtualService", name);
  service["spec"] = {{"provider", {{"virtualRouter", {{"virtualRouterRef", {{"name", name}}}}}}}};
  const api::CanaryService& spec = serviceOf(canary);
  if (!canaryRouter && !spec.hosts.empty()) {
    std::string domains;
    for (const std::string& host : spec.hosts)
      domains += host + ",";
    json& annotations = service["metadata"]["annotations"];
    annotations["gateway.appmesh.k8s.aws/expose"] = "true";
    annotations["gateway.appmesh.k8s.aws/domain"] = domains;
    if (spec.timeout && !spec.timeout->empty())
      annotations["gateway.appmesh.k8s.aws/timeout"] = *spec.timeout;
    if (spec.retries.present() && spec.retries.get().is_object() &&
        spec.retries.get().contains("attempts") &&
        spec.retries.get()["attempts"].is_number_integer() &&
        spec.retries.get()["attempts"].get<std::int64_t>() > 0)
      annotations["gateway.appmesh.k8s.aws/retries"] =
          std::to_string(spec.retries.get()["attempts"].get<std::int64_t>());
  }
  return api::JsonValue(std::move(service));
}

AppMeshRouter::AppMeshRouter(cluster::Client& client, Selector selector)
    : client_(client), selector_(std::move(selector)) {}

Status AppMeshRouter::reconcile(const api::Canary& canary) {
  for (bool primary : {true, false}) {
    Status s = apply(client_, kAppMeshVirtualNodes, canary,
                     primary ? primaryName(canary) : canaryName(canary),
                     [&](const api::JsonValue& existing) {
                       return buildVirtualNode(canary, selector_, primary, existing);
                     });
    if (!s) return s;
  }
  for (bool canaryRouter : {false, true}) {
    const std::string name = canaryRouter ? canaryName(canary) : apexServiceName(canary);
    Status s =
        apply(client_, kAppMeshVirtualRouters, canary, name, [&](const api::JsonValue& existing) {
          return buildVirtualRouter(canary, canaryRouter, {}, existing);
        });
    if (!s) return s;
    // Created when missing, never updated (as Flagger).
    Result<api::JsonValue> service =
        client_.get(kAppMeshVirtualServices, {namespaceOf(canary), name});
    if (service) continue;
    if (service.error().kind() != ErrorKind::kNotFound)
      return service.error().withContext("VirtualService " + name);
    Result<api::JsonValue> created = client_.create(kAppMeshVirtualServices, namespaceOf(canary),
                                                    buildVirtualService(canary, canaryRouter));
    if (!created && created.error().kind() != ErrorKind::kConflict)
      return created.error().withContext("VirtualService " + name);
  }
  return {};
}

Status AppMeshRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string what = "VirtualRouter " + apexServiceName(canary);
  if (weights.mirror) {
    return Error::invalidInput(what +
                               ": an App Mesh VirtualRouter cannot mirror traffic (provider "
                               "appmesh); use analysis.iterations without mirror");
  }
  const cluster::ObjectRef ref{namespaceOf(canary), apexServiceName(canary)};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(kAppMeshVirtualRouters, ref);
        if (!existing) return existing.error();
        json router = existing->get();
        if (firstAction(router) == nullptr) {
          return Error::unavailable(what + " has no route; the next reconcile restores it");
        }
        router["spec"]["routes"][0]["httpRoute"]["action"] =
            weightedTargets(canary, weights.canary, weights.primary);
        if (router == existing->get()) return *existing;
        return client_.update(kAppMeshVirtualRouters, api::JsonValue(std::move(router)));
      });
  if (!written) return written.error().withContext(what);
  return {};
}

Result<Weights> AppMeshRouter::getRoutes(const api::Canary& canary) {
  const std::string what = "VirtualRouter " + apexServiceName(canary);
  Result<api::JsonValue> router =
      client_.get(kAppMeshVirtualRouters, {namespaceOf(canary), apexServiceName(canary)});
  if (!router) return router.error().withContext(what);
  return weightsIn(router->get(), canary, what);
}

std::vector<RouterPlugin> appMeshRouters() {
  std::vector<RouterPlugin> plugins;
  for (const char* name : {"appmesh", "appmesh:v1beta2"}) {
    api::RouterEntry entry;
    entry.name = name;
    entry.can.weights = true;
    entry.can.matching = true;
    entry.can.targetKinds = {"Deployment", "DaemonSet"};
    // App Mesh routes match headers only.
    entry.check = [](const api::Canary& canary) {
      api::FieldProblems problems;
      if (!canary.spec.analysis) return problems;
      const auto& matches = canary.spec.analysis->match;
      for (std::size_t i = 0; i < matches.size(); ++i) {
        if (!matches[i].present() || !matches[i].get().is_object()) continue;
        for (const auto& [key, value] : matches[i].get().items()) {
          if (key == "headers") continue;
          problems.push_back({"spec.analysis.match[" + std::to_string(i) + "]." + key,
                              "App Mesh routes match request headers only (provider appmesh)"});
        }
      }
      return problems;
    };
    plugins.push_back({entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
                         return std::make_unique<AppMeshRouter>(c.client, c.selector);
                       }});
  }
  return plugins;
}

}  // namespace canaryd::router
