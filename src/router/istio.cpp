#include "canaryd/router/istio.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/core/duration.h"
#include "canaryd/core/text.h"

#include "router/json_weight.h"
#include "router/object_writes.h"
#include "router/session_cookie.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

constexpr const char* kApiVersion = "networking.istio.io/v1beta1";
// Where Flagger keeps a VirtualService's spec from before it rewrote it (its Finalize restores
// it), unless kubectl's annotation already holds the applied object.
constexpr const char* kOriginalConfiguration = "flagger.kubernetes.io/original-configuration";
constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

const api::CanaryAnalysis& analysisOf(const api::Canary& canary) {
  static const api::CanaryAnalysis kNone;
  if (canary.spec.analysis) return *canary.spec.analysis;
  return canary.spec.canaryAnalysis ? *canary.spec.canaryAnalysis : kNone;
}

const api::CanaryService& serviceOf(const api::Canary& canary) {
  static const api::CanaryService kNone;
  return canary.spec.service ? *canary.spec.service : kNone;
}

bool isTcp(const api::CanaryService& service) {
  return lowercase(service.appProtocol.value_or("")) == "tcp";
}

bool isSet(const api::JsonValue& value) {
  return value.present() && !value.get().is_null();
}

std::string primaryOf(const api::Canary& canary) {
  return apexServiceName(canary) + "-primary";
}
std::string canaryOf(const api::Canary& canary) {
  return apexServiceName(canary) + "-canary";
}

std::string describe(const api::Canary& canary, const char* kind, const std::string& name) {
  return std::string(kind) + " " + canary.metadata.namespace_.value_or("default") + "/" + name;
}

// A route destination; the port only when requests come through an ingress gateway or a
// delegating VirtualService and the Services were made with port discovery (as Flagger does).
json destination(const api::CanaryService& service, const std::string& host, std::int64_t weight) {
  json dest = {{"host", host}};
  const bool viaGateway = !service.gateways.empty() && service.gateways.front() != "mesh";
  if (service.portDiscovery.value_or(false) && (viaGateway || service.delegation.value_or(false))) {
    json port = json::object();
    if (service.port.value_or(0) != 0) port["number"] = *service.port;
    dest["port"] = port;
  }
  return {{"destination", dest}, {"weight", weight}};
}

// An HTTP route with the fields Flagger copies from spec.service onto every route.
json httpRoute(const api::CanaryService& service, const json& match, json destinations) {
  json route = json::object();
  if (match.is_array() && !match.empty()) route["match"] = match;
  if (isSet(service.rewrite)) {
    // Flagger's rewrite also has `type`, which Istio's HTTPRewrite does not.
    json rewrite = json::object();
    const json& own = service.rewrite.get();
    for (const char* field : {"uri", "authority"}) {
      if (own.is_object() && own.contains(field) && own[field].is_string() &&
          !own[field].get<std::string>().empty())
        rewrite[field] = own[field];
    }
    route["rewrite"] = rewrite;
  }
  if (service.timeout && !service.timeout->empty()) route["timeout"] = *service.timeout;
  if (isSet(service.retries)) {
    // Istio's HTTPRetry always carries attempts (Flagger writes 0 when the Canary has none).
    json retries = service.retries.get();
    if (retries.is_object() && !retries.contains("attempts")) retries["attempts"] = 0;
    route["retries"] = retries;
  }
  if (isSet(service.corsPolicy)) route["corsPolicy"] = service.corsPolicy.get();
  if (isSet(service.headers)) route["headers"] = service.headers.get();
  route["route"] = std::move(destinations);
  return route;
}

json matchList(const std::vector<api::JsonValue>& matches) {
  json out = json::array();
  for (const api::JsonValue& m : matches) {
    if (m.present()) out.push_back(m.get());
  }
  return out;
}

// The A/B conditions within service.match: each analysis condition on each service condition.
// Flagger carries only the analysis condition's headers and sourceLabels over; here every field
// it sets (queryParams, uri, ...) narrows the service condition.
json mergeMatches(const json& analysisMatch, const json& serviceMatch) {
  if (serviceMatch.empty()) return analysisMatch;
  json merged = json::array();
  for (const json& condition : analysisMatch) {
    for (const json& base : serviceMatch) {
      json m = base;
      if (condition.is_object() && m.is_object()) {
        for (auto it = condition.begin(); it != condition.end(); ++it) {
          if (!it.value().is_null()) m[it.key()] = it.value();
        }
      }
      merged.push_back(m);
    }
  }
  return merged;
}

