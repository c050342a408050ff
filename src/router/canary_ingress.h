// The canary Ingress the nginx and skipper routers write: a copy of the user's Ingress
// (spec.ingressRef) named `<ingressRef.name>-canary`. Internal to the router layer.
#pragma once

#include <string>

#include "canaryd/api/canary.h"

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

}  // namespace canaryd::router
