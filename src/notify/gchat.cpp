// Google Chat: one text message, the Canary's name in bold, then the fields a line each.
#include <nlohmann/json.hpp>

#include "canaryd/notify/alert_providers.h"

#include "notify/format_util.h"

namespace canaryd::notify {
namespace {

using nlohmann::json;

Result<std::optional<Delivery>> gchat(const Destination& d, const api::Canary& canary,
                                      const Alert& alert) {
  Result<Delivery> out = jsonPostTo(d);
  if (!out) return out.error();
  std::string text = "*" + nameOf(canary) + "* " + alert.message;
  for (const auto& [name, value] : alert.fields)
    text += "\n" + name + ": " + value;
  return withBody(std::move(*out), json{{"text", text}});
}

}  // namespace

std::vector<NotifierPlugin> gchatNotifiers() {
  return {{.entry = {"gchat"}, .format = gchat}};
}

}  // namespace canaryd::notify
