// The Kuma router (provider kuma): the object Flagger's Kuma router writes, a kuma.io/v1alpha1
// TrafficRoute. It is cluster-scoped and named after the apex Service; its top-level `mesh` is the
// Canary's annotation kuma.io/mesh (else `default`), set when it is created. Its spec routes
// every source (`kuma.io/service: "*"`) whose destination is the apex Service's Kuma service
// (`<apex>_<namespace>_svc_<port>`) to the services of `<apex>-primary` and `<apex>-canary`,
// in that order, by conf.split weights. Its labels and annotations are service.apex's, with
// Flux's opt-out annotations. Being cluster-scoped it has no owner: it outlives the Canary, as
// in Flagger.
//
// canaryd owns spec.sources, spec.destinations and spec.conf.split, the labels and annotations
// of service.apex and Flux's opt-out annotations; everything else on an existing object
// (the mesh, other conf fields, other labels and annotations) is kept. A reconcile writes only
// when something it owns differs, and keeps the current weights (setRoutes sets them). A
// TrafficRoute of the same name that routes the apex Service of another namespace belongs to
// another Canary: canaryd refuses to take it over. No mirroring and no A/B matches (Flagger's
// Kuma router has neither). Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

inline const cluster::Resource kKumaTrafficRoutes{"kuma.io", "v1alpha1", "trafficroutes", false,
                                                  "TrafficRoute"};

class KumaRouter final : public Router {
 public:
  explicit KumaRouter(cluster::Client& client);
  // kInvalidInput when the TrafficRoute `<apex>` routes another namespace's apex Service.
  Status reconcile(const api::Canary& canary) override;
  // A missing TrafficRoute is kNotFound (reconcile creates it); mirroring is kInvalidInput.
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // The weights of the splits to the primary's and the canary's services; kUnavailable when
  // both are 0 or absent (someone edited it; the next reconcile restores it).
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
};

// The Kuma service tag of Service `name` in the Canary's namespace at service.port, as Kuma
// names a Kubernetes Service's port: `<name>_<namespace>_svc_<port>`.
std::string kumaServiceTag(const api::Canary& canary, const std::string& name);

// The TrafficRoute for `canary` at `weights`, keeping what canaryd does not own from `existing`
// (absent: a new object in the mesh of the Canary's kuma.io/mesh annotation). Exposed for tests:
// it is the exact object the router writes.
api::JsonValue buildTrafficRoute(const api::Canary& canary, const Weights& weights,
                                 const api::JsonValue& existing);

// Provider kuma: weights only; Deployment, DaemonSet and Service targets.
std::vector<RouterPlugin> kumaRouters();

}  // namespace canaryd::router
