#include "canaryd/router/gloo.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/core/json_read.h"

#include "router/json_weight.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

constexpr const char* kUpstreamApiVersion = "gloo.solo.io/v1";
constexpr const char* kRouteTableApiVersion = "gateway.solo.io/v1";

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

std::int64_t portOf(const api::Canary& canary) {
  return canary.spec.service ? canary.spec.service->port.value_or(0) : 0;
}

const api::CanaryAnalysis& analysisOf(const api::Canary& canary) {
  static const api::CanaryAnalysis kNone;
  if (canary.spec.analysis) return *canary.spec.analysis;
  return canary.spec.canaryAnalysis ? *canary.spec.canaryAnalysis : kNone;
}

std::string describe(const api::Canary& canary) {
  return "RouteTable " + apexServiceName(canary);
}

// The spec fields of the spec.upstreamRef Upstream that Flagger lends the Upstreams it creates,
// as its Go types write them: objects when set, a bool when true, numbers when not 0, strings
// when not empty. httpProxyHostname is read in either spelling (Go decodes JSON keys without
// regard to case) and written as Gloo spells it.
json lentSpec(const json& config) {
  json spec = json::object();
  const json* from = jsonread::object(config, "spec");
  if (from == nullptr) return spec;
  for (const char* key :
       {"labels", "sslConfig", "circuitBreakers", "connectionConfig", "loadBalancerConfig"}) {
    if (from->contains(key) && (*from)[key].is_object() &&
        !(std::string(key) == "labels" && (*from)[key].empty()))
      spec[key] = (*from)[key];
  }
  if (from->contains("useHttp2") && (*from)["useHttp2"].is_boolean() &&
      (*from)["useHttp2"].get<bool>())
    spec["useHttp2"] = true;
  for (const char* key : {"initialStreamWindowSize", "initialConnectionWindowSize"}) {
    if (from->contains(key) && (*from)[key].is_number() && (*from)[key] != 0)
      spec[key] = (*from)[key];
  }
  for (const char* key : {"httpProxyHostname", "httpProxyHostName"}) {
    if (const std::string host = jsonread::string(*from, key); !host.empty()) {
      spec["httpProxyHostname"] = host;
      break;
    }
  }
  return spec;
}

json destination(const api::Canary& canary, bool primary, std::int64_t weight) {
  json out = {
      {"destination",
       {{"upstream",
         {{"name", glooUpstreamName(canary, primary)}, {"namespace", namespaceOf(canary)}}}}}};
  if (weight != 0) out["weight"] = weight;
  return out;
}

// Flagger's getMatchers: one matcher with the headers (exact, or regex) of every entry of
// analysis.match and their methods; none without either.
json matchers(const api::Canary& canary) {
  json headers = json::array();
  json methods = json::array();
  for (const api::JsonValue& entry : analysisOf(canary).match) {
    if (!entry.present() || !entry.get().is_object()) continue;
    const json& match = entry.get();
    if (const json* byName = jsonread::object(match, "headers"); byName != nullptr) {
      for (const auto& [name, value] : byName->items()) {
        json header = {{"name", name}};
        if (const std::string exact = jsonread::string(value, "exact"); !exact.empty())
          header["value"] = exact;
        if (const std::string regex = jsonread::string(value, "regex"); !regex.empty())
          header = {{"name", name}, {"value", regex}, {"regex", true}};
        headers.push_back(header);
      }
    }
    if (const json* method = jsonread::object(match, "method"); method != nullptr) {
      if (const std::string exact = jsonread::string(*method, "exact"); !exact.empty())
        methods.push_back(exact);
    }
  }
  if (headers.empty() && methods.empty()) return nullptr;
  json matcher = json::object();
  if (!headers.empty()) matcher["headers"] = headers;
  if (!methods.empty()) matcher["methods"] = methods;
  return json::array({matcher});
}

json routes(const api::Canary& canary, const Weights& weights) {
  json route = {
      {"inheritablePathMatchers", true},
      {"routeAction",
       {{"multi",
         {{"destinations", json::array({destination(canary, true, weights.primary),
                                        destination(canary, false, weights.canary)})}}}}}};
  if (json found = matchers(canary); !found.is_null()) route["matchers"] = found;
  return json::array({route});
}

