// What a Canary names that must exist before canaryd acts on it: the MetricTemplates of its
// metrics and the AlertProviders of its alerts. A missing one stalls the Canary (reason
// ReferenceNotFound) with the field that names it, instead of failing checks during a rollout
// or losing alerts. Internal to the controller.
#pragma once

#include <optional>
#include <string>

#include "canaryd/api/canary.h"
#include "canaryd/cluster/client.h"
#include "canaryd/core/result.h"

namespace canaryd::controller {

// The first missing reference, as "MetricTemplate ns/name (spec.analysis.metrics[1].templateRef)
// not found"; nothing when all exist. Errors: the API could not be asked.
Result<std::optional<std::string>> missingReference(cluster::Client& client,
                                                    const api::Canary& canary);

}  // namespace canaryd::controller