std::string hostOf(const json& dest) {
  if (!dest.is_object() || !dest.contains("destination") || !dest["destination"].is_object())
    return "";
  const json& d = dest["destination"];
  return d.contains("host") && d["host"].is_string() ? d["host"].get<std::string>() : "";
}

// The condition on the Cookie header that matches `cookie` (`name=value`), as Flagger writes it.
json cookieMatch(const std::string& cookie) {
  return json::array({{{"headers", {{"Cookie", {{"regex", cookieRegex(cookie)}}}}}}});
}

void addResponseHeader(json& holder, const std::string& value) {
  holder["headers"]["response"]["add"]["Set-Cookie"] = value;
}

// Session affinity (analysis.sessionAffinity) around the weighted route, as Flagger's
// getSessionAffinityRouteRules: while the canary has weight, its destination sets the canary
// cookie (and the primary's the primary cookie, when named), and requests carrying a cookie go
// first to its side; at weight 0 a route matching the previous run's cookie expires it. The
// cookies are the Canary's status' (the controller sets them before the routes change).
json stickyRoutes(const api::Canary& canary, const Weights& weights, json weighted) {
  const api::CanaryService& service = serviceOf(canary);
  const api::SessionAffinity& affinity = *analysisOf(canary).sessionAffinity;
  const api::CanaryStatus status = canary.status.value_or(api::CanaryStatus{});
  const json serviceMatch = matchList(service.match);
  const std::string cookie = status.sessionAffinityCookie.value_or("");
  if (weights.canary != 0 && !cookie.empty()) {
    const std::string primaryCookie = status.primarySessionAffinityCookie.value_or("");
    const bool pinPrimary =
        !affinity.primaryCookieName.value_or("").empty() && !primaryCookie.empty();
    for (json& dest : weighted["route"]) {
      if (hostOf(dest) == canaryOf(canary)) {
        addResponseHeader(dest, setCookieValue(affinity, cookie, canaryCookieMaxAge(affinity)));
      } else if (pinPrimary && hostOf(dest) == primaryOf(canary)) {
        addResponseHeader(
            dest, setCookieValue(affinity, primaryCookie, primaryCookieMaxAge(analysisOf(canary))));
      }
    }
    json routes = json::array();
    routes.push_back(httpRoute(service, mergeMatches(cookieMatch(cookie), serviceMatch),
                               json::array({destination(service, primaryOf(canary), 0),
                                            destination(service, canaryOf(canary), 100)})));
    if (pinPrimary) {
      routes.push_back(httpRoute(service, mergeMatches(cookieMatch(primaryCookie), serviceMatch),
                                 json::array({destination(service, primaryOf(canary), 100),
                                              destination(service, canaryOf(canary), 0)})));
    }
    routes.push_back(std::move(weighted));
    return routes;
  }
  const std::string previous = status.previousSessionAffinityCookie.value_or("");
  if (previous.empty()) return json::array({std::move(weighted)});
  json expire = weighted;
  expire["match"] = mergeMatches(cookieMatch(previous), serviceMatch);
  addResponseHeader(expire, previous + "; Max-Age=-1");
  return json::array({std::move(expire), std::move(weighted)});
}

json httpRoutes(const api::Canary& canary, const Weights& weights) {
  const api::CanaryService& service = serviceOf(canary);
  const api::CanaryAnalysis& analysis = analysisOf(canary);
  const json serviceMatch = matchList(service.match);
  if (!analysis.match.empty()) {
    // A/B: the matched requests go by the weights, the rest to the primary. No mirror.
    return json::array(
        {httpRoute(service, mergeMatches(matchList(analysis.match), serviceMatch),
                   json::array({destination(service, primaryOf(canary), weights.primary),
                                destination(service, canaryOf(canary), weights.canary)})),
         httpRoute(service, serviceMatch,
                   json::array({destination(service, primaryOf(canary), weights.primary)}))});
  }
  json route = httpRoute(service, serviceMatch,
                         json::array({destination(service, primaryOf(canary), weights.primary),
                                      destination(service, canaryOf(canary), weights.canary)}));
  if (weights.mirror) {
    route["mirror"] = {{"host", canaryOf(canary)}};
    if (analysis.mirrorWeight.value_or(0) > 0)
      route["mirrorPercentage"] = {{"value", *analysis.mirrorWeight}};
  }
  if (analysis.sessionAffinity) return stickyRoutes(canary, weights, std::move(route));
  return json::array({route});
}

