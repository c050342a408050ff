// A generic webhook: canaryd's own flat JSON for any receiver, the token (if any) as a bearer
// token.
#include <nlohmann/json.hpp>

#include "canaryd/core/clock.h"
#include "canaryd/notify/alert_providers.h"

#include "notify/format_util.h"

namespace canaryd::notify {
namespace {

using nlohmann::json;

json webhookPayload(const api::Canary& canary, const Alert& alert) {
  json fields = json::object();
  for (const auto& [name, value] : alert.fields)
    fields[name] = value;
  return {{"canary", canary.metadata.name.value_or("")},
          {"namespace", namespaceOf(canary)},
          {"phase", alert.phase},
          {"severity", alert.severity},
          {"message", alert.message},
          {"fields", fields},
          {"timestamp", formatRfc3339(alert.time)}};
}

Result<std::optional<Delivery>> webhook(const Destination& d, const api::Canary& canary,
                                        const Alert& alert) {
  Result<Delivery> out = jsonPostTo(d);
  if (!out) return out.error();
  addBearerToken(*out, d);
  return withBody(std::move(*out), webhookPayload(canary, alert));
}

}  // namespace

std::vector<NotifierPlugin> webhookNotifiers() {
  return {{.entry = {"webhook"}, .format = webhook}};
}

}  // namespace canaryd::notify
