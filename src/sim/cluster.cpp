#include "canaryd/sim/cluster.h"

#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "canaryd/core/text.h"

#include "kubesim/api_error.h"
#include "kubesim/controller_simulator.h"
#include "kubesim/knative_serving.h"
#include "kubesim/resources.h"
#include "kubesim/store.h"
#include "kubesim/strategic_merge.h"

namespace canaryd::sim {
namespace {

using nlohmann::json;

// History kept for watches: the simulator's runs are short and nothing resumes old watches.
constexpr std::size_t kHistory = 256;

// A CustomResourceDefinition serving `kind` in `versions` (the first is stored) with an open
// schema and a status subresource.
json crd(const std::string& group, const std::vector<std::string>& versions,
         const std::string& plural, const std::string& kind, bool namespaced = true) {
  const std::string singular = lowercase(kind);
  json served = json::array();
  for (const std::string& version : versions) {
    served.push_back({{"name", version},
                      {"served", true},
                      {"storage", served.empty()},
                      {"subresources", {{"status", json::object()}}}});
  }
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", plural + "." + group}}},
          {"spec",
           {{"group", group},
            {"scope", namespaced ? "Namespaced" : "Cluster"},
            {"names", {{"plural", plural}, {"singular", singular}, {"kind", kind}}},
            {"versions", served}}}};
}

Error errorOf(const kubesim::ApiError& e) {
  return Error(errorKindForHttpStatus(e.code), e.message);
}

const char* contentTypeOf(cluster::PatchType type) {
  switch (type) {
    case cluster::PatchType::kMerge:
      return "application/merge-patch+json";
    case cluster::PatchType::kJson:
      return "application/json-patch+json";
    case cluster::PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
  }
  return "";
}

std::string nameOf(const json& object) {
  return object.value("metadata", json::object()).value("name", "");
}
std::string namespaceOf(const json& object) {
  return object.value("metadata", json::object()).value("namespace", "");
}

}  // namespace

struct Cluster::Impl {
  Impl(const Clock& c, ClusterOptions o)
      : clock(c), options(std::move(o)), store(registry, kHistory) {
    registry.addCrd(crd("flagger.app", {"v1beta1"}, "canaries", "Canary"));
    registry.addCrd(crd("flagger.app", {"v1beta1"}, "metrictemplates", "MetricTemplate"));
    registry.addCrd(crd("flagger.app", {"v1beta1"}, "alertproviders", "AlertProvider"));
    // The routers' objects the simulator plays (their weights drive its traffic model).
    registry.addCrd(crd("gateway.networking.k8s.io", {"v1", "v1beta1"}, "httproutes", "HTTPRoute"));
    registry.addCrd(crd("networking.istio.io", {"v1beta1"}, "virtualservices", "VirtualService"));
    registry.addCrd(crd("networking.istio.io", {"v1beta1"}, "destinationrules", "DestinationRule"));
    registry.addCrd(crd("kuma.io", {"v1alpha1"}, "trafficroutes", "TrafficRoute", false));
    for (const auto& [plural, kind] :
         {std::pair{"virtualnodes", "VirtualNode"}, std::pair{"virtualrouters", "VirtualRouter"},
          std::pair{"virtualservices", "VirtualService"}}) {
      registry.addCrd(crd("appmesh.k8s.aws", {"v1beta2"}, plural, kind));
    }
    registry.addCrd(crd("projectcontour.io", {"v1"}, "httpproxies", "HTTPProxy"));
    registry.addCrd(crd("gloo.solo.io", {"v1"}, "upstreams", "Upstream"));
    registry.addCrd(crd("gateway.solo.io", {"v1"}, "routetables", "RouteTable"));
    registry.addCrd(crd("traefik.io", {"v1alpha1"}, "traefikservices", "TraefikService"));
    registry.addCrd(crd("traefik.containo.us", {"v1alpha1"}, "traefikservices", "TraefikService"));
    registry.addCrd(crd("apisix.apache.org", {"v2"}, "apisixroutes", "ApisixRoute"));
    // Knative Serving: a Knative Service target and its Revisions (kubesim/knative_serving.h).
    registry.addCrd(crd("serving.knative.dev", {"v1"}, "services", "Service"));
    registry.addCrd(crd("serving.knative.dev", {"v1"}, "revisions", "Revision"));
    store.setObserver(
        [this](const kubesim::ResourceType& type, const kubesim::Event& e) { observe(type, e); });
  }

