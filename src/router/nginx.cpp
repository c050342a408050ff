#include "canaryd/router/nginx.h"

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/core/json_read.h"

#include "router/canary_ingress.h"
#include "router/object_writes.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

// ingress-nginx's annotations (Flagger's -ingress-annotations-prefix, at its default).
const std::string kCanary = "nginx.ingress.kubernetes.io/canary";
const std::string kWeight = kCanary + "-weight";
const std::string kByHeader = kCanary + "-by-header";
const std::string kByHeaderValue = kCanary + "-by-header-value";
const std::string kByHeaderPattern = kCanary + "-by-header-pattern";
const std::string kByCookie = kCanary + "-by-cookie";
constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

const std::optional<api::CanaryAnalysis>& analysisOf(const api::Canary& canary) {
  return canary.spec.analysis ? canary.spec.analysis : canary.spec.canaryAnalysis;
}

bool hasMatches(const api::Canary& canary) {
  return analysisOf(canary) && !analysisOf(canary)->match.empty();
}

// The annotations a router of canaryd writes on the canary Ingress.
bool isOwned(const std::string& key) {
  return key == kCanary || key == kWeight || key == kByHeader || key == kByHeaderValue ||
         key == kByHeaderPattern || key == kByCookie;
}

// What Flagger's makeAnnotations drops from the user's annotations (any key with the canary
// prefix, kubectl's record of the user's own manifest) and the GitOps tracking keys.
bool isCopiedAnnotation(const std::string& key) {
  return key.find(kCanary) == std::string::npos && key.find(kLastApplied) == std::string::npos &&
         !cluster::isGitopsTrackingKey(key);
}

// The canary's share in a canary-weight annotation: a whole number from 0 to 100.
std::optional<std::int64_t> parseWeight(const json& value) {
  if (!value.is_string()) return std::nullopt;
  const std::string text = value.get<std::string>();
  if (text.empty() || text.size() > 3) return std::nullopt;
  std::int64_t weight = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    weight = weight * 10 + (c - '0');
  }
  if (weight > 100) return std::nullopt;
  return weight;
}

// Points every path backend that is Service `from` at Service `to`; false when there is none.
bool pointBackends(json& spec, const std::string& from, const std::string& to) {
  bool found = false;
  if (!spec.is_object() || !spec.contains("rules") || !spec["rules"].is_array()) return false;
  for (json& rule : spec["rules"]) {
    if (!rule.is_object() || !rule.contains("http") || !rule["http"].is_object()) continue;
    json& http = rule["http"];
    if (!http.contains("paths") || !http["paths"].is_array()) continue;
    for (json& path : http["paths"]) {
      if (!path.is_object() || !path.contains("backend") || !path["backend"].is_object()) continue;
      json& backend = path["backend"];
      if (!backend.contains("service") || !backend["service"].is_object()) continue;
      json& service = backend["service"];
      if (jsonread::string(service, "name") != from) continue;
      service["name"] = to;
      found = true;
    }
  }
  return found;
}

// The A/B test of analysis.match as ingress-nginx's annotations take it (entry.check refuses
// what they cannot say): the `cookie` header's exact value names the cookie, any other header is
// canary-by-header with its exact value or regex.
struct AbTest {
  std::string header, value, pattern, cookie;
};

AbTest abTestOf(const api::Canary& canary) {
  AbTest ab;
  if (!analysisOf(canary)) return ab;
  for (const api::JsonValue& match : analysisOf(canary)->match) {
    if (!match.present()) continue;
    const json* headers = jsonread::object(match.get(), "headers");
    if (headers == nullptr) continue;
    for (const auto& [name, condition] : headers->items()) {
      if (name == "cookie") {
        ab.cookie = jsonread::string(condition, "exact");
      } else {
        ab.header = name;
        ab.value = jsonread::string(condition, "exact");
        ab.pattern = jsonread::string(condition, "regex");
      }
    }
  }
  return ab;
}

json newMetadata(const api::Canary& canary) {
  return {{"name", canaryIngressName(canary)},
          {"namespace", namespaceOf(canary)},
          {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}};
}

