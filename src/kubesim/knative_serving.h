// Knative Serving's controllers, played for a Knative Service (serving.knative.dev/v1 Service)
// when its CRDs are served: a change of spec.template makes a new Revision
// `<service>-0000N` (N counting the Service's Revisions), ready unless its template carries
// kubesim.canaryd.dev/never-ready: "true"; the Service's status then names the latest created
// and the latest ready Revision, and its Route serves spec.traffic (status.traffic, with
// `latestRevision` resolved to the latest ready Revision; everything to it when spec.traffic
// is empty), with Ready, ConfigurationsReady and RoutesReady conditions at the Service's
// generation. Shared with the simulator's virtual-time cluster (sim/cluster.h). Thread-safe as
// the Store is.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "kubesim/resources.h"
#include "kubesim/store.h"

namespace canaryd::kubesim {

bool isKnativeService(const ResourceType& type);

// Converges the Knative Service ns/name as Knative's controllers would at its `generation`
// (nothing when it is at another generation by now). Throws ApiError when it is gone or the
// Revision CRD is not served.
void convergeKnativeService(Store& store, const ResourceRegistry& registry, const std::string& ns,
                            const std::string& name, std::int64_t generation);

}  // namespace canaryd::kubesim
