#include "canaryd/router/knative.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "canaryd/core/json_read.h"
#include "canaryd/core/text.h"

#include "router/json_weight.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

constexpr const char* kKnativeApiVersion = "serving.knative.dev/v1";

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

std::string targetName(const api::Canary& canary) {
  return canary.spec.targetRef ? canary.spec.targetRef->name.value_or("") : "";
}

std::string describe(const api::Canary& canary) {
  return "Knative Service " + namespaceOf(canary) + "/" + targetName(canary);
}

// The primary Revision the Service's annotation names; "" when absent or not a string.
std::string primaryRevisionOf(const json& service) {
  const json* meta = jsonread::object(service, "metadata");
  const json* annotations = meta == nullptr ? nullptr : jsonread::object(*meta, "annotations");
  return annotations == nullptr ? "" : jsonread::string(*annotations, kKnativePrimaryRevision);
}

bool isLatest(const json& entry) {
  const json* latest = jsonread::member(entry, "latestRevision");
  return latest != nullptr && latest->is_boolean() && latest->get<bool>();
}

// A traffic entry's percent: a whole number, or absent (0).
Result<std::int64_t> percentOf(const json& entry, const std::string& what,
                               const std::string& where) {
  const json* percent = jsonread::member(entry, "percent");
  if (percent == nullptr) return std::int64_t{0};
  Result<std::int64_t> whole = wholeWeight(json{{"weight", *percent}}, what, "a traffic entry");
  if (!whole) {
    return Error::invalidInput(what + ": " + where + ": a traffic entry's percent is " +
                               printable(percent->dump()) + ", not a whole number");
  }
  return whole;
}

// The split of a traffic list (spec.traffic or status.traffic): the first entry routing to the
// latest Revision (canary) and the first routing to the primary Revision by name (primary).
// kUnavailable when either is missing or both are 0.
Result<Weights> splitOf(const json* traffic, const std::string& primary, const std::string& what,
                        const std::string& where) {
  const json* canaryEntry = nullptr;
  const json* primaryEntry = nullptr;
  if (traffic != nullptr && traffic->is_array()) {
    for (const json& entry : *traffic) {
      if (!entry.is_object()) continue;
      if (isLatest(entry)) {
        if (canaryEntry == nullptr) canaryEntry = &entry;
      } else if (primaryEntry == nullptr && jsonread::string(entry, "revisionName") == primary) {
        primaryEntry = &entry;
      }
    }
  }
  if (canaryEntry == nullptr || primaryEntry == nullptr) {
    return Error::unavailable(what + ": " + where +
                              " does not split between the latest Revision and the primary "
                              "Revision " +
                              quote(primary) +
                              " (not applied by Knative yet, or edited; the next reconcile "
                              "restores spec.traffic)");
  }
  Result<std::int64_t> canaryPercent = percentOf(*canaryEntry, what, where);
  if (!canaryPercent) return canaryPercent.error();
  Result<std::int64_t> primaryPercent = percentOf(*primaryEntry, what, where);
  if (!primaryPercent) return primaryPercent.error();
  if (*canaryPercent == 0 && *primaryPercent == 0) {
    return Error::unavailable(what + ": " + where + " routes 0% to both the latest Revision and " +
                              "the primary Revision " + quote(primary) +
                              "; the next reconcile restores spec.traffic");
  }
  return Weights{*primaryPercent, *canaryPercent, false};
}

// Whether the Service's spec.traffic is `desired` (Knative's defaulting adds latestRevision:
// false to an entry that names its Revision: the same entry).
bool sameTraffic(const json& service, const json& desired) {
  const json* spec = jsonread::object(service, "spec");
  const json* traffic = spec == nullptr ? nullptr : jsonread::array(*spec, "traffic");
  if (traffic == nullptr || !traffic->is_array() || traffic->size() != desired.size()) return false;
  for (std::size_t i = 0; i < desired.size(); ++i) {
    json have = (*traffic)[i];
    if (have.is_object() && have.contains("revisionName") && have.contains("latestRevision") &&
        have["latestRevision"] == false) {
      have.erase("latestRevision");
    }
    if (have != desired[i]) return false;
  }
  return true;
}

// The weights spec.traffic holds when it is the split canaryd writes for `primary` (its two
// entries, in any order), else nothing.
std::optional<Weights> currentSplit(const json& service, const std::string& primary,
                                    const std::string& what) {
  const json* spec = jsonread::object(service, "spec");
  const json* traffic = spec == nullptr ? nullptr : jsonread::array(*spec, "traffic");
  if (traffic == nullptr || !traffic->is_array() || traffic->size() != 2) return std::nullopt;
  Result<Weights> split = splitOf(traffic, primary, what, "spec.traffic");
  if (!split) return std::nullopt;
  return *split;
}

// The Service with spec.traffic set to `traffic` (other spec fields kept).
json withTraffic(json service, const json& traffic) {
  if (!service.contains("spec") || !service["spec"].is_object()) service["spec"] = json::object();
  service["spec"]["traffic"] = traffic;
  return service;
}

}  // namespace

