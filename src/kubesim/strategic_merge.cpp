#include "kubesim/strategic_merge.h"

#include <algorithm>
#include <map>
#include <string>

#include "canaryd/core/base64.h"

#include "kubesim/api_error.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

// The merge key of a list field, from the Kubernetes API's patchMergeKey tags; "" means the
// list is replaced as a whole.
std::string mergeKey(const std::string& field, const json& items) {
  static const std::map<std::string, std::string> kKeys = {
      {"containers", "name"},
      {"initContainers", "name"},
      {"ephemeralContainers", "name"},
      {"volumes", "name"},
      {"env", "name"},
      {"volumeMounts", "mountPath"},
      {"volumeDevices", "devicePath"},
      {"imagePullSecrets", "name"},
      {"hostAliases", "ip"},
      {"conditions", "type"},
      {"ownerReferences", "uid"},
      {"topologySpreadConstraints", "topologyKey"},
      {"resourceClaims", "name"},
      {"schedulingGates", "name"},
  };
  if (field == "ports") {
    // Container ports merge by containerPort, Service ports by port.
    for (const json& item : items) {
      if (item.is_object() && item.contains("containerPort")) return "containerPort";
    }
    return "port";
  }
  auto it = kKeys.find(field);
  return it == kKeys.end() ? "" : it->second;
}

// Primitive lists whose patch strategy is merge (union) rather than replace.
bool mergesPrimitives(const std::string& field) {
  return field == "finalizers";
}

json mergeValue(const json& original, const json& patch, const std::string& field);

json mergeObjectList(const json& original, const json& patch, const std::string& key) {
  json result = original.is_array() ? original : json::array();
  for (const json& item : patch) {
    if (!item.is_object()) throw badRequest("strategic merge patch: list items must be objects");
    std::string directive = item.value("$patch", "");
    if (directive == "replace") return json::array();  // caller replaces; handled below
    if (!item.contains(key)) {
      if (directive.empty()) result.push_back(item);
      continue;
    }
    auto match = std::find_if(result.begin(), result.end(), [&](const json& existing) {
      return existing.is_object() && existing.contains(key) && existing[key] == item[key];
    });
    if (directive == "delete") {
      if (match != result.end()) result.erase(match);
    } else if (match != result.end()) {
      *match = mergeValue(*match, item, "");
    } else {
      json added = item;
      added.erase("$patch");
      result.push_back(mergeValue(json::object(), added, ""));
    }
  }
  return result;
}

void applyOrder(json& list, const json& order, const std::string& key) {
  if (!list.is_array() || !order.is_array()) return;
  auto position = [&](const json& item) -> std::size_t {
    for (std::size_t i = 0; i < order.size(); ++i) {
      const json& o = order[i];
      if (key.empty() ? o == item
                      : (o.is_object() && item.is_object() && o.contains(key) &&
                         item.contains(key) && o[key] == item[key])) {
        return i;
      }
    }
    return order.size();
  };
  std::stable_sort(list.begin(), list.end(),
                   [&](const json& a, const json& b) { return position(a) < position(b); });
}

