#include "canaryd/router/contour.h"

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/core/json_read.h"

#include "router/json_weight.h"
#include "router/object_writes.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

constexpr const char* kApiVersion = "projectcontour.io/v1";

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

const api::CanaryService& serviceOf(const api::Canary& canary) {
  static const api::CanaryService kNone;
  return canary.spec.service ? *canary.spec.service : kNone;
}

const api::CanaryAnalysis& analysisOf(const api::Canary& canary) {
  static const api::CanaryAnalysis kNone;
  if (canary.spec.analysis) return *canary.spec.analysis;
  return canary.spec.canaryAnalysis ? *canary.spec.canaryAnalysis : kNone;
}

std::string primaryName(const api::Canary& canary) {
  return apexServiceName(canary) + "-primary";
}
std::string canaryName(const api::Canary& canary) {
  return apexServiceName(canary) + "-canary";
}

std::string describe(const api::Canary& canary) {
  return "HTTPProxy " + apexServiceName(canary);
}

// service.match[0].uri.prefix, else "/" (Flagger's makePrefix).
std::string prefixOf(const api::Canary& canary) {
  const api::CanaryService& service = serviceOf(canary);
  if (!service.match.empty() && service.match[0].present() && service.match[0].get().is_object() &&
      service.match[0].get().contains("uri")) {
    const std::string prefix = jsonread::string(service.match[0].get()["uri"], "prefix");
    if (!prefix.empty()) return prefix;
  }
  return "/";
}

// A weighted service with Linkerd's destination override, as Flagger writes it; a weight of 0 is
// left out (omitempty).
json backend(const api::Canary& canary, const std::string& name, std::int64_t weight) {
  const std::int64_t port = serviceOf(canary).port.value_or(0);
  json service = {
      {"name", name},
      {"port", port},
      {"requestHeadersPolicy",
       {{"set", json::array({{{"name", "l5d-dst-override"},
                              {"value", name + "." + namespaceOf(canary) +
                                            ".svc.cluster.local:" + std::to_string(port)}}})}}}};
  if (weight != 0) service["weight"] = weight;
  return service;
}