// The weights of the first route's destinations, the primary's and the canary's Upstreams.
Result<Weights> weightsIn(const json& table, const api::Canary& canary, const std::string& what) {
  Weights w{0, 0, false};
  const std::string primary = glooUpstreamName(canary, true);
  const std::string canaryUpstream = glooUpstreamName(canary, false);
  const json* spec = jsonread::object(table, "spec");
  const json* action = nullptr;
  if (spec != nullptr && spec->contains("routes") && (*spec)["routes"].is_array() &&
      !(*spec)["routes"].empty())
    action = jsonread::object((*spec)["routes"][0], "routeAction");
  const json* multi = action != nullptr ? jsonread::object(*action, "multi") : nullptr;
  if (multi != nullptr && multi->contains("destinations") && (*multi)["destinations"].is_array()) {
    for (const json& entry : (*multi)["destinations"]) {
      const json* dest = jsonread::object(entry, "destination");
      const json* upstream = dest != nullptr ? jsonread::object(*dest, "upstream") : nullptr;
      const std::string name = upstream != nullptr ? jsonread::string(*upstream, "name") : "";
      if (name != primary && name != canaryUpstream) continue;
      Result<std::int64_t> weight = wholeWeight(entry, what, "a destination");
      if (!weight) return weight.error();
      (name == primary ? w.primary : w.canary) = *weight;
    }
  }
  if (w.primary == 0 && w.canary == 0) {
    return Error::unavailable(what + " routes nothing to " + primary + " or " + canaryUpstream +
                              " by weight; the next reconcile restores its routes");
  }
  return w;
}

}  // namespace

std::string glooUpstreamName(const api::Canary& canary, bool primary) {
  return namespaceOf(canary) + "-" + apexServiceName(canary) +
         (primary ? "-primaryupstream-" : "-canaryupstream-") + std::to_string(portOf(canary));
}

api::JsonValue buildGlooUpstream(const api::Canary& canary, bool primary,
                                 const api::JsonValue& service, const api::JsonValue& config) {
  json spec = config.present() ? lentSpec(config.get()) : json::object();
  json kube = {{"serviceName", apexServiceName(canary) + (primary ? "-primary" : "-canary")},
               {"serviceNamespace", namespaceOf(canary)}};
  if (portOf(canary) != 0) kube["servicePort"] = portOf(canary);
  if (service.present()) {
    const json* serviceSpec = jsonread::object(service.get(), "spec");
    const json* selector =
        serviceSpec != nullptr ? jsonread::object(*serviceSpec, "selector") : nullptr;
    if (selector != nullptr && !selector->empty()) kube["selector"] = *selector;
  }
  spec["kube"] = kube;
  return api::JsonValue(
      json{{"apiVersion", kUpstreamApiVersion},
           {"kind", "Upstream"},
           {"metadata",
            {{"name", glooUpstreamName(canary, primary)},
             {"namespace", namespaceOf(canary)},
             {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}}},
           {"spec", spec}});
}

api::JsonValue buildRouteTable(const api::Canary& canary, const Weights& weights,
                               const api::JsonValue& existing) {
  json table;
  if (existing.present() && existing.get().is_object()) {
    table = existing.get();
  } else {
    table["metadata"] = {{"name", apexServiceName(canary)},
                         {"namespace", namespaceOf(canary)},
                         {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}};
  }
  table["apiVersion"] = kRouteTableApiVersion;
  table["kind"] = "RouteTable";

  json& meta = table["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (canary.spec.service && canary.spec.service->apex) {
    for (const auto& [key, value] : canary.spec.service->apex->labels)
      meta["labels"][key] = value;
    for (const auto& [key, value] : canary.spec.service->apex->annotations)
      meta["annotations"][key] = value;
  }
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    meta["annotations"][std::string(key)] = std::string(value);

  if (!table.contains("spec") || !table["spec"].is_object()) table["spec"] = json::object();
  table["spec"]["routes"] = routes(canary, weights);
  return api::JsonValue(std::move(table));
}

