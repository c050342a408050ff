// cluster::Client: everything canaryd asks of the Kubernetes API.
//
// Objects cross this interface as JSON (api::JsonValue), so any resource works, built-in or
// custom; typed helpers for the kinds canaryd owns are in canaryd/cluster/typed.h. Every
// failure is a Result error whose kind tells the caller what to do: kNotFound, kConflict (a
// stale resourceVersion or an existing name: re-read and retry), kInvalidInput (422/400, with
// the server's causes), kExpired (410: relist, then watch again), kUnavailable (timeouts, 429
// and 5xx left after the client's own retries). Implementations: kube::KubeClient (REST over
// libcurl) and the simulation's in-memory cluster. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canaryd/api/json_value.h"
#include "canaryd/core/result.h"

namespace canaryd::cluster {

// A resource by group, version and plural name.
struct Resource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;
  bool namespaced = true;
  std::string kind;
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  friend bool operator==(const Resource&, const Resource&) = default;
};

inline const Resource kNamespaces{"", "v1", "namespaces", false, "Namespace"};
inline const Resource kEndpoints{"", "v1", "endpoints", true, "Endpoints"};
inline const Resource kServices{"", "v1", "services", true, "Service"};
inline const Resource kConfigMaps{"", "v1", "configmaps", true, "ConfigMap"};
inline const Resource kSecrets{"", "v1", "secrets", true, "Secret"};
inline const Resource kEvents{"", "v1", "events", true, "Event"};
inline const Resource kDeployments{"apps", "v1", "deployments", true, "Deployment"};
inline const Resource kDaemonSets{"apps", "v1", "daemonsets", true, "DaemonSet"};
inline const Resource kHorizontalPodAutoscalers{"autoscaling", "v2", "horizontalpodautoscalers",
                                                true, "HorizontalPodAutoscaler"};
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases", true, "Lease"};
inline const Resource kCanaries{"flagger.app", "v1beta1", "canaries", true, "Canary"};
inline const Resource kMetricTemplates{"flagger.app", "v1beta1", "metrictemplates", true,
                                       "MetricTemplate"};
inline const Resource kAlertProviders{"flagger.app", "v1beta1", "alertproviders", true,
                                      "AlertProvider"};
inline const Resource kCustomResourceDefinitions{
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", false, "CustomResourceDefinition"};
inline const Resource kHttpRoutes{"gateway.networking.k8s.io", "v1", "httproutes", true,
                                  "HTTPRoute"};

struct ObjectRef {
  std::string namespace_;  // "" for cluster-scoped objects
  std::string name;
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::int64_t limit = 0;  // 0: everything in one answer
  std::string continueToken;
};

struct ObjectList {
  std::vector<api::JsonValue> items;
  std::string resourceVersion;  // to start a watch from
  std::string continueToken;    // "" when this was the last page
};

enum class PatchType { kMerge, kJson, kStrategicMerge };

struct DeleteOptions {
  std::string propagationPolicy;  // "", Background, Foreground, Orphan
  std::string preconditionUid;
  std::string preconditionResourceVersion;
};

struct WatchOptions {
  std::string resourceVersion;  // resume after this version; "" starts with the current objects
  bool allowBookmarks = true;
  std::string labelSelector;
  std::string fieldSelector;
  std::chrono::seconds timeout{0};  // server-side timeoutSeconds; 0: none
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type = Type::kAdded;
  api::JsonValue object;
  std::string resourceVersion;
};

class Client {
 public:
  virtual ~Client() = default;
  virtual Result<api::JsonValue> get(const Resource& resource, const ObjectRef& ref) = 0;
  virtual Result<ObjectList> list(const Resource& resource, const std::string& ns,
                                  const ListOptions& options) = 0;
  virtual Result<api::JsonValue> create(const Resource& resource, const std::string& ns,
                                        const api::JsonValue& object) = 0;
  // Replaces the object; its metadata.resourceVersion, when set, is a precondition (409).
  virtual Result<api::JsonValue> update(const Resource& resource, const api::JsonValue& object) = 0;
  // Replaces only the status, through the status subresource.
  virtual Result<api::JsonValue> updateStatus(const Resource& resource,
                                              const api::JsonValue& object) = 0;
  virtual Result<api::JsonValue> patch(const Resource& resource, const ObjectRef& ref,
                                       PatchType type, std::string_view patch,
                                       bool status = false) = 0;
  virtual Status remove(const Resource& resource, const ObjectRef& ref,
                        const DeleteOptions& options = {}) = 0;
  // Streams events to `onEvent` until it returns false or the server ends the stream (both
  // return ok). A resourceVersion that is too old gives kExpired.
  virtual Status watch(const Resource& resource, const std::string& ns, const WatchOptions& options,
                       const std::function<bool(const WatchEvent&)>& onEvent) = 0;
};

// Runs a read-modify-write `attempt` again while it fails with kConflict (someone wrote in
// between), up to `attempts` times; any other outcome is returned at once. `attempt` must
// re-read the object each time.
template <typename T>
Result<T> retryOnConflict(const std::function<Result<T>()>& attempt, int attempts = 5) {
  Result<T> result = attempt();
  for (int i = 1; i < attempts && !result.ok() && result.error().kind() == ErrorKind::kConflict;
       ++i) {
    result = attempt();
  }
  return result;
}

}  // namespace canaryd::cluster