// analysis.match as ingress-nginx's canary annotations can say it, problems otherwise.
void checkMatches(const api::Canary& canary, api::FieldProblems& problems) {
  if (!hasMatches(canary)) return;
  const std::string path =
      std::string(canary.spec.analysis ? "spec.analysis" : "spec.canaryAnalysis") + ".match";
  const auto& matches = analysisOf(canary)->match;
  int headers = 0;
  int cookies = 0;
  for (std::size_t i = 0; i < matches.size(); ++i) {
    if (!matches[i].present() || !matches[i].get().is_object()) continue;
    const std::string at = path + "[" + std::to_string(i) + "]";
    const json& match = matches[i].get();
    for (const auto& [key, value] : match.items()) {
      if (key == "headers") continue;
      problems.emplace_back(at + "." + key,
                            "ingress-nginx routes a canary by one request header or cookie only "
                            "(provider nginx)");
    }
    const json* conditions = jsonread::object(match, "headers");
    if (conditions == nullptr) continue;
    if (conditions->size() > 1) {
      problems.emplace_back(at + ".headers",
                            "ingress-nginx cannot require several headers at once (provider "
                            "nginx): its header and cookie conditions are alternatives; put each "
                            "in a match entry of its own");
    }
    for (const auto& [name, condition] : conditions->items()) {
      const std::string field = at + ".headers." + name;
      const bool cookie = name == "cookie";
      (cookie ? cookies : headers) += 1;
      const bool exact = !jsonread::string(condition, "exact").empty();
      const bool regex = !jsonread::string(condition, "regex").empty();
      bool other = false;
      if (condition.is_object()) {
        for (const auto& [kind, unused] : condition.items())
          other = other || (kind != "exact" && kind != "regex");
      }
      if (cookie && (!exact || regex || other)) {
        problems.emplace_back(field,
                              "the cookie condition takes `exact`, the cookie's name: "
                              "ingress-nginx sends the requests whose cookie of that name is "
                              "\"always\" to the canary (provider nginx)");
      } else if (!cookie && (exact == regex || other)) {
        problems.emplace_back(field,
                              "ingress-nginx matches a header by `exact` value or by `regex`, "
                              "one of them (provider nginx)");
      }
    }
  }
  if (headers > 1) {
    problems.emplace_back(path,
                          "ingress-nginx routes a canary by one header (canary-by-header); "
                          "analysis.match names " +
                              std::to_string(headers) + " (provider nginx)");
  }
  if (cookies > 1) {
    problems.emplace_back(path,
                          "ingress-nginx routes a canary by one cookie (canary-by-cookie); "
                          "analysis.match names " +
                              std::to_string(cookies) + " (provider nginx)");
  }
}

}  // namespace

Result<api::JsonValue> buildNginxCanaryIngress(const api::Canary& canary,
                                               const api::JsonValue& user,
                                               const api::JsonValue& existing) {
  const std::string apex = apexServiceName(canary);
  const json& source = user.present() && user.get().is_object() ? user.get() : json::object();
  json spec =
      source.contains("spec") && source["spec"].is_object() ? source["spec"] : json::object();
  if (!pointBackends(spec, apex, apex + "-canary")) {
    return Error::invalidInput("Ingress " + userIngressName(canary) +
                               " has no path whose backend is Service " + apex +
                               " (the apex Service), so no traffic to send to " + apex + "-canary");
  }

  json ingress;
  if (existing.present() && existing.get().is_object()) {
    ingress = existing.get();
  } else {
    ingress["metadata"] = newMetadata(canary);
  }
  ingress["apiVersion"] = "networking.k8s.io/v1";
  ingress["kind"] = "Ingress";
  json& meta = ingress["metadata"];
  if (!meta.is_object()) meta = json::object();

  const json empty = json::object();
  const json* userMeta = jsonread::object(source, "metadata");
  const json* userLabels = userMeta != nullptr ? jsonread::object(*userMeta, "labels") : nullptr;
  for (const auto& [key, value] : (userLabels != nullptr ? *userLabels : empty).items()) {
    if (!value.is_string() || cluster::isGitopsTrackingKey(key)) continue;
    if (!meta.contains("labels") || !meta["labels"].is_object()) meta["labels"] = json::object();
    meta["labels"][key] = value;
  }

  // Others' annotations and canaryd's own stay; any other `.../canary*` annotation goes.
  json annotations = json::object();
  const json* current = jsonread::object(meta, "annotations");
  for (const auto& [key, value] : (current != nullptr ? *current : empty).items()) {
    if (!value.is_string() || (key.find(kCanary) != std::string::npos && !isOwned(key))) continue;
    annotations[key] = value;
  }
  const json* userAnnotations =
      userMeta != nullptr ? jsonread::object(*userMeta, "annotations") : nullptr;
  for (const auto& [key, value] : (userAnnotations != nullptr ? *userAnnotations : empty).items()) {
    if (value.is_string() && isCopiedAnnotation(key)) annotations[key] = value;
  }
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    annotations[std::string(key)] = std::string(value);
  annotations[kCanary] = "true";
  // Weights are the business of setRoutes: a rewrite keeps them (all on the primary when they
  // cannot be read).
  if (!annotations.contains(kWeight) || !parseWeight(annotations[kWeight]))
    annotations[kWeight] = "0";
  meta["annotations"] = std::move(annotations);

  ingress["spec"] = std::move(spec);
  return api::JsonValue(std::move(ingress));
}