// Flagger's makeRetryPolicy: count is attempts; perTryTimeout and retryOn (split at commas) when
// set. An empty retryOn is left out (Flagger writes [""], which Contour's CRD refuses).
json retryPolicy(const api::Canary& canary) {
  const api::CanaryService& service = serviceOf(canary);
  if (!service.retries.present() || !service.retries.get().is_object()) return nullptr;
  const json& retries = service.retries.get();
  json policy = {{"count", retries.contains("attempts") && retries["attempts"].is_number_integer()
                               ? retries["attempts"].get<std::int64_t>()
                               : 0}};
  if (const std::string timeout = jsonread::string(retries, "perTryTimeout"); !timeout.empty())
    policy["perTryTimeout"] = timeout;
  if (const std::string retryOn = jsonread::string(retries, "retryOn"); !retryOn.empty()) {
    json events = json::array();
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = retryOn.find(',', start);
      events.push_back(retryOn.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    policy["retryOn"] = events;
  }
  return policy;
}

json route(const api::Canary& canary, json conditions, const Weights& weights) {
  json out = {{"conditions", std::move(conditions)},
              {"services", json::array({backend(canary, primaryName(canary), weights.primary),
                                        backend(canary, canaryName(canary), weights.canary)})}};
  const api::CanaryService& service = serviceOf(canary);
  if (service.timeout && !service.timeout->empty())
    out["timeoutPolicy"] = {{"response", *service.timeout}, {"idle", "5m"}};
  if (json retry = retryPolicy(canary); !retry.is_null()) out["retryPolicy"] = retry;
  return out;
}

// The header conditions of analysis.match (Flagger's makeConditions): exact stays exact, a
// prefix or a suffix becomes contains. Contour allows one prefix per route, so only the first
// condition carries it (Flagger repeats it in each, which Contour refuses for two headers).
json headerConditions(const api::Canary& canary) {
  json conditions = json::array();
  for (const api::JsonValue& match : analysisOf(canary).match) {
    if (!match.present() || !match.get().is_object() || !match.get().contains("headers") ||
        !match.get()["headers"].is_object())
      continue;
    for (const auto& [name, value] : match.get()["headers"].items()) {
      json header = {{"name", name}};
      if (const std::string exact = jsonread::string(value, "exact"); !exact.empty())
        header["exact"] = exact;
      if (const std::string suffix = jsonread::string(value, "suffix"); !suffix.empty())
        header = {{"name", name}, {"contains", suffix}};
      if (const std::string prefix = jsonread::string(value, "prefix"); !prefix.empty())
        header = {{"name", name}, {"contains", prefix}};
      json condition = {{"header", header}};
      if (conditions.empty()) condition["prefix"] = prefixOf(canary);
      conditions.push_back(condition);
    }
  }
  if (conditions.empty()) conditions.push_back({{"prefix", prefixOf(canary)}});
  return conditions;
}

json routes(const api::Canary& canary, const Weights& weights) {
  const json prefixOnly = json::array({{{"prefix", prefixOf(canary)}}});
  if (analysisOf(canary).match.empty()) return json::array({route(canary, prefixOnly, weights)});
  // A/B: the matched requests by the weights, the rest to the primary.
  return json::array({route(canary, headerConditions(canary), weights),
                      route(canary, prefixOnly, Weights{100, 0, false})});
}

// The weights of the first route's services `<apex>-primary` and `<apex>-canary`.
Result<Weights> weightsIn(const json& proxy, const api::Canary& canary, const std::string& what) {
  Weights w{0, 0, false};
  const json* spec = jsonread::object(proxy, "spec");
  if (spec != nullptr && spec->contains("routes") && (*spec)["routes"].is_array() &&
      !(*spec)["routes"].empty() && (*spec)["routes"][0].is_object() &&
      (*spec)["routes"][0].contains("services") && (*spec)["routes"][0]["services"].is_array()) {
    for (const json& service : (*spec)["routes"][0]["services"]) {
      const std::string name = jsonread::string(service, "name");
      if (name != primaryName(canary) && name != canaryName(canary)) continue;
      Result<std::int64_t> weight = wholeWeight(service, what, "a service");
      if (!weight) return weight.error();
      (name == primaryName(canary) ? w.primary : w.canary) = *weight;
    }
  }
  if (w.primary == 0 && w.canary == 0) {
    return Error::unavailable(what + " routes nothing to " + primaryName(canary) + " or " +
                              canaryName(canary) +
                              " by weight; the next reconcile restores its "
                              "routes");
  }
  return w;
}

}  // namespace

api::JsonValue buildHttpProxy(const api::Canary& canary, const Weights& weights,
                              const std::string& ingressClass, const api::JsonValue& existing) {
  json proxy;
  if (existing.present() && existing.get().is_object()) {
    proxy = existing.get();
  } else {
    proxy["metadata"] = {{"name", apexServiceName(canary)},
                         {"namespace", namespaceOf(canary)},
                         {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}};
  }
  proxy["apiVersion"] = kApiVersion;
  proxy["kind"] = "HTTPProxy";

  json& meta = proxy["metadata"];
  if (!meta.is_object()) meta = json::object();
  const api::CanaryService& service = serviceOf(canary);
  if (service.apex) {
    for (const auto& [key, value] : service.apex->labels)
      meta["labels"][key] = value;
    for (const auto& [key, value] : service.apex->annotations)
      meta["annotations"][key] = value;
  }
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    meta["annotations"][std::string(key)] = std::string(value);

  if (!proxy.contains("spec") || !proxy["spec"].is_object()) proxy["spec"] = json::object();
  proxy["spec"]["routes"] = routes(canary, weights);
  if (!ingressClass.empty()) proxy["spec"]["ingressClassName"] = ingressClass;
  return api::JsonValue(std::move(proxy));
}

ContourRouter::ContourRouter(cluster::Client& client, std::string ingressClass)
    : client_(client), ingressClass_(std::move(ingressClass)) {}

