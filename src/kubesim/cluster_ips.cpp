#include "kubesim/cluster_ips.h"

#include "kubesim/api_error.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

std::string stringAt(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

const json& specOf(const json& object) {
  static const json kEmpty = json::object();
  if (!object.is_object() || !object.contains("spec") || !object["spec"].is_object()) {
    return kEmpty;
  }
  return object["spec"];
}

bool hasList(const json& spec, const char* key) {
  return spec.contains(key) && spec[key].is_array() && !spec[key].empty();
}

}  // namespace

std::set<std::string> clusterIPsInUse(const json& services) {
  std::set<std::string> used;
  if (!services.is_array()) return used;
  for (const json& service : services) {
    const json& spec = specOf(service);
    const std::string ip = stringAt(spec, "clusterIP");
    if (!ip.empty() && ip != "None") used.insert(ip);
    if (!hasList(spec, "clusterIPs")) continue;
    for (const json& each : spec["clusterIPs"]) {
      if (each.is_string() && each != "None") used.insert(each.get<std::string>());
    }
  }
  return used;
}

void assignClusterIP(json& service, const json* current, const std::set<std::string>& inUse) {
  if (!service.is_object() || !service.contains("spec") || !service["spec"].is_object()) return;
  json& spec = service["spec"];
  if (stringAt(spec, "type") == "ExternalName") return;
  const std::string name = stringAt(service.value("metadata", json::object()), "name");
  static const json kNothing = json::object();
  const json& before = specOf(current ? *current : kNothing);
  const std::string had = stringAt(before, "clusterIP");
  std::string ip = stringAt(spec, "clusterIP");
  if (!had.empty()) {
    if (ip.empty()) {
      spec["clusterIP"] = had;
      ip = had;
    } else if (ip != had) {
      throw invalid("Service", name, "spec.clusterIPs[0]",
                    "Invalid value: \"" + ip + "\": may not change once set (it is " + had + ")");
    }
    if (!hasList(spec, "clusterIPs")) {
      spec["clusterIPs"] = hasList(before, "clusterIPs") ? before["clusterIPs"] : json::array({ip});
    }
    return;
  }
  if (ip.empty()) {
    for (int i = 1; i < 65535 && ip.empty(); ++i) {
      const std::string candidate =
          "10.96." + std::to_string(i >> 8) + "." + std::to_string(i & 0xff);
      if (!inUse.contains(candidate)) ip = candidate;
    }
    if (ip.empty()) {
      throw ApiError{500, "InternalError",
                     "failed to allocate a cluster IP: the range 10.96.0.0/16 is full"};
    }
  } else if (ip != "None" && inUse.contains(ip)) {
    throw invalid("Service", name, "spec.clusterIPs",
                  "Invalid value: [\"" + ip + "\"]: failed to allocate IP " + ip +
                      ": provided IP is already allocated");
  }
  spec["clusterIP"] = ip;
  if (!hasList(spec, "clusterIPs")) spec["clusterIPs"] = json::array({ip});
}

}  // namespace canaryd::kubesim
