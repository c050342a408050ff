// Small names the reconciler's parts share: an object's "namespace/name" key and a Canary's
// phase. Internal to the controller.
#pragma once

#include <string>

#include "canaryd/api/canary.h"
#include "canaryd/cluster/client.h"

namespace canaryd::controller {

inline std::string keyOf(const cluster::ObjectRef& ref) {
  return ref.namespace_ + "/" + ref.name;
}

// The phase in the Canary's status, "" before its first status.
inline std::string phaseOf(const api::Canary& canary) {
  return canary.status ? canary.status->phase.value_or("") : "";
}

}  // namespace canaryd::controller
