// The App Mesh router (providers appmesh and appmesh:v1beta2): the objects Flagger's App Mesh
// v1beta2 router writes, in the Canary's namespace, each owned by the Canary:
//  - VirtualNodes `<apex>-primary` and `<apex>-canary`: one listener on the container port
//    (service.targetPort when a number, else service.port), protocol grpc when service.portName
//    contains "grpc" else http, a per-request timeout from service.timeout; DNS service
//    discovery at `<apex>-primary.<ns>.svc.cluster.local.` / `<apex>-canary...`; a pod selector
//    `<label>: <value>-primary` / `<label>: <value>`; service.backends as virtual service
//    backends (an `arn:aws...` as virtualServiceARN, else virtualServiceRef); stdout access
//    logging when annotation appmesh.flagger.app/accesslog is `enabled`. Labels and annotations
//    are service.apex's with Flux's opt-out annotations.
//  - VirtualRouter `<apex>`: one route `<apex>` on prefix service.match[0].uri.prefix (else "/")
//    with weighted targets [canary node, primary node], the service timeout and retry policy;
//    with analysis.match (headers only) the A/B routes `<apex>-a` (priority 10, the header
//    match) and `<apex>-b` (priority 20, all to the primary).
//  - VirtualRouter `<apex>-canary`: the same route, all traffic to the canary node.
//  - VirtualServices `<apex>` and `<apex>-canary`, provided by the VirtualRouter of the same
//    name; `<apex>` carries the App Mesh gateway annotations when service.hosts is set.
//
// A reconcile rewrites the spec of a VirtualNode or VirtualRouter (keeping spec.awsName,
// spec.meshRef and, for the router, the first route's action: the weights) only when it differs;
// a VirtualService is created when missing and otherwise left alone, as in Flagger.
// Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

inline const cluster::Resource kAppMeshVirtualNodes{"appmesh.k8s.aws", "v1beta2", "virtualnodes",
                                                    true, "VirtualNode"};
inline const cluster::Resource kAppMeshVirtualRouters{"appmesh.k8s.aws", "v1beta2",
                                                      "virtualrouters", true, "VirtualRouter"};
inline const cluster::Resource kAppMeshVirtualServices{"appmesh.k8s.aws", "v1beta2",
                                                       "virtualservices", true, "VirtualService"};

class AppMeshRouter final : public Router {
 public:
  AppMeshRouter(cluster::Client& client, Selector selector);
  Status reconcile(const api::Canary& canary) override;
  // A missing VirtualRouter is kNotFound (reconcile creates it); mirroring is kInvalidInput.
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // The first route's weighted targets; kUnavailable when they are not the two nodes' or both 0.
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
  Selector selector_;
};

// The objects the router writes, keeping what canaryd does not own from `existing` (absent: a
// new object). Exposed for tests: they are the exact objects the router writes.
// `primary`: the `<apex>-primary` node, else `<apex>-canary`.
api::JsonValue buildVirtualNode(const api::Canary& canary, const Selector& selector, bool primary,
                                const api::JsonValue& existing);
// `canaryRouter`: `<apex>-canary` (all to the canary), else `<apex>` at `weights` (a new object)
// or at the existing first route's action.
api::JsonValue buildVirtualRouter(const api::Canary& canary, bool canaryRouter,
                                  const Weights& weights, const api::JsonValue& existing);
api::JsonValue buildVirtualService(const api::Canary& canary, bool canaryRouter);

// Providers appmesh and appmesh:v1beta2: weights and header matches; Deployment and DaemonSet.
std::vector<RouterPlugin> appMeshRouters();

}  // namespace canaryd::router
