#include "canaryd/router/skipper.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/core/json_read.h"

#include "router/canary_ingress.h"
#include "router/json_weight.h"
#include "router/object_writes.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

constexpr const char* kBackendWeights = "zalando.org/backend-weights";
constexpr const char* kPredicate = "zalando.org/skipper-predicate";
constexpr const char* kRouteWeight = "Weight(100)";  // the canary Ingress' routes win
constexpr const char* kRouteDisable = "False()";     // the canary Ingress' routes are off
constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

const json& annotationsOf(const json& object) {
  static const json kNone = json::object();
  const json* meta = jsonread::object(object, "metadata");
  const json* annotations = meta != nullptr ? jsonread::object(*meta, "annotations") : nullptr;
  return annotations != nullptr ? *annotations : kNone;
}

std::string trimmed(const std::string& text) {
  const std::size_t begin = text.find_first_not_of(" \t\n\r");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\n\r") - begin + 1);
}

// The first predicate of an annotation's value ("" for none).
std::string firstPredicate(const std::string& predicates) {
  return trimmed(predicates.substr(0, predicates.find("&&")));
}

// The backend-weights annotation's value: Go's encoding of a map, keys in order, no spaces.
std::string backendWeights(const api::Canary& canary, const Weights& weights) {
  const std::string apex = apexServiceName(canary);
  return json{{apex + "-canary", weights.canary}, {apex + "-primary", weights.primary}}.dump();
}

// Points every path whose backend is the apex Service at `<apex>-primary` and appends to its
// rule a copy going to `<apex>-canary`; false when there is none.
bool splitBackends(json& spec, const std::string& apex) {
  bool found = false;
  if (!spec.is_object() || !spec.contains("rules") || !spec["rules"].is_array()) return false;
  for (json& rule : spec["rules"]) {
    if (!rule.is_object() || !rule.contains("http") || !rule["http"].is_object()) continue;
    json& http = rule["http"];
    if (!http.contains("paths") || !http["paths"].is_array()) continue;
    json canaryPaths = json::array();
    for (json& path : http["paths"]) {
      if (!path.is_object() || !path.contains("backend") || !path["backend"].is_object()) continue;
      json& backend = path["backend"];
      if (!backend.contains("service") || !backend["service"].is_object() ||
          jsonread::string(backend["service"], "name") != apex)
        continue;
      backend["service"]["name"] = apex + "-primary";
      json copy = path;
      copy["backend"]["service"]["name"] = apex + "-canary";
      canaryPaths.push_back(std::move(copy));
      found = true;
    }
    for (json& path : canaryPaths)
      http["paths"].push_back(std::move(path));
  }
  return found;
}

json newMetadata(const api::Canary& canary) {
  return {{"name", canaryIngressName(canary)},
          {"namespace", namespaceOf(canary)},
          {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}};
}

// The weights in the backend-weights annotation of `ingress`.
Result<Weights> weightsIn(const json& ingress, const api::Canary& canary, const std::string& what) {
  const json& annotations = annotationsOf(ingress);
  if (!annotations.contains(kBackendWeights)) {
    return Error::unavailable(what + " has no " + kBackendWeights +
                              " annotation; the next reconcile restores it");
  }
  const json parsed = annotations[kBackendWeights].is_string()
                          ? json::parse(annotations[kBackendWeights].get<std::string>(), nullptr,
                                        /*allow_exceptions=*/false)
                          : json();
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Error::invalidInput(what + ": its " + kBackendWeights + " annotation is " +
                               annotations[kBackendWeights].dump() +
                               ", not a JSON object of Services' weights");
  }
  const std::string apex = apexServiceName(canary);
  Weights w{0, 0, false};
  for (const std::string& name : {apex + "-primary", apex + "-canary"}) {
    if (!parsed.contains(name)) {
      return Error::unavailable(what + ": " + kBackendWeights + " has no weight for " + name +
                                "; the next reconcile restores it");
    }
    Result<std::int64_t> weight = wholeWeight(json{{"weight", parsed[name]}}, what, name);
    if (!weight) return weight.error();
    (name == apex + "-primary" ? w.primary : w.canary) = *weight;
  }
  if (w.primary == 0 && w.canary == 0) {
    return Error::unavailable(what + " routes nothing to " + apex + "-primary or " + apex +
                              "-canary; the next reconcile restores its weights");
  }
  return w;
}

}  // namespace

std::string skipperPredicate(const std::string& predicates, const std::string& first) {
  std::string out = first;
  std::size_t at = 0;
  while (at <= predicates.size()) {
    const std::size_t end = std::min(predicates.find("&&", at), predicates.size());
    const std::string predicate = trimmed(predicates.substr(at, end - at));
    if (!predicate.empty() && predicate != kRouteWeight && predicate != kRouteDisable)
      out += " && " + predicate;
    at = end + 2;
  }
  return out;
}

