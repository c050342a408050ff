#include "canaryd/router/kubernetes.h"

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/gitops.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

// The selector's value for the target's pods: the target's label value, else its name.
std::string podsOf(const api::Canary& canary, const Selector& selector) {
  if (!selector.value.empty()) return selector.value;
  return canary.spec.targetRef ? canary.spec.targetRef->name.value_or("") : "";
}

json service(const api::Canary& canary, const std::string& name, const Selector& selector,
             const std::string& selectValue, const std::optional<api::CustomMetadata>& extra) {
  const api::CanaryService s = canary.spec.service.value_or(api::CanaryService{});
  json port = {
      {"name", s.portName.value_or("http")}, {"port", s.port.value_or(80)}, {"protocol", "TCP"}};
  if (s.targetPort) {
    port["targetPort"] = s.targetPort->isInt() ? json(std::get<std::int64_t>(s.targetPort->value))
                                               : json(std::get<std::string>(s.targetPort->value));
  } else {
    port["targetPort"] = s.port.value_or(80);
  }
  if (s.appProtocol) port["appProtocol"] = *s.appProtocol;
  json labels = {{selector.label, name}};
  json annotations = json::object();
  for (const auto& [key, value] : cluster::kGitopsOptOut)
    annotations[std::string(key)] = std::string(value);
  if (extra) {
    for (const auto& [k, v] : extra->labels)
      labels[k] = v;
    for (const auto& [k, v] : extra->annotations)
      annotations[k] = v;
  }
  json svc = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata",
       {{"name", name},
        {"namespace", canary.metadata.namespace_.value_or("default")},
        {"labels", labels},
        {"ownerReferences", json::array({api::ownerReferenceTo(canary).get()})}}},
      {"spec",
       {{"type", "ClusterIP"}, {"selector", {{selector.label, selectValue}}}, {"ports", {port}}}}};
  if (!annotations.empty()) svc["metadata"]["annotations"] = annotations;
  return svc;
}

// Whether `have` already holds everything of `want` (the server adds defaults, such as a
// port's protocol, that canaryd does not write).
bool covers(const json& have, const json& want) {
  if (want.is_object()) {
    if (!have.is_object()) return false;
    for (const auto& [key, value] : want.items()) {
      if (!have.contains(key) || !covers(have[key], value)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!have.is_array() || have.size() != want.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (!covers(have[i], want[i])) return false;
    }
    return true;
  }
  return have == want;
}

}  // namespace

std::vector<api::JsonValue> buildServices(const api::Canary& canary, const Selector& selector) {
  const std::string apex = apexServiceName(canary);
  const std::string pods = podsOf(canary, selector);
  const api::CanaryService s = canary.spec.service.value_or(api::CanaryService{});
  return {
      api::JsonValue(service(canary, apex, selector, pods + "-primary", s.apex)),
      api::JsonValue(service(canary, apex + "-primary", selector, pods + "-primary", s.primary)),
      api::JsonValue(service(canary, apex + "-canary", selector, pods, s.canary))};
}

Status KubernetesRouter::reconcile(const api::Canary& canary) {
  for (const api::JsonValue& wanted : buildServices(canary, selector_)) {
    const json& w = wanted.get();
    const cluster::ObjectRef ref{w["metadata"]["namespace"], w["metadata"]["name"]};
    Result<api::JsonValue> existing = client_.get(cluster::kServices, ref);
    if (!existing) {
      if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
      Result<api::JsonValue> created = client_.create(cluster::kServices, ref.namespace_, wanted);
      if (!created && created.error().kind() != ErrorKind::kConflict) return created.error();
      continue;
    }
    // Keep the apex selector as setRoutes left it; update ports, labels and annotations, and
    // write nothing when they already match (a reconcile must not cost three writes).
    const json& have = existing->get();
    const bool same =
        covers(have["spec"].value("ports", json::array()), w["spec"]["ports"]) &&
        covers(have["metadata"].value("labels", json::object()), w["metadata"]["labels"]) &&
        covers(have["metadata"].value("annotations", json::object()),
               w["metadata"].value("annotations", json::object()));
    if (same) continue;
    json patch = {{"metadata", {{"labels", w["metadata"]["labels"]}}},
                  {"spec", {{"ports", w["spec"]["ports"]}}}};
    if (w["metadata"].contains("annotations"))
      patch["metadata"]["annotations"] = w["metadata"]["annotations"];
    Result<api::JsonValue> patched =
        client_.patch(cluster::kServices, ref, cluster::PatchType::kMerge, patch.dump());
    if (!patched) return patched.error();
  }
  return {};
}

Status KubernetesRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  if (!((weights.primary == 100 && weights.canary == 0) ||
        (weights.primary == 0 && weights.canary == 100))) {
    return Error::invalidInput(
        "the kubernetes provider switches all traffic at once (blue/green); it "
        "cannot send " +
        std::to_string(weights.canary) + "% to the canary");
  }
  const std::string pods = podsOf(canary, selector_);
  json patch = {
      {"spec",
       {{"selector", {{selector_.label, weights.canary == 100 ? pods : pods + "-primary"}}}}}};
  Result<api::JsonValue> patched = client_.patch(
      cluster::kServices, {canary.metadata.namespace_.value_or("default"), apexServiceName(canary)},
      cluster::PatchType::kMerge, patch.dump());
  if (!patched) return patched.error();
  return {};
}

Result<Weights> KubernetesRouter::getRoutes(const api::Canary& canary) {
  Result<api::JsonValue> apex =
      client_.get(cluster::kServices,
                  {canary.metadata.namespace_.value_or("default"), apexServiceName(canary)});
  if (!apex) return apex.error();
  const std::string selected =
      apex->get()["spec"].value("selector", json::object()).value(selector_.label, "");
  if (selected == podsOf(canary, selector_)) return Weights{0, 100, false};
  return Weights{100, 0, false};
}

std::vector<RouterPlugin> kubernetesRouters() {
  api::RouterEntry entry{"kubernetes", {}, nullptr};
  entry.can.targetKinds = {"Deployment", "DaemonSet"};
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<KubernetesRouter>(c.client, c.selector);
           }}};
}

}  // namespace canaryd::router
