#include "notify/format_util.h"

#include <nlohmann/json.hpp>

#include "canaryd/core/text.h"

namespace canaryd::notify {

std::string namespaceOf(const api::Canary& canary) {
  return canary.metadata.namespace_.value_or("default");
}

std::string nameOf(const api::Canary& canary) {
  return canary.metadata.name.value_or("") + "." + namespaceOf(canary);
}

std::string joinPath(std::string base, const std::string& path) {
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base + path;
}

Delivery jsonPost(std::string url) {
  Delivery out;
  out.url = std::move(url);
  out.headers = {{"Content-Type", "application/json"}};
  return out;
}

Result<Delivery> jsonPostTo(const Destination& d) {
  if (d.address.empty()) {
    return Error::invalidInput("alert provider of type " + quote(d.type) +
                               " has no address (spec.address or the secret's address key)");
  }
  return jsonPost(d.address);
}

void addBearerToken(Delivery& delivery, const Destination& d) {
  if (!d.token.empty()) delivery.headers.emplace_back("Authorization", "Bearer " + d.token);
}

Result<std::optional<Delivery>> withBody(Delivery delivery, const nlohmann::json& body) {
  delivery.body = body.dump();
  return std::optional<Delivery>(std::move(delivery));
}

IncidentChange incidentChange(const Alert& alert) {
  if (alert.phase == "Failed" && alert.severity == "error") return IncidentChange::kFire;
  if (alert.phase == "Succeeded") return IncidentChange::kResolve;
  return IncidentChange::kNone;
}

}  // namespace canaryd::notify
