// meta.k8s.io/v1 Table answers for `kubectl get`: Name, the CRD's printer columns (or a few
// columns of the built-in kinds), and Age. Internal to kubesim.
#pragma once

#include <nlohmann/json.hpp>

#include "kubesim/resources.h"

namespace canaryd::kubesim {

// `objects` becomes one row each; with `includeObject` the row carries the whole object
// (watch events), otherwise its metadata only.
nlohmann::json toTable(const ResourceType& type, const nlohmann::json& objects, bool includeObject);

}  // namespace canaryd::kubesim
