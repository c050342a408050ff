#include "canaryd/router/gateway_api.h"

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/core/duration.h"
#include "canaryd/core/json_read.h"
#include "canaryd/core/text.h"

#include "router/json_weight.h"
#include "router/session_cookie.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

// An Istio-style string match ({exact|prefix|regex: v}) as a Gateway API (type, value).
std::optional<std::pair<std::string, std::string>> stringMatch(const json& m) {
  if (!m.is_object()) return std::nullopt;
  if (m.contains("exact") && m["exact"].is_string())
    return std::pair{"Exact", m["exact"].get<std::string>()};
  if (m.contains("regex") && m["regex"].is_string()) {
    return std::pair{"RegularExpression", m["regex"].get<std::string>()};
  }
  if (m.contains("prefix") && m["prefix"].is_string()) {
    return std::pair{"RegularExpression", "^" + m["prefix"].get<std::string>() + ".*"};
  }
  return std::nullopt;
}

// One Istio HTTPMatchRequest (uri, headers, queryParams, method) as a Gateway API match.
json toGatewayMatch(const json& request) {
  json out = json::object();
  if (request.contains("uri")) {
    const json& uri = request["uri"];
    if (uri.contains("prefix") && uri["prefix"].is_string()) {
      out["path"] = {{"type", "PathPrefix"}, {"value", uri["prefix"]}};
    } else if (auto m = stringMatch(uri)) {
      out["path"] = {{"type", m->first}, {"value", m->second}};
    }
  }
  for (const char* field : {"headers", "queryParams"}) {
    if (!request.contains(field) || !request[field].is_object()) continue;
    json list = json::array();
    for (auto it = request[field].begin(); it != request[field].end(); ++it) {
      if (auto m = stringMatch(*it)) {
        list.push_back({{"name", it.key()}, {"type", m->first}, {"value", m->second}});
      }
    }
    if (!list.empty()) out[std::string(field) == "headers" ? "headers" : "queryParams"] = list;
  }
  if (request.contains("method")) {
    if (auto m = stringMatch(request["method"]); m && m->first == "Exact")
      out["method"] = m->second;
  }
  return out;
}

json backend(const std::string& name, std::int64_t port, std::int64_t weight) {
  return {{"group", ""}, {"kind", "Service"}, {"name", name}, {"port", port}, {"weight", weight}};
}

bool ownsRule(const json& rule, const std::string& apex) {
  const json* refs = jsonread::array(rule, "backendRefs");
  if (refs == nullptr) return false;
  for (const json& ref : *refs) {
    const std::string name = jsonread::string(ref, "name");
    if (name == apex + "-primary" || name == apex + "-canary") return true;
  }
  return false;
}

// spec.service.timeout and backendTimeout as the rule's timeouts (request, backendRequest).
json timeoutsOf(const api::CanaryService& service) {
  json timeouts = json::object();
  if (!service.timeout.value_or("").empty()) timeouts["request"] = *service.timeout;
  if (!service.backendTimeout.value_or("").empty())
    timeouts["backendRequest"] = *service.backendTimeout;
  return timeouts;
}

json addSetCookie(const std::string& value) {
  return {{"type", "ResponseHeaderModifier"},
          {"responseHeaderModifier",
           {{"add", json::array({{{"name", "Set-Cookie"}, {"value", value}}})}}}};
}

// The service matches, each with the Cookie header condition for `cookie` (`name=value`), as
// Flagger's mergeMatchConditions: the cookie's headers replace a match's own.
json cookieMatches(const std::string& cookie, const json& serviceMatches) {
  const json header = {
      {"name", "Cookie"}, {"type", "RegularExpression"}, {"value", cookieRegex(cookie)}};
  json merged = json::array();
  for (json m : serviceMatches) {
    m["headers"] = json::array({header});
    merged.push_back(m);
  }
  return merged;
}

