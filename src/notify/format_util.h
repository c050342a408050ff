// What the notifier plugins (src/notify/<type>.cpp) share when they build a request: the
// Canary's display name, URL joining, the JSON POST every chat service takes, and when an
// incident-style receiver (Alertmanager, PagerDuty) fires or resolves. Pure functions.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "canaryd/api/canary.h"
#include "canaryd/core/result.h"
#include "canaryd/notify/alert_providers.h"
#include "canaryd/notify/notifier.h"

namespace canaryd::notify {

// The Canary's namespace, "default" when unset.
std::string namespaceOf(const api::Canary& canary);

// "name.namespace", as Flagger titles its messages.
std::string nameOf(const api::Canary& canary);

// `base` without its trailing slashes, then `path` ("/slack").
std::string joinPath(std::string base, const std::string& path);

// A JSON POST to `url`, its body still to come (withBody).
Delivery jsonPost(std::string url);

// A JSON POST to the provider's address; an error naming the type when it has none.
Result<Delivery> jsonPostTo(const Destination& destination);

// Adds `Authorization: Bearer <token>` when the provider has a token.
void addBearerToken(Delivery& delivery, const Destination& destination);

// `delivery` carrying `body` (compact, as json::dump() writes it).
Result<std::optional<Delivery>> withBody(Delivery delivery, const nlohmann::json& body);

// What an alert does to the one incident per Canary: a rollback fires it, a success resolves
// it; nothing else concerns it.
enum class IncidentChange { kNone, kFire, kResolve };
IncidentChange incidentChange(const Alert& alert);

}  // namespace canaryd::notify
