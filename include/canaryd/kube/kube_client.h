// KubeClient: cluster::Client over the Kubernetes REST API (libcurl, JSON).
//
// Retries what is worth retrying — connection failures, timeouts, 429 and 5xx — with
// exponential backoff that honours Retry-After, up to `maxRetries`; everything else is
// returned at once. Kubernetes Status answers become Error kinds with the server's message
// and causes; a malformed answer is an error, never a crash. Keeps a pool of connections
// (keep-alive); thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "canaryd/cluster/client.h"
#include "canaryd/core/http.h"
#include "canaryd/kube/config.h"

namespace canaryd::kube {

struct ClientOptions {
  std::chrono::milliseconds requestTimeout{10000};
  std::chrono::milliseconds connectTimeout{3000};
  int maxRetries = 4;
  std::chrono::milliseconds initialBackoff{100};
  std::chrono::milliseconds maxBackoff{5000};
  // How to wait between retries; tests replace it to observe the backoff without sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::string userAgent = "canaryd";
  std::string fieldManager = "canaryd";  // ?fieldManager= of every create, update and patch
  HttpObserver observer;                 // told of every request but watches (request metrics)
};

class KubeClient final : public cluster::Client {
 public:
  KubeClient(ConnectionConfig config, ClientOptions options = {});
  ~KubeClient() override;

  Result<api::JsonValue> get(const cluster::Resource& resource,
                             const cluster::ObjectRef& ref) override;
  Result<cluster::ObjectList> list(const cluster::Resource& resource, const std::string& ns,
                                   const cluster::ListOptions& options) override;
  Result<api::JsonValue> create(const cluster::Resource& resource, const std::string& ns,
                                const api::JsonValue& object) override;
  Result<api::JsonValue> update(const cluster::Resource& resource,
                                const api::JsonValue& object) override;
  Result<api::JsonValue> updateStatus(const cluster::Resource& resource,
                                      const api::JsonValue& object) override;
  Result<api::JsonValue> patch(const cluster::Resource& resource, const cluster::ObjectRef& ref,
                               cluster::PatchType type, std::string_view patch,
                               bool status) override;
  Status remove(const cluster::Resource& resource, const cluster::ObjectRef& ref,
                const cluster::DeleteOptions& options) override;
  Status watch(const cluster::Resource& resource, const std::string& ns,
               const cluster::WatchOptions& options,
               const std::function<bool(const cluster::WatchEvent&)>& onEvent) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Turns an HTTP answer of the API server into a Result: the body on 2xx, otherwise the
// Error kind for its status with the Status object's message (and causes). Exposed for tests.
Result<api::JsonValue> interpretResponse(int status, std::string_view body, std::string_view what);

}  // namespace canaryd::kube