json mergeObject(const json& original, const json& patch) {
  json result = original.is_object() ? original : json::object();
  std::string directive = patch.value("$patch", "");
  if (directive == "replace") {
    json replaced = patch;
    replaced.erase("$patch");
    return replaced;
  }
  if (directive == "delete") return nullptr;
  if (patch.contains("$retainKeys") && patch["$retainKeys"].is_array()) {
    json kept = json::object();
    for (const json& k : patch["$retainKeys"]) {
      if (k.is_string() && result.contains(k.get<std::string>())) {
        kept[k.get<std::string>()] = result[k.get<std::string>()];
      }
    }
    result = kept;
  }
  std::map<std::string, json> orders;
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& name = it.key();
    if (name == "$patch" || name == "$retainKeys") continue;
    if (name.starts_with("$setElementOrder/")) {
      orders[name.substr(std::string("$setElementOrder/").size())] = *it;
      continue;
    }
    if (name.starts_with("$deleteFromPrimitiveList/")) {
      std::string field = name.substr(std::string("$deleteFromPrimitiveList/").size());
      if (result.contains(field) && result[field].is_array() && it->is_array()) {
        json kept = json::array();
        for (const json& v : result[field]) {
          if (std::find(it->begin(), it->end(), v) == it->end()) kept.push_back(v);
        }
        result[field] = kept;
      }
      continue;
    }
    if (it->is_null()) {
      result.erase(name);
      continue;
    }
    json merged = mergeValue(result.contains(name) ? result[name] : json(), *it, name);
    if (merged.is_null()) {
      result.erase(name);
    } else {
      result[name] = std::move(merged);
    }
  }
  for (auto& [field, order] : orders) {
    if (result.contains(field)) applyOrder(result[field], order, mergeKey(field, result[field]));
  }
  return result;
}

json mergeValue(const json& original, const json& patch, const std::string& field) {
  if (patch.is_object()) return mergeObject(original, patch);
  if (patch.is_array()) {
    bool objects =
        std::any_of(patch.begin(), patch.end(), [](const json& v) { return v.is_object(); });
    if (objects) {
      for (const json& item : patch) {
        if (item.is_object() && item.value("$patch", "") == "replace") {
          json replaced = json::array();
          for (const json& i : patch) {
            if (!(i.is_object() && i.contains("$patch"))) replaced.push_back(i);
          }
          return replaced;
        }
      }
      std::string key = mergeKey(field, patch);
      if (!key.empty()) return mergeObjectList(original, patch, key);
      return patch;
    }
    if (mergesPrimitives(field) && original.is_array()) {
      json result = original;
      for (const json& v : patch) {
        if (std::find(result.begin(), result.end(), v) == result.end()) result.push_back(v);
      }
      return result;
    }
    return patch;
  }
  return patch;
}

}  // namespace

json strategicMerge(const json& original, const json& patch) {
  if (!patch.is_object()) throw badRequest("strategic merge patch must be a JSON object");
  json result = mergeObject(original, patch);
  return result.is_null() ? json::object() : result;
}

json applyPatch(const ResourceType& type, const json& current, std::string_view contentType,
                const std::string& body) {
  json patch = json::parse(body, nullptr, false);
  if (patch.is_discarded()) throw badRequest("the patch is not valid JSON");
  if (contentType.starts_with("application/merge-patch+json")) {
    json result = current;
    result.merge_patch(patch);
    return result;
  }
  if (contentType.starts_with("application/json-patch+json")) {
    try {
      return current.patch(patch);
    } catch (const json::exception& e) {
      throw ApiError{422, "Invalid",
                     std::string("the JSON patch could not be applied: ") + e.what()};
    }
  }
  if (contentType.starts_with("application/strategic-merge-patch+json")) {
    if (type.fromCrd) {
      throw ApiError{415, "UnsupportedMediaType",
                     "the body of the request was in an unknown format - accepted media types "
                     "include: application/json-patch+json, application/merge-patch+json"};
    }
    return strategicMerge(current, patch);
  }
  throw ApiError{415, "UnsupportedMediaType",
                 "unsupported patch type \"" + std::string(contentType) +
                     "\"; accepted: application/json-patch+json, application/merge-patch+json, "
                     "application/strategic-merge-patch+json"};
}