Status ContourRouter::reconcile(const api::Canary& canary) {
  const std::string what = describe(canary);
  return createOrUpdateObject(
      client_, kContourHttpProxies, {namespaceOf(canary), apexServiceName(canary)}, what,
      [&](const api::JsonValue& existing) {
        // A new proxy sends everything to the primary; a rewrite keeps the weights (setRoutes
        // sets them; all on the primary when they cannot be read).
        if (!existing.present()) return buildHttpProxy(canary, {}, ingressClass_, existing);
        Result<Weights> current = weightsIn(existing.get(), canary, what);
        return buildHttpProxy(canary, current ? *current : Weights{}, ingressClass_, existing);
      });
}

Status ContourRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string what = describe(canary);
  if (weights.mirror) {
    return Error::invalidInput(what +
                               ": canaryd's Contour router does not mirror traffic (provider "
                               "contour, as in Flagger); use analysis.iterations without mirror");
  }
  if (weights.primary == 0 && weights.canary == 0)
    return Error::invalidInput(what + ": no valid weights (both 0)");
  return updateObject(client_, kContourHttpProxies, {namespaceOf(canary), apexServiceName(canary)},
                      what, [&](const api::JsonValue& existing) {
                        json proxy = existing.get();
                        if (!proxy.contains("spec") || !proxy["spec"].is_object())
                          proxy["spec"] = json::object();
                        // As Flagger: the routes (and the ingress class) are rewritten at the
                        // new weights.
                        proxy["spec"]["routes"] = routes(canary, weights);
                        if (!ingressClass_.empty())
                          proxy["spec"]["ingressClassName"] = ingressClass_;
                        return api::JsonValue(std::move(proxy));
                      });
}

Result<Weights> ContourRouter::getRoutes(const api::Canary& canary) {
  const std::string what = describe(canary);
  Result<api::JsonValue> proxy =
      client_.get(kContourHttpProxies, {namespaceOf(canary), apexServiceName(canary)});
  if (!proxy) return proxy.error().withContext(what);
  return weightsIn(proxy->get(), canary, what);
}

std::vector<RouterPlugin> contourRouters() {
  api::RouterEntry entry;
  entry.name = "contour";
  entry.can.weights = true;
  entry.can.matching = true;
  // A Service target brings its own -primary and -canary Services: the route is the same.
  entry.can.targetKinds = {"Deployment", "DaemonSet", "Service"};
  // One route holds the A/B test's conditions, and they are header conditions: exact, or a
  // prefix or suffix that Contour matches as contains (as Flagger writes them).
  entry.check = [](const api::Canary& canary) {
    api::FieldProblems problems;
    const std::string base = canary.spec.analysis ? "spec.analysis" : "spec.canaryAnalysis";
    const auto& matches = analysisOf(canary).match;
    for (std::size_t i = 0; i < matches.size(); ++i) {
      const std::string path = base + ".match[" + std::to_string(i) + "]";
      if (i > 0) {
        problems.push_back({path,
                            "a Contour route ANDs its conditions, so analysis.match cannot list "
                            "alternatives (provider contour): put the A/B test's headers in "
                            "analysis.match[0]"});
        continue;
      }
      if (!matches[i].present() || !matches[i].get().is_object()) continue;
      const json& match = matches[i].get();
      for (const auto& [key, value] : match.items()) {
        if (key == "headers" || key == "name") continue;
        problems.push_back(
            {path + "." + key, "Contour conditions match request headers only (provider contour)"});
      }
      if (!match.contains("headers") || !match["headers"].is_object() || match["headers"].empty()) {
        problems.push_back({path + ".headers",
                            "required field is missing: the A/B test's requests are told apart "
                            "by headers (provider contour)"});
        continue;
      }
      for (const auto& [name, value] : match["headers"].items()) {
        const std::string at = path + ".headers." + name;
        if (!jsonread::string(value, "regex").empty()) {
          problems.push_back({at + ".regex",
                              "Contour header conditions take no regular expression (provider "
                              "contour): use exact, or prefix or suffix (matched as contains)"});
        } else if (jsonread::string(value, "exact").empty() &&
                   jsonread::string(value, "prefix").empty() &&
                   jsonread::string(value, "suffix").empty()) {
          problems.push_back({at, "needs exact, prefix or suffix (provider contour)"});
        }
      }
    }
    return problems;
  };
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<ContourRouter>(c.client, c.ingressClass);
           }}};
}

}  // namespace canaryd::router
