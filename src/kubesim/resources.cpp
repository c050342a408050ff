#include "kubesim/resources.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <string_view>

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

// Built-in kinds: their schemas keep unknown fields (kubesim does not model every field of
// apps/v1), but name the kind so that kubectl finds it.
json openSchema() {
  return {{"type", "object"},
          {"x-kubernetes-preserve-unknown-fields", true},
          {"properties",
           {{"apiVersion", {{"type", "string"}}},
            {"kind", {{"type", "string"}}},
            {"metadata", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}};
}

ResourceType builtin(std::string group, std::string version, std::string resource, std::string kind,
                     bool namespaced, bool status, std::vector<std::string> shortNames = {}) {
  ResourceType t;
  t.group = std::move(group);
  t.version = std::move(version);
  t.storageVersion = t.version;
  t.resource = std::move(resource);
  t.kind = std::move(kind);
  t.singular.clear();
  for (char c : t.kind)
    t.singular += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  t.namespaced = namespaced;
  t.statusSubresource = status;
  t.shortNames = std::move(shortNames);
  t.schema = openSchema();
  return t;
}

std::string schemaName(const ResourceType& t) {
  // io.k8s.api.apps.v1.Deployment for built-ins; reversed group for custom resources.
  if (!t.fromCrd) {
    std::string g = t.group.empty() ? "core" : t.group.substr(0, t.group.find('.'));
    return "io.k8s.api." + g + "." + t.version + "." + t.kind;
  }
  std::string reversed;
  std::string g = t.group;
  while (!g.empty()) {
    auto dot = g.rfind('.');
    std::string part = dot == std::string::npos ? g : g.substr(dot + 1);
    reversed += (reversed.empty() ? "" : ".") + part;
    g = dot == std::string::npos ? "" : g.substr(0, dot);
  }
  return reversed + "." + t.version + "." + t.kind;
}

json apiResource(const ResourceType& t) {
  json verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  json r = {{"name", t.resource},
            {"singularName", t.singular},
            {"namespaced", t.namespaced},
            {"kind", t.kind},
            {"verbs", verbs},
            {"storageVersionHash", ""}};
  if (!t.shortNames.empty()) r["shortNames"] = t.shortNames;
  if (!t.categories.empty()) r["categories"] = t.categories;
  return r;
}

// A version as Kubernetes ranks it: v<major>[(alpha|beta)<minor>]; nullopt for other names.
struct KubeVersion {
  int stage = 2;  // 2 GA, 1 beta, 0 alpha
  std::int64_t major = 0;
  std::int64_t minor = 0;
};

std::optional<std::int64_t> number(std::string_view digits) {
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<KubeVersion> parseKubeVersion(std::string_view v) {
  if (!v.starts_with('v')) return std::nullopt;
  v.remove_prefix(1);
  const std::size_t digits = std::min(v.find_first_not_of("0123456789"), v.size());
  KubeVersion out;
  auto major = number(v.substr(0, digits));
  if (!major) return std::nullopt;
  out.major = *major;
  std::string_view rest = v.substr(digits);
  if (rest.empty()) return out;
  if (rest.starts_with("alpha")) {
    out.stage = 0;
    rest.remove_prefix(5);
  } else if (rest.starts_with("beta")) {
    out.stage = 1;
    rest.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  auto minor = number(rest);
  if (!minor) return std::nullopt;
  out.minor = *minor;
  return out;
}

}  // namespace

bool kubeVersionPrecedes(const std::string& a, const std::string& b) {
  const auto ka = parseKubeVersion(a);
  const auto kb = parseKubeVersion(b);
  if (ka && kb) {
    if (ka->stage != kb->stage) return ka->stage > kb->stage;
    if (ka->major != kb->major) return ka->major > kb->major;
    return ka->minor > kb->minor;
  }
  if (ka || kb) return ka.has_value();
  return a < b;
}

ResourceRegistry::ResourceRegistry() {
  types_ = {
      builtin("", "v1", "namespaces", "Namespace", false, true, {"ns"}),
      builtin("", "v1", "services", "Service", true, true, {"svc"}),
      builtin("", "v1", "configmaps", "ConfigMap", true, false, {"cm"}),
      builtin("", "v1", "secrets", "Secret", true, false),
      builtin("", "v1", "events", "Event", true, false, {"ev"}),
      builtin("", "v1", "pods", "Pod", true, true, {"po"}),
      builtin("", "v1", "endpoints", "Endpoints", true, false, {"ep"}),
      builtin("apps", "v1", "deployments", "Deployment", true, true, {"deploy"}),
      builtin("apps", "v1", "daemonsets", "DaemonSet", true, true, {"ds"}),
      builtin("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true,
              true, {"hpa"}),
      builtin("coordination.k8s.io", "v1", "leases", "Lease", true, false),
      // Stored only: kubesim runs no ingress controller.
      builtin("networking.k8s.io", "v1", "ingresses", "Ingress", true, true, {"ing"}),
      builtin("networking.k8s.io", "v1", "ingressclasses", "IngressClass", false, false),
      // Stored, not enforced (kubesim has no authentication): so that `kubectl apply -k
      // deploy/base` works as against a cluster.
      builtin("", "v1", "serviceaccounts", "ServiceAccount", true, false, {"sa"}),
      builtin("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, false),
      builtin("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false,
              false),
      builtin("rbac.authorization.k8s.io", "v1", "roles", "Role", true, false),
      builtin("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, false),
      builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
              false, true, {"crd", "crds"}),
  };
  for (ResourceType& t : types_) {
    if (t.resource == "deployments" || t.resource == "daemonsets" || t.resource == "pods" ||
        t.resource == "services") {
      t.categories = {"all"};
    }
  }
}

std::optional<ResourceType> ResourceRegistry::find(const std::string& group,
                                                   const std::string& version,
                                                   const std::string& resource) const {
  std::lock_guard lock(mu_);
  for (const ResourceType& t : types_) {
    if (t.group == group && t.version == version && t.resource == resource) return t;
  }
  return std::nullopt;
}

std::optional<ResourceType> ResourceRegistry::findKind(const std::string& group,
                                                       const std::string& kind) const {
  std::lock_guard lock(mu_);
  std::optional<ResourceType> found;
  for (const ResourceType& t : types_) {
    if (t.group != group || t.kind != kind) continue;
    if (t.version == t.storageVersion) return t;  // the storage version, when served
    if (!found) found = t;
  }
  return found;
}

std::vector<ResourceType> ResourceRegistry::all() const {
  std::lock_guard lock(mu_);
  return types_;
}

void ResourceRegistry::addCrd(const json& crd) {
  removeCrd(crd);
  const json& spec = crd.value("spec", json::object());
  const json& names = spec.value("names", json::object());
  const json versions = spec.value("versions", json::array());
  std::string storage;
  for (const json& v : versions) {
    if (v.is_object() && v.value("storage", false)) {
      storage = v.value("name", "");
      break;
    }
  }
  if (storage.empty() && !versions.empty() && versions[0].is_object()) {
    storage = versions[0].value("name", "");
  }
  std::lock_guard lock(mu_);
  for (const json& v : versions) {
    if (!v.is_object() || !v.value("served", true)) continue;
    ResourceType t;
    t.fromCrd = true;
    t.group = spec.value("group", "");
    t.version = v.value("name", "");
    t.storageVersion = storage;
    t.resource = names.value("plural", "");
    t.kind = names.value("kind", "");
    t.singular = names.value("singular", "");
    t.namespaced = spec.value("scope", "Namespaced") == "Namespaced";
    t.statusSubresource = v.contains("subresources") && v["subresources"].contains("status");
    t.shortNames = names.value("shortNames", std::vector<std::string>{});
    t.categories = names.value("categories", std::vector<std::string>{});
    if (v.contains("schema") && v["schema"].contains("openAPIV3Schema")) {
      t.schema = v["schema"]["openAPIV3Schema"];
    } else {
      t.schema = openSchema();
    }
    t.printerColumns = v.value("additionalPrinterColumns", json::array());
    types_.push_back(std::move(t));
  }
}

void ResourceRegistry::removeCrd(const json& crd) {
  const json& spec = crd.value("spec", json::object());
  const std::string group = spec.value("group", "");
  const std::string plural = spec.value("names", json::object()).value("plural", "");
  std::lock_guard lock(mu_);
  std::erase_if(types_, [&](const ResourceType& t) {
    return t.fromCrd && t.group == group && t.resource == plural;
  });
}

json ResourceRegistry::discoveryCore() const {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1"}}}}};
}

json ResourceRegistry::discoveryGroups() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> versions;
  for (const ResourceType& t : types_) {
    if (t.group.empty()) continue;
    if (!versions.contains(t.group)) order.push_back(t.group);
    auto& vs = versions[t.group];
    if (std::find(vs.begin(), vs.end(), t.version) == vs.end()) vs.push_back(t.version);
  }
  json groups = json::array();
  for (const std::string& g : order) {
    std::vector<std::string>& sorted = versions[g];
    std::stable_sort(sorted.begin(), sorted.end(), kubeVersionPrecedes);
    json vs = json::array();
    for (const std::string& v : sorted) {
      vs.push_back({{"groupVersion", g + "/" + v}, {"version", v}});
    }
    groups.push_back({{"name", g}, {"versions", vs}, {"preferredVersion", vs[0]}});
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::optional<json> ResourceRegistry::discoveryResources(const std::string& group,
                                                         const std::string& version) const {
  std::lock_guard lock(mu_);
  json resources = json::array();
  bool any = false;
  for (const ResourceType& t : types_) {
    if (t.group != group || t.version != version) continue;
    any = true;
    resources.push_back(apiResource(t));
    if (t.statusSubresource) {
      resources.push_back({{"name", t.resource + "/status"},
                           {"singularName", ""},
                           {"namespaced", t.namespaced},
                           {"kind", t.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  if (!any) return std::nullopt;
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", group.empty() ? version : group + "/" + version},
              {"resources", resources}};
}

json ResourceRegistry::openapiIndex() const {
  std::lock_guard lock(mu_);
  json paths = json::object();
  for (const ResourceType& t : types_) {
    std::string path = t.group.empty() ? "api/" + t.version : "apis/" + t.groupVersion();
    paths[path] = {{"serverRelativeURL", "/openapi/v3/" + path}};
  }
  return {{"paths", paths}};
}

std::optional<json> ResourceRegistry::openapiDocument(const std::string& path) const {
  std::lock_guard lock(mu_);
  json schemas = json::object();
  json paths = json::object();
  // Advertising fieldValidation makes kubectl validate on the server (strict unknown fields)
  // instead of downloading schemas for client-side validation.
  json parameters = {
      {{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
      {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
      {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}}};
  bool any = false;
  for (const ResourceType& t : types_) {
    std::string p = t.group.empty() ? "api/" + t.version : "apis/" + t.groupVersion();
    if (p != path) continue;
    any = true;
    json schema = t.schema;
    schema["x-kubernetes-group-version-kind"] = {
        {{"group", t.group}, {"kind", t.kind}, {"version", t.version}}};
    schemas[schemaName(t)] = schema;
    std::string base = "/" + p + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.resource;
    json op = {{"parameters", parameters},
               {"responses", {{"200", {{"description", "OK"}}}}},
               {"x-kubernetes-group-version-kind",
                {{"group", t.group}, {"kind", t.kind}, {"version", t.version}}}};
    paths[base] = {{"post", op}, {"get", op}};
    paths[base + "/{name}"] = {{"get", op}, {"put", op}, {"patch", op}, {"delete", op}};
  }
  if (!any) return std::nullopt;
  return json{{"openapi", "3.0.0"},
              {"info", {{"title", "kubesim"}, {"version", "v1.32.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

}  // namespace canaryd::kubesim
