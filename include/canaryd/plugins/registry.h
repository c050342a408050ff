// Registry: the plugins one canaryd command was built with — routers, metric providers and
// alert notifiers, each a name, a factory, what it can do and its own checks.
//
// The composition root (plugins/builtin.h) fills one and hands it to `canaryd run`, `simulate`,
// `validate` and `metrics`; the controller gets factories from it and never names an
// implementation. catalog() is what the validator reads, so the names a command accepts, its
// --help, its errors and what it does all come from here. Adding a router: one file declaring
// its RouterPlugin, its test, and one line in plugins/builtin.cpp. Thread-compatible; const
// methods are safe to call from several threads once it is filled.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "canaryd/api/catalog.h"
#include "canaryd/core/result.h"
#include "canaryd/metrics/provider.h"
#include "canaryd/notify/alert_providers.h"
#include "canaryd/router/router.h"

namespace canaryd::plugins {

class Registry {
 public:
  // A name registered twice is a programming error: the first one stays, add() reports false.
  bool add(std::vector<router::RouterPlugin> routers);
  bool add(std::vector<metrics::MetricProviderPlugin> providers);
  bool add(std::vector<notify::NotifierPlugin> notifiers);

  // The names, capabilities and checks of everything registered; `defaultProvider` is the
  // router of a Canary that names none (canaryd run --provider).
  api::Catalog catalog(std::string defaultProvider = "kubernetes") const;

  // The router of `provider`: for any provider but kubernetes, the kubernetes router's Services
  // (which every provider routes to) and then the provider's own routing object. An unknown
  // provider is an error naming the registered ones.
  Result<std::unique_ptr<router::Router>> makeRouter(std::string_view provider,
                                                     const router::RouterContext& context) const;
  // makeRouter() for the controller, with the operator's allow-list for data-plane addresses.
  router::RouterFactory routerFactory(std::shared_ptr<const AddressPolicy> addresses,
                                      std::string ingressClass = "") const;
  // The provider of `config.type` ("" means prometheus).
  Result<std::unique_ptr<metrics::Provider>> makeMetricProvider(
      const metrics::ProviderConfig& config) const;
  const std::vector<notify::NotifierPlugin>& notifiers() const { return notifiers_; }

 private:
  std::vector<router::RouterPlugin> routers_;
  std::vector<metrics::MetricProviderPlugin> providers_;
  std::vector<notify::NotifierPlugin> notifiers_;
};

}  // namespace canaryd::plugins