bool isKnativeTarget(const api::Canary& canary) {
  return canary.spec.targetRef && api::isKnativeService(*canary.spec.targetRef);
}

api::JsonValue buildKnativeTraffic(const std::string& primaryRevision, const Weights& weights) {
  return api::JsonValue(json::array({
      {{"latestRevision", true}, {"percent", weights.canary}},
      {{"revisionName", primaryRevision}, {"percent", weights.primary}},
  }));
}

KnativeRouter::KnativeRouter(cluster::Client& client) : client_(client) {}

Status KnativeRouter::reconcile(const api::Canary& canary) {
  const cluster::ObjectRef ref{namespaceOf(canary), targetName(canary)};
  const std::string what = describe(canary);
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(kKnativeServices, ref);
        if (!existing) return existing.error();
        json service = existing->get();
        if (!service.is_object()) return Error::invalidInput("not an object");
        std::string primary = primaryRevisionOf(service);
        const bool fresh = primary.empty();
        if (fresh) {
          // First sight: the Revision serving now becomes the primary, with all the traffic.
          const json* status = jsonread::object(service, "status");
          primary = status == nullptr ? "" : jsonread::string(*status, "latestCreatedRevisionName");
          if (primary.empty()) {
            return Error::unavailable(
                "Knative has not created a Revision of it yet (status.latestCreatedRevisionName "
                "is empty); its primary Revision is recorded when it has");
          }
          if (!service["metadata"].is_object()) service["metadata"] = json::object();
          json& annotations = service["metadata"]["annotations"];
          if (!annotations.is_object()) annotations = json::object();
          annotations[kKnativePrimaryRevision] = primary;
        }
        // Weights are the business of setRoutes: a rewrite keeps them (all on the primary when
        // spec.traffic is not canaryd's split).
        const Weights weights =
            fresh ? Weights{} : currentSplit(service, primary, what).value_or(Weights{});
        const json desired = buildKnativeTraffic(primary, weights).get();
        if (!fresh && sameTraffic(service, desired)) return *existing;
        return client_.update(kKnativeServices, api::JsonValue(withTraffic(service, desired)));
      });
  if (!written) return written.error().withContext(what);
  return {};
}

Status KnativeRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  const std::string what = describe(canary);
  if (weights.mirror) {
    return Error::invalidInput(what +
                               ": Knative cannot mirror traffic (provider knative); use "
                               "analysis.iterations without mirror");
  }
  const cluster::ObjectRef ref{namespaceOf(canary), targetName(canary)};
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client_.get(kKnativeServices, ref);
        if (!existing) return existing.error();
        const json& service = existing->get();
        const std::string primary = primaryRevisionOf(service);
        if (primary.empty()) {
          return Error::notFound(std::string("no annotation ") + kKnativePrimaryRevision +
                                 " names its primary Revision yet (the router's reconcile sets "
                                 "it)");
        }
        // Only spec.traffic changes, replaced whole, as in Flagger.
        const json desired = buildKnativeTraffic(primary, weights).get();
        if (sameTraffic(service, desired)) return *existing;
        return client_.update(kKnativeServices, api::JsonValue(withTraffic(service, desired)));
      });
  if (!written) return written.error().withContext(what);
  return {};
}

Result<Weights> KnativeRouter::getRoutes(const api::Canary& canary) {
  const std::string what = describe(canary);
  Result<api::JsonValue> found =
      client_.get(kKnativeServices, {namespaceOf(canary), targetName(canary)});
  if (!found) return found.error().withContext(what);
  const json& service = found->get();
  const std::string primary = primaryRevisionOf(service);
  if (primary.empty()) {
    return Error::notFound(what + ": no annotation " + kKnativePrimaryRevision +
                           " names its primary Revision yet (the router's reconcile sets it)");
  }
  const json* status = jsonread::object(service, "status");
  const json* traffic = status == nullptr ? nullptr : jsonread::array(*status, "traffic");
  return splitOf(traffic, primary, what, "status.traffic");
}

std::vector<RouterPlugin> knativeRouters() {
  api::RouterEntry entry;
  entry.name = "knative";
  entry.can.weights = true;
  // A Knative Service: the kind is Service, told apart from a core Service by its apiVersion
  // (the check below).
  entry.can.targetKinds = {"Service"};
  entry.check = [](const api::Canary& canary) {
    api::FieldProblems problems;
    const auto& target = canary.spec.targetRef;
    if (target && target->kind.value_or("") == "Service" && target->apiVersion &&
        *target->apiVersion != kKnativeApiVersion) {
      problems.emplace_back(
          "spec.targetRef.apiVersion",
          quote(*target->apiVersion) +
              ": provider knative splits traffic between the Revisions of a Knative Service "
              "(apiVersion " +
              kKnativeApiVersion +
              ", kind Service); a core Service target takes a router that splits between "
              "Services");
    }
    if (canary.spec.autoscalerRef) {
      problems.emplace_back("spec.autoscalerRef",
                            "must be unset with provider knative: Knative scales the Revisions "
                            "of a Knative Service itself");
    }
    return problems;
  };
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<KnativeRouter>(c.client);
           }}};
}

}  // namespace canaryd::router
