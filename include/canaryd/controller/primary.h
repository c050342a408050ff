// What canaryd derives from the target Deployment: the revision being rolled out, the
// ConfigMaps and Secrets it tracks, and the `<target>-primary` Deployment it generates.
// Pure functions over JSON objects; thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "canaryd/api/canary.h"
#include "canaryd/api/json_value.h"
#include "canaryd/cluster/client.h"
#include "canaryd/core/result.h"
#include "canaryd/router/router.h"

namespace canaryd::controller {

struct ConfigRefs {
  std::set<std::string> configMaps;
  std::set<std::string> secrets;
};

// ConfigMaps and Secrets a pod template uses: volumes (also projected), env valueFrom and
// envFrom of containers and init containers.
ConfigRefs configReferences(const api::JsonValue& podTemplate);

// A stable hex digest of a JSON value (its canonical, key-sorted text).
std::string digest(const api::JsonValue& value);

// The revision: the pod template's digest, combined with the tracked configs' checksums
// (`configmap/<name>` or `secret/<name>` -> checksum, as status.trackedConfigs holds them);
// a Service target's: its spec's digest; a Knative Service's: the digest of its latest created
// Revision's name (Flagger's HasTargetChanged for Knative: Knative makes a Revision of each new
// template, and the name changes with it).
std::string revisionOf(const api::JsonValue& target,
                       const std::map<std::string, std::string>& trackedConfigs);

// The images of a Deployment's (or a Knative Service's) pod template, "name=image, ..."
// (containers, then init containers; an unnamed container's image alone): the revision as
// people name it, for alerts, logs and status.
std::string imagesOf(const api::JsonValue& deployment);

// The target's selector label and value: the first of `labels` (canaryd run --selector-labels,
// Flagger's default app, name, app.kubernetes.io/name) in its spec.selector.matchLabels; an
// error naming them when it has none.
Result<router::Selector> selectorOf(const api::JsonValue& target,
                                    const std::vector<std::string>& labels);

// `<target>-primary`: the target's pod template with its selector label (and the selector, pod
// anti-affinity and topology-spread selectors) renamed `<value>-primary`, tracked ConfigMap
// and Secret references renamed `<name>-primary`, the annotation flagger-id set to the
// revision (so each promotion rolls the primary), replicas copied unless an autoscaler owns
// them, labels and annotations of Flux (toolkit.fluxcd.io) dropped, owned by the Canary.
api::JsonValue buildPrimaryDeployment(const api::Canary& canary, const api::JsonValue& target,
                                      const ConfigRefs& tracked, const std::string& revision,
                                      const router::Selector& selector = {});

// The workload kinds a Canary targets: Deployments, and DaemonSets (which have no replicas:
// scaled to zero they get a nodeSelector no node has, flagger.app/scale-to-zero: "true", as
// Flagger does; that selector is not part of their revision and never reaches the primary).
inline constexpr const char* kScaleToZeroLabel = "flagger.app/scale-to-zero";
// A Service target (Flagger's ServiceController) has no pods: it is always ready, never
// scaled, and its revision is its spec. A Knative Service (apiVersion serving.knative.dev/v1)
// is never scaled either; its Revisions are what is ready or not.
const cluster::Resource& workloadResource(const std::string& kind,
                                          const std::string& apiVersion);  // "" kind: Deployment
// Whether the object is a Knative Service (serving.knative.dev/v1, kind Service).
bool isKnativeService(const api::JsonValue& object);
// A Knative Service's status.latestCreatedRevisionName ("" when Knative made none yet): the
// canary Revision.
std::string latestCreatedRevision(const api::JsonValue& knativeService);
// The Revision a Knative Service's annotation flagger.app/primary-revision names ("" when
// unset): the primary Revision.
std::string primaryRevision(const api::JsonValue& knativeService);
// spec.replicas of a Deployment (1 when unset); a DaemonSet's 0 (scaled to zero) or 1; a
// Service's 1.
std::int64_t scaleOf(const api::JsonValue& workload);
// The merge patch that scales a workload of `kind` to `replicas` (a DaemonSet: any number
// above zero removes the scale-to-zero selector).
std::string scalePatch(const std::string& kind, std::int64_t replicas);
// Readiness of a Deployment, a DaemonSet or a Knative Revision (by the object's kind).
struct Readiness;
Readiness workloadReadiness(const api::JsonValue& workload, std::int64_t readyThreshold);

// Whether a Deployment has rolled out its current spec: the controller has observed the
// latest generation, every replica runs the new template, and at least `readyThreshold`
// percent of them are available (Flagger's primaryReadyThreshold / canaryReadyThreshold).
// `reason` says what is still missing.
struct Readiness {
  bool ready = false;
  std::string reason;
};
Readiness deploymentReadiness(const api::JsonValue& deployment, std::int64_t readyThreshold);
// The same for a DaemonSet: the generation observed, every scheduled node runs the current
// template, and at least `readyThreshold` percent of them are available.
Readiness daemonSetReadiness(const api::JsonValue& daemonSet, std::int64_t readyThreshold);
// A Knative Revision's (Knative's Revision.IsReady, which Flagger's IsPrimaryReady and
// IsCanaryReady ask): its generation observed and its Ready condition True. Knative scales a
// Revision itself, so there is no threshold.
Readiness revisionReadiness(const api::JsonValue& revision);

}  // namespace canaryd::controller
