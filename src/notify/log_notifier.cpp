#include <spdlog/spdlog.h>

#include "canaryd/notify/notifier.h"

namespace canaryd::notify {

Status LogNotifier::notify(const api::Canary& canary, const Alert& alert) {
  std::string text = "alert for canary " + canary.metadata.namespace_.value_or("") + "/" +
                     canary.metadata.name.value_or("") + ": " + alert.message;
  for (const auto& [key, value] : alert.fields)
    text += "; " + key + "=" + value;
  if (alert.severity == "error") {
    spdlog::error("{}", text);
  } else if (alert.severity == "warn") {
    spdlog::warn("{}", text);
  } else {
    spdlog::info("{}", text);
  }
  return {};
}

}  // namespace canaryd::notify
