// The resource types kubesim serves: the built-in kinds canaryd and kubectl need, plus every
// custom resource whose CRD has been created. A CRD's every served version is a type of its
// own; all of them share one storage key, and objects are stored at the CRD's storage version
// and served at the version asked for (conversion strategy None: only apiVersion changes).
// Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace canaryd::kubesim {

struct ResourceType {
  std::string group;           // "" for the core group
  std::string version;         // the version served
  std::string storageVersion;  // the version objects are stored at ("" means `version`)
  std::string resource;        // plural, lower case
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
  std::string storageGroupVersion() const {
    const std::string& v = storageVersion.empty() ? version : storageVersion;
    return group.empty() ? v : group + "/" + v;
  }
  // Storage key that does not depend on the version served.
  std::string storageKey() const { return group + "/" + resource; }
};

// Whether API version `a` comes before `b` in Kubernetes' version priority: GA before beta
// before alpha, higher numbers first (v2, v1, v1beta2, v1beta1, v1alpha1), then versions that
// do not look like Kubernetes versions in alphabetical order. Discovery lists a group's
// versions in this order and prefers the first.
bool kubeVersionPrecedes(const std::string& a, const std::string& b);

class ResourceRegistry {
 public:
  ResourceRegistry();
  std::optional<ResourceType> find(const std::string& group, const std::string& version,
                                   const std::string& resource) const;
  std::optional<ResourceType> findKind(const std::string& group, const std::string& kind) const;
  std::vector<ResourceType> all() const;
  // Registers (or replaces) the served versions of a CustomResourceDefinition object; a
  // version with `served: false` is not registered (404). The storage version is the one
  // with `storage: true` (the first version when none says so).
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
