#include "canaryd/runtime/informer.h"

#include <algorithm>

#include <malloc.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "canaryd/core/json_read.h"

namespace canaryd::runtime {
namespace {

using nlohmann::json;

// Objects come from the API server: a member of another type than the API's is read as
// missing (jsonread), never an exception on the informer's thread.
const json& metadataOf(const api::JsonValue& object) {
  static const json kNone = json::object();
  const json* meta = jsonread::object(object.get(), "metadata");
  return meta == nullptr ? kNone : *meta;
}

std::string keyOf(const api::JsonValue& object) {
  const json& meta = metadataOf(object);
  return jsonread::string(meta, "namespace") + "/" + jsonread::string(meta, "name");
}

std::string versionOf(const api::JsonValue& object) {
  return jsonread::string(metadataOf(object), "resourceVersion");
}

api::JsonValue parse(const std::string& text) {
  return api::JsonValue(json::parse(text));
}

// What the cache keeps: the object without managedFields, which canaryd never reads.
std::string compact(const api::JsonValue& object) {
  const json& o = object.get();
  if (o.contains("metadata") && o["metadata"].is_object() &&
      o["metadata"].contains("managedFields")) {
    json copy = o;
    copy["metadata"].erase("managedFields");
    return copy.dump();
  }
  return o.dump();
}

std::vector<std::string> ownerUids(const api::JsonValue& object) {
  std::vector<std::string> out;
  if (const json* refs = jsonread::array(metadataOf(object), "ownerReferences")) {
    for (const json& ref : *refs) {
      if (std::string uid = jsonread::string(ref, "uid"); !uid.empty()) out.push_back(uid);
    }
  }
  return out;
}

// Runs one handler: an exception from it is a defect in canaryd, logged with the object's key;
// the informer (and every other object's handlers) go on.
template <typename F>
void notify(const std::string& key, F&& handler) {
  try {
    handler();
  } catch (const std::exception& e) {
    spdlog::error("defect: an informer handler threw on {}: {}", key, e.what());
  } catch (...) {
    spdlog::error("defect: an informer handler threw on {}", key);
  }
}

}  // namespace

Informer::Informer(cluster::Client& client, cluster::Resource resource, const Clock& clock,
                   InformerOptions options)
    : client_(client), resource_(std::move(resource)), clock_(clock), options_(std::move(options)) {
  nextResync_ = clock_.now() + options_.resyncPeriod;
}

Informer::~Informer() {
  stop();
}

void Informer::addHandlers(InformerHandlers handlers) {
  handlers_.push_back(std::move(handlers));
}

void Informer::indexLocked(const std::string& key, const api::JsonValue& object, bool add) {
  const std::string ns = jsonread::string(metadataOf(object), "namespace");
  auto edit = [&](std::set<std::string>& keys) {
    if (add) {
      keys.insert(key);
    } else {
      keys.erase(key);
    }
  };
  edit(byNamespace_[ns]);
  for (const std::string& uid : ownerUids(object))
    edit(byOwner_[uid]);
}

void Informer::apply(const std::string& type, const api::JsonValue& object) {
  const std::string key = keyOf(object);
  std::optional<api::JsonValue> before;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      before = parse(it->second.json);
      indexLocked(key, *before, false);
    }
    if (type == "DELETED") {
      cache_.erase(key);
    } else {
      cache_[key] = Entry{compact(object), versionOf(object)};
      indexLocked(key, object, true);
    }
    if (std::string v = versionOf(object); !v.empty()) resourceVersion_ = v;
  }
  ++eventsApplied_;
  for (const InformerHandlers& h : handlers_) {
    notify(key, [&] {
      if (type == "DELETED") {
        if (before && h.onDelete) h.onDelete(object);
      } else if (before) {
        if (h.onUpdate) h.onUpdate(*before, object);
      } else if (h.onAdd) {
        h.onAdd(object);
      }
    });
  }
}