Result<api::JsonValue> buildSkipperCanaryIngress(const api::Canary& canary,
                                                 const api::JsonValue& user,
                                                 const api::JsonValue& existing) {
  const std::string apex = apexServiceName(canary);
  const json& source = user.present() && user.get().is_object() ? user.get() : json::object();
  json spec =
      source.contains("spec") && source["spec"].is_object() ? source["spec"] : json::object();
  if (!splitBackends(spec, apex)) {
    return Error::invalidInput("Ingress " + userIngressName(canary) +
                               " has no path whose backend is Service " + apex +
                               " (the apex Service), so no traffic to split between " + apex +
                               "-primary and " + apex + "-canary");
  }

  json ingress;
  std::string first = kRouteWeight;
  Weights weights;
  if (existing.present() && existing.get().is_object()) {
    ingress = existing.get();
    // Weights and the switch are the business of setRoutes: a rewrite keeps them (all on the
    // primary when they cannot be read).
    if (Result<Weights> current = weightsIn(ingress, canary, describeCanaryIngress(canary)))
      weights = *current;
    const std::string lead = firstPredicate(jsonread::string(annotationsOf(ingress), kPredicate));
    if (lead == kRouteDisable) first = kRouteDisable;
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

  json annotations = json::object();
  for (const auto& [key, value] : annotationsOf(ingress).items()) {
    if (value.is_string()) annotations[key] = value;
  }
  const json& userAnnotations = annotationsOf(source);
  for (const auto& [key, value] : userAnnotations.items()) {
    if (value.is_string() && key.find(kLastApplied) == std::string::npos &&
        !cluster::isGitopsTrackingKey(key))
      annotations[key] = value;
  }
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    annotations[std::string(key)] = std::string(value);
  annotations[kBackendWeights] = backendWeights(canary, weights);
  annotations[kPredicate] = skipperPredicate(jsonread::string(userAnnotations, kPredicate), first);
  meta["annotations"] = std::move(annotations);

  ingress["spec"] = std::move(spec);
  return api::JsonValue(std::move(ingress));
}

api::JsonValue withSkipperRoutes(const api::Canary& canary, const api::JsonValue& ingress,
                                 const Weights& weights) {
  json out = ingress.present() && ingress.get().is_object() ? ingress.get() : json::object();
  if (!out.contains("metadata") || !out["metadata"].is_object()) out["metadata"] = json::object();
  json& meta = out["metadata"];
  if (!meta.contains("annotations") || !meta["annotations"].is_object())
    meta["annotations"] = json::object();
  json& annotations = meta["annotations"];
  annotations[kBackendWeights] = backendWeights(canary, weights);
  // Without canary traffic the canary Ingress' routes are switched off (the user's serve).
  annotations[kPredicate] = skipperPredicate(jsonread::string(annotations, kPredicate),
                                             weights.canary == 0 ? kRouteDisable : kRouteWeight);
  return api::JsonValue(std::move(out));
}

SkipperRouter::SkipperRouter(cluster::Client& client) : client_(client) {}

Status SkipperRouter::reconcile(const api::Canary& canary) {
  return reconcileCanaryIngress(client_, canary, "skipper",
                                [&](const api::JsonValue& user, const api::JsonValue& existing) {
                                  return buildSkipperCanaryIngress(canary, user, existing);
                                });
}

Status SkipperRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string what = describeCanaryIngress(canary);
  if (weights.mirror) {
    return Error::invalidInput(what +
                               ": Skipper's backend weights cannot mirror traffic (provider "
                               "skipper); use analysis.iterations without mirror");
  }
  return updateObject(
      client_, kIngresses, {namespaceOf(canary), canaryIngressName(canary)}, what,
      [&](const api::JsonValue& existing) { return withSkipperRoutes(canary, existing, weights); });
}

Result<Weights> SkipperRouter::getRoutes(const api::Canary& canary) {
  const std::string what = describeCanaryIngress(canary);
  Result<api::JsonValue> ingress =
      client_.get(kIngresses, {namespaceOf(canary), canaryIngressName(canary)});
  if (!ingress) return ingress.error().withContext(what);
  return weightsIn(ingress->get(), canary, what);
}

std::vector<RouterPlugin> skipperRouters() {
  api::RouterEntry entry;
  entry.name = "skipper";
  entry.can.weights = true;
  // With the canary Ingress switched off the user's Ingress serves through the apex Service,
  // which selects the primary's pods only for the targets whose primary canaryd creates.
  entry.can.targetKinds = {"Deployment", "DaemonSet"};
  entry.check = [](const api::Canary& canary) {
    api::FieldProblems problems;
    if (userIngressName(canary).empty()) {
      problems.emplace_back("spec.ingressRef",
                            "required field is missing: provider skipper copies this Ingress "
                            "(networking.k8s.io/v1) into the canary Ingress <name>-canary");
    }
    return problems;
  };
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<SkipperRouter>(c.client);
           }}};
}

}  // namespace canaryd::router