// appProtocol tcp: one TCP route, matched on the ports of service.match.
json tcpRoutes(const api::Canary& canary, const Weights& weights) {
  const api::CanaryService& service = serviceOf(canary);
  json route = json::object();
  json match = json::array();
  for (const api::JsonValue& m : service.match) {
    json l4 = json::object();
    if (m.present() && m.get().is_object() && m.get().contains("port") &&
        m.get()["port"].is_number_integer() && m.get()["port"].get<std::int64_t>() != 0)
      l4["port"] = m.get()["port"];
    match.push_back(l4);
  }
  if (!match.empty()) route["match"] = match;
  route["route"] = json::array({destination(service, primaryOf(canary), weights.primary),
                                destination(service, canaryOf(canary), weights.canary)});
  return json::array({route});
}

// The routes of the VirtualService's protocol at `weights`, into `spec`.
void setRouteList(json& spec, const api::Canary& canary, const Weights& weights) {
  if (isTcp(serviceOf(canary))) {
    spec["tcp"] = tcpRoutes(canary, weights);
  } else {
    spec["http"] = httpRoutes(canary, weights);
  }
}

Result<std::int64_t> weightOf(const json& dest, const std::string& what) {
  return wholeWeight(dest, what, "a destination");
}

// The split as Flagger reads it: the last route of the protocol's list that sends anything to
// the canary carries the weights (and, for HTTP, the mirror).
Result<Weights> weightsIn(const json& vs, const api::Canary& canary, const std::string& what) {
  const bool tcp = isTcp(serviceOf(canary));
  const std::string primary = primaryOf(canary);
  const std::string canaryHost = canaryOf(canary);
  const json* chosen = nullptr;
  if (vs.contains("spec") && vs["spec"].is_object()) {
    const json& spec = vs["spec"];
    const char* list = tcp ? "tcp" : "http";
    if (spec.contains(list) && spec[list].is_array()) {
      for (const json& route : spec[list]) {
        if (!route.is_object() || !route.contains("route") || !route["route"].is_array()) continue;
        for (const json& dest : route["route"]) {
          if (hostOf(dest) == canaryHost) {
            chosen = &route;
            break;
          }
        }
      }
    }
  }
  Weights w{0, 0, false};
  if (chosen != nullptr) {
    for (const json& dest : (*chosen)["route"]) {
      const std::string host = hostOf(dest);
      if (host != primary && host != canaryHost) continue;
      Result<std::int64_t> weight = weightOf(dest, what);
      if (!weight) return weight.error();
      (host == primary ? w.primary : w.canary) = *weight;
    }
    const json mirror = chosen->value("mirror", json());
    w.mirror = !tcp && mirror.is_object() && mirror.contains("host") &&
               mirror["host"].is_string() && !mirror["host"].get<std::string>().empty();
  }
  if (w.primary == 0 && w.canary == 0) {
    return Error::unavailable(what + " routes nothing to " + primary + " or " + canaryHost +
                              "; the next reconcile restores its routes");
  }
  return w;
}

json newMetadata(const api::Canary& canary, const std::string& name) {
  return {{"name", name},
          {"namespace", canary.metadata.namespace_.value_or("default")},
          {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}};
}

// The part of a VirtualService spec Flagger's typed spec holds, as its original-configuration.
std::string originalConfiguration(const json& spec) {
  json kept = json::object();
  for (const char* field : {"hosts", "gateways", "http", "tcp"}) {
    if (spec.contains(field)) kept[field] = spec[field];
  }
  return kept.dump();
}

}  // namespace

