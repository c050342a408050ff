#include "kubesim/store.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

#include "canaryd/core/clock.h"

#include "kubesim/api_error.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

// The name FieldSelector knows a resource's extra field labels by: the plural, qualified by
// its group outside the core group.
std::string fieldScope(const ResourceType& type) {
  return type.group.empty() ? type.resource : type.resource + "." + type.group;
}

std::string now() {
  return formatRfc3339(std::chrono::system_clock::now());
}

std::string newUid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::uint32_t> hex(0, 15);
  std::string out = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (char& c : out) {
    if (c == 'x' || c == 'y') {
      std::uint32_t v = hex(rng);
      if (c == 'y') v = (v & 3) | 8;
      c = "0123456789abcdef"[v];
    }
  }
  return out;
}

std::string randomSuffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(0, 26 + 10 - 1);
  std::string out;
  for (int i = 0; i < 5; ++i) {
    int v = pick(rng);
    out += static_cast<char>(v < 26 ? 'a' + v : '0' + (v - 26));
  }
  return out;
}

std::string key(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

std::string qualified(const ResourceType& t) {
  return t.group.empty() ? t.resource : t.resource + "." + t.group;
}

json specPart(const json& object) {
  json copy = object;
  copy.erase("metadata");
  copy.erase("status");
  copy.erase("apiVersion");
  copy.erase("kind");
  return copy;
}

// Everything but the fields the server maintains, to tell a no-op update from a change.
json comparable(const json& object) {
  json copy = object;
  if (copy.contains("metadata") && copy["metadata"].is_object()) {
    copy["metadata"].erase("resourceVersion");
    copy["metadata"].erase("managedFields");
  }
  return copy;
}

// `object` as served at `type`'s version (stored objects carry the storage version).
json served(const ResourceType& type, json object) {
  if (object.is_object()) object["apiVersion"] = type.groupVersion();
  return object;
}

// The types of `registry`, one per storage key (a CRD's served versions share one).
std::vector<ResourceType> storedTypes(const ResourceRegistry& registry) {
  std::vector<ResourceType> out;
  for (ResourceType& t : registry.all()) {
    const bool seen = std::any_of(out.begin(), out.end(), [&](const ResourceType& o) {
      return o.storageKey() == t.storageKey();
    });
    if (!seen) out.push_back(std::move(t));
  }
  return out;
}

void requireObject(const json& object) {
  if (!object.is_object()) throw badRequest("the request body must be a JSON object");
  if (object.contains("metadata") && !object["metadata"].is_object()) {
    throw badRequest("metadata must be an object");
  }
}

}  // namespace

bool Watcher::wants(const Event& e) const {
  if (e.storageKey != storageKey_) return false;
  if (!ns_.empty() && e.namespace_ != ns_) return false;
  const json& meta = e.object["metadata"];
  return labels_.matches(meta.value("labels", json::object())) && fields_.matches(e.object);
}

void Watcher::push(const Event& e) {
  Event event = e;
  if (!apiVersion_.empty() && event.object.is_object()) event.object["apiVersion"] = apiVersion_;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    queue_.push_back(std::move(event));
  }
  cv_.notify_one();
}

bool Watcher::next(Event& out, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] { return closed_ || !queue_.empty(); });
  if (closed_ || queue_.empty()) return false;
  out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

void Watcher::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool Watcher::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

Store::Store(ResourceRegistry& registry, std::size_t historyLimit)
    : registry_(registry), historyLimit_(historyLimit) {
  for (const char* ns : {"default", "kube-system", "kube-public"}) {
    json object = {{"apiVersion", "v1"},
                   {"kind", "Namespace"},
                   {"metadata",
                    {{"name", ns},
                     {"uid", newUid()},
                     {"creationTimestamp", now()},
                     {"resourceVersion", std::to_string(resourceVersion_)}}},
                   {"spec", {{"finalizers", {"kubernetes"}}}},
                   {"status", {{"phase", "Active"}}}};
    objects_["/namespaces"][key("", ns)] = object;
  }
}

