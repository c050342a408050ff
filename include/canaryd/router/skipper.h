// The Skipper router (provider skipper): the canary Ingress Flagger's Skipper router writes. The
// user's Ingress (spec.ingressRef, networking.k8s.io/v1) is read, never written; the canary
// Ingress `<ingressRef.name>-canary`, owned by the Canary, is its copy in which every path whose
// backend is the apex Service goes to `<apex>-primary`, followed in its rule by a copy going to
// `<apex>-canary`. Its annotation `zalando.org/backend-weights` splits the traffic between them
// (`{"<apex>-canary":C,"<apex>-primary":P}`), and `zalando.org/skipper-predicate` puts
// `Weight(100)` first, so that Skipper prefers the canary Ingress' routes to the user's, or
// `False()` at a canary weight of 0, which switches them off (the user's Ingress then serves,
// through the apex Service); the user's own predicates follow, joined by ` && `.
//
// Copied from the user's Ingress: its labels and annotations (not kubectl's
// last-applied-configuration nor GitOps tracking keys) and its spec; Flux's opt-out annotations
// are added. canaryd owns the spec and the two zalando.org annotations; a reconcile keeps the
// current weights and the first predicate (setRoutes sets them) and the labels and annotations
// others put on the canary Ingress, and writes only when something differs. No A/B matching,
// mirroring or session affinity (Flagger's Skipper router has none). Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/nginx.h"  // kIngresses
#include "canaryd/router/router.h"

namespace canaryd::router {

class SkipperRouter final : public Router {
 public:
  explicit SkipperRouter(cluster::Client& client);
  // kInvalidInput without spec.ingressRef or when the user's Ingress has no path to the apex
  // Service; the user's Ingress missing is its kNotFound.
  Status reconcile(const api::Canary& canary) override;
  // A missing canary Ingress is kNotFound (reconcile creates it); mirroring is kInvalidInput.
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // The weights of `<apex>-primary` and `<apex>-canary` in zalando.org/backend-weights;
  // kUnavailable when the annotation or either weight is missing or both are 0 (the next
  // reconcile restores them), kInvalidInput when it is not a JSON object of whole numbers.
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
};

// The canary Ingress for `canary`, copied from the user's Ingress `user` and keeping the current
// weights, first predicate and what canaryd does not own from `existing` (absent: a new object
// at 100/0 with Weight(100), as Flagger creates it). kInvalidInput when no path of `user` has
// the apex Service as its backend. Exposed for tests: it is the exact object the router writes.
Result<api::JsonValue> buildSkipperCanaryIngress(const api::Canary& canary,
                                                 const api::JsonValue& user,
                                                 const api::JsonValue& existing);

// The canary Ingress `ingress` with the annotations that route `weights` for `canary`, as
// setRoutes writes it.
api::JsonValue withSkipperRoutes(const api::Canary& canary, const api::JsonValue& ingress,
                                 const Weights& weights);

// Flagger's insertPredicate: `first`, then the predicates of `predicates` (split at "&&",
// trimmed) other than Weight(100) and False(), joined by " && ".
std::string skipperPredicate(const std::string& predicates, const std::string& first);

// Provider skipper: weights only; Deployment and DaemonSet targets; spec.ingressRef required.
std::vector<RouterPlugin> skipperRouters();

}  // namespace canaryd::router