GlooRouter::GlooRouter(cluster::Client& client) : client_(client) {}

Status GlooRouter::reconcile(const api::Canary& canary) {
  const std::string ns = namespaceOf(canary);
  // The Upstream of spec.upstreamRef, read once when needed.
  std::optional<Result<api::JsonValue>> config;
  auto loadConfig = [&]() -> Result<api::JsonValue> {
    if (!canary.spec.upstreamRef) return api::JsonValue();
    if (!config) {
      const api::CrossNamespaceObjectReference& ref = *canary.spec.upstreamRef;
      const std::string refNs = ref.namespace_.value_or("").empty() ? ns : *ref.namespace_;
      Result<api::JsonValue> found = client_.get(kGlooUpstreams, {refNs, ref.name.value_or("")});
      if (!found) {
        found = found.error().withContext("Upstream " + refNs + "/" + ref.name.value_or("") +
                                          " (spec.upstreamRef)");
      }
      config = std::move(found);
    }
    return *config;
  };

  for (bool primary : {true, false}) {
    const std::string serviceName = apexServiceName(canary) + (primary ? "-primary" : "-canary");
    const std::string name = glooUpstreamName(canary, primary);
    Result<api::JsonValue> service = client_.get(cluster::kServices, {ns, serviceName});
    if (!service) return service.error().withContext("Service " + serviceName);
    Result<api::JsonValue> written =
        cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
          Result<api::JsonValue> existing = client_.get(kGlooUpstreams, {ns, name});
          if (!existing && existing.error().kind() != ErrorKind::kNotFound) return existing.error();
          Result<api::JsonValue> lender = loadConfig();
          if (!lender) return lender.error();
          if (!existing) {
            return client_.create(kGlooUpstreams, ns,
                                  buildGlooUpstream(canary, primary, *service, *lender));
          }
          // Only the load balancer follows the lender, when it has one (as Flagger syncs it).
          const json* lent = lender->present() ? jsonread::object(lender->get(), "spec") : nullptr;
          if (lent == nullptr || !lent->contains("loadBalancerConfig") ||
              (*lent)["loadBalancerConfig"].is_null())
            return *existing;
          json upstream = existing->get();
          if (!upstream.contains("spec") || !upstream["spec"].is_object())
            upstream["spec"] = json::object();
          upstream["spec"]["loadBalancerConfig"] = (*lent)["loadBalancerConfig"];
          if (upstream == existing->get()) return *existing;
          return client_.update(kGlooUpstreams, api::JsonValue(std::move(upstream)));
        });
    if (!written) return written.error().withContext("Upstream " + name);
  }

  const cluster::ObjectRef ref{ns, apexServiceName(canary)};
  const std::string what = describe(canary);
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(kGlooRouteTables, ref);
        if (!existing) {
          if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
          // A new table sends everything to the primary; a 409 (created meanwhile) looks again.
          return client_.create(kGlooRouteTables, ns,
                                buildRouteTable(canary, {}, api::JsonValue()));
        }
        // Weights are the business of setRoutes: a rewrite keeps them (all on the primary when
        // they cannot be read).
        Result<Weights> current = weightsIn(existing->get(), canary, what);
        api::JsonValue desired = buildRouteTable(canary, current ? *current : Weights{}, *existing);
        if (desired.get() == existing->get()) return *existing;
        return client_.update(kGlooRouteTables, desired);
      });
  if (!written) return written.error().withContext(what);
  return {};
}

Status GlooRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string what = describe(canary);
  if (weights.mirror) {
    return Error::invalidInput(what +
                               ": canaryd's Gloo router does not mirror traffic (provider gloo, "
                               "as in Flagger); use analysis.iterations without mirror");
  }
  if (weights.primary == 0 && weights.canary == 0)
    return Error::invalidInput(what + ": no valid weights (both 0)");
  const cluster::ObjectRef ref{namespaceOf(canary), apexServiceName(canary)};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(kGlooRouteTables, ref);
        if (!existing) return existing.error();
        json table = existing->get();
        if (!table.contains("spec") || !table["spec"].is_object()) table["spec"] = json::object();
        // As Flagger: the routes are rewritten at the new weights.
        table["spec"]["routes"] = routes(canary, weights);
        if (table == existing->get()) return *existing;
        return client_.update(kGlooRouteTables, api::JsonValue(std::move(table)));
      });
  if (!written) return written.error().withContext(what);
  return {};
}