Status Informer::relist() {
  std::map<std::string, api::JsonValue> fresh;
  cluster::ListOptions options;
  options.labelSelector = options_.labelSelector;
  options.limit = options_.pageSize;
  std::string version;
  do {
    Result<cluster::ObjectList> page = client_.list(resource_, options_.namespace_, options);
    if (!page) return page.error();
    for (api::JsonValue& item : page->items)
      fresh.emplace(keyOf(item), std::move(item));
    version = page->resourceVersion;
    options.continueToken = page->continueToken;
  } while (!options.continueToken.empty());

  std::vector<api::JsonValue> gone;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, entry] : cache_) {
      if (!fresh.contains(key)) gone.push_back(parse(entry.json));
    }
  }
  for (const api::JsonValue& object : gone)
    apply("DELETED", object);
  for (auto& [key, object] : fresh) {
    bool changed = true;
    {
      std::lock_guard lock(mu_);
      auto it = cache_.find(key);
      changed = it == cache_.end() || it->second.resourceVersion != versionOf(object);
    }
    if (changed) apply("MODIFIED", object);
    object = api::JsonValue();  // release the parsed copy as soon as it is cached
  }
  {
    std::lock_guard lock(mu_);
    resourceVersion_ = version;
  }
  fresh.clear();
  malloc_trim(0);  // hand the list's transient memory back to the system
  synced_ = true;
  return {};
}

Status Informer::watchOnce(std::chrono::seconds serverTimeout) {
  cluster::WatchOptions options;
  options.resourceVersion = lastResourceVersion();
  options.labelSelector = options_.labelSelector;
  options.allowBookmarks = true;
  options.timeout = serverTimeout;
  return client_.watch(resource_, options_.namespace_, options, [&](const cluster::WatchEvent& e) {
    if (stopping_) return false;
    switch (e.type) {
      case cluster::WatchEvent::Type::kBookmark: {
        std::lock_guard lock(mu_);
        if (!e.resourceVersion.empty()) resourceVersion_ = e.resourceVersion;
        return true;
      }
      case cluster::WatchEvent::Type::kAdded:
      case cluster::WatchEvent::Type::kModified:
        apply("MODIFIED", e.object);
        break;
      case cluster::WatchEvent::Type::kDeleted:
        apply("DELETED", e.object);
        break;
    }
    if (clock_.now() >= nextResync_) resync();
    return !stopping_;
  });
}

void Informer::resync() {
  nextResync_ = clock_.now() + options_.resyncPeriod;
  std::vector<api::JsonValue> objects = list();
  for (const api::JsonValue& o : objects) {
    for (const InformerHandlers& h : handlers_) {
      if (h.onUpdate) notify(keyOf(o), [&] { h.onUpdate(o, o); });
    }
  }
}

void Informer::run() {
  bool needList = true;
  while (!stopping_) {
    if (needList) {
      Status listed = relist();
      if (!listed) {
        spdlog::warn("informer {}: list failed: {}", resource_.resource, listed.error().message());
        std::this_thread::sleep_for(options_.retryDelay);
        continue;
      }
      needList = false;
    }
    if (clock_.now() >= nextResync_) resync();
    // The server ends the watch at the next resync so that resyncs happen without events.
    auto untilResync = std::chrono::duration_cast<std::chrono::seconds>(nextResync_ - clock_.now());
    Status watched = watchOnce(std::max(untilResync, std::chrono::seconds(1)));
    if (!watched) {
      if (watched.error().kind() == ErrorKind::kExpired) {
        spdlog::info("informer {}: {}; relisting", resource_.resource, watched.error().message());
        needList = true;
      } else if (!stopping_) {
        spdlog::warn("informer {}: watch failed: {}", resource_.resource,
                     watched.error().message());
        std::this_thread::sleep_for(options_.retryDelay);
      }
    }
  }
}

void Informer::start() {
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Informer::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  stopping_ = false;  // the cache stays usable, and relist()/watchOnce() work again
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!synced_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return synced_;
}

std::optional<api::JsonValue> Informer::get(const std::string& ns, const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(ns + "/" + name);
  if (it == cache_.end()) return std::nullopt;
  return parse(it->second.json);
}

std::vector<api::JsonValue> Informer::list(const std::string& ns) const {
  std::lock_guard lock(mu_);
  std::vector<api::JsonValue> out;
  if (ns.empty()) {
    out.reserve(cache_.size());
    for (const auto& [key, entry] : cache_)
      out.push_back(parse(entry.json));
    return out;
  }
  auto it = byNamespace_.find(ns);
  if (it == byNamespace_.end()) return out;
  for (const std::string& key : it->second)
    out.push_back(parse(cache_.at(key).json));
  return out;
}

std::vector<api::JsonValue> Informer::byOwner(const std::string& ownerUid) const {
  std::lock_guard lock(mu_);
  std::vector<api::JsonValue> out;
  auto it = byOwner_.find(ownerUid);
  if (it == byOwner_.end()) return out;
  for (const std::string& key : it->second)
    out.push_back(parse(cache_.at(key).json));
  return out;
}

std::size_t Informer::size() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

std::string Informer::lastResourceVersion() const {
  std::lock_guard lock(mu_);
  return resourceVersion_;
}

}  // namespace canaryd::runtime
