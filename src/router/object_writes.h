// How a router writes its own objects: read what the cluster holds, compute what it should be,
// write only when that differs, and start again on a 409 (someone wrote in between). Internal
// to the router layer.
#pragma once

#include <string>

#include "canaryd/cluster/client.h"

namespace canaryd::router {

// The object `ref` as `change` makes it from the one the cluster holds, written when it
// differs. A missing object is created as `change(api::JsonValue())` makes it when
// `createMissing` (a 409 because it was created meanwhile reads it again), else kNotFound.
// `change(existing)` returns the desired object (an api::JsonValue, or a Result of one whose
// error is returned). Errors name `what`.
template <typename Change>
Status writeObject(cluster::Client& client, const cluster::Resource& resource,
                   const cluster::ObjectRef& ref, const std::string& what, bool createMissing,
                   Change change) {
  Result<api::JsonValue> written =
      cluster::retryOnConflict<api::JsonValue>([&]() -> Result<api::JsonValue> {
        Result<api::JsonValue> existing = client.get(resource, ref);
        const bool missing = !existing && existing.error().kind() == ErrorKind::kNotFound;
        if (!existing && !(missing && createMissing)) return existing.error();
        Result<api::JsonValue> desired = change(existing ? *existing : api::JsonValue());
        if (!desired) return desired.error();
        if (missing) return client.create(resource, ref.namespace_, *desired);
        if (desired->get() == existing->get()) return *existing;
        return client.update(resource, *desired);
      });
  if (!written) return written.error().withContext(what);
  return {};
}

// writeObject of an object someone else creates (reconcile does): a missing one is kNotFound.
template <typename Change>
Status updateObject(cluster::Client& client, const cluster::Resource& resource,
                    const cluster::ObjectRef& ref, const std::string& what, Change change) {
  return writeObject(client, resource, ref, what, false, change);
}

// writeObject that creates a missing object.
template <typename Change>
Status createOrUpdateObject(cluster::Client& client, const cluster::Resource& resource,
                            const cluster::ObjectRef& ref, const std::string& what, Change change) {
  return writeObject(client, resource, ref, what, true, change);
}

}  // namespace canaryd::router
