// The Contour router (provider contour): the object Flagger's Contour router writes, a
// projectcontour.io/v1 HTTPProxy `<apex>` in the Canary's namespace, owned by the Canary. It has
// no virtualhost: a root HTTPProxy of the user's includes it. Its route, on the prefix
// service.match[0].uri.prefix (else "/"), splits the traffic between the Services
// `<apex>-primary` and `<apex>-canary` at service.port by weight (a weight of 0 is left out, as
// Flagger's omitempty leaves it), each with the request header l5d-dst-override
// `<service>.<namespace>.svc.cluster.local:<port>` (for Linkerd behind Contour); a timeoutPolicy
// (response: service.timeout, idle: 5m) and a retryPolicy (count: attempts, perTryTimeout,
// retryOn: retryOn split at commas) from service.timeout and service.retries. With
// analysis.match (A/B) the first route carries the header conditions and the weights, a second
// route on the prefix alone sends the rest to the primary. spec.ingressClassName is the
// router's ingress class (Flagger's -ingress-class) when it has one. Labels and annotations are
// service.apex's with Flux's opt-out annotations.
//
// canaryd owns spec.routes, spec.ingressClassName when it has an ingress class, the labels and
// annotations of service.apex and Flux's opt-out annotations; everything else on an existing
// object (a virtualhost, includes, other labels and annotations, an ingressClassName set by
// someone else) is kept. A reconcile writes only when something it owns differs, and keeps the
// current weights (setRoutes sets them). No mirroring (Flagger's Contour router never mirrors).
// Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

inline const cluster::Resource kContourHttpProxies{"projectcontour.io", "v1", "httpproxies", true,
                                                   "HTTPProxy"};

class ContourRouter final : public Router {
 public:
  // `ingressClass`: spec.ingressClassName of the HTTPProxy ("" : none set, any kept).
  explicit ContourRouter(cluster::Client& client, std::string ingressClass = "");
  Status reconcile(const api::Canary& canary) override;
  // A missing HTTPProxy is kNotFound (reconcile creates it); mirroring and two zero weights are
  // kInvalidInput.
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // The weights of the first route's services `<apex>-primary` and `<apex>-canary`;
  // kUnavailable when both are 0 or absent (someone edited it; the next reconcile restores it).
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
  std::string ingressClass_;
};

// The HTTPProxy for `canary` at `weights`, keeping what canaryd does not own from `existing`
// (absent: a new object). Exposed for tests: it is the exact object the router writes.
api::JsonValue buildHttpProxy(const api::Canary& canary, const Weights& weights,
                              const std::string& ingressClass, const api::JsonValue& existing);

// Provider contour: weights and header matches (A/B); Deployment, DaemonSet and Service targets.
std::vector<RouterPlugin> contourRouters();

}  // namespace canaryd::router
