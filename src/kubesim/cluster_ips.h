// Service cluster IPs as the API server allocates them, from a service CIDR (10.96.0.0/16, the
// kubeadm default): a free address on create, and on update the address the Service already
// has when the new object leaves it out, so that a client that never sets spec.clusterIP (as
// canaryd's controller) does not fight the server over it. Pure functions; the caller holds
// the Services still (kubesim's server serializes Service writes) between reading the
// addresses in use and writing the object. Internal to kubesim.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace canaryd::kubesim {

// The cluster IPs held by `services` (the items of a Service list).
std::set<std::string> clusterIPsInUse(const nlohmann::json& services);

// Completes spec.clusterIP and spec.clusterIPs of `service`, about to be written over `current`
// (nullptr on create): kept from `current` when left out; allocated (the lowest address of
// 10.96.0.0/16 not in `inUse`) when neither has one; "None" (headless) kept as it is. An
// ExternalName Service gets none. Throws ApiError 422 when the address changes once set or a
// requested address is taken, 500 when the range is full.
void assignClusterIP(nlohmann::json& service, const nlohmann::json* current,
                     const std::set<std::string>& inUse);

}  // namespace canaryd::kubesim
