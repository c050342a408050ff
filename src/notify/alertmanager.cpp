// Alertmanager's v2 alerts API: one alert per Canary; a rollback fires it, a later success
// resolves it (same labels, endsAt now). Other alerts are not its business.
#include <nlohmann/json.hpp>

#include "canaryd/core/clock.h"
#include "canaryd/notify/alert_providers.h"

#include "notify/format_util.h"

namespace canaryd::notify {
namespace {

using nlohmann::json;

json alertmanagerPayload(const api::Canary& canary, const Alert& alert, IncidentChange change) {
  std::string description;
  for (const auto& [name, value] : alert.fields) {
    description += (description.empty() ? "" : "\n") + name + ": " + value;
  }
  json a = {{"labels",
             {{"alertname", "CanaryRolledBack"},
              {"severity", "error"},
              {"namespace", namespaceOf(canary)},
              {"canary", canary.metadata.name.value_or("")}}},
            {"annotations", {{"summary", alert.message}, {"description", description}}},
            {"generatorURL", "canaryd://" + namespaceOf(canary) + "/canaries/" +
                                 canary.metadata.name.value_or("")}};
  if (change == IncidentChange::kFire) a["startsAt"] = formatRfc3339(alert.time);
  if (change == IncidentChange::kResolve) a["endsAt"] = formatRfc3339(alert.time);
  return json::array({a});
}

Result<std::optional<Delivery>> alertmanager(const Destination& d, const api::Canary& canary,
                                             const Alert& alert) {
  Result<Delivery> out = jsonPostTo(d);
  if (!out) return out.error();
  const IncidentChange change = incidentChange(alert);
  if (change == IncidentChange::kNone) return std::optional<Delivery>();
  out->url = joinPath(d.address, "/api/v2/alerts");
  return withBody(std::move(*out), alertmanagerPayload(canary, alert, change));
}

}  // namespace

std::vector<NotifierPlugin> alertmanagerNotifiers() {
  return {{.entry = {"alertmanager"}, .format = alertmanager, .resolvesIncidents = true}};
}

}  // namespace canaryd::notify
