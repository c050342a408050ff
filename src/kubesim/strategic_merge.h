// Strategic merge patch, as `kubectl apply` sends it for built-in kinds: lists of objects
// merged by their key (containers and volumes by name, container ports by containerPort,
// service ports by port, env by name, ...), null deleting a field, and the directives
// $patch (replace, delete, merge), $retainKeys, $setElementOrder/<list> and
// $deleteFromPrimitiveList/<list>. Internal to kubesim.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kubesim/resources.h"

namespace canaryd::kubesim {

// Returns `original` with `patch` applied; throws ApiError(400) on a malformed patch.
nlohmann::json strategicMerge(const nlohmann::json& original, const nlohmann::json& patch);

// `current` with the patch `body` of `contentType` (application/merge-patch+json,
// application/json-patch+json, application/strategic-merge-patch+json) applied, as the API
// server does: strategic merge only for built-in kinds. Throws ApiError 400, 415 or 422.
nlohmann::json applyPatch(const ResourceType& type, const nlohmann::json& current,
                          std::string_view contentType, const std::string& body);

// The API server's defaults for built-in kinds (a Deployment's replicas,
// progressDeadlineSeconds, revisionHistoryLimit; a DaemonSet's updateStrategy and
// revisionHistoryLimit; a Secret's type, and its stringData moved into data; a Service's type,
// sessionAffinity, ports' protocol and targetPort, IP families and traffic policies, but not
// its cluster IP, which the server allocates). Throws ApiError 400 for a malformed stringData.
void applyDefaults(const ResourceType& type, nlohmann::json& object);

}  // namespace canaryd::kubesim
