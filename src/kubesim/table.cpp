#include "kubesim/table.h"

#include <chrono>
#include <ctime>

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

// Follows a simple JSONPath such as ".status.phase" or ".spec.analysis.stepWeights".
json lookup(const json& object, const std::string& path) {
  const json* at = &object;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') ++i;
    std::size_t end = path.find('.', i);
    std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
    if (key.empty()) break;
    if (!at->is_object() || !at->contains(key)) return nullptr;
    at = &(*at)[key];
    if (end == std::string::npos) break;
    i = end;
  }
  return *at;
}

std::string age(const std::string& timestamp) {
  std::tm tm{};
  if (strptime(timestamp.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return "<unknown>";
  const std::int64_t seconds = static_cast<std::int64_t>(std::time(nullptr) - timegm(&tm));
  if (seconds < 120) return std::to_string(std::max<std::int64_t>(seconds, 0)) + "s";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m";
  if (seconds < 172800) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

json cell(const json& value, const std::string& type) {
  if (value.is_null()) return type == "integer" || type == "number" ? json(nullptr) : json("");
  if (type == "date" && value.is_string()) return age(value.get<std::string>());
  if (value.is_string() || value.is_number() || value.is_boolean()) return value;
  return value.dump();
}

}  // namespace

json toTable(const ResourceType& type, const json& objects, bool includeObject) {
  json columns = json::array();
  columns.push_back({{"name", "Name"},
                     {"type", "string"},
                     {"format", "name"},
                     {"description", "Name"},
                     {"priority", 0}});
  std::vector<std::pair<std::string, std::string>> paths;  // jsonPath, type
  if (type.printerColumns.is_array()) {
    for (const json& c : type.printerColumns) {
      std::string columnType = c.value("type", "string");
      columns.push_back({{"name", c.value("name", "")},
                         {"type", columnType == "date" ? "string" : columnType},
                         {"format", c.value("format", "")},
                         {"description", c.value("description", "")},
                         {"priority", c.value("priority", 0)}});
      paths.emplace_back(c.value("jsonPath", ""), columnType);
    }
  } else if (type.resource == "deployments") {
    for (const char* name : {"Ready", "Up-to-date", "Available"}) {
      columns.push_back({{"name", name},
                         {"type", "string"},
                         {"format", ""},
                         {"description", name},
                         {"priority", 0}});
    }
  }
  columns.push_back({{"name", "Age"},
                     {"type", "string"},
                     {"format", ""},
                     {"description", "Age"},
                     {"priority", 0}});
  json rows = json::array();
  for (const json& o : objects) {
    json cells = {o["metadata"].value("name", "")};
    if (type.printerColumns.is_array()) {
      for (const auto& [path, columnType] : paths)
        cells.push_back(cell(lookup(o, path), columnType));
    } else if (type.resource == "deployments") {
      const json status = o.value("status", json::object());
      const std::int64_t want = o["spec"].value("replicas", 1);
      cells.push_back(std::to_string(status.value("readyReplicas", 0)) + "/" +
                      std::to_string(want));
      cells.push_back(status.value("updatedReplicas", 0));
      cells.push_back(status.value("availableReplicas", 0));
    }
    cells.push_back(age(o["metadata"].value("creationTimestamp", "")));
    json rowObject = includeObject ? o
                                   : json{{"kind", "PartialObjectMetadata"},
                                          {"apiVersion", "meta.k8s.io/v1"},
                                          {"metadata", o["metadata"]}};
    rows.push_back({{"cells", cells}, {"object", rowObject}});
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", json::object()},
          {"columnDefinitions", columns},
          {"rows", rows}};
}

}  // namespace canaryd::kubesim
