// Reconciler options wired with the plugins canaryd ships, as `canaryd run` wires them.
#pragma once

#include "canaryd/controller/reconciler.h"
#include "canaryd/plugins/builtin.h"

namespace canaryd::testing {

inline controller::ReconcilerOptions withBuiltinPlugins(controller::ReconcilerOptions options = {},
                                                        const std::string& ingressClass = "") {
  const plugins::Registry& registry = plugins::builtin();
  options.routers = registry.routerFactory(options.addresses, ingressClass);
  options.catalog = registry.catalog(options.provider);
  return options;
}

}  // namespace canaryd::testing
