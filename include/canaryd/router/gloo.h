// The Gloo Edge router (provider gloo): the objects Flagger's Gloo router writes, in the Canary's
// namespace, each owned by the Canary:
//  - gloo.solo.io/v1 Upstreams `<namespace>-<apex>-primaryupstream-<port>` and
//    `<namespace>-<apex>-canaryupstream-<port>` (port: service.port): spec.kube names the
//    Service `<apex>-primary` / `<apex>-canary`, its namespace, service.port and the Service's
//    selector. With spec.upstreamRef, the referenced Upstream (in its namespace, else the
//    Canary's) lends them its spec.labels, sslConfig, circuitBreakers, connectionConfig,
//    loadBalancerConfig, useHttp2, initialStreamWindowSize, initialConnectionWindowSize and
//    httpProxyHostname. They have no labels and no annotations (as Flagger writes them).
//  - gateway.solo.io/v1 RouteTable `<apex>`: one route (inheritablePathMatchers) whose
//    routeAction.multi splits the traffic between the two Upstreams by weight (a weight of 0 is
//    left out, as Flagger's omitempty leaves it); with analysis.match, one matcher with its
//    headers (exact, or regex) and methods. Labels and annotations are service.apex's with Flux's
//    opt-out annotations. A user's VirtualService delegates to it.
//
// An existing Upstream is left alone but for its spec.loadBalancerConfig, which follows the
// referenced Upstream's when that has one (as Flagger syncs it). canaryd owns the RouteTable's
// spec.routes, the labels and annotations of service.apex and Flux's opt-out annotations;
// everything else on it is kept. A reconcile writes only when something it owns differs, and
// keeps the current weights (setRoutes sets them). As in Flagger, with analysis.match the
// RouteTable routes only the matching requests: the others reach no route of it. No mirroring
// (Flagger's Gloo router never mirrors). Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

inline const cluster::Resource kGlooUpstreams{"gloo.solo.io", "v1", "upstreams", true, "Upstream"};
inline const cluster::Resource kGlooRouteTables{"gateway.solo.io", "v1", "routetables", true,
                                                "RouteTable"};

class GlooRouter final : public Router {
 public:
  explicit GlooRouter(cluster::Client& client);
  // kNotFound when a Service `<apex>-primary` / `<apex>-canary` or the Upstream of
  // spec.upstreamRef is missing.
  Status reconcile(const api::Canary& canary) override;
  // A missing RouteTable is kNotFound (reconcile creates it); mirroring and two zero weights are
  // kInvalidInput.
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // The weights of the first route's destinations, the two Upstreams; kUnavailable when both are
  // 0 or absent (someone edited it; the next reconcile restores it).
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
};

// `<namespace>-<apex>-primaryupstream-<port>`, or `...-canaryupstream-...` when !primary.
std::string glooUpstreamName(const api::Canary& canary, bool primary);

// A new Upstream for the Service `service` (`<apex>-primary` when `primary`, else
// `<apex>-canary`), lent the fields of the Upstream `config` (absent: no spec.upstreamRef).
// Exposed for tests: it is the exact object the router creates.
api::JsonValue buildGlooUpstream(const api::Canary& canary, bool primary,
                                 const api::JsonValue& service, const api::JsonValue& config);

// The RouteTable for `canary` at `weights`, keeping what canaryd does not own from `existing`
// (absent: a new object). Exposed for tests: it is the exact object the router writes.
api::JsonValue buildRouteTable(const api::Canary& canary, const Weights& weights,
                               const api::JsonValue& existing);

// Provider gloo: weights and header and method matches (A/B); Deployment, DaemonSet and Service
// targets.
std::vector<RouterPlugin> glooRouters();

}  // namespace canaryd::router
