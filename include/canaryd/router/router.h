// Router: where a Canary's traffic split lives (an HTTPRoute, a Service selector, ...).
//
// A router is a plugin: one file declares its RouterPlugin (provider names, capabilities, its own
// checks of a Canary, a factory), and the composition root registers it (plugins/registry.h).
// The controller sees only this interface. Every method is idempotent: it makes the cluster
// match, whatever it held. Implementations talk to the cluster only through cluster::Client;
// thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "canaryd/api/canary.h"
#include "canaryd/api/catalog.h"
#include "canaryd/cluster/client.h"
#include "canaryd/core/address_policy.h"
#include "canaryd/core/result.h"

namespace canaryd::router {

struct Weights {
  std::int64_t primary = 100;
  std::int64_t canary = 0;
  bool mirror = false;  // send a copy of the primary's traffic to the canary
  friend bool operator==(const Weights&, const Weights&) = default;
};

class Router {
 public:
  virtual ~Router() = default;
  // Creates or updates the routing objects; a new object starts with all traffic on primary.
  virtual Status reconcile(const api::Canary& canary) = 0;
  // Sets the split. kUnavailable while the data plane has not accepted the previous change.
  virtual Status setRoutes(const api::Canary& canary, const Weights& weights) = 0;
  virtual Result<Weights> getRoutes(const api::Canary& canary) = 0;
};

// How the Services find the pods, as Flagger's -selector-labels: the label of the target's
// selector (`app`, `name` or `app.kubernetes.io/name` by default) and its value. The canary
// Service selects label=value (the target's pods), the primary and apex Services
// label=value-primary (the primary's). An empty value means the target's name.
struct Selector {
  std::string label = "app";
  std::string value;
};

// What a router is built with.
struct RouterContext {
  cluster::Client& client;
  // The operator's allow-list for data-plane addresses that Canaries name (the HAProxy Runtime
  // API); null: any.
  std::shared_ptr<const AddressPolicy> addresses;
  Selector selector;
  // The target's kind: a Service target (Flagger's ServiceController) brings its own
  // `<target>-primary` and `<target>-canary` Services, so a router only routes between them.
  std::string targetKind = "Deployment";
  // Flagger's -ingress-class (canaryd run --ingress-class): the class an ingress router's own
  // objects name (contour: the HTTPProxy's spec.ingressClassName); empty: none.
  std::string ingressClass{};
};

// A router as registered at the composition root: the catalog entry the validator reads (its
// provider name, what it can do, its own checks) and how to make one.
struct RouterPlugin {
  api::RouterEntry entry;
  std::function<std::unique_ptr<Router>(const RouterContext&)> make;
};

// How the controller gets a Canary's router, for the client it works with (the composition root
// binds the registry: plugins/registry.h).
using RouterFactory = std::function<Result<std::unique_ptr<Router>>(
    std::string_view provider, cluster::Client& client, const Selector& selector,
    std::string_view targetKind)>;

// Names derived from the Canary as Flagger derives them: service.name, else targetRef.name.
inline std::string apexServiceName(const api::Canary& canary) {
  if (canary.spec.service && canary.spec.service->name) return *canary.spec.service->name;
  return canary.spec.targetRef ? canary.spec.targetRef->name.value_or("") : "";
}

}  // namespace canaryd::router
