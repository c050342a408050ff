// Router: where a Canary's traffic split lives (an HTTPRoute, a Service selector, ...).
//
// Routers are chosen by the Canary's provider through makeRouter(), the one registry; an
// unknown or not yet supported provider is an error that names the supported ones, never a
// silent fallback. Every method is idempotent: it makes the cluster match, whatever it held.
// Implementations talk to the cluster only through cluster::Client; thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "canaryd/api/canary.h"
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

// The router for `provider` ("" means the Canary's own spec.provider, then "kubernetes").
// `addresses`: the operator's allow-list for data-plane addresses that Canaries name (the
// HAProxy Runtime API); null: any.
Result<std::unique_ptr<Router>> makeRouter(
    std::string_view provider, cluster::Client& client,
    std::shared_ptr<const AddressPolicy> addresses = nullptr);

// Names derived from the Canary as Flagger derives them.
std::string apexServiceName(const api::Canary& canary);  // service.name, else targetRef.name

}  // namespace canaryd::router
