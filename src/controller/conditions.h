// kstatus conditions of a Canary the daemon cannot act on: Ready=False, Stalled=True and
// Reconciling=False with a reason and a message, each with observedGeneration, and the
// Canary's status.observedGeneration, so kubectl, Flux and Argo CD see why. Internal to the
// controller; pure.
#pragma once

#include <optional>
#include <string>

#include "canaryd/api/json_value.h"
#include "canaryd/core/clock.h"

namespace canaryd::controller {

// The merge patch of the Canary's status that records the stall, or nothing when the Canary
// (`raw`, as read) already holds this reason and message for its current generation: told
// once per generation, not once per reconcile.
std::optional<std::string> stalledStatusPatch(const api::JsonValue& raw, const std::string& reason,
                                              const std::string& message, TimePoint now);

}  // namespace canaryd::controller