api::JsonValue withNginxRoutes(const api::Canary& canary, const api::JsonValue& ingress,
                               const Weights& weights) {
  json out = ingress.present() && ingress.get().is_object() ? ingress.get() : json::object();
  if (!out.contains("metadata") || !out["metadata"].is_object()) out["metadata"] = json::object();
  json& meta = out["metadata"];
  json annotations = json::object();
  if (const json* current = jsonread::object(meta, "annotations"); current != nullptr) {
    for (const auto& [key, value] : current->items()) {
      if (key.find(kCanary) == std::string::npos) annotations[key] = value;
    }
  }
  annotations[kCanary] = "true";
  if (hasMatches(canary) && weights.canary > 0) {
    // A/B: the matched requests go to the canary, the others to the primary.
    const AbTest ab = abTestOf(canary);
    annotations[kWeight] = "0";
    if (!ab.cookie.empty()) annotations[kByCookie] = ab.cookie;
    if (!ab.header.empty()) annotations[kByHeader] = ab.header;
    if (!ab.value.empty()) annotations[kByHeaderValue] = ab.value;
    if (!ab.pattern.empty()) annotations[kByHeaderPattern] = ab.pattern;
  } else {
    annotations[kWeight] = std::to_string(weights.canary);
  }
  meta["annotations"] = std::move(annotations);
  return api::JsonValue(std::move(out));
}

NginxRouter::NginxRouter(cluster::Client& client) : client_(client) {}

Status NginxRouter::reconcile(const api::Canary& canary) {
  return reconcileCanaryIngress(client_, canary, "nginx",
                                [&](const api::JsonValue& user, const api::JsonValue& existing) {
                                  return buildNginxCanaryIngress(canary, user, existing);
                                });
}

Status NginxRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string what = describeCanaryIngress(canary);
  if (weights.mirror) {
    return Error::invalidInput(what +
                               ": ingress-nginx cannot mirror traffic to a canary Ingress "
                               "(provider nginx); use analysis.iterations without mirror");
  }
  return updateObject(
      client_, kIngresses, {namespaceOf(canary), canaryIngressName(canary)}, what,
      [&](const api::JsonValue& existing) { return withNginxRoutes(canary, existing, weights); });
}

Result<Weights> NginxRouter::getRoutes(const api::Canary& canary) {
  const std::string what = describeCanaryIngress(canary);
  Result<api::JsonValue> ingress =
      client_.get(kIngresses, {namespaceOf(canary), canaryIngressName(canary)});
  if (!ingress) return ingress.error().withContext(what);
  const json* meta = jsonread::object(ingress->get(), "metadata");
  const json* annotations = meta != nullptr ? jsonread::object(*meta, "annotations") : nullptr;
  const json none = json::object();
  const json& a = annotations != nullptr ? *annotations : none;
  if (jsonread::string(a, kCanary.c_str()) != "true") {
    return Error::unavailable(what + " is not marked " + kCanary +
                              ": \"true\"; the next reconcile restores it");
  }
  if (hasMatches(canary) && (!jsonread::string(a, kByHeader.c_str()).empty() ||
                             !jsonread::string(a, kByCookie.c_str()).empty())) {
    return Weights{0, 100, false};  // the A/B test's matched requests
  }
  if (!a.contains(kWeight)) {
    return Error::unavailable(what + " has no " + kWeight +
                              " annotation; the next reconcile restores it");
  }
  const std::optional<std::int64_t> weight = parseWeight(a[kWeight]);
  if (!weight) {
    return Error::invalidInput(what + ": its " + kWeight + " annotation is " + a[kWeight].dump() +
                               ", not a whole number from 0 to 100");
  }
  return Weights{100 - *weight, *weight, false};
}

std::vector<RouterPlugin> nginxRouters() {
  api::RouterEntry entry;
  entry.name = "nginx";
  entry.can.weights = true;
  entry.can.matching = true;
  // The user's Ingress sends the primary's traffic to the apex Service, which selects the
  // primary's pods only for the targets whose primary canaryd creates.
  entry.can.targetKinds = {"Deployment", "DaemonSet"};
  entry.check = [](const api::Canary& canary) {
    api::FieldProblems problems;
    if (userIngressName(canary).empty()) {
      problems.emplace_back("spec.ingressRef",
                            "required field is missing: provider nginx copies this Ingress "
                            "(networking.k8s.io/v1) into the canary Ingress <name>-canary");
    }
    checkMatches(canary, problems);
    return problems;
  };
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<NginxRouter>(c.client);
           }}};
}

}  // namespace canaryd::router
