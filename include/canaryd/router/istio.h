// The Istio router (provider istio): the objects Flagger's Istio router writes, in
// networking.istio.io/v1beta1. DestinationRules `<apex>-canary` and `<apex>-primary` (host = their
// name, trafficPolicy = service.trafficPolicy) and a VirtualService `<apex>` whose hosts are
// service.hosts plus the apex name, whose gateways are service.gateways (else `mesh`) and whose
// one HTTP route carries service.match, rewrite, timeout, retries, corsPolicy and headers and
// sends `<apex>-primary` and `<apex>-canary` their weights. A/B testing (analysis.match) puts the
// matched requests first (both destinations, by the weights) and a default route to the primary
// after; mirroring adds `mirror` (and `mirrorPercentage` from analysis.mirrorWeight) to the route;
// delegation (service.delegation) writes no hosts and gateways; appProtocol tcp writes a TCP
// route instead. Every object lives in the Canary's namespace and a new one is owned by the
// Canary.
//
// canaryd owns the VirtualService's spec.hosts, spec.gateways, spec.http and spec.tcp, the
// labels and annotations of service.apex and Flux's opt-out annotations, and the
// DestinationRules' spec.host and spec.trafficPolicy; everything else on an existing object is
// kept. A reconcile writes only when something it owns differs, and keeps the current weights and
// mirror (setRoutes sets them). Session affinity (analysis.sessionAffinity) puts routes before the
// weighted one, as Flagger does: requests with the canary cookie (status.sessionAffinityCookie,
// which the controller sets) go to the canary, with the primary cookie (primaryCookieName) to
// the primary, and the weighted route's destinations set those cookies; at weight 0 a route
// matching status.previousSessionAffinityCookie expires it. Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

inline const cluster::Resource kIstioVirtualServices{"networking.istio.io", "v1beta1",
                                                     "virtualservices", true, "VirtualService"};
inline const cluster::Resource kIstioDestinationRules{"networking.istio.io", "v1beta1",
                                                      "destinationrules", true, "DestinationRule"};

class IstioRouter final : public Router {
 public:
  explicit IstioRouter(cluster::Client& client);
  // kInvalidInput for a delegate VirtualService with hosts or gateways (as Flagger refuses it).
  Status reconcile(const api::Canary& canary) override;
  // A missing VirtualService is kNotFound (reconcile creates it).
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // The weights of the last route that sends anything to `<apex>-canary`; kUnavailable when
  // there is none or both weights are 0 (someone edited it; the next reconcile restores it).
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  Status reconcileDestinationRule(const api::Canary& canary, const std::string& name);
  cluster::Client& client_;
};

// The VirtualService for `canary` at `weights`, keeping what canaryd does not own from `existing`
// (absent: a new object, owned by the Canary). When `existing` has a spec other than this one's,
// its spec is recorded in the annotation flagger.kubernetes.io/original-configuration (unless
// kubectl's last-applied-configuration is there), as Flagger records it. Exposed for tests: it is
// the exact object the router writes.
api::JsonValue buildVirtualService(const api::Canary& canary, const Weights& weights,
                                   const api::JsonValue& existing);

// The DestinationRule `name` (`<apex>-primary` or `<apex>-canary`), keeping what canaryd does not
// own from `existing`. Exposed for tests.
api::JsonValue buildDestinationRule(const api::Canary& canary, const std::string& name,
                                    const api::JsonValue& existing);

// Provider istio: weights, A/B matches, mirroring with a mirror weight, session affinity;
// Deployment, DaemonSet and Service targets.
std::vector<RouterPlugin> istioRouters();

}  // namespace canaryd::router
