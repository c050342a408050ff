// The HAProxy router (canaryd's provider `haproxy`): for services behind HAProxy rather than a
// mesh. One HAProxy backend holds a primary and a canary server; the router sets their weights
// through HAProxy's Runtime API (`set weight BACKEND/SERVER N`, N in HAProxy's 0..256, canaryd's
// percent scaled by 256/100) and reads them back with `get weight`. HAProxy's textual errors
// ("No such server.", "No such backend.") are errors naming the annotation to fix.
//
// Configured by annotations on the Canary (the Flagger manifest stays unchanged):
//   haproxy.canaryd.dev/runtime-api      where the Runtime API listens (required):
//                                        "unix:/run/haproxy/admin.sock", "/run/...sock" or
//                                        "127.0.0.1:9999" (`stats socket ... level admin`)
//   haproxy.canaryd.dev/backend          the backend (default: the apex Service's name)
//   haproxy.canaryd.dev/primary-server   default "primary"
//   haproxy.canaryd.dev/canary-server    default "canary"
//   haproxy.canaryd.dev/sync-endpoints   "true": also point each server at the first ready
//                                        address of the Endpoints of `<svc>-primary` and
//                                        `<svc>-canary` (`set server B/S addr IP port P`),
//                                        as an ingress controller does; off by default, for
//                                        servers that name the Services themselves.
// Mirroring is not supported (HAProxy has no request mirroring of its own): an error.
// The annotations are a tenant's: names are limited to HAProxy's own characters (letters,
// digits, '.', '-', '_', ':'), so no line break or ';' can add a command; each exchange has a
// deadline (kRuntimeApiDeadline for connecting, writing and reading) and an answer limit; and
// with an allow-list (--allow-address) the address must be in it (a socket path as an
// "unix:/path" entry).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "canaryd/router/router.h"

namespace canaryd::router {

inline constexpr const char* kHaproxyRuntimeApi = "haproxy.canaryd.dev/runtime-api";
inline constexpr const char* kHaproxyBackend = "haproxy.canaryd.dev/backend";
inline constexpr const char* kHaproxyPrimaryServer = "haproxy.canaryd.dev/primary-server";
inline constexpr const char* kHaproxyCanaryServer = "haproxy.canaryd.dev/canary-server";
inline constexpr const char* kHaproxySyncEndpoints = "haproxy.canaryd.dev/sync-endpoints";

inline constexpr std::chrono::milliseconds kRuntimeApiDeadline{5000};
inline constexpr std::size_t kRuntimeApiMaxAnswer = 64 * 1024;

// One Runtime API command on a fresh connection; the answer as HAProxy wrote it. Connection
// failures and a silent peer are kUnavailable; an address outside `addresses` kInvalidInput.
Result<std::string> haproxyCommand(const std::string& address, const std::string& command,
                                   const AddressPolicy* addresses = nullptr,
                                   std::chrono::milliseconds deadline = kRuntimeApiDeadline);

// canaryd's percent (0..100) as HAProxy's weight (0..256), and back.
std::int64_t toHaproxyWeight(std::int64_t percent);
std::int64_t fromHaproxyWeights(std::int64_t canary, std::int64_t primary);

class HaproxyRouter final : public Router {
 public:
  explicit HaproxyRouter(cluster::Client& client,
                         std::shared_ptr<const AddressPolicy> addresses = nullptr)
      : client_(client), addresses_(std::move(addresses)) {}
  Status reconcile(const api::Canary& canary) override;
  Status setRoutes(const api::Canary& canary, const Weights& weights) override;
  Result<Weights> getRoutes(const api::Canary& canary) override;

 private:
  cluster::Client& client_;
  std::shared_ptr<const AddressPolicy> addresses_;
};

// Provider haproxy's annotations: a missing or malformed runtime-api, a backend or server name
// with characters HAProxy's names do not have, a sync-endpoints other than "true"/"false".
// `canaryd validate` reports them (through the catalog); the router refuses the same.
api::FieldProblems haproxyProblems(const api::Canary& canary);

// Provider haproxy: weighted steps through HAProxy's Runtime API.
std::vector<RouterPlugin> haproxyRouters();

}  // namespace canaryd::router