// Session affinity (analysis.sessionAffinity) around the weighted rule, as Flagger's
// getSessionAffinityRouteRules: while the canary has weight, its backend sets the canary cookie
// (and the primary's the primary cookie, when named) and requests with a cookie go to its side
// first; at weight 0 a rule matching the previous run's cookie expires it. The cookies are the
// Canary's status' (the controller sets them before the routes change).
json stickyRules(const api::Canary& canary, const Weights& weights, const json& matches,
                 json weighted) {
  const std::string apex = apexServiceName(canary);
  const api::CanaryService service = canary.spec.service.value_or(api::CanaryService{});
  const std::int64_t port = service.port.value_or(80);
  const api::CanaryAnalysis& analysis = *canary.spec.analysis;
  const api::SessionAffinity& affinity = *analysis.sessionAffinity;
  const api::CanaryStatus status = canary.status.value_or(api::CanaryStatus{});
  const std::string cookie = status.sessionAffinityCookie.value_or("");
  if (weights.canary != 0 && !cookie.empty()) {
    const std::string primaryCookie = status.primarySessionAffinityCookie.value_or("");
    const bool pinPrimary =
        !affinity.primaryCookieName.value_or("").empty() && !primaryCookie.empty();
    json sticky = weighted;  // before the backends' filters: the sticky rules' have none
    for (json& ref : weighted["backendRefs"]) {
      if (ref["name"] == apex + "-canary") {
        ref["filters"] = json::array(
            {addSetCookie(setCookieValue(affinity, cookie, canaryCookieMaxAge(affinity)))});
      } else if (pinPrimary) {
        ref["filters"] = json::array(
            {addSetCookie(setCookieValue(affinity, primaryCookie, primaryCookieMaxAge(analysis)))});
      }
    }
    json rules = json::array();
    sticky["matches"] = cookieMatches(cookie, matches);
    sticky["backendRefs"] = {backend(apex + "-primary", port, 0),
                             backend(apex + "-canary", port, 100)};
    rules.push_back(sticky);
    if (pinPrimary) {
      sticky["matches"] = cookieMatches(primaryCookie, matches);
      sticky["backendRefs"] = {backend(apex + "-primary", port, 100),
                               backend(apex + "-canary", port, 0)};
      rules.push_back(sticky);
    }
    rules.push_back(std::move(weighted));
    return rules;
  }
  const std::string previous = status.previousSessionAffinityCookie.value_or("");
  if (previous.empty()) return json::array({std::move(weighted)});
  json expire = weighted;
  expire["matches"] = cookieMatches(previous, matches);
  if (!expire.contains("filters")) expire["filters"] = json::array();
  expire["filters"].push_back(addSetCookie(previous + "; Max-Age=-1"));
  return json::array({std::move(expire), std::move(weighted)});
}

}  // namespace

api::JsonValue buildHttpRoute(const api::Canary& canary, const Weights& weights,
                              const api::JsonValue& existing, const std::string& apiVersion) {
  const std::string apex = apexServiceName(canary);
  const api::CanaryService service = canary.spec.service.value_or(api::CanaryService{});
  const std::int64_t port = service.port.value_or(80);
  const std::string ns = canary.metadata.namespace_.value_or("default");

  json matches = json::array();
  for (const api::JsonValue& m : service.match)
    matches.push_back(toGatewayMatch(m.get()));
  if (matches.empty()) matches.push_back({{"path", {{"type", "PathPrefix"}, {"value", "/"}}}});

  json rule = {{"matches", matches},
               {"backendRefs",
                {backend(apex + "-primary", port, weights.primary),
                 backend(apex + "-canary", port, weights.canary)}}};
  const json timeouts = timeoutsOf(service);
  if (!timeouts.empty()) rule["timeouts"] = timeouts;
  if (weights.mirror) {
    json mirrorTo = {
        {"group", ""}, {"kind", "Service"}, {"name", apex + "-canary"}, {"port", port}};
    json filter = {{"type", "RequestMirror"}, {"requestMirror", {{"backendRef", mirrorTo}}}};
    rule["filters"] = json::array({filter});
  }
  json rules = json::array();
  const api::CanaryAnalysis analysis = canary.spec.analysis.value_or(api::CanaryAnalysis{});
  if (api::strategyOf(analysis) == api::Strategy::kABTesting) {
    // Matched traffic goes by the weights; everything else stays on the primary.
    json abMatches = json::array();
    for (const api::JsonValue& m : analysis.match)
      abMatches.push_back(toGatewayMatch(m.get()));
    json abRule = rule;
    abRule["matches"] = abMatches;
    json defaultRule = {
        {"matches", matches},
        {"backendRefs",
         {backend(apex + "-primary", port, 100), backend(apex + "-canary", port, 0)}}};
    if (!timeouts.empty()) defaultRule["timeouts"] = timeouts;
    rules.push_back(abRule);
    rules.push_back(defaultRule);
  } else if (analysis.sessionAffinity) {
    rules = stickyRules(canary, weights, matches, std::move(rule));
  } else {
    rules.push_back(rule);
  }
  // Rules someone else added to the route stay as they are (Flagger issue 1857).
  if (existing.present() && existing.get().contains("spec")) {
    for (const json& r : existing.get()["spec"].value("rules", json::array())) {
      if (!ownsRule(r, apex)) rules.push_back(r);
    }
  }

  json parentRefs = json::array();
  for (const api::ParentReference& p : service.gatewayRefs) {
    json ref = {{"name", p.name.value_or("")}};
    if (p.namespace_) ref["namespace"] = *p.namespace_;
    if (p.group) ref["group"] = *p.group;
    if (p.kind) ref["kind"] = *p.kind;
    if (p.sectionName) ref["sectionName"] = *p.sectionName;
    if (p.port) ref["port"] = *p.port;
    parentRefs.push_back(ref);
  }
  json optOut = json::object();
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    optOut[std::string(key)] = std::string(value);
  json route = {{"apiVersion", apiVersion},
                {"kind", "HTTPRoute"},
                {"metadata",
                 {{"name", apex},
                  {"namespace", ns},
                  {"annotations", optOut},
                  {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}}},
                {"spec", {{"parentRefs", parentRefs}, {"rules", rules}}}};
  if (!service.hosts.empty()) route["spec"]["hostnames"] = service.hosts;
  if (existing.present() && existing.get().contains("metadata")) {
    const json& meta = existing.get()["metadata"];
    if (meta.contains("resourceVersion"))
      route["metadata"]["resourceVersion"] = meta["resourceVersion"];
  }
  return api::JsonValue(std::move(route));
}