  struct Due {
    TimePoint when;
    std::int64_t generation = 0;
    kubesim::ResourceType type;
    std::string ns;
    std::string name;
  };

  kubesim::ResourceType typeOf(const cluster::Resource& r) const {
    std::optional<kubesim::ResourceType> t = registry.find(r.group, r.version, r.resource);
    if (!t)
      throw kubesim::ApiError{404, "NotFound",
                              "the server could not find the requested "
                              "resource " +
                                  r.resource + "." + r.group};
    return *t;
  }

  void observe(const kubesim::ResourceType& type, const kubesim::Event& e) {
    if (type.group.empty() && type.resource == "events" && e.type != "DELETED" && options.onEvent) {
      options.onEvent(api::JsonValue(e.object));
    }
    const bool workload = kubesim::isDeployment(type) || kubesim::isDaemonSet(type) ||
                          kubesim::isKnativeService(type);
    if (!workload && !kubesim::isHttpRoute(type)) return;
    const std::string key = type.resource + "|" + namespaceOf(e.object) + "/" + nameOf(e.object);
    std::lock_guard lock(mu);
    if (e.type == "DELETED") {
      due.erase(key);
      return;
    }
    const std::int64_t generation = e.object["metadata"].value("generation", std::int64_t{1});
    if (kubesim::observedGeneration(type, e.object) == generation) return;
    auto pending = due.find(key);
    if (pending != due.end() && pending->second.generation >= generation) return;
    const TimePoint now = clock.now();
    TimePoint when = now;
    if (workload) {
      when = options.readyAt ? options.readyAt(now) : now + options.readinessDelay;
    }
    due[key] = {when, generation, type, namespaceOf(e.object), nameOf(e.object)};
  }

  const Clock& clock;
  ClusterOptions options;
  kubesim::ResourceRegistry registry;
  kubesim::Store store;
  std::mutex mu;
  std::map<std::string, Due> due;
};

Cluster::Cluster(const Clock& clock, ClusterOptions options)
    : impl_(std::make_unique<Impl>(clock, std::move(options))) {}

Cluster::~Cluster() = default;

std::optional<TimePoint> Cluster::settle() {
  const TimePoint now = impl_->clock.now();
  for (;;) {
    std::optional<Impl::Due> next;
    {
      std::lock_guard lock(impl_->mu);
      for (auto it = impl_->due.begin(); it != impl_->due.end(); ++it) {
        if (it->second.when <= now) {
          next = it->second;
          impl_->due.erase(it);
          break;
        }
      }
    }
    if (!next) break;
    try {
      if (kubesim::isKnativeService(next->type)) {
        kubesim::convergeKnativeService(impl_->store, impl_->registry, next->ns, next->name,
                                        next->generation);
        continue;
      }
      impl_->store.patch(
          next->type, next->ns, next->name,
          [&](const json& current) {
            json updated = current;
            if (current["metadata"].value("generation", std::int64_t{1}) == next->generation) {
              updated["status"] = kubesim::convergedStatus(next->type, current, next->generation);
            }
            return updated;
          },
          /*status=*/true);
    } catch (const kubesim::ApiError&) {
      // deleted meanwhile: nothing to converge
    }
  }
  std::lock_guard lock(impl_->mu);
  std::optional<TimePoint> soonest;
  for (const auto& [key, d] : impl_->due) {
    if (!soonest || d.when < *soonest) soonest = d.when;
  }
  return soonest;
}

// Runs `body` and turns the store's errors into Results.
template <typename Body>
auto guarded(std::string_view verb, const cluster::Resource& resource, Body&& body)
    -> decltype(body()) {
  try {
    return body();
  } catch (const kubesim::ApiError& e) {
    return errorOf(e);
  } catch (const json::exception& e) {
    return Error::invalidInput(std::string(verb) + " " + resource.resource +
                               ": malformed object: " + e.what());
  }
}

Result<api::JsonValue> Cluster::get(const cluster::Resource& resource,
                                    const cluster::ObjectRef& ref) {
  return guarded("get", resource, [&]() -> Result<api::JsonValue> {
    return api::JsonValue(impl_->store.get(impl_->typeOf(resource), ref.namespace_, ref.name));
  });
}

