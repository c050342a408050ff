// The Knative router (provider knative): the traffic split Flagger's KnativeRouter and
// KnativeController write on a Knative Service (serving.knative.dev/v1 Service, the Canary's
// target: targetRef {apiVersion: serving.knative.dev/v1, kind: Service}). There is no primary
// workload and no generated object: Knative keeps every Revision of the Service, and the split
// is between two of them, written on the user's Service itself:
//
//   metadata.annotations["flagger.app/primary-revision"]: the Revision that is the primary.
//     Set to status.latestCreatedRevisionName when absent (Flagger's Reconcile and Initialize);
//     promotion moves it to the latest created Revision (Flagger's KnativeController.Promote,
//     the controller's business, not the router's).
//   spec.traffic: exactly [{latestRevision: true, percent: <canary>},
//     {revisionName: <primary>, percent: <primary>}], in that order, as Flagger's SetRoutes
//     writes it (the whole list is replaced). The canary is whatever Revision Knative routes
//     `latestRevision` to (its latest ready one).
//
// reconcile sets the annotation when it is missing, with all traffic on that Revision; when it
// is present it keeps the weights of spec.traffic if spec.traffic is the split above, and
// otherwise routes everything to the primary Revision again. Nothing else of the Service is
// written (its template, labels, other annotations are the user's; no owner, no GitOps opt-out:
// the object is the user's own). getRoutes reads status.traffic, what Knative's Route serves,
// as Flagger's GetRoutes does: a split Knative has not applied yet is not read back.
// No mirroring and no A/B matches (Knative's traffic block has neither). Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "canaryd/api/knative.h"
#include "canaryd/cluster/knative.h"
#include "canaryd/router/router.h"

namespace canaryd::router {

using api::kKnativePrimaryRevision;
using cluster::kKnativeServices;

// Whether the Canary targets a Knative Service (Flagger's IsKnativeService: kind Service,
// apiVersion serving.knative.dev/v1).
bool isKnativeTarget(const api::Canary& canary);

class KnativeRouter final : public Router {
 public:
  explicit KnativeRouter(cluster::Client& client);
  // A missing Service is kNotFound; a Service without a Revision yet (no
  // status.latestCreatedRevisionName) and without the annotation is kUnavailable.
  Status reconcile(const api::Canary& canary) override;
  // A missing Service or annotation is kNotFound (reconcile sets it); mirroring is kInvalidInput.
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  // The percents of status.traffic's latestRevision entry (canary) and of its entry for the
  // primary Revision (primary); kUnavailable when Knative serves no such split (not applied yet,
  // or someone edited spec.traffic: the next reconcile restores it).
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
};

// spec.traffic for `primaryRevision` at `weights`, as Flagger writes it. Exposed for tests: it is
// the exact list the router writes.
api::JsonValue buildKnativeTraffic(const std::string& primaryRevision, const Weights& weights);

// Provider knative: weights only; Knative Service targets (kind Service with apiVersion
// serving.knative.dev/v1; its check refuses another apiVersion and an autoscalerRef).
std::vector<RouterPlugin> knativeRouters();

}  // namespace canaryd::router