GatewayApiRouter::GatewayApiRouter(cluster::Client& client, std::string apiVersion)
    : client_(client), resource_(cluster::kHttpRoutes) {
  resource_.version = apiVersion.substr(apiVersion.find('/') + 1);
}

Status GatewayApiRouter::reconcile(const api::Canary& canary) {
  const cluster::ObjectRef ref{canary.metadata.namespace_.value_or("default"),
                               apexServiceName(canary)};
  Result<api::JsonValue> existing = client_.get(resource_, ref);
  if (!existing && existing.error().kind() != ErrorKind::kNotFound) return existing.error();
  if (existing) return {};  // weights are the business of setRoutes
  api::JsonValue route = buildHttpRoute(canary, {}, api::JsonValue(), resource_.apiVersion());
  Result<api::JsonValue> created = client_.create(resource_, ref.namespace_, route);
  if (!created && created.error().kind() != ErrorKind::kConflict) return created.error();
  return {};
}

Status GatewayApiRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const cluster::ObjectRef ref{canary.metadata.namespace_.value_or("default"),
                               apexServiceName(canary)};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(resource_, ref);
        if (!existing) return existing.error();
        const json& route = existing->get();
        // The Gateway must have accepted the route as it is now before it changes again.
        const std::int64_t generation = route["metadata"].value("generation", std::int64_t{0});
        const json parents = route.value("status", json::object()).value("parents", json::array());
        const json parentRefs = route["spec"].value("parentRefs", json::array());
        if (parents.size() < parentRefs.size()) {
          return Error::unavailable("HTTPRoute " + ref.namespace_ + "/" + ref.name +
                                    " has not been accepted by its Gateway yet");
        }
        for (const json& parent : parents) {
          bool accepted = false;
          for (const json& c : parent.value("conditions", json::array())) {
            const bool current = c.value("observedGeneration", generation) == generation;
            if (c.value("type", "") != "Accepted" || !current) continue;
            accepted = accepted || c.value("status", "") == "True";
            if (c.value("status", "") == "False") {
              // Refused, not late: waiting will not change it (a listener that does not
              // allow the route's namespace, a Gateway that does not exist).
              const json* parentRef = jsonread::object(parent, "parentRef");
              std::string gateway =
                  parentRef == nullptr ? "" : jsonread::string(*parentRef, "name");
              std::string gatewayNs =
                  parentRef == nullptr ? "" : jsonread::string(*parentRef, "namespace");
              return Error::invalidInput(
                  "HTTPRoute " + ref.namespace_ + "/" + ref.name + " was not accepted by Gateway " +
                  printable(gatewayNs.empty() ? ref.namespace_ : gatewayNs) + "/" +
                  printable(gateway) + ": " + printable(jsonread::string(c, "reason")) + ": " +
                  printable(jsonread::string(c, "message")) +
                  " (spec.service.gatewayRefs names the Gateways)");
            }
          }
          if (!accepted) {
            return Error::unavailable("HTTPRoute " + ref.namespace_ + "/" + ref.name +
                                      " is not yet accepted by its Gateway at generation " +
                                      std::to_string(generation));
          }
        }
        return client_.update(resource_,
                              buildHttpRoute(canary, weights, *existing, resource_.apiVersion()));
      });
  if (!written) return written.error();
  return {};
}

