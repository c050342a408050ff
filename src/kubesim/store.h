// Store: kubesim's objects and their history, with the API server's semantics.
//
// One monotonically increasing resourceVersion across all objects; metadata.generation bumped
// only when the spec changes; 409 on a stale resourceVersion; the status subresource and the
// main resource each ignore the other's part; finalizers delay deletion (deletionTimestamp);
// owner references are garbage-collected in the background; watches replay history from a
// resourceVersion and answer 410 Gone once it has been compacted away. Errors are thrown as
// ApiError and turned into Status answers by the server. Thread-safe.
//
// Objects are kept at their type's storage version; every answer and watch event carries the
// version of the type asked with (ResourceType::groupVersion()), as for a CRD that serves
// several versions.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubesim/resources.h"
#include "kubesim/selector.h"

namespace canaryd::kubesim {

struct Event {
  std::string type;  // ADDED, MODIFIED, DELETED
  std::uint64_t resourceVersion = 0;
  std::string storageKey;
  std::string namespace_;
  nlohmann::json object;
};

// One open watch: events matching its resource, namespace and selector, in order; their
// objects carry `apiVersion` (the version watched) unless it is empty.
class Watcher {
 public:
  Watcher(std::string storageKey, std::string ns, LabelSelector labels, FieldSelector fields,
          std::string apiVersion = "")
      : storageKey_(std::move(storageKey)),
        ns_(std::move(ns)),
        labels_(std::move(labels)),
        fields_(std::move(fields)),
        apiVersion_(std::move(apiVersion)) {}
  bool wants(const Event& e) const;
  void push(const Event& e);
  // Waits up to `wait` for the next event; false on timeout or when closed (see closed()).
  bool next(Event& out, std::chrono::milliseconds wait);
  void close();
  bool closed() const;

 private:
  std::string storageKey_;
  std::string ns_;
  LabelSelector labels_;
  FieldSelector fields_;
  std::string apiVersion_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;
  bool closed_ = false;
};

struct ListQuery {
  std::string labelSelector;
  std::string fieldSelector;
  std::int64_t limit = 0;
  std::string continueToken;
};

struct DeleteOptions {
  std::string propagationPolicy;  // Background (default), Foreground, Orphan
  std::string preconditionUid;
  std::string preconditionResourceVersion;
};

class Store {
 public:
  Store(ResourceRegistry& registry, std::size_t historyLimit);

  nlohmann::json create(const ResourceType& type, const std::string& ns, nlohmann::json object);
  nlohmann::json get(const ResourceType& type, const std::string& ns, const std::string& name);
  nlohmann::json list(const ResourceType& type, const std::string& ns, const ListQuery& query);
  // `status`: the status subresource (only status changes) rather than the main resource.
  nlohmann::json update(const ResourceType& type, const std::string& ns, const std::string& name,
                        nlohmann::json object, bool status);
  // `apply` computes the new object from the current one; runs under the store's lock so that
  // a patch never loses a concurrent write.
  nlohmann::json patch(const ResourceType& type, const std::string& ns, const std::string& name,
                       const std::function<nlohmann::json(const nlohmann::json&)>& apply,
                       bool status);
  nlohmann::json remove(const ResourceType& type, const std::string& ns, const std::string& name,
                        const DeleteOptions& options);

  // Opens a watch from `resourceVersion` ("" or "0": the current objects as ADDED first).
  // Throws ApiError 410 when that version is older than the history kept.
  std::shared_ptr<Watcher> watch(const ResourceType& type, const std::string& ns,
                                 const std::string& resourceVersion, const ListQuery& query);
  void unwatch(const std::shared_ptr<Watcher>& watcher);

  std::uint64_t resourceVersion() const;
  // Fault injection: close every open watch; forget all history (older versions get 410).
  void dropWatches();
  void compact();

  // Called after every change, outside the lock (CRD registration, the Deployment simulator).
  void setObserver(std::function<void(const ResourceType&, const Event&)> observer);

  nlohmann::json snapshot() const;
  void restore(const nlohmann::json& snapshot);

 private:
  using Objects = std::map<std::string, nlohmann::json>;  // "ns/name" -> object

  void record(const ResourceType& type, const std::string& type_, const std::string& ns,
              const nlohmann::json& object, std::vector<std::pair<ResourceType, Event>>& out);
  void notify(std::vector<std::pair<ResourceType, Event>>& events);
  nlohmann::json commitUpdate(const ResourceType& type, const std::string& ns,
                              const std::string& name, nlohmann::json next, bool status,
                              std::vector<std::pair<ResourceType, Event>>& events);
  void deleteLocked(const ResourceType& type, const std::string& key, const nlohmann::json& object,
                    const std::string& propagation,
                    std::vector<std::pair<ResourceType, Event>>& events);
  void collectGarbage(const std::string& ownerUid, const std::string& propagation,
                      std::vector<std::pair<ResourceType, Event>>& events);
  void checkNamespace(const ResourceType& type, const std::string& ns) const;

  ResourceRegistry& registry_;
  std::size_t historyLimit_;
  mutable std::mutex mu_;
  std::map<std::string, Objects> objects_;  // storage key -> objects
  std::uint64_t resourceVersion_ = 1;
  std::uint64_t compactedThrough_ = 0;  // watches from versions below this get 410
  std::deque<Event> history_;
  std::vector<std::shared_ptr<Watcher>> watchers_;
  std::function<void(const ResourceType&, const Event&)> observer_;
  std::uint64_t uidCounter_ = 0;
};

}  // namespace canaryd::kubesim
