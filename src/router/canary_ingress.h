// The canary Ingress the nginx and skipper routers write: a copy of the user's Ingress
// (spec.ingressRef) named `<ingressRef.name>-canary`. Internal to the router layer.
#pragma once

#include <string>
#include <string_view>

#include "canaryd/api/canary.h"
#include "canaryd/cluster/client.h"
#include "canaryd/router/nginx.h"  // kIngresses

#include "router/object_writes.h"

namespace canaryd::router {

inline std::string userIngressName(const api::Canary& canary) {
  return canary.spec.ingressRef ? canary.spec.ingressRef->name.value_or("") : "";
}

inline std::string canaryIngressName(const api::Canary& canary) {
  return userIngressName(canary) + "-canary";
}

// "Ingress <name>-canary", for messages.
inline std::string describeCanaryIngress(const api::Canary& canary) {
  return "Ingress " + canaryIngressName(canary);
}

// reconcile() of a canary-Ingress router: reads the user's Ingress and creates or updates the
// canary Ingress that `build(user, existing)` makes of it (an api::JsonValue, or a Result).
template <typename Build>
Status reconcileCanaryIngress(cluster::Client& client, const api::Canary& canary,
                              std::string_view provider, Build build) {
  if (userIngressName(canary).empty()) {
    return Error::invalidInput("spec.ingressRef is required by provider " + std::string(provider) +
                               ": the Ingress the canary Ingress copies");
  }
  const std::string ns = canary.metadata.namespace_.value_or("default");
  Result<api::JsonValue> user = client.get(kIngresses, {ns, userIngressName(canary)});
  if (!user) return user.error().withContext("Ingress " + userIngressName(canary));
  return createOrUpdateObject(
      client, kIngresses, {ns, canaryIngressName(canary)}, describeCanaryIngress(canary),
      [&](const api::JsonValue& existing) { return build(*user, existing); });
}

}  // namespace canaryd::router
