// The NGINX router (provider nginx): the canary Ingress Flagger's ingress router writes for the
// ingress-nginx controller. The user's Ingress (spec.ingressRef, networking.k8s.io/v1) is read,
// never written; the canary Ingress `<ingressRef.name>-canary`, owned by the Canary, is its copy
// with every path backend that is the apex Service pointed at `<apex>-canary`, marked
// `nginx.ingress.kubernetes.io/canary: "true"`. ingress-nginx then sends it the share of the
// user's Ingress traffic in `canary-weight` (progressive and blue/green), or, for an A/B test
// (analysis.match), the requests whose header matches (`canary-by-header` with
// `canary-by-header-value` for an exact match or `canary-by-header-pattern` for a regex) or
// whose cookie `canary-by-cookie` is "always", with `canary-weight: "0"`.
//
// Copied from the user's Ingress: its labels and annotations (not its own `.../canary*`
// annotations, kubectl's last-applied-configuration, nor GitOps tracking keys) and its spec;
// Flux's opt-out annotations are added. canaryd owns the spec and the `.../canary*` annotations;
// a reconcile keeps the current weight and A/B annotations (setRoutes sets them) and the labels
// and annotations others put on the canary Ingress, and writes only when something differs.
// No mirroring and no session affinity (Flagger's ingress router has neither). Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

// The Kubernetes Ingress (built into every API server): the user's, and the canary copies the
// nginx and skipper routers write.
inline const cluster::Resource kIngresses{"networking.k8s.io", "v1", "ingresses", true, "Ingress"};

class NginxRouter final : public Router {
 public:
  explicit NginxRouter(cluster::Client& client);
  // kInvalidInput without spec.ingressRef or when the user's Ingress has no path to the apex
  // Service; the user's Ingress missing is its kNotFound.
  Status reconcile(const api::Canary& canary) override;
  // A missing canary Ingress is kNotFound (reconcile creates it); mirroring is kInvalidInput.
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // 0/100 while the A/B annotations are set (for a Canary with analysis.match), else
  // 100 - canary-weight / canary-weight; kUnavailable when the canary Ingress is not marked
  // canary or has no canary-weight (the next reconcile restores them), kInvalidInput when the
  // weight is not a whole number from 0 to 100.
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
};

// The canary Ingress for `canary`, copied from the user's Ingress `user` and keeping the current
// weight, A/B annotations and what canaryd does not own from `existing` (absent: a new object,
// all traffic on the primary). kInvalidInput when no path of `user` has the apex Service as its
// backend. Exposed for tests: it is the exact object the router writes.
Result<api::JsonValue> buildNginxCanaryIngress(const api::Canary& canary,
                                               const api::JsonValue& user,
                                               const api::JsonValue& existing);

// The canary Ingress `ingress` with the annotations that route `weights` for `canary` (its
// analysis.match, if any), as setRoutes writes it.
api::JsonValue withNginxRoutes(const api::Canary& canary, const api::JsonValue& ingress,
                               const Weights& weights);

// Provider nginx: weights and A/B matching on one header (exact or regex) and one cookie;
// Deployment and DaemonSet targets; spec.ingressRef required.
std::vector<RouterPlugin> nginxRouters();

}  // namespace canaryd::router