Result<Weights> GatewayApiRouter::getRoutes(const api::Canary& canary) {
  const std::string apex = apexServiceName(canary);
  const std::string what =
      "HTTPRoute " + canary.metadata.namespace_.value_or("default") + "/" + apex;
  Result<api::JsonValue> route =
      client_.get(resource_, {canary.metadata.namespace_.value_or("default"), apex});
  if (!route) return route.error();
  const json* spec = jsonread::object(route->get(), "spec");
  const json* rules = spec != nullptr ? jsonread::array(*spec, "rules") : nullptr;
  // The rule with the split: with A/B matches the first canaryd owns (the A/B rule before the
  // default one), otherwise the last (after any sticky ones, even left from a Canary that has
  // dropped session affinity since).
  const bool sticky = !canary.spec.analysis || canary.spec.analysis->match.empty();
  const json* chosen = nullptr;
  for (std::size_t i = 0; rules != nullptr && i < rules->size(); ++i) {
    if (!ownsRule((*rules)[i], apex)) continue;
    chosen = &(*rules)[i];
    if (!sticky) break;
  }
  Weights w{0, 0, false};
  if (chosen != nullptr) {
    for (const json& ref : *jsonread::array(*chosen, "backendRefs")) {
      const std::string name = jsonread::string(ref, "name");
      if (name != apex + "-primary" && name != apex + "-canary") continue;
      // An omitted weight is 1 in the Gateway API.
      Result<std::int64_t> weight = ref.is_object() && ref.contains("weight")
                                        ? wholeWeight(ref, what, "a backendRef")
                                        : Result<std::int64_t>(std::int64_t{1});
      if (!weight) return weight.error();
      (name == apex + "-primary" ? w.primary : w.canary) = *weight;
    }
    if (const json* filters = jsonread::array(*chosen, "filters")) {
      for (const json& f : *filters)
        w.mirror = w.mirror || jsonread::string(f, "type") == "RequestMirror";
    }
  }
  if (w.primary == 0 && w.canary == 0) {
    return Error::unavailable(what + " routes nothing to " + apex + "-primary or " + apex +
                              "-canary; the next reconcile restores its rules");
  }
  return w;
}

std::vector<RouterPlugin> gatewayApiRouters() {
  std::vector<RouterPlugin> out;
  for (const char* version : {"v1", "v1beta1"}) {
    api::RouterEntry entry;
    entry.name = std::string("gatewayapi:") + version;
    entry.can.weights = true;
    entry.can.matching = true;
    entry.can.mirroring = true;
    entry.can.sessionAffinity = true;
    // A Service target: the route splits between its copies `<target>-primary` and -canary.
    entry.can.targetKinds = {"Deployment", "DaemonSet", "Service"};
    entry.check = [](const api::Canary& canary) {
      api::FieldProblems problems;
      if (!canary.spec.service || canary.spec.service->gatewayRefs.empty()) {
        problems.emplace_back("spec.service.gatewayRefs",
                              "required field is missing: the Gateway API provider attaches the "
                              "generated HTTPRoute to these Gateways");
      }
      const api::CanaryAnalysis analysis = canary.spec.analysis.value_or(api::CanaryAnalysis{});
      if (analysis.sessionAffinity && !analysis.match.empty()) {
        problems.emplace_back("spec.analysis.sessionAffinity",
                              "session affinity pins users during a weighted canary release; "
                              "an A/B test (analysis.match) routes by its own matches");
      }
      if (analysis.sessionAffinity && analysis.mirror.value_or(false)) {
        problems.emplace_back("spec.analysis.sessionAffinity",
                              "session affinity pins users during a weighted canary release; "
                              "a mirrored run sends the canary copies only");
      }
      return problems;
    };
    const std::string apiVersion = std::string("gateway.networking.k8s.io/") + version;
    out.push_back({entry, [apiVersion](const RouterContext& c) -> std::unique_ptr<Router> {
                     return std::make_unique<GatewayApiRouter>(c.client, apiVersion);
                   }});
  }
  return out;
}

}  // namespace canaryd::router
