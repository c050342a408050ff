// Slack's incoming-webhook attachment, which Discord (on its /slack endpoint) and Rocket.Chat
// also take: Flagger's layout, so existing channels look the same.
#include <nlohmann/json.hpp>

#include "canaryd/notify/alert_providers.h"

#include "notify/format_util.h"

namespace canaryd::notify {
namespace {

using nlohmann::json;

json slackPayload(const Destination& d, const api::Canary& canary, const Alert& alert) {
  json fields = json::array();
  for (const auto& [title, value] : alert.fields) {
    fields.push_back({{"title", title}, {"value", value}, {"short", false}});
  }
  return {{"channel", d.channel},
          {"username", d.username},
          {"icon_emoji", ":rocket:"},
          {"attachments",
           {{{"color", alert.severity == "error" ? "danger" : "good"},
             {"author_name", nameOf(canary)},
             {"text", alert.message},
             {"mrkdwn_in", {"text"}},
             {"fields", fields}}}}};
}

// Slack and Rocket.Chat: the hook's address as given, the token (if any) as a bearer token.
Result<std::optional<Delivery>> slack(const Destination& d, const api::Canary& canary,
                                      const Alert& alert) {
  Result<Delivery> out = jsonPostTo(d);
  if (!out) return out.error();
  addBearerToken(*out, d);
  return withBody(std::move(*out), slackPayload(d, canary, alert));
}

// Discord: its Slack-compatible endpoint, the webhook's address + /slack.
Result<std::optional<Delivery>> discord(const Destination& d, const api::Canary& canary,
                                        const Alert& alert) {
  Result<Delivery> out = jsonPostTo(d);
  if (!out) return out.error();
  out->url = joinPath(d.address, "/slack");
  return withBody(std::move(*out), slackPayload(d, canary, alert));
}

}  // namespace

std::vector<NotifierPlugin> slackNotifiers() {
  return {{.entry = {"slack"}, .format = slack},
          {.entry = {"discord"}, .format = discord},
          {.entry = {"rocket"}, .format = slack}};
}

}  // namespace canaryd::notify
