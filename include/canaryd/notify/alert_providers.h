// Alerts through AlertProvider resources, as a Canary's `analysis.alerts` asks.
//
// Each alert entry names an AlertProvider (providerRef, its namespace defaulting to the
// Canary's) and a severity filter, routed as Flagger routes: an entry of severity `info` (the
// default) gets every alert, `warn` gets warnings and errors, `error` errors only. The
// provider's address and token may come from its secretRef (keys `address`, `token`). The
// request each provider type sends is built by buildDelivery(), a pure function the tests
// compare byte for byte. A provider that fails is retried with backoff, then logged and
// reported; it never blocks or fails a rollout step. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "canaryd/cluster/client.h"
#include "canaryd/core/http.h"
#include "canaryd/notify/notifier.h"

namespace canaryd::notify {

// An AlertProvider with its secret resolved.
struct Destination {
  std::string type;  // slack, discord, rocket, msteams, gchat, webhook, alertmanager, pagerduty
  std::string address;
  std::string token;
  std::string channel = "general";
  std::string username = "flagger";
  std::string proxy;
};

struct Delivery {
  std::string url;
  Headers headers;
  std::string body;
};

// The request `destination` gets for `alert` about `canary`; nothing when that type has nothing
// to say about it (Alertmanager and PagerDuty hear only of rollbacks, which fire, and
// successes, which resolve them).
Result<std::optional<Delivery>> buildDelivery(const Destination& destination,
                                              const api::Canary& canary, const Alert& alert);

class AlertProviderNotifier final : public Notifier {
 public:
  AlertProviderNotifier(cluster::Client& client,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10),
                        int retries = 2,
                        std::chrono::milliseconds backoff = std::chrono::milliseconds(500));
  // Sends to every matching provider; the error (if any) names each one that failed.
  Status notify(const api::Canary& canary, const Alert& alert) override;
  // Told of each delivery's outcome, by provider type (notifier metrics). Set before use.
  void onDelivery(std::function<void(const std::string& type, bool delivered)> observer) {
    onDelivery_ = std::move(observer);
  }
  // The operator's allow-list for provider addresses and proxies (--allow-address). Set before
  // use.
  void restrictAddresses(std::shared_ptr<const AddressPolicy> addresses) {
    addresses_ = std::move(addresses);
  }
  // Refuse providerRefs to another namespace than the Canary's (--no-cross-namespace-refs).
  void refuseCrossNamespaceRefs(bool refuse) { noCrossNamespaceRefs_ = refuse; }

 private:
  Result<Destination> resolve(const api::Canary& canary, const api::CanaryAlert& entry);

  cluster::Client& client_;
  std::chrono::milliseconds timeout_;
  int retries_;
  std::chrono::milliseconds backoff_;
  std::function<void(const std::string&, bool)> onDelivery_;
  std::shared_ptr<const AddressPolicy> addresses_;
  bool noCrossNamespaceRefs_ = false;
};

// Both: canaryd's log always, then the AlertProviders.
class FanOutNotifier final : public Notifier {
 public:
  FanOutNotifier(Notifier& first, Notifier& second) : first_(first), second_(second) {}
  Status notify(const api::Canary& canary, const Alert& alert) override {
    Status a = first_.notify(canary, alert);
    Status b = second_.notify(canary, alert);
    return a ? b : a;
  }

 private:
  Notifier& first_;
  Notifier& second_;
};

}  // namespace canaryd::notify
