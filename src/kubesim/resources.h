// The resource types kubesim serves: the built-in kinds canaryd and kubectl need, plus every
// custom resource whose CRD has been created. Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace canaryd::kubesim {

struct ResourceType {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower case
  std::string kind;
  std::string singular;
  bool namespaced = true;
  bool statusSubresource = false;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  nlohmann::json schema;          // OpenAPI v3 schema of the kind (for kubectl)
  nlohmann::json printerColumns;  // CRD additionalPrinterColumns
  bool fromCrd = false;

  std::string groupVersion() const { return group.empty() ? version : group + "/" + version; }
  // Storage key that does not depend on the version served.
  std::string storageKey() const { return group + "/" + resource; }
};

class ResourceRegistry {
 public:
  ResourceRegistry();
  std::optional<ResourceType> find(const std::string& group, const std::string& version,
                                   const std::string& resource) const;
  std::optional<ResourceType> findKind(const std::string& group, const std::string& kind) const;
  std::vector<ResourceType> all() const;
  // Registers (or replaces) the served versions of a CustomResourceDefinition object.
  void addCrd(const nlohmann::json& crd);
  void removeCrd(const nlohmann::json& crd);

  nlohmann::json discoveryCore() const;    // GET /api
  nlohmann::json discoveryGroups() const;  // GET /apis
  std::optional<nlohmann::json> discoveryResources(const std::string& group,
                                                   const std::string& version) const;
  nlohmann::json openapiIndex() const;  // GET /openapi/v3
  std::optional<nlohmann::json> openapiDocument(const std::string& path) const;

 private:
  mutable std::mutex mu_;
  std::vector<ResourceType> types_;
};

}  // namespace canaryd::kubesim