void Store::setObserver(std::function<void(const ResourceType&, const Event&)> observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

std::uint64_t Store::resourceVersion() const {
  std::lock_guard lock(mu_);
  return resourceVersion_;
}

void Store::checkNamespace(const ResourceType& type, const std::string& ns) const {
  if (!type.namespaced) return;
  if (ns.empty()) throw badRequest("a namespace is required for " + qualified(type));
  auto it = objects_.find("/namespaces");
  if (it == objects_.end() || !it->second.contains(key("", ns))) {
    throw ApiError{404,
                   "NotFound",
                   "namespaces \"" + ns + "\" not found",
                   {{"name", ns}, {"kind", "namespaces"}}};
  }
  const json& namespaceObject = it->second.at(key("", ns));
  if (namespaceObject["metadata"].contains("deletionTimestamp")) {
    throw ApiError{403, "Forbidden",
                   qualified(type) + " is forbidden: unable to create new content in namespace " +
                       ns + " because it is being terminated"};
  }
}

void Store::record(const ResourceType& type, const std::string& eventType, const std::string& ns,
                   const json& object, std::vector<std::pair<ResourceType, Event>>& out) {
  Event e{eventType, resourceVersion_, type.storageKey(), ns, object};
  history_.push_back(e);
  while (history_.size() > historyLimit_) {
    compactedThrough_ = history_.front().resourceVersion;
    history_.pop_front();
  }
  for (const auto& w : watchers_) {
    if (w->wants(e)) w->push(e);
  }
  out.emplace_back(type, std::move(e));
}

void Store::notify(std::vector<std::pair<ResourceType, Event>>& events) {
  std::function<void(const ResourceType&, const Event&)> observer;
  {
    std::lock_guard lock(mu_);
    observer = observer_;
  }
  for (auto& [type, e] : events) {
    if (type.resource == "customresourcedefinitions" && type.group == "apiextensions.k8s.io") {
      if (e.type == "DELETED") {
        registry_.removeCrd(e.object);
      } else {
        registry_.addCrd(e.object);
      }
    }
    if (observer) observer(type, e);
  }
}

json Store::create(const ResourceType& type, const std::string& ns, json object) {
  requireObject(object);
  std::vector<std::pair<ResourceType, Event>> events;
  json result;
  {
    std::lock_guard lock(mu_);
    checkNamespace(type, ns);
    json& meta = object["metadata"];
    if (!meta.is_object()) meta = json::object();
    std::string name = meta.value("name", "");
    if (name.empty() && meta.contains("generateName")) {
      name = meta["generateName"].get<std::string>() + randomSuffix();
      meta["name"] = name;
    }
    if (name.empty()) {
      throw invalid(type.kind, "", "metadata.name",
                    "Required value: name or generateName is required");
    }
    if (type.namespaced) {
      std::string given = meta.value("namespace", "");
      if (!given.empty() && given != ns) {
        throw badRequest("the namespace of the provided object (" + given +
                         ") does not match the namespace sent on the request (" + ns + ")");
      }
      meta["namespace"] = ns;
    } else {
      meta.erase("namespace");
    }
    Objects& objects = objects_[type.storageKey()];
    const std::string k = key(type.namespaced ? ns : "", name);
    if (objects.contains(k)) {
      throw ApiError{409,
                     "AlreadyExists",
                     qualified(type) + " \"" + name + "\" already exists",
                     {{"name", name}, {"group", type.group}, {"kind", type.resource}}};
    }
    object["apiVersion"] = type.storageGroupVersion();
    object["kind"] = type.kind;
    meta["uid"] = newUid();
    meta["creationTimestamp"] = now();
    meta["generation"] = 1;
    meta.erase("deletionTimestamp");
    meta.erase("resourceVersion");
    if (type.statusSubresource) object.erase("status");
    if (type.resource == "customresourcedefinitions") {
      const json& names = object["spec"].value("names", json::object());
      json stored = json::array();
      for (const json& v : object["spec"].value("versions", json::array())) {
        if (v.is_object() && v.value("storage", false)) stored.push_back(v.value("name", ""));
      }
      object["status"] = {{"acceptedNames", names},
                          {"storedVersions", stored},
                          {"conditions",
                           {{{"type", "NamesAccepted"},
                             {"status", "True"},
                             {"reason", "NoConflicts"},
                             {"lastTransitionTime", now()},
                             {"message", "no conflicts found"}},
                            {{"type", "Established"},
                             {"status", "True"},
                             {"reason", "InitialNamesAccepted"},
                             {"lastTransitionTime", now()},
                             {"message", "the initial names have been accepted"}}}}};
    }
    if (type.resource == "namespaces") object["status"] = {{"phase", "Active"}};
    meta["resourceVersion"] = std::to_string(++resourceVersion_);
    objects[k] = object;
    record(type, "ADDED", type.namespaced ? ns : "", object, events);
    result = served(type, object);
  }
  notify(events);
  return result;
}

json Store::get(const ResourceType& type, const std::string& ns, const std::string& name) {
  std::lock_guard lock(mu_);
  auto& objects = objects_[type.storageKey()];
  auto it = objects.find(key(type.namespaced ? ns : "", name));
  if (it == objects.end()) throw notFound(qualified(type), name);
  return served(type, it->second);
}

json Store::list(const ResourceType& type, const std::string& ns, const ListQuery& query) {
  LabelSelector labels = LabelSelector::parse(query.labelSelector);
  FieldSelector fields = FieldSelector::parse(query.fieldSelector, fieldScope(type));
  std::lock_guard lock(mu_);
  const Objects& objects = objects_[type.storageKey()];
  json items = json::array();
  // The continue token is the last key returned; keys are in a stable (sorted) order.
  auto it =
      query.continueToken.empty() ? objects.begin() : objects.upper_bound(query.continueToken);
  std::string lastKey;
  bool more = false;
  for (; it != objects.end(); ++it) {
    const json& object = it->second;
    if (type.namespaced && !ns.empty() && object["metadata"].value("namespace", "") != ns) continue;
    if (!labels.matches(object["metadata"].value("labels", json::object()))) continue;
    if (!fields.matches(object)) continue;
    if (query.limit > 0 && static_cast<std::int64_t>(items.size()) >= query.limit) {
      more = true;
      break;
    }
    items.push_back(served(type, object));
    lastKey = it->first;
  }
  json meta = {{"resourceVersion", std::to_string(resourceVersion_)}};
  if (more) meta["continue"] = lastKey;
  return {{"apiVersion", type.groupVersion()},
          {"kind", type.kind + "List"},
          {"metadata", meta},
          {"items", items}};
}

json Store::commitUpdate(const ResourceType& type, const std::string& ns, const std::string& name,
                         json next, bool status,
                         std::vector<std::pair<ResourceType, Event>>& events) {
  requireObject(next);
  Objects& objects = objects_[type.storageKey()];
  const std::string k = key(type.namespaced ? ns : "", name);
  auto it = objects.find(k);
  if (it == objects.end()) throw notFound(qualified(type), name);
  const json& current = it->second;
  const json& currentMeta = current["metadata"];
  json& meta = next["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (meta.contains("name") && meta["name"] != name) {
    throw badRequest("the name of the object (" + meta["name"].dump() +
                     ") does not match the name on the URL (" + name + ")");
  }
  std::string wantedVersion = meta.value("resourceVersion", "");
  if (!wantedVersion.empty() && wantedVersion != currentMeta.value("resourceVersion", "")) {
    throw ApiError{409,
                   "Conflict",
                   "Operation cannot be fulfilled on " + qualified(type) + " \"" + name +
                       "\": the object has been modified; please apply your changes to the "
                       "latest version and try again",
                   {{"name", name}, {"group", type.group}, {"kind", type.resource}}};
  }
  json updated;
  if (status) {
    updated = current;
    if (next.contains("status")) {
      updated["status"] = next["status"];
    } else {
      updated.erase("status");
    }
    // The field owners a status write recorded (the server computes them; see
    // server_side_apply.h).
    if (meta.contains("managedFields")) {
      updated["metadata"]["managedFields"] = meta["managedFields"];
    }
  } else {
    updated = next;
    if (type.statusSubresource) {
      if (current.contains("status")) {
        updated["status"] = current["status"];
      } else {
        updated.erase("status");
      }
    }
    json& m = updated["metadata"];
    for (const char* kept : {"uid", "creationTimestamp", "deletionTimestamp", "namespace"}) {
      if (currentMeta.contains(kept)) {
        m[kept] = currentMeta[kept];
      } else {
        m.erase(kept);
      }
    }
    m["name"] = name;
    std::int64_t generation = currentMeta.value("generation", 1);
    if (specPart(updated) != specPart(current)) ++generation;
    m["generation"] = generation;
  }
  updated["apiVersion"] = type.storageGroupVersion();
  updated["kind"] = type.kind;
  updated["metadata"]["resourceVersion"] = currentMeta["resourceVersion"];
  // No-op: no new version. The resourceVersions are equal here, so the objects compare as
  // they are unless their managedFields differ (then without them).
  const json none;
  auto managed = [&none](const json& o) -> const json& {
    const auto m = o.find("metadata");
    if (m == o.end() || !m->is_object()) return none;
    const auto f = m->find("managedFields");
    return f == m->end() ? none : *f;
  };
  const bool unchanged = managed(updated) == managed(current)
                             ? updated == current
                             : comparable(updated) == comparable(current);
  if (unchanged) return current;

  const bool terminating = updated["metadata"].contains("deletionTimestamp");
  const json finalizers = updated["metadata"].value("finalizers", json::array());
  updated["metadata"]["resourceVersion"] = std::to_string(++resourceVersion_);
  if (terminating && finalizers.empty()) {
    json removed = updated;
    objects.erase(it);
    record(type, "DELETED", type.namespaced ? ns : "", removed, events);
    collectGarbage(removed["metadata"].value("uid", ""), "Background", events);
    return removed;
  }
  it->second = std::move(updated);
  record(type, "MODIFIED", type.namespaced ? ns : "", it->second, events);
  return it->second;
}

json Store::update(const ResourceType& type, const std::string& ns, const std::string& name,
                   json object, bool status) {
  std::vector<std::pair<ResourceType, Event>> events;
  json result;
  {
    std::lock_guard lock(mu_);
    result = served(type, commitUpdate(type, ns, name, std::move(object), status, events));
  }
  notify(events);
  return result;
}

json Store::patch(const ResourceType& type, const std::string& ns, const std::string& name,
                  const std::function<json(const json&)>& apply, bool status) {
  std::vector<std::pair<ResourceType, Event>> events;
  json result;
  {
    std::lock_guard lock(mu_);
    Objects& objects = objects_[type.storageKey()];
    auto it = objects.find(key(type.namespaced ? ns : "", name));
    if (it == objects.end()) throw notFound(qualified(type), name);
    json next = apply(served(type, it->second));
    result = served(type, commitUpdate(type, ns, name, std::move(next), status, events));
  }
  notify(events);
  return result;
}

void Store::deleteLocked(const ResourceType& type, const std::string& k, const json& object,
                         const std::string& propagation,
                         std::vector<std::pair<ResourceType, Event>>& events) {
  Objects& objects = objects_[type.storageKey()];
  const json& meta = object["metadata"];
  const std::string ns = type.namespaced ? meta.value("namespace", "") : "";
  if (!meta.value("finalizers", json::array()).empty()) {
    if (meta.contains("deletionTimestamp")) return;  // already terminating
    json terminating = object;
    terminating["metadata"]["deletionTimestamp"] = now();
    terminating["metadata"]["deletionGracePeriodSeconds"] = 0;
    terminating["metadata"]["resourceVersion"] = std::to_string(++resourceVersion_);
    objects[k] = terminating;
    record(type, "MODIFIED", ns, terminating, events);
    return;
  }
  json removed = object;
  removed["metadata"]["resourceVersion"] = std::to_string(++resourceVersion_);
  objects.erase(k);
  record(type, "DELETED", ns, removed, events);
  if (type.resource == "namespaces" && type.group.empty()) {
    // Deleting a namespace deletes everything in it.
    const std::string name = meta.value("name", "");
    for (const ResourceType& t : storedTypes(registry_)) {
      if (!t.namespaced) continue;
      Objects& inType = objects_[t.storageKey()];
      std::vector<std::pair<std::string, json>> doomed;
      for (const auto& [objectKey, o] : inType) {
        if (o["metadata"].value("namespace", "") == name) doomed.emplace_back(objectKey, o);
      }
      for (const auto& [objectKey, o] : doomed)
        deleteLocked(t, objectKey, o, propagation, events);
    }
  }
  collectGarbage(meta.value("uid", ""), propagation, events);
}

void Store::collectGarbage(const std::string& ownerUid, const std::string& propagation,
                           std::vector<std::pair<ResourceType, Event>>& events) {
  if (ownerUid.empty()) return;
  for (const ResourceType& t : storedTypes(registry_)) {
    Objects& objects = objects_[t.storageKey()];
    std::vector<std::pair<std::string, json>> dependents;
    for (const auto& [k, o] : objects) {
      for (const json& ref : o["metadata"].value("ownerReferences", json::array())) {
        if (ref.value("uid", "") == ownerUid) dependents.emplace_back(k, o);
      }
    }
    for (auto& [k, o] : dependents) {
      if (propagation == "Orphan") {
        json orphan = o;
        json refs = json::array();
        for (const json& ref : o["metadata"]["ownerReferences"]) {
          if (ref.value("uid", "") != ownerUid) refs.push_back(ref);
        }
        orphan["metadata"]["ownerReferences"] = refs;
        orphan["metadata"]["resourceVersion"] = std::to_string(++resourceVersion_);
        objects[k] = orphan;
        record(t, "MODIFIED", orphan["metadata"].value("namespace", ""), orphan, events);
      } else {
        deleteLocked(t, k, o, propagation, events);
      }
    }
  }
}

json Store::remove(const ResourceType& type, const std::string& ns, const std::string& name,
                   const DeleteOptions& options) {
  std::vector<std::pair<ResourceType, Event>> events;
  json result;
  {
    std::lock_guard lock(mu_);
    Objects& objects = objects_[type.storageKey()];
    const std::string k = key(type.namespaced ? ns : "", name);
    auto it = objects.find(k);
    if (it == objects.end()) throw notFound(qualified(type), name);
    const json& meta = it->second["metadata"];
    if ((!options.preconditionUid.empty() && options.preconditionUid != meta.value("uid", "")) ||
        (!options.preconditionResourceVersion.empty() &&
         options.preconditionResourceVersion != meta.value("resourceVersion", ""))) {
      throw ApiError{409,
                     "Conflict",
                     "Operation cannot be fulfilled on " + qualified(type) + " \"" + name +
                         "\": the precondition does not hold (uid or resourceVersion changed)",
                     {{"name", name}, {"group", type.group}, {"kind", type.resource}}};
    }
    json object = it->second;
    deleteLocked(type, k, object,
                 options.propagationPolicy.empty() ? "Background" : options.propagationPolicy,
                 events);
    auto after = objects.find(k);
    result = served(type, after != objects.end() ? after->second : events.front().second.object);
  }
  notify(events);
  return result;
}

std::shared_ptr<Watcher> Store::watch(const ResourceType& type, const std::string& ns,
                                      const std::string& resourceVersion, const ListQuery& query) {
  auto watcher = std::make_shared<Watcher>(
      type.storageKey(), type.namespaced ? ns : "", LabelSelector::parse(query.labelSelector),
      FieldSelector::parse(query.fieldSelector, fieldScope(type)), type.groupVersion());
  std::lock_guard lock(mu_);
  if (resourceVersion.empty() || resourceVersion == "0") {
    for (const auto& [k, object] : objects_[type.storageKey()]) {
      Event e{"ADDED", std::stoull(object["metadata"].value("resourceVersion", "0")),
              type.storageKey(), type.namespaced ? object["metadata"].value("namespace", "") : "",
              object};
      if (watcher->wants(e)) watcher->push(e);
    }
  } else {
    std::uint64_t from = 0;
    try {
      from = std::stoull(resourceVersion);
    } catch (const std::exception&) {
      throw badRequest("invalid resourceVersion \"" + resourceVersion + "\"");
    }
    if (from < compactedThrough_) {
      throw ApiError{410, "Expired",
                     "too old resource version: " + resourceVersion + " (" +
                         std::to_string(compactedThrough_) + ")"};
    }
    for (const Event& e : history_) {
      if (e.resourceVersion > from && watcher->wants(e)) watcher->push(e);
    }
  }
  watchers_.push_back(watcher);
  return watcher;
}

void Store::unwatch(const std::shared_ptr<Watcher>& watcher) {
  watcher->close();
  std::lock_guard lock(mu_);
  std::erase(watchers_, watcher);
}

void Store::dropWatches() {
  std::lock_guard lock(mu_);
  for (const auto& w : watchers_)
    w->close();
  watchers_.clear();
}

void Store::compact() {
  std::lock_guard lock(mu_);
  history_.clear();
  compactedThrough_ = resourceVersion_;
}

json Store::snapshot() const {
  std::lock_guard lock(mu_);
  json objects = json::object();
  for (const auto& [storageKey, inType] : objects_) {
    json list = json::array();
    for (const auto& [k, o] : inType)
      list.push_back(o);
    objects[storageKey] = list;
  }
  return {{"resourceVersion", resourceVersion_}, {"objects", objects}};
}

void Store::restore(const json& snapshot) {
  std::lock_guard lock(mu_);
  resourceVersion_ = snapshot.value("resourceVersion", std::uint64_t{1});
  compactedThrough_ = resourceVersion_;  // history is not kept across restarts
  objects_.clear();
  const json& objects = snapshot.value("objects", json::object());
  if (objects.contains("apiextensions.k8s.io/customresourcedefinitions")) {
    for (const json& crd : objects["apiextensions.k8s.io/customresourcedefinitions"]) {
      registry_.addCrd(crd);
    }
  }
  for (auto it = objects.begin(); it != objects.end(); ++it) {
    for (const json& o : *it) {
      const json& meta = o["metadata"];
      objects_[it.key()][key(meta.value("namespace", ""), meta.value("name", ""))] = o;
    }
  }
}

}  // namespace canaryd::kubesim
