// The objects canaryd generates for a Canary and keeps in step with its target: for a workload
// target (Deployment, DaemonSet), `<target>-primary` with `<name>-primary` copies of the
// tracked ConfigMaps and Secrets and `<autoscaler>-primary`; for a Service target (Flagger's
// ServiceController), the Services `<target>-primary` and `<target>-canary`, copies of the
// target's spec; for a Knative Service (Flagger's KnativeController), nothing: its primary is
// the Revision its annotation flagger.app/primary-revision names, which initialization and
// promotion set on the user's Service. Every generated object carries Flux's opt-out
// annotations and is owned by the Canary. The router's objects are the router's
// (router/router.h). Internal to the controller.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "canaryd/api/canary.h"
#include "canaryd/api/json_value.h"
#include "canaryd/cluster/client.h"
#include "canaryd/controller/primary.h"
#include "canaryd/core/result.h"
#include "canaryd/router/router.h"

namespace canaryd::controller {

// The ConfigMaps and Secrets of the target that canaryd copies to `<name>-primary`, with the
// checksums of their data (`configmap/<name>` / `secret/<name>` -> checksum).
struct TrackedConfigs {
  ConfigRefs refs;
  // Keyed (HMAC with the install's key) when there is a key: status.trackedConfigs must not let
  // a reader of the Canary guess a Secret's contents.
  std::map<std::string, std::string> checksums;
  // The unkeyed digests of canaryd before keys, to recognise a revision recorded by them.
  std::map<std::string, std::string> legacyChecksums;
  std::vector<std::pair<const cluster::Resource*, api::JsonValue>> objects;
};

// Reads what the target's pod template tracks (nothing for a Service target). `key`: the
// install's digest key (empty: unkeyed).
Result<TrackedConfigs> readTrackedConfigs(cluster::Client& client, const std::string& ns,
                                          const api::JsonValue& target, const std::string& key);

class GeneratedObjects {
 public:
  // `canary` with its defaults; `selector`: the label the target's pods are selected by.
  GeneratedObjects(cluster::Client& client, const api::Canary& canary,
                   const router::Selector& selector);

  // Creates what is missing (the primary starts from the current target) and keeps the
  // autoscaler copy in step; the primary as it stands (none for a Service target). For a
  // Knative Service: while the Canary initializes, its annotation names the latest created
  // Revision (Flagger's Initialize); the primary is the Revision it names (none while that is
  // unset or missing).
  Result<std::optional<api::JsonValue>> ensure(const api::JsonValue& target,
                                               const TrackedConfigs& tracked,
                                               const std::string& revision);
  // The canary's Revision when the target is a Knative Service (its latest created Revision;
  // none while Knative made none or it is missing); otherwise nothing (the target is the canary).
  Result<std::optional<api::JsonValue>> canaryRevision(const api::JsonValue& target);
  // The primary becomes the target's current spec (an autoscaler keeps its replicas); for a
  // Knative Service, its annotation names the latest created Revision.
  Status promote(const api::JsonValue& target, const TrackedConfigs& tracked,
                 const std::string& revision);
  // Scales the target (a Service target, core or Knative, has nothing to scale).
  Status scaleTarget(std::int64_t replicas);
  // The primary's replicas, at least one (one when there is none).
  std::int64_t primaryReplicas();

 private:
  Status ensureAutoscaler();
  Status ensureServiceCopies(const api::JsonValue& target, bool updatePrimary);
  Status copyConfigs(const TrackedConfigs& tracked);
  // Sets the Knative Service's annotation flagger.app/primary-revision to `revision`.
  Status setPrimaryRevision(const api::JsonValue& target, const std::string& revision);
  Result<std::optional<api::JsonValue>> revisionNamed(const std::string& name);

  cluster::Client& client_;
  const api::Canary& canary_;
  router::Selector selector_;
  std::string ns_;
  std::string target_;
  std::string kind_;
  std::string apiVersion_;
  bool knative_ = false;
};

// Whether the target is a Kubernetes Service (the routers shift traffic between its copies;
// there are no pods to scale or wait for).
bool isServiceTarget(const api::Canary& canary);

}  // namespace canaryd::controller