namespace {

// A Secret's stringData merged into data (base64; stringData wins for the same key) and
// dropped, as the API server does on every write; type Opaque when absent.
void defaultSecret(json& object) {
  if (!object.contains("type") || object["type"].is_null() || object["type"] == "") {
    object["type"] = "Opaque";
  }
  if (!object.contains("stringData")) return;
  const json stringData = object["stringData"];
  object.erase("stringData");
  if (stringData.is_null()) return;
  if (!stringData.is_object()) throw badRequest("Secret.stringData must be a map of strings");
  if (!object.contains("data") || object["data"].is_null()) object["data"] = json::object();
  if (!object["data"].is_object()) throw badRequest("Secret.data must be a map of strings");
  for (auto it = stringData.begin(); it != stringData.end(); ++it) {
    if (!it->is_string()) {
      throw badRequest("Secret.stringData[\"" + it.key() + "\"] must be a string");
    }
    object["data"][it.key()] = base64Encode(it->get<std::string>());
  }
}

// A Service's spec as the API server completes it on every write (the cluster IP is allocated
// by the server, which knows the other Services).
void defaultService(json& object) {
  if (!object.contains("spec") || !object["spec"].is_object()) return;
  json& spec = object["spec"];
  if (!spec.contains("type") || spec["type"] == "") spec["type"] = "ClusterIP";
  if (!spec.contains("sessionAffinity") || spec["sessionAffinity"] == "") {
    spec["sessionAffinity"] = "None";
  }
  const bool externalName = spec["type"] == "ExternalName";
  if (spec.contains("ports") && spec["ports"].is_array()) {
    for (json& port : spec["ports"]) {
      if (!port.is_object()) continue;
      if (!port.contains("protocol") || port["protocol"] == "") port["protocol"] = "TCP";
      if ((!port.contains("targetPort") || port["targetPort"] == 0 || port["targetPort"] == "") &&
          port.contains("port")) {
        port["targetPort"] = port["port"];
      }
    }
  }
  if (externalName) return;
  if (!spec.contains("ipFamilies") || spec["ipFamilies"].empty()) {
    spec["ipFamilies"] = json::array({"IPv4"});
  }
  if (!spec.contains("ipFamilyPolicy") || spec["ipFamilyPolicy"] == "") {
    spec["ipFamilyPolicy"] = "SingleStack";
  }
  if (!spec.contains("internalTrafficPolicy") || spec["internalTrafficPolicy"] == "") {
    spec["internalTrafficPolicy"] = "Cluster";
  }
  const bool external = spec["type"] == "NodePort" || spec["type"] == "LoadBalancer";
  if (external &&
      (!spec.contains("externalTrafficPolicy") || spec["externalTrafficPolicy"] == "")) {
    spec["externalTrafficPolicy"] = "Cluster";
  }
  if (spec["type"] == "LoadBalancer" && !spec.contains("allocateLoadBalancerNodePorts")) {
    spec["allocateLoadBalancerNodePorts"] = true;
  }
}

}  // namespace

void applyDefaults(const ResourceType& type, json& object) {
  if (type.group.empty() && type.resource == "secrets") defaultSecret(object);
  if (type.group.empty() && type.resource == "services") defaultService(object);
  if (type.group == "apps" && type.resource == "deployments" && object.contains("spec") &&
      object["spec"].is_object()) {
    json& spec = object["spec"];
    if (!spec.contains("replicas")) spec["replicas"] = 1;
    if (!spec.contains("progressDeadlineSeconds")) spec["progressDeadlineSeconds"] = 600;
    if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
  }
  if (type.group == "apps" && type.resource == "daemonsets" && object.contains("spec") &&
      object["spec"].is_object()) {
    json& spec = object["spec"];
    if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
    if (!spec.contains("updateStrategy") || !spec["updateStrategy"].is_object()) {
      spec["updateStrategy"] = json::object();
    }
    json& strategy = spec["updateStrategy"];
    if (!strategy.contains("type")) strategy["type"] = "RollingUpdate";
    if (strategy["type"] == "RollingUpdate" && !strategy.contains("rollingUpdate")) {
      strategy["rollingUpdate"] = {{"maxUnavailable", 1}, {"maxSurge", 0}};
    }
  }
}

}  // namespace canaryd::kubesim
