// Field ownership as the API server keeps it: metadata.managedFields (FieldsV1), recorded for
// every write, and server-side apply (`PATCH` with application/apply-patch+yaml). Internal to
// kubesim.
//
// A manager's entry is (manager, operation, subresource): "Apply" entries own exactly the
// fields their last applied configuration set; "Update" entries (create, update, any other
// patch) own the fields their writes changed, taken away from whoever owned them before. An
// apply that changes a field another manager owns is a conflict (409, naming the fields and
// managers) unless it is forced, which moves the ownership. Fields a manager applied before
// and no longer applies are removed unless another manager owns them. Lists merge as their
// schema declares (x-kubernetes-list-type and -map-keys for custom resources; the patch merge
// keys of the built-in kinds: containers by name, container ports by containerPort and
// protocol, Service ports by port and protocol, env by name, ...; finalizers as a set); other
// lists are atomic. On kinds with a status subresource, main-resource writes own no status
// fields and status writes own only them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "kubesim/resources.h"

namespace canaryd::kubesim {

struct FieldManagerWrite {
  std::string manager;  // the request's fieldManager, else the User-Agent's product
  bool status = false;  // a write to the status subresource
  std::string time;     // RFC 3339, for the entries this write changes
};

// `next` (the object a create, update or non-apply patch is about to store, after defaulting)
// with its managedFields updated for an Update by `write.manager`. `previous` is the stored
// object (nullptr on create). managedFields the request sent are ignored: the previous ones
// are kept, as an API server keeps them when a client echoes them back.
nlohmann::json recordUpdate(const ResourceType& type, const nlohmann::json* previous,
                            nlohmann::json next, const FieldManagerWrite& write);

// The object after server-side applying `applied` (a partial object, with apiVersion, kind and
// metadata.name) by `write.manager` to `live` (nullptr: the object does not exist and is
// created), with managedFields. Throws ApiError: 400 for a malformed configuration, 409 for
// conflicts unless `force`.
nlohmann::json serverSideApply(const ResourceType& type, const nlohmann::json* live,
                               const nlohmann::json& applied, const std::string& name,
                               const FieldManagerWrite& write, bool force);

// The manager a request without a fieldManager is recorded as: the User-Agent up to its first
// '/', as the API server does ("kubectl-client-side-apply/v1.32.4 (linux/amd64) ..." ->
// "kubectl-client-side-apply"), or "unknown".
std::string managerFromUserAgent(const std::string& userAgent);

}  // namespace canaryd::kubesim
