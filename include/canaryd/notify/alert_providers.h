// Alerts through AlertProvider resources, as a Canary's `analysis.alerts` asks.
//
// Each alert entry names an AlertProvider (providerRef, its namespace defaulting to the
// Canary's) and a severity filter, routed as Flagger routes: an entry of severity `info` (the
// default) gets every alert, `warn` gets warnings and errors, `error` errors only. The
// provider's address and token may come from its secretRef (keys `address`, `token`).
//
// What each provider type sends is a plugin (NotifierPlugin): its type name and a pure function
// building the request, one file per plugin in src/notify/. The composition root concatenates
// the plugin lists declared below and hands them to AlertProviderNotifier; a type without a
// plugin is refused, naming the types it has. A provider that fails is retried with backoff,
// then logged and reported; it never blocks or fails a rollout step. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "canaryd/api/catalog.h"
#include "canaryd/cluster/client.h"
#include "canaryd/core/http.h"
#include "canaryd/notify/notifier.h"

namespace canaryd::notify {

// An AlertProvider with its secret resolved.
struct Destination {
  std::string type;  // spec.type: a NotifierPlugin's entry.type (slack, webhook, ...)
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
// successes, which resolve them). An error is the provider's own misconfiguration (no address,
// no token), never retryable. Pure: no clock, no I/O, so the tests compare it byte for byte.
using DeliveryFormat = std::function<Result<std::optional<Delivery>>(
    const Destination&, const api::Canary&, const Alert&)>;

// One alert notifier type: what the validator knows of it (the AlertProvider spec.type it
// serves) and the request it sends.
struct NotifierPlugin {
  api::NotifierEntry entry;
  DeliveryFormat format;  // never empty
  // It resolves what a rollback fired (Alertmanager, PagerDuty): a success reaches it even
  // through an entry's severity filter, else the incident would stay open.
  bool resolvesIncidents = false;
};

// The plugins, one function per file in src/notify/; the composition root concatenates them.
// Slack's incoming-webhook payload: slack, discord (its /slack endpoint) and rocket.
std::vector<NotifierPlugin> slackNotifiers();
std::vector<NotifierPlugin> teamsNotifiers();         // msteams: an Office 365 MessageCard
std::vector<NotifierPlugin> gchatNotifiers();         // gchat: Google Chat's text message
std::vector<NotifierPlugin> webhookNotifiers();       // webhook: canaryd's own JSON, any receiver
std::vector<NotifierPlugin> alertmanagerNotifiers();  // alertmanager: its v2 alerts API
std::vector<NotifierPlugin> pagerdutyNotifiers();     // pagerduty: Events API v2

// The request of the plugin in `formats` serving `destination.type` (the first, should two
// serve it); an invalid-input error naming the supported types when none does.
Result<std::optional<Delivery>> buildDelivery(const std::vector<NotifierPlugin>& formats,
                                              const Destination& destination,
                                              const api::Canary& canary, const Alert& alert);

class AlertProviderNotifier final : public Notifier {
 public:
  // `formats`: the notifier types an AlertProvider may name (see buildDelivery).
  AlertProviderNotifier(cluster::Client& client, std::vector<NotifierPlugin> formats,
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
  std::vector<NotifierPlugin> formats_;
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
