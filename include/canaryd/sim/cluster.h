// The simulator's cluster: the Kubernetes API in memory, for the daemon's own Reconciler.
//
// Objects live in kubesim's Store (one resourceVersion sequence, generation bumped on spec
// changes, 409 on a stale resourceVersion, the status subresource, finalizers, owner
// references), so the controller meets the same API semantics as against kubesim or a real
// server, without HTTP. The cluster's own controllers run in virtual time: a Deployment's or a
// DaemonSet's (on one node) status converges `readinessDelay` after its spec changed (later
// when `readyAt` holds it back: the slow-readiness fault), as does a Knative Service's (its
// Revisions and Route: kubesim/knative_serving.h), and a Gateway accepts every HTTPRoute at
// once. The Canary, MetricTemplate, AlertProvider, the routers' kinds (HTTPRoute,
// VirtualService, DestinationRule, ...) and Knative Serving's Service and Revision are
// installed. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "canaryd/cluster/client.h"
#include "canaryd/core/clock.h"
#include "canaryd/core/duration.h"

namespace canaryd::sim {

struct ClusterOptions {
  Duration readinessDelay = std::chrono::seconds(10);
  // When a Deployment changed at `changed` becomes ready (default: changed + readinessDelay).
  std::function<TimePoint(TimePoint changed)> readyAt;
  // Told of every Event object created or updated (the controller's events, for the timeline).
  std::function<void(const api::JsonValue& event)> onEvent;
};

class Cluster final : public cluster::Client {
 public:
  Cluster(const Clock& clock, ClusterOptions options = {});
  ~Cluster() override;

  // Lets the cluster's controllers write every status that is due at the clock's time; returns
  // when the next one falls due (none pending: nothing).
  std::optional<TimePoint> settle();

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
                               bool status = false) override;
  Status remove(const cluster::Resource& resource, const cluster::ObjectRef& ref,
                const cluster::DeleteOptions& options = {}) override;
  // Delivers the events already recorded after `options.resourceVersion` (or the current
  // objects), then ends the stream: nothing waits in virtual time.
  Status watch(const cluster::Resource& resource, const std::string& ns,
               const cluster::WatchOptions& options,
               const std::function<bool(const cluster::WatchEvent&)>& onEvent) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace canaryd::sim