api::JsonValue buildDestinationRule(const api::Canary& canary, const std::string& name,
                                    const api::JsonValue& existing) {
  json rule;
  if (existing.present() && existing.get().is_object()) {
    rule = existing.get();
  } else {
    rule["metadata"] = newMetadata(canary, name);
  }
  rule["apiVersion"] = kApiVersion;
  rule["kind"] = "DestinationRule";
  if (!rule.contains("spec") || !rule["spec"].is_object()) rule["spec"] = json::object();
  rule["spec"]["host"] = name;
  const api::CanaryService& service = serviceOf(canary);
  if (isSet(service.trafficPolicy)) {
    rule["spec"]["trafficPolicy"] = service.trafficPolicy.get();
  } else {
    rule["spec"].erase("trafficPolicy");
  }
  return api::JsonValue(std::move(rule));
}

api::JsonValue buildVirtualService(const api::Canary& canary, const Weights& weights,
                                   const api::JsonValue& existing) {
  const std::string apex = apexServiceName(canary);
  const api::CanaryService& service = serviceOf(canary);
  const bool update = existing.present() && existing.get().is_object();

  json vs;
  if (update) {
    vs = existing.get();
  } else {
    vs["metadata"] = newMetadata(canary, apex);
  }
  vs["apiVersion"] = kApiVersion;
  vs["kind"] = "VirtualService";

  // Metadata: service.apex's labels and annotations, and Flux's opt-out.
  json& meta = vs["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (service.apex) {
    for (const auto& [key, value] : service.apex->labels)
      meta["labels"][key] = value;
    for (const auto& [key, value] : service.apex->annotations)
      meta["annotations"][key] = value;
  }
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    meta["annotations"][std::string(key)] = std::string(value);

  // The spec: hosts with the apex Service's name, gateways (mesh by default), the routes.
  json hosts = json::array();
  json gateways = json::array();
  if (!service.delegation.value_or(false)) {
    bool hasApex = false;
    for (const std::string& host : service.hosts) {
      hosts.push_back(host);
      hasApex = hasApex || host == apex || host == "*";
    }
    if (!hasApex) hosts.push_back(apex);
    for (const std::string& gateway : service.gateways)
      gateways.push_back(gateway);
    if (gateways.empty()) gateways.push_back("mesh");
  }
  const json before =
      update && vs.contains("spec") && vs["spec"].is_object() ? vs["spec"] : json::object();
  json spec = before;
  spec["hosts"] = hosts;
  if (gateways.empty()) {
    spec.erase("gateways");
  } else {
    spec["gateways"] = gateways;
  }
  spec.erase(isTcp(service) ? "http" : "tcp");
  setRouteList(spec, canary, weights);

  if (update && spec != before && !meta["annotations"].contains(kLastApplied))
    meta["annotations"][kOriginalConfiguration] = originalConfiguration(before);
  vs["spec"] = std::move(spec);
  return api::JsonValue(std::move(vs));
}

IstioRouter::IstioRouter(cluster::Client& client) : client_(client) {}

Status IstioRouter::reconcileDestinationRule(const api::Canary& canary, const std::string& name) {
  const cluster::ObjectRef ref{canary.metadata.namespace_.value_or("default"), name};
  return createOrUpdateObject(
      client_, kIstioDestinationRules, ref, describe(canary, "DestinationRule", name),
      [&](const api::JsonValue& existing) { return buildDestinationRule(canary, name, existing); });
}

Status IstioRouter::reconcile(const api::Canary& canary) {
  const api::CanaryService& service = serviceOf(canary);
  const std::string apex = apexServiceName(canary);
  const std::string what = describe(canary, "VirtualService", apex);
  if (service.delegation.value_or(false) && (!service.hosts.empty() || !service.gateways.empty())) {
    return Error::invalidInput(what +
                               ": a delegate VirtualService cannot have hosts and gateways "
                               "(spec.service.delegation with spec.service.hosts or gateways)");
  }
  if (Status s = reconcileDestinationRule(canary, canaryOf(canary)); !s) return s;
  if (Status s = reconcileDestinationRule(canary, primaryOf(canary)); !s) return s;
  const cluster::ObjectRef ref{canary.metadata.namespace_.value_or("default"), apex};
  return createOrUpdateObject(
      client_, kIstioVirtualServices, ref, what, [&](const api::JsonValue& existing) {
        if (!existing.present()) return buildVirtualService(canary, {}, existing);
        // Weights are the business of setRoutes: a rewrite keeps them (all on
        // the primary when they cannot be read).
        Result<Weights> current = weightsIn(existing.get(), canary, what);
        return buildVirtualService(canary, current ? *current : Weights{}, existing);
      });
}