Result<cluster::ObjectList> Cluster::list(const cluster::Resource& resource, const std::string& ns,
                                          const cluster::ListOptions& options) {
  return guarded("list", resource, [&]() -> Result<cluster::ObjectList> {
    kubesim::ListQuery query{options.labelSelector, options.fieldSelector, options.limit,
                             options.continueToken};
    json answer = impl_->store.list(impl_->typeOf(resource), ns, query);
    cluster::ObjectList out;
    for (json& item : answer["items"])
      out.items.emplace_back(std::move(item));
    const json& meta = answer.value("metadata", json::object());
    out.resourceVersion = meta.value("resourceVersion", "");
    out.continueToken = meta.value("continue", "");
    return out;
  });
}

Result<api::JsonValue> Cluster::create(const cluster::Resource& resource, const std::string& ns,
                                       const api::JsonValue& object) {
  return guarded("create", resource, [&]() -> Result<api::JsonValue> {
    const kubesim::ResourceType type = impl_->typeOf(resource);
    json copy = object.get();
    kubesim::applyDefaults(type, copy);
    return api::JsonValue(impl_->store.create(type, ns, std::move(copy)));
  });
}

Result<api::JsonValue> Cluster::update(const cluster::Resource& resource,
                                       const api::JsonValue& object) {
  return guarded("update", resource, [&]() -> Result<api::JsonValue> {
    const kubesim::ResourceType type = impl_->typeOf(resource);
    json copy = object.get();
    kubesim::applyDefaults(type, copy);
    const std::string ns = namespaceOf(copy);
    const std::string name = nameOf(copy);
    return api::JsonValue(impl_->store.update(type, ns, name, std::move(copy), /*status=*/false));
  });
}

Result<api::JsonValue> Cluster::updateStatus(const cluster::Resource& resource,
                                             const api::JsonValue& object) {
  return guarded("update status", resource, [&]() -> Result<api::JsonValue> {
    return api::JsonValue(impl_->store.update(impl_->typeOf(resource), namespaceOf(object.get()),
                                              nameOf(object.get()), object.get(),
                                              /*status=*/true));
  });
}

Result<api::JsonValue> Cluster::patch(const cluster::Resource& resource,
                                      const cluster::ObjectRef& ref, cluster::PatchType type,
                                      std::string_view patch, bool status) {
  return guarded("patch", resource, [&]() -> Result<api::JsonValue> {
    const kubesim::ResourceType t = impl_->typeOf(resource);
    const std::string body(patch);
    return api::JsonValue(impl_->store.patch(
        t, ref.namespace_, ref.name,
        [&](const json& current) {
          json next = kubesim::applyPatch(t, current, contentTypeOf(type), body);
          if (!status) kubesim::applyDefaults(t, next);
          return next;
        },
        status));
  });
}

Status Cluster::remove(const cluster::Resource& resource, const cluster::ObjectRef& ref,
                       const cluster::DeleteOptions& options) {
  return guarded("delete", resource, [&]() -> Status {
    kubesim::DeleteOptions o{options.propagationPolicy, options.preconditionUid,
                             options.preconditionResourceVersion};
    impl_->store.remove(impl_->typeOf(resource), ref.namespace_, ref.name, o);
    return Status();
  });
}

Status Cluster::watch(const cluster::Resource& resource, const std::string& ns,
                      const cluster::WatchOptions& options,
                      const std::function<bool(const cluster::WatchEvent&)>& onEvent) {
  return guarded("watch", resource, [&]() -> Status {
    kubesim::ListQuery query{options.labelSelector, options.fieldSelector, 0, ""};
    std::shared_ptr<kubesim::Watcher> watcher =
        impl_->store.watch(impl_->typeOf(resource), ns, options.resourceVersion, query);
    kubesim::Event e;
    while (watcher->next(e, std::chrono::milliseconds(0))) {
      cluster::WatchEvent out;
      out.type = e.type == "ADDED"     ? cluster::WatchEvent::Type::kAdded
                 : e.type == "DELETED" ? cluster::WatchEvent::Type::kDeleted
                                       : cluster::WatchEvent::Type::kModified;
      out.resourceVersion = std::to_string(e.resourceVersion);
      out.object = api::JsonValue(std::move(e.object));
      if (!onEvent(out)) break;
    }
    impl_->store.unwatch(watcher);
    return Status();
  });
}

}  // namespace canaryd::sim
