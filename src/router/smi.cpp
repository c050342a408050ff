#include "canaryd/router/smi.h"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"
#include "canaryd/core/text.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

constexpr const char* kSplitGroup = "split.smi-spec.io";

// v1alpha1 declares a weight as a resource.Quantity, which Kubernetes writes as a string.
bool weightsAreQuantities(const std::string& apiVersion) {
  return apiVersion == std::string(kSplitGroup) + "/v1alpha1";
}

json weightValue(std::int64_t weight, bool quantity) {
  return quantity ? json(std::to_string(weight)) : json(weight);
}

// A backend's weight as a whole number: an integer, or a quantity string such as "90" (what
// Flagger and canaryd write). Fractions ("500m") and anything else are refused.
Result<std::int64_t> weightOf(const json& backend, const std::string& what) {
  const json weight = backend.value("weight", json());
  if (weight.is_number_integer()) return weight.get<std::int64_t>();
  if (weight.is_number_float()) {
    const double value = weight.get<double>();
    if (std::isfinite(value) && value == std::floor(value)) return static_cast<std::int64_t>(value);
  }
  if (weight.is_string()) {
    const std::string text = weight.get<std::string>();
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return value;
  }
  return Error::invalidInput(what + ": the weight of backend " +
                             quote(backend.value("service", "")) + " is " + weight.dump() +
                             ", not a whole number");
}

// The split of `split` between canaryd's two backends.
Result<Weights> weightsIn(const json& split, const std::string& apex, const std::string& what) {
  Weights w{0, 0, false};
  bool found = false;
  const json spec = split.value("spec", json::object());
  const json backends = spec.is_object() ? spec.value("backends", json::array()) : json::array();
  for (const json& backend : backends) {
    if (!backend.is_object()) continue;
    const std::string service = backend.value("service", "");
    if (service != apex + "-primary" && service != apex + "-canary") continue;
    Result<std::int64_t> weight = weightOf(backend, what);
    if (!weight) return weight.error();
    (service == apex + "-primary" ? w.primary : w.canary) = *weight;
    found = true;
  }
  if (!found || (w.primary == 0 && w.canary == 0)) {
    return Error::unavailable(what + " routes nothing to " + apex + "-primary or " + apex +
                              "-canary; the next reconcile restores its backends");
  }
  return w;
}

std::string describe(const cluster::ObjectRef& ref) {
  return "TrafficSplit " + ref.namespace_ + "/" + ref.name;
}

}  // namespace

api::JsonValue buildTrafficSplit(const api::Canary& canary, const Weights& weights,
                                 const api::JsonValue& existing, const std::string& apiVersion) {
  const std::string apex = apexServiceName(canary);
  const bool quantity = weightsAreQuantities(apiVersion);
  // The mesh routes requests for this host; Flagger takes the first of service.hosts.
  std::string host = apex;
  if (canary.spec.service && !canary.spec.service->hosts.empty())
    host = canary.spec.service->hosts.front();

  json split;
  if (existing.present() && existing.get().is_object()) {
    split = existing.get();
  } else {
    json optOut = json::object();
    for (const auto& [key, value] : cluster::kGitopsOptOut)
      optOut[std::string(key)] = std::string(value);
    split["metadata"] = {{"name", apex},
                         {"namespace", canary.metadata.namespace_.value_or("default")},
                         {"annotations", optOut},
                         {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}};
  }
  split["apiVersion"] = apiVersion;
  split["kind"] = "TrafficSplit";
  if (!split.contains("spec") || !split["spec"].is_object()) split["spec"] = json::object();
  split["spec"]["service"] = host;
  split["spec"]["backends"] = json::array(
      {{{"service", apex + "-canary"}, {"weight", weightValue(weights.canary, quantity)}},
       {{"service", apex + "-primary"}, {"weight", weightValue(weights.primary, quantity)}}});
  return api::JsonValue(std::move(split));
}

SmiRouter::SmiRouter(cluster::Client& client, const std::string& apiVersion)
    : client_(client),
      resource_{kSplitGroup, apiVersion.substr(apiVersion.find('/') + 1), "trafficsplits", true,
                "TrafficSplit"} {}

Status SmiRouter::reconcile(const api::Canary& canary) {
  const cluster::ObjectRef ref{canary.metadata.namespace_.value_or("default"),
                               apexServiceName(canary)};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(resource_, ref);
        if (!existing) {
          if (existing.error().kind() != ErrorKind::kNotFound)
            return existing.error().withContext(describe(ref));
          // A new split sends everything to the primary; a 409 (created meanwhile) looks again.
          return client_.create(
              resource_, ref.namespace_,
              buildTrafficSplit(canary, {}, api::JsonValue(), resource_.apiVersion()));
        }
        // Weights are the business of setRoutes: a rewrite of the backends keeps them (all on
        // the primary when they cannot be read).
        Result<Weights> current = weightsIn(existing->get(), ref.name, describe(ref));
        api::JsonValue desired = buildTrafficSplit(canary, current ? *current : Weights{},
                                                   *existing, resource_.apiVersion());
        if (desired.get().value("spec", json()) == existing->get().value("spec", json()))
          return *existing;
        return client_.update(resource_, desired);
      });
  if (!written) return written.error();
  return {};
}

Status SmiRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  if (weights.mirror) {
    return Error::invalidInput(
        "an SMI TrafficSplit cannot mirror traffic (providers linkerd, osm, smi:*); use "
        "analysis.iterations without mirror");
  }
  const cluster::ObjectRef ref{canary.metadata.namespace_.value_or("default"),
                               apexServiceName(canary)};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(resource_, ref);
        if (!existing) return existing.error().withContext(describe(ref));
        return client_.update(
            resource_, buildTrafficSplit(canary, weights, *existing, resource_.apiVersion()));
      });
  if (!written) return written.error();
  return {};
}

Result<Weights> SmiRouter::getRoutes(const api::Canary& canary) {
  const cluster::ObjectRef ref{canary.metadata.namespace_.value_or("default"),
                               apexServiceName(canary)};
  Result<api::JsonValue> split = client_.get(resource_, ref);
  if (!split) return split.error().withContext(describe(ref));
  return weightsIn(split->get(), ref.name, describe(ref));
}

std::vector<RouterPlugin> smiRouters() {
  struct Provider {
    const char* name;
    const char* version;
  };
  // As Flagger's router factory maps them (pkg/router/factory.go).
  static constexpr Provider kProviders[] = {{"linkerd", "v1alpha1"},
                                            {"osm", "v1alpha2"},
                                            {"smi:v1alpha1", "v1alpha1"},
                                            {"smi:v1alpha2", "v1alpha2"},
                                            {"smi:v1alpha3", "v1alpha3"}};
  std::vector<RouterPlugin> out;
  for (const Provider& p : kProviders) {
    api::RouterEntry entry;
    entry.name = p.name;
    entry.can.weights = true;
    entry.can.targetKinds = {"Deployment", "DaemonSet", "Service"};
    const std::string apiVersion = std::string(kSplitGroup) + "/" + p.version;
    out.push_back({entry, [apiVersion](const RouterContext& c) -> std::unique_ptr<Router> {
                     return std::make_unique<SmiRouter>(c.client, apiVersion);
                   }});
  }
  return out;
}

}  // namespace canaryd::router