Status IstioRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string apex = apexServiceName(canary);
  const std::string what = describe(canary, "VirtualService", apex);
  if (weights.mirror && isTcp(serviceOf(canary))) {
    return Error::invalidInput(
        what + ": a TCP route (spec.service.appProtocol tcp) cannot mirror traffic");
  }
  return updateObject(client_, kIstioVirtualServices,
                      {canary.metadata.namespace_.value_or("default"), apex}, what,
                      [&](const api::JsonValue& existing) {
                        json vs = existing.get();
                        if (!vs.contains("spec") || !vs["spec"].is_object())
                          vs["spec"] = json::object();
                        // Only the routes change, as in Flagger; reconcile owns the rest.
                        setRouteList(vs["spec"], canary, weights);
                        return api::JsonValue(std::move(vs));
                      });
}

Result<Weights> IstioRouter::getRoutes(const api::Canary& canary) {
  const std::string apex = apexServiceName(canary);
  const std::string what = describe(canary, "VirtualService", apex);
  Result<api::JsonValue> vs =
      client_.get(kIstioVirtualServices, {canary.metadata.namespace_.value_or("default"), apex});
  if (!vs) return vs.error().withContext(what);
  return weightsIn(vs->get(), canary, what);
}

std::vector<RouterPlugin> istioRouters() {
  api::RouterEntry entry;
  entry.name = "istio";
  entry.can.weights = true;
  entry.can.matching = true;
  entry.can.mirroring = true;
  entry.can.mirrorWeight = true;
  entry.can.sessionAffinity = true;
  // A Service target brings its own -primary and -canary Services: the routes are the same.
  entry.can.targetKinds = {"Deployment", "DaemonSet", "Service"};
  entry.check = [](const api::Canary& canary) {
    api::FieldProblems problems;
    const api::CanaryService& service = serviceOf(canary);
    if (service.delegation.value_or(false) && (!service.hosts.empty() || !service.gateways.empty()))
      problems.emplace_back("spec.service.delegation",
                            "a delegate VirtualService cannot have hosts or gateways: remove "
                            "spec.service.hosts and spec.service.gateways, or the delegation");
    const api::CanaryAnalysis& analysis = analysisOf(canary);
    const std::string analysisPath = canary.spec.analysis ? "spec.analysis" : "spec.canaryAnalysis";
    if (analysis.sessionAffinity) {
      // Flagger's A/B and mirror routes replace the sticky ones: the cookies would be set and
      // never honoured.
      if (!analysis.match.empty())
        problems.emplace_back(analysisPath + ".sessionAffinity",
                              "session affinity pins users during a weighted canary release; "
                              "an A/B test (analysis.match) routes by its own matches");
      if (analysis.mirror.value_or(false))
        problems.emplace_back(analysisPath + ".sessionAffinity",
                              "session affinity pins users during a weighted canary release; "
                              "a mirrored run sends the canary copies only");
      if (isTcp(service))
        problems.emplace_back(analysisPath + ".sessionAffinity",
                              "a TCP service (spec.service.appProtocol tcp) has no cookies");
    }
    if (isTcp(service)) {
      // Flagger writes a TCP route and ignores these: an A/B test would send every connection
      // to the canary, a mirrored run none.
      if (!analysis.match.empty())
        problems.emplace_back(analysisPath + ".match",
                              "a TCP service (spec.service.appProtocol tcp) cannot be routed by "
                              "request, so it cannot run an A/B test");
      if (analysis.mirror.value_or(false))
        problems.emplace_back(analysisPath + ".mirror",
                              "a TCP service (spec.service.appProtocol tcp) cannot be mirrored");
    }
    return problems;
  };
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<IstioRouter>(c.client);
           }}};
}

}  // namespace canaryd::router
