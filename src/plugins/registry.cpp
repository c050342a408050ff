#include "canaryd/plugins/registry.h"

#include <algorithm>

#include "canaryd/core/text.h"
#include "canaryd/metrics/builtin_queries.h"

namespace canaryd::plugins {
namespace {

template <typename Plugin, typename Name>
bool addAll(std::vector<Plugin>& into, std::vector<Plugin> plugins, Name nameOf) {
  bool fresh = true;
  for (Plugin& plugin : plugins) {
    const bool taken = std::any_of(into.begin(), into.end(),
                                   [&](const Plugin& p) { return nameOf(p) == nameOf(plugin); });
    if (taken) {
      fresh = false;
      continue;
    }
    into.push_back(std::move(plugin));
  }
  return fresh;
}

// Every provider routes to the Services of the kubernetes router; the provider's own object
// (an HTTPRoute, a backend's weights) comes after them.
class ServicesThenRoutes final : public router::Router {
 public:
  ServicesThenRoutes(std::unique_ptr<router::Router> services,
                     std::unique_ptr<router::Router> routes)
      : services_(std::move(services)), routes_(std::move(routes)) {}
  Status reconcile(const api::Canary& canary) override {
    if (Status s = services_->reconcile(canary); !s) return s;
    return routes_->reconcile(canary);
  }
  Status setRoutes(const api::Canary& canary, const router::Weights& weights) override {
    return routes_->setRoutes(canary, weights);
  }
  Result<router::Weights> getRoutes(const api::Canary& canary) override {
    return routes_->getRoutes(canary);
  }

 private:
  std::unique_ptr<router::Router> services_;
  std::unique_ptr<router::Router> routes_;
};

}  // namespace

bool Registry::add(std::vector<router::RouterPlugin> routers) {
  return addAll(routers_, std::move(routers),
                [](const router::RouterPlugin& p) { return p.entry.name; });
}
bool Registry::add(std::vector<metrics::MetricProviderPlugin> providers) {
  return addAll(providers_, std::move(providers),
                [](const metrics::MetricProviderPlugin& p) { return p.entry.type; });
}
bool Registry::add(std::vector<notify::NotifierPlugin> notifiers) {
  return addAll(notifiers_, std::move(notifiers),
                [](const notify::NotifierPlugin& p) { return p.entry.type; });
}

api::Catalog Registry::catalog(std::string defaultProvider) const {
  api::Catalog out;
  for (const auto& r : routers_)
    out.routers.push_back(r.entry);
  for (const auto& p : providers_)
    out.metricProviders.push_back(p.entry);
  for (const auto& n : notifiers_)
    out.notifiers.push_back(n.entry);
  out.defaultProvider = std::move(defaultProvider);
  out.judgeCountProviders = metrics::countingProviders();
  return out;
}

Result<std::unique_ptr<router::Router>> Registry::makeRouter(
    std::string_view provider, const router::RouterContext& context) const {
  auto find = [&](std::string_view name) -> const router::RouterPlugin* {
    for (const auto& r : routers_) {
      if (r.entry.name == name) return &r;
    }
    return nullptr;
  };
  const router::RouterPlugin* plugin = find(provider);
  if (plugin == nullptr) {
    std::vector<std::string> names;
    for (const auto& r : routers_)
      names.push_back(r.entry.name);
    return Error::invalidInput("provider " + quote(provider) +
                               " has no router in canaryd yet; supported: " + join(names, ", "));
  }
  std::unique_ptr<router::Router> routes = plugin->make(context);
  const router::RouterPlugin* services = find("kubernetes");
  // A Service target's copies are the controller's (Flagger's KubernetesNoopRouter).
  if (services == nullptr || services == plugin || context.targetKind == "Service") return routes;
  return std::unique_ptr<router::Router>(
      std::make_unique<ServicesThenRoutes>(services->make(context), std::move(routes)));
}

router::RouterFactory Registry::routerFactory(std::shared_ptr<const AddressPolicy> addresses,
                                              std::string ingressClass) const {
  return [this, addresses, ingressClass](std::string_view provider, cluster::Client& client,
                                         const router::Selector& selector,
                                         std::string_view targetKind) {
    return makeRouter(provider, router::RouterContext{client, addresses, selector,
                                                      std::string(targetKind), ingressClass});
  };
}

Result<std::unique_ptr<metrics::Provider>> Registry::makeMetricProvider(
    const metrics::ProviderConfig& config) const {
  const std::string type = config.type.empty() ? "prometheus" : config.type;
  for (const auto& p : providers_) {
    if (p.entry.type == type) return p.make(config);
  }
  std::vector<std::string> names;
  for (const auto& p : providers_)
    names.push_back(p.entry.type);
  return Error::invalidInput("metric provider type " + quote(type) +
                             " is not supported; supported: " + join(names, ", "));
}

}  // namespace canaryd::plugins