Result<Weights> GlooRouter::getRoutes(const api::Canary& canary) {
  const std::string what = describe(canary);
  Result<api::JsonValue> table =
      client_.get(kGlooRouteTables, {namespaceOf(canary), apexServiceName(canary)});
  if (!table) return table.error().withContext(what);
  return weightsIn(table->get(), canary, what);
}

std::vector<RouterPlugin> glooRouters() {
  api::RouterEntry entry;
  entry.name = "gloo";
  entry.can.weights = true;
  entry.can.matching = true;
  // A Service target brings its own -primary and -canary Services: the Upstreams are the same.
  entry.can.targetKinds = {"Deployment", "DaemonSet", "Service"};
  entry.check = [](const api::Canary& canary) {
    api::FieldProblems problems;
    // The validator requires the reference's apiVersion, kind (Upstream) and name; the group
    // is Gloo's.
    if (canary.spec.upstreamRef) {
      const api::CrossNamespaceObjectReference& ref = *canary.spec.upstreamRef;
      if (ref.apiVersion && !ref.apiVersion->empty() && *ref.apiVersion != kUpstreamApiVersion)
        problems.push_back({"spec.upstreamRef.apiVersion",
                            std::string("must be ") + kUpstreamApiVersion +
                                " (the Upstream of Gloo Edge whose settings the generated "
                                "Upstreams take)"});
    }
    // One matcher holds the A/B test: exact or regex headers and exact methods.
    const std::string base = canary.spec.analysis ? "spec.analysis" : "spec.canaryAnalysis";
    const auto& matches = analysisOf(canary).match;
    for (std::size_t i = 0; i < matches.size(); ++i) {
      const std::string path = base + ".match[" + std::to_string(i) + "]";
      if (i > 0) {
        problems.push_back({path,
                            "a Gloo route gets one matcher that ANDs its headers, so "
                            "analysis.match cannot list alternatives (provider gloo): put the A/B "
                            "test's headers in analysis.match[0]"});
        continue;
      }
      if (!matches[i].present() || !matches[i].get().is_object()) continue;
      const json& match = matches[i].get();
      for (const auto& [key, value] : match.items()) {
        if (key == "headers" || key == "method" || key == "name") continue;
        problems.push_back({path + "." + key,
                            "Gloo matchers of canaryd (as Flagger's) match request headers and "
                            "methods only (provider gloo)"});
      }
      if (match.contains("method")) {
        const json* method = jsonread::object(match, "method");
        if (method == nullptr || jsonread::string(*method, "exact").empty() || method->size() != 1)
          problems.push_back({path + ".method", "Gloo matches a method by name: use exact only"});
      }
      if (!match.contains("headers")) {
        if (!match.contains("method"))
          problems.push_back({path + ".headers",
                              "required field is missing: the A/B test's requests are told apart "
                              "by headers or a method (provider gloo)"});
        continue;
      }
      if (!match["headers"].is_object()) {
        problems.push_back({path + ".headers", "must be an object of header matches"});
        continue;
      }
      for (const auto& [name, value] : match["headers"].items()) {
        const std::string at = path + ".headers." + name;
        for (const char* kind : {"prefix", "suffix"}) {
          if (!jsonread::string(value, kind).empty())
            problems.push_back({at + "." + kind,
                                "Gloo header matchers take an exact value or a regex (provider "
                                "gloo)"});
        }
        if (jsonread::string(value, "exact").empty() && jsonread::string(value, "regex").empty() &&
            jsonread::string(value, "prefix").empty() && jsonread::string(value, "suffix").empty())
          problems.push_back({at, "needs exact or regex (provider gloo)"});
      }
    }
    return problems;
  };
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<GlooRouter>(c.client);
           }}};
}

}  // namespace canaryd::router
