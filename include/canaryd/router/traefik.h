// The Traefik router (providers traefik and traefik:containo.us): the object Flagger's Traefik
// router writes, a TraefikService named after the apex Service, in the Canary's namespace and
// owned by it. Its spec.weighted.services is the primary's Service `<apex>-primary` and, while
// it has traffic, the canary's `<apex>-canary`, each at service.port in the Canary's namespace
// with its weight. The user's IngressRoute routes to it (`kind: TraefikService`, name `<apex>`);
// canaryd never touches the IngressRoute. Its labels and annotations are service.apex's, with
// Flux's opt-out annotations.
//
// API group: Flagger v1.44 writes traefik.io/v1alpha1 (Traefik v2.10 and later; Traefik v3
// serves only it); Flagger v1.41 and earlier wrote traefik.containo.us/v1alpha1 (Traefik v2.9
// and earlier), always under the one provider name `traefik`: Flagger chose by release, with no
// flag or suffix. canaryd keeps both as provider names: `traefik` writes traefik.io/v1alpha1 as
// Flagger v1.44 does, `traefik:containo.us` writes traefik.containo.us/v1alpha1 as Flagger
// v1.41 did (the same object otherwise).
//
// canaryd owns spec.weighted.services, the labels and annotations of service.apex and Flux's
// opt-out annotations; everything else on an existing object (other spec fields such as
// weighted.sticky, other labels and annotations) is kept. A reconcile writes only when something
// it owns differs, and keeps the current weights (setRoutes sets them). No mirroring and no A/B
// matches (Flagger's Traefik router writes neither). Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

inline const cluster::Resource kTraefikServices{"traefik.io", "v1alpha1", "traefikservices", true,
                                                "TraefikService"};
inline const cluster::Resource kTraefikContainousServices{
    "traefik.containo.us", "v1alpha1", "traefikservices", true, "TraefikService"};

class TraefikRouter final : public Router {
 public:
  // `resource`: kTraefikServices or kTraefikContainousServices.
  TraefikRouter(cluster::Client& client, cluster::Resource resource);
  Status reconcile(const api::Canary& canary) override;
  // A missing TraefikService is kNotFound (reconcile creates it); mirroring and 0/0 are
  // kInvalidInput.
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // The weights of the primary's and the canary's services (an absent one, or an absent weight,
  // is 0, as Flagger reads them); kUnavailable when both are 0 (someone edited it; the next
  // reconcile restores it).
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
  cluster::Resource resource_;
};

// The TraefikService for `canary` at `weights` in `apiVersion` (traefik.io/v1alpha1 or
// traefik.containo.us/v1alpha1), keeping what canaryd does not own from `existing` (absent: a
// new object owned by the Canary). Exposed for tests: it is the exact object the router writes.
api::JsonValue buildTraefikService(const api::Canary& canary, const Weights& weights,
                                   const api::JsonValue& existing, const std::string& apiVersion);

// Providers traefik (traefik.io) and traefik:containo.us: weights only; Deployment, DaemonSet
// and Service targets.
std::vector<RouterPlugin> traefikRouters();

}  // namespace canaryd::router
