// PagerDuty Events API v2: a rollback triggers an incident, the next success resolves it. One
// dedup key per Canary, so a second rollback while the first is open joins that incident. The
// integration's routing key is the provider's token; the address defaults to PagerDuty's.
#include <nlohmann/json.hpp>

#include "canaryd/core/clock.h"
#include "canaryd/notify/alert_providers.h"

#include "notify/format_util.h"

namespace canaryd::notify {
namespace {

using nlohmann::json;

json pagerdutyPayload(const Destination& d, const api::Canary& canary, const Alert& alert,
                      IncidentChange change) {
  const bool fires = change == IncidentChange::kFire;
  const std::string ns = namespaceOf(canary);
  const std::string name = canary.metadata.name.value_or("");
  json body = {{"routing_key", d.token},
               {"event_action", fires ? "trigger" : "resolve"},
               {"dedup_key", "canaryd/" + ns + "/" + name}};
  if (fires) {
    json details = json::object();
    for (const auto& [key, value] : alert.fields)
      details[key] = value;
    body["payload"] = {
        {"summary", alert.message},
        {"source", "canaryd/" + ns + "/" + name},
        {"severity", "error"},
        {"timestamp", formatRfc3339(alert.time)},
        {"component", canary.spec.targetRef ? canary.spec.targetRef->name.value_or(name) : name},
        {"group", ns},
        {"class", "canary rollback"},
        {"custom_details", details}};
  }
  return body;
}

Result<std::optional<Delivery>> pagerduty(const Destination& d, const api::Canary& canary,
                                          const Alert& alert) {
  if (d.token.empty()) {
    return Error::invalidInput(
        "alert provider of type \"pagerduty\" needs the integration's routing key in the "
        "secret's token key");
  }
  const IncidentChange change = incidentChange(alert);
  if (change == IncidentChange::kNone) return std::optional<Delivery>();
  return withBody(
      jsonPost(d.address.empty() ? "https://events.pagerduty.com/v2/enqueue" : d.address),
      pagerdutyPayload(d, canary, alert, change));
}

}  // namespace

std::vector<NotifierPlugin> pagerdutyNotifiers() {
  return {{.entry = {"pagerduty"}, .format = pagerduty, .resolvesIncidents = true}};
}

}  // namespace canaryd::notify
