// Strategic merge patch, as `kubectl apply` sends it for built-in kinds: lists of objects
// merged by their key (containers and volumes by name, container ports by containerPort,
// service ports by port, env by name, ...), null deleting a field, and the directives
// $patch (replace, delete, merge), $retainKeys, $setElementOrder/<list> and
// $deleteFromPrimitiveList/<list>. Internal to kubesim.
#pragma once

#include <nlohmann/json.hpp>

namespace canaryd::kubesim {

// Returns `original` with `patch` applied; throws ApiError(400) on a malformed patch.
nlohmann::json strategicMerge(const nlohmann::json& original, const nlohmann::json& patch);

}  // namespace canaryd::kubesim
