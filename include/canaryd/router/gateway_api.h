// The Gateway API router: an HTTPRoute named after the apex Service, attached to
// service.gatewayRefs with service.hosts, whose rule sends `<apex>-primary` and
// `<apex>-canary` their weights; A/B testing puts analysis.match in a first rule routed to the
// canary and keeps a default rule on the primary; mirroring adds a RequestMirror filter. Rules
// the user added (those not pointing at canaryd's backends) are kept as they are. Weights are
// not changed until every parent Gateway has accepted the route's current generation.
#pragma once

#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "canaryd/router/router.h"

namespace canaryd::router {

class GatewayApiRouter final : public Router {
 public:
  GatewayApiRouter(cluster::Client& client, std::string apiVersion);
  Status reconcile(const api::Canary& canary) override;
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
  cluster::Resource resource_;
};

// The HTTPRoute for `canary` at `weights`, keeping the user's rules from `existing` (null when
// there is none). Exposed for tests: it is the exact object the router writes.
api::JsonValue buildHttpRoute(const api::Canary& canary, const Weights& weights,
                              const api::JsonValue& existing, const std::string& apiVersion);

// Providers gatewayapi:v1 and gatewayapi:v1beta1: an HTTPRoute with weighted backends, A/B
// matches and mirroring, attached to spec.service.gatewayRefs.
std::vector<RouterPlugin> gatewayApiRouters();

}  // namespace canaryd::router
