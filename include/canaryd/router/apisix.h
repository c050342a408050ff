// The Apache APISIX router (provider apisix): the object Flagger's APISIX router writes, an
// apisix.apache.org/v2 ApisixRoute `<routeRef.name>-<apex>-canary` in the Canary's namespace,
// owned by it, derived from the user's ApisixRoute spec.routeRef (which canaryd only reads).
// Its spec is the user's route's spec with spec.http reduced to the one http route whose
// backends hold the apex Service (the first such; it must have exactly one backend), with
// priority 10000 and two backends: the user's backend pointed at `<apex>-primary` and a
// backend `<apex>-canary` with the same servicePort, resolveGranularity and subset, each with
// its weight. Its labels and annotations are the user's route's (without GitOps tracking keys
// and kubectl's last-applied configuration), with Flux's opt-out annotations.
//
// canaryd owns the spec (rebuilt from the user's route on each reconcile, at the current
// weights: setRoutes sets them), the labels and annotations copied from the user's route and
// Flux's opt-out annotations; other labels and annotations on the canary route are kept. A
// reconcile writes only when something it owns differs. No mirroring and no A/B matches
// (Flagger's APISIX router writes neither). Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

inline const cluster::Resource kApisixRoutes{"apisix.apache.org", "v2", "apisixroutes", true,
                                             "ApisixRoute"};

class ApisixRouter final : public Router {
 public:
  explicit ApisixRouter(cluster::Client& client);
  // kInvalidInput without spec.routeRef.name, or when the user's route has no http route with
  // the apex Service as its only backend; the user's route missing is its kNotFound.
  Status reconcile(const api::Canary& canary) override;
  // A missing canary route is kNotFound (reconcile creates it); mirroring and 0/0 are
  // kInvalidInput.
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // The weights of the primary's and the canary's backends of the canary route's http route
  // that routes to the primary; kUnavailable when both are 0 or absent (someone edited it; the
  // next reconcile restores it).
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
};

// `<routeRef.name>-<apex>-canary`, as Flagger names the canary route.
std::string apisixCanaryRouteName(const api::Canary& canary);

// The canary ApisixRoute for `canary` at `weights`, derived from the user's route `userRoute`,
// keeping what canaryd does not own from `existing` (absent: a new object owned by the Canary).
// kInvalidInput when `userRoute` has no http route to derive it from. Exposed for tests: it is
// the exact object the router writes.
Result<api::JsonValue> buildApisixCanaryRoute(const api::Canary& canary, const Weights& weights,
                                              const api::JsonValue& userRoute,
                                              const api::JsonValue& existing);

// Provider apisix: weights only; Deployment, DaemonSet and Service targets; spec.routeRef
// required.
std::vector<RouterPlugin> apisixRouters();

}  // namespace canaryd::router
