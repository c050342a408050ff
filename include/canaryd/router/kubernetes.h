// The kubernetes router: the three ClusterIP Services Flagger generates — `<apex>` (what
// clients call), `<apex>-primary` and `<apex>-canary` — and blue/green by pointing the apex
// Service's selector at the primary's pods or the canary's. There are no weights: a split
// other than 100/0 or 0/100 is refused. Other routers use its Services too.
#pragma once

#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

class KubernetesRouter final : public Router {
 public:
  explicit KubernetesRouter(cluster::Client& client, Selector selector = {})
      : client_(client), selector_(std::move(selector)) {}
  Status reconcile(const api::Canary& canary) override;
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
  Selector selector_;
};

// The apex, primary and canary Services, apex selecting the primary's pods. Exposed for tests.
std::vector<api::JsonValue> buildServices(const api::Canary& canary, const Selector& selector = {});

// Provider kubernetes: blue/green by Service selectors (no weights, no L7 routing), as Flagger's
// kubernetes provider. Its Services are the ones every provider uses.
std::vector<RouterPlugin> kubernetesRouters();

}  // namespace canaryd::router
