#include "kubesim/table.h"

#include <cctype>
#include <chrono>
#include <ctime>
#include <string>
#include <tuple>
#include <vector>

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

json column(const std::string& name, const std::string& type) {
  return {{"name", name}, {"type", type}, {"format", ""}, {"description", name}, {"priority", 0}};
}

std::string joined(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const std::string& p : parts)
    out += (out.empty() ? "" : separator) + p;
  return out;
}

// "k=v,k2=v2" in key order, or <none>, as kubectl prints label maps.
std::string labelMap(const json& labels) {
  std::vector<std::string> parts;
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      parts.push_back(it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump()));
    }
  }
  return parts.empty() ? "<none>" : joined(parts, ",");
}

std::string text(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

json section(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : json::object();
}

json listAt(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : json::array();
}

// Hosts of an Ingress's rules as the API server prints them: up to three, "*" for none.
std::string ingressHosts(const json& rules) {
  std::vector<std::string> hosts;
  bool more = false;
  for (const json& rule : rules) {
    if (hosts.size() == 3) more = true;
    if (!more && rule.is_object() && !text(rule, "host").empty())
      hosts.push_back(text(rule, "host"));
  }
  if (hosts.empty()) return "*";
  std::string out = joined(hosts, ",");
  if (more) out += " + " + std::to_string(rules.size() - 3) + " more...";
  return out;
}

// The columns between Name and Age of the built-in kinds that have them, as the API server's
// printers show them, and one object's cells for them.
json builtinColumns(const ResourceType& type) {
  json columns = json::array();
  if (type.group == "apps" && type.resource == "deployments") {
    for (const char* name : {"Ready", "Up-to-date", "Available"})
      columns.push_back(column(name, "string"));
  } else if (type.group == "apps" && type.resource == "daemonsets") {
    for (const char* name : {"Desired", "Current", "Ready", "Up-to-date", "Available"})
      columns.push_back(column(name, "integer"));
    columns.push_back(column("Node Selector", "string"));
  } else if (type.group == "networking.k8s.io" && type.resource == "ingresses") {
    for (const char* name : {"Class", "Hosts", "Address", "Ports"})
      columns.push_back(column(name, "string"));
  } else if (type.group == "networking.k8s.io" && type.resource == "ingressclasses") {
    for (const char* name : {"Controller", "Parameters"})
      columns.push_back(column(name, "string"));
  } else if (type.group.empty() && type.resource == "services") {
    for (const char* name : {"Type", "Cluster-IP", "External-IP", "Port(s)"})
      columns.push_back(column(name, "string"));
    json selector = column("Selector", "string");
    selector["priority"] = 1;  // -o wide
    columns.push_back(selector);
  }
  return columns;
}

// A Service's external addresses as the API server prints them.
std::string serviceExternalIP(const json& spec, const json& status) {
  const std::string type = text(spec, "type");
  if (type == "ExternalName") return text(spec, "externalName");
  std::vector<std::string> addresses;
  if (type == "LoadBalancer") {
    for (const json& lb : listAt(section(status, "loadBalancer"), "ingress")) {
      if (!lb.is_object()) continue;
      const std::string address = text(lb, "ip").empty() ? text(lb, "hostname") : text(lb, "ip");
      if (!address.empty()) addresses.push_back(address);
    }
  }
  for (const json& ip : listAt(spec, "externalIPs")) {
    if (ip.is_string()) addresses.push_back(ip.get<std::string>());
  }
  if (addresses.empty()) return type == "LoadBalancer" ? "<pending>" : "<none>";
  return joined(addresses, ",");
}

// "80/TCP,9090:30090/TCP" (the node port for NodePort and LoadBalancer Services), or <none>.
std::string servicePorts(const json& spec) {
  std::vector<std::string> parts;
  for (const json& port : listAt(spec, "ports")) {
    if (!port.is_object()) continue;
    std::string part = std::to_string(port.value("port", 0));
    if (port.value("nodePort", 0) != 0) part += ":" + std::to_string(port.value("nodePort", 0));
    parts.push_back(part + "/" + (text(port, "protocol").empty() ? "TCP" : text(port, "protocol")));
  }
  return parts.empty() ? "<none>" : joined(parts, ",");
}

void addBuiltinCells(const ResourceType& type, const json& o, json& cells) {
  const json spec = section(o, "spec");
  const json status = section(o, "status");
  if (type.group == "apps" && type.resource == "deployments") {
    const std::int64_t want = spec.value("replicas", 1);
    cells.push_back(std::to_string(status.value("readyReplicas", 0)) + "/" + std::to_string(want));
    cells.push_back(status.value("updatedReplicas", 0));
    cells.push_back(status.value("availableReplicas", 0));
  } else if (type.group == "apps" && type.resource == "daemonsets") {
    for (const char* field : {"desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                              "updatedNumberScheduled", "numberAvailable"}) {
      cells.push_back(status.value(field, 0));
    }
    cells.push_back(labelMap(section(section(section(spec, "template"), "spec"), "nodeSelector")));
  } else if (type.group == "networking.k8s.io" && type.resource == "ingresses") {
    const std::string className = text(spec, "ingressClassName");
    cells.push_back(className.empty() ? "<none>" : className);
    cells.push_back(ingressHosts(listAt(spec, "rules")));
    std::vector<std::string> addresses;
    for (const json& lb : listAt(section(status, "loadBalancer"), "ingress")) {
      if (!lb.is_object()) continue;
      const std::string address = text(lb, "ip").empty() ? text(lb, "hostname") : text(lb, "ip");
      if (!address.empty()) addresses.push_back(address);
    }
    cells.push_back(joined(addresses, ","));
    cells.push_back(listAt(spec, "tls").empty() ? "80" : "80, 443");
  } else if (type.group == "networking.k8s.io" && type.resource == "ingressclasses") {
    cells.push_back(text(spec, "controller"));
    const json parameters = section(spec, "parameters");
    std::string shown = "<none>";
    if (!parameters.empty()) {
      shown = text(parameters, "kind");
      if (!text(parameters, "apiGroup").empty()) shown += "." + text(parameters, "apiGroup");
      shown += "/" + text(parameters, "name");
    }
    cells.push_back(shown);
  } else if (type.group.empty() && type.resource == "services") {
    cells.push_back(text(spec, "type").empty() ? "ClusterIP" : text(spec, "type"));
    cells.push_back(text(spec, "clusterIP").empty() ? "<none>" : text(spec, "clusterIP"));
    cells.push_back(serviceExternalIP(spec, status));
    cells.push_back(servicePorts(spec));
    cells.push_back(labelMap(section(spec, "selector")));
  }
}

json columnWithPriority(const std::string& name, const std::string& type, int priority) {
  json c = column(name, type);
  c["priority"] = priority;
  return c;
}

json rowOf(const json& o, json cells, bool includeObject) {
  json rowObject = includeObject ? o
                                 : json{{"kind", "PartialObjectMetadata"},
                                        {"apiVersion", "meta.k8s.io/v1"},
                                        {"metadata", o["metadata"]}};
  return {{"cells", std::move(cells)}, {"object", std::move(rowObject)}};
}

json table(json columns, json rows) {
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", json::object()},
          {"columnDefinitions", std::move(columns)},
          {"rows", std::move(rows)}};
}

// Events have a table of their own (the API server's printEvent): no Name first and no Age
// last, but Last Seen, Type, Reason, Object (kind/name, the kind in lower case) and Message,
// with Subobject, Source, First Seen, Count and Name shown by `-o wide`.
json eventTable(const json& objects, bool includeObject) {
  json columns = json::array();
  for (const auto& [name, type, priority] :
       std::vector<std::tuple<const char*, const char*, int>>{{"Last Seen", "string", 0},
                                                              {"Type", "string", 0},
                                                              {"Reason", "string", 0},
                                                              {"Object", "string", 0},
                                                              {"Subobject", "string", 1},
                                                              {"Source", "string", 1},
                                                              {"Message", "string", 0},
                                                              {"First Seen", "string", 1},
                                                              {"Count", "integer", 1},
                                                              {"Name", "string", 1}}) {
    columns.push_back(columnWithPriority(name, type, priority));
  }
  json rows = json::array();
  for (const json& o : objects) {
    const json involved = section(o, "involvedObject");
    std::string kind = text(involved, "kind");
    for (char& c : kind)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string created = o["metadata"].value("creationTimestamp", "");
    const std::string first =
        text(o, "firstTimestamp").empty() ? created : text(o, "firstTimestamp");
    const std::string last = text(o, "lastTimestamp").empty() ? first : text(o, "lastTimestamp");
    std::string source = text(section(o, "source"), "component");
    if (source.empty()) source = text(o, "reportingComponent");
    const json count = o.contains("count") && o["count"].is_number_integer() ? o["count"] : json(1);
    rows.push_back(
        rowOf(o,
              json{age(last), text(o, "type"), text(o, "reason"),
                   kind + "/" + text(involved, "name"), text(involved, "fieldPath"), source,
                   text(o, "message"), age(first), count, o["metadata"].value("name", "")},
              includeObject));
  }
  return table(std::move(columns), std::move(rows));
}

}  // namespace

json toTable(const ResourceType& type, const json& objects, bool includeObject) {
  if (type.group.empty() && type.resource == "events") return eventTable(objects, includeObject);
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
  } else {
    for (const json& c : builtinColumns(type))
      columns.push_back(c);
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
    } else {
      addBuiltinCells(type, o, cells);
    }
    cells.push_back(age(o["metadata"].value("creationTimestamp", "")));
    rows.push_back(rowOf(o, std::move(cells), includeObject));
  }
  return table(std::move(columns), std::move(rows));
}

}  // namespace canaryd::kubesim
