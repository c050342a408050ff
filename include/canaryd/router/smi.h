// The SMI router (providers linkerd, osm, smi:v1alpha1, smi:v1alpha2, smi:v1alpha3): a
// TrafficSplit of split.smi-spec.io, as Flagger's SMI routers write it. The split is named after
// the apex Service, lives in the Canary's namespace and is owned by the Canary; its
// spec.service is service.hosts[0] (else the apex name) and its backends are `<apex>-canary`
// and `<apex>-primary`, in that order, with their weights. In v1alpha1 a weight is a Kubernetes
// quantity, written as a string ("90"); in v1alpha2 and v1alpha3 an integer. The mesh (Linkerd's
// SMI extension, OSM) does the splitting; the router only writes the object.
//
// canaryd owns spec.service and spec.backends; everything else on an existing split (labels,
// annotations, v1alpha3 spec.matches) is kept. A reconcile rewrites the split only when its
// service or backends are not canaryd's, and then keeps the current weights. SMI has no request
// mirroring and canaryd creates no HTTPRouteGroups, so A/B matches are not offered.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

class SmiRouter final : public Router {
 public:
  // `apiVersion`: "split.smi-spec.io/v1alpha1", ".../v1alpha2" or ".../v1alpha3".
  SmiRouter(cluster::Client& client, const std::string& apiVersion);
  Status reconcile(const api::Canary& canary) override;
  // Mirroring is refused (kInvalidInput); a missing split is kNotFound (reconcile creates it).
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // kInvalidInput when a weight is not a whole number; kUnavailable when the split has no
  // weight on either of canaryd's backends (someone edited it; the next reconcile restores it).
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
  cluster::Resource resource_;
};

// The TrafficSplit for `canary` at `weights` in `apiVersion`, keeping what canaryd does not own
// from `existing` (absent when there is none: then a new object, owned by the Canary). Exposed
// for tests: it is the exact object the router writes.
api::JsonValue buildTrafficSplit(const api::Canary& canary, const Weights& weights,
                                 const api::JsonValue& existing, const std::string& apiVersion);

// The providers Flagger routes through a TrafficSplit, each with its API version: linkerd
// (v1alpha1, as Flagger's factory maps it), osm (v1alpha2), smi:v1alpha1, smi:v1alpha2 and
// smi:v1alpha3. Weighted steps only.
std::vector<RouterPlugin> smiRouters();

}  // namespace canaryd::router
