// Microsoft Teams: an Office 365 connector MessageCard, as Flagger sends it.
#include <nlohmann/json.hpp>

#include "canaryd/notify/alert_providers.h"

#include "notify/format_util.h"

namespace canaryd::notify {
namespace {

using nlohmann::json;

json teamsPayload(const api::Canary& canary, const Alert& alert) {
  json facts = json::array();
  for (const auto& [name, value] : alert.fields)
    facts.push_back({{"name", name}, {"value", value}});
  return {{"@type", "MessageCard"},
          {"@context", "http://schema.org/extensions"},
          {"themeColor", alert.severity == "error" ? "FF0000" : "0076D7"},
          {"summary", nameOf(canary)},
          {"sections",
           {{{"activityTitle", nameOf(canary)},
             {"activitySubtitle", alert.message},
             {"facts", facts}}}}};
}

Result<std::optional<Delivery>> teams(const Destination& d, const api::Canary& canary,
                                      const Alert& alert) {
  Result<Delivery> out = jsonPostTo(d);
  if (!out) return out.error();
  return withBody(std::move(*out), teamsPayload(canary, alert));
}

}  // namespace

std::vector<NotifierPlugin> teamsNotifiers() {
  return {{.entry = {"msteams"}, .format = teams}};
}

}  // namespace canaryd::notify
