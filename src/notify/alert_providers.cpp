#include "canaryd/notify/alert_providers.h"

#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/core/base64.h"
#include "canaryd/core/text.h"

namespace canaryd::notify {
namespace {

using nlohmann::json;

// Chat services answer "ok" or a short JSON; anything longer is not theirs.
constexpr std::size_t kMaxAnswerBytes = 1u << 20;

int rank(const std::string& severity) {
  if (severity == "error") return 2;
  if (severity == "warn") return 1;
  return 0;
}

std::string nameOf(const api::Canary& canary) {
  return canary.metadata.name.value_or("") + "." + canary.metadata.namespace_.value_or("default");
}

std::string joinPath(std::string base, const std::string& path) {
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base + path;
}

// Slack's incoming-webhook attachment, which Discord (on its /slack endpoint) and Rocket.Chat
// also take: Flagger's layout, so existing channels look the same.
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

json webhookPayload(const api::Canary& canary, const Alert& alert) {
  json fields = json::object();
  for (const auto& [name, value] : alert.fields)
    fields[name] = value;
  return {{"canary", canary.metadata.name.value_or("")},
          {"namespace", canary.metadata.namespace_.value_or("default")},
          {"phase", alert.phase},
          {"severity", alert.severity},
          {"message", alert.message},
          {"fields", fields},
          {"timestamp", formatRfc3339(alert.time)}};
}

// One Alertmanager alert per Canary: a rollback fires it, a later success resolves it (same
// labels, endsAt now).
std::optional<json> alertmanagerPayload(const api::Canary& canary, const Alert& alert) {
  const bool fires = alert.phase == "Failed" && alert.severity == "error";
  const bool resolves = alert.phase == "Succeeded";
  if (!fires && !resolves) return std::nullopt;
  std::string description;
  for (const auto& [name, value] : alert.fields) {
    description += (description.empty() ? "" : "\n") + name + ": " + value;
  }
  json a = {{"labels",
             {{"alertname", "CanaryRolledBack"},
              {"severity", "error"},
              {"namespace", canary.metadata.namespace_.value_or("default")},
              {"canary", canary.metadata.name.value_or("")}}},
            {"annotations", {{"summary", alert.message}, {"description", description}}},
            {"generatorURL", "canaryd://" + canary.metadata.namespace_.value_or("default") +
                                 "/canaries/" + canary.metadata.name.value_or("")}};
  if (fires) a["startsAt"] = formatRfc3339(alert.time);
  if (resolves) a["endsAt"] = formatRfc3339(alert.time);
  return json::array({a});
}

// PagerDuty Events API v2: a rollback triggers an incident, the next success resolves it. One
// dedup key per Canary, so a second rollback while the first is open joins that incident.
std::optional<json> pagerdutyPayload(const Destination& d, const api::Canary& canary,
                                     const Alert& alert) {
  const bool fires = alert.phase == "Failed" && alert.severity == "error";
  const bool resolves = alert.phase == "Succeeded";
  if (!fires && !resolves) return std::nullopt;
  const std::string ns = canary.metadata.namespace_.value_or("default");
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

}  // namespace

Result<std::optional<Delivery>> buildDelivery(const Destination& d, const api::Canary& canary,
                                              const Alert& alert) {
  Delivery out;
  out.url = d.address;
  if (d.type == "pagerduty") {
    if (d.token.empty()) {
      return Error::invalidInput(
          "alert provider of type \"pagerduty\" needs the integration's routing key in the "
          "secret's token key");
    }
    std::optional<json> body = pagerdutyPayload(d, canary, alert);
    if (!body) return std::optional<Delivery>();
    if (out.url.empty()) out.url = "https://events.pagerduty.com/v2/enqueue";
    out.headers = {{"Content-Type", "application/json"}};
    out.body = body->dump();
    return std::optional<Delivery>(std::move(out));
  }
  if (d.address.empty()) {
    return Error::invalidInput("alert provider of type " + quote(d.type) +
                               " has no address (spec.address or the secret's address key)");
  }
  out.headers = {{"Content-Type", "application/json"}};
  json body;
  if (d.type == "slack" || d.type == "rocket") {
    body = slackPayload(d, canary, alert);
    if (!d.token.empty()) out.headers.emplace_back("Authorization", "Bearer " + d.token);
  } else if (d.type == "discord") {
    out.url = joinPath(d.address, "/slack");  // Discord's Slack-compatible endpoint
    body = slackPayload(d, canary, alert);
  } else if (d.type == "msteams") {
    body = teamsPayload(canary, alert);
  } else if (d.type == "gchat") {
    std::string text = "*" + nameOf(canary) + "* " + alert.message;
    for (const auto& [name, value] : alert.fields)
      text += "\n" + name + ": " + value;
    body = {{"text", text}};
  } else if (d.type == "webhook") {
    body = webhookPayload(canary, alert);
    if (!d.token.empty()) out.headers.emplace_back("Authorization", "Bearer " + d.token);
  } else if (d.type == "alertmanager") {
    std::optional<json> alerts = alertmanagerPayload(canary, alert);
    if (!alerts) return std::optional<Delivery>();
    out.url = joinPath(d.address, "/api/v2/alerts");
    body = *alerts;
  } else {
    return Error::invalidInput("alert provider type " + quote(d.type) +
                               " is not supported yet; supported: slack, discord, rocket, "
                               "msteams, gchat, webhook, alertmanager, pagerduty");
  }
  out.body = body.dump();
  return std::optional<Delivery>(std::move(out));
}

AlertProviderNotifier::AlertProviderNotifier(cluster::Client& client,
                                             std::chrono::milliseconds timeout, int retries,
                                             std::chrono::milliseconds backoff)
    : client_(client), timeout_(timeout), retries_(retries), backoff_(backoff) {}

Result<Destination> AlertProviderNotifier::resolve(const api::Canary& canary,
                                                   const api::CanaryAlert& entry) {
  const std::string ns = entry.providerRef && entry.providerRef->namespace_
                             ? *entry.providerRef->namespace_
                             : canary.metadata.namespace_.value_or("default");
  const std::string name = entry.providerRef ? entry.providerRef->name.value_or("") : "";
  const std::string own = canary.metadata.namespace_.value_or("default");
  if (noCrossNamespaceRefs_ && ns != own) {
    return Error::invalidInput("providerRef " + ns + "/" + name +
                               " is in another namespace than the Canary (" + own +
                               "), which canaryd run --no-cross-namespace-refs refuses");
  }
  Result<api::AlertProvider> found = cluster::getAlertProvider(client_, {ns, name});
  if (!found) return found.error().withContext("AlertProvider " + ns + "/" + name);
  const api::AlertProvider provider = api::withDefaults(*found);
  Destination d;
  d.type = provider.spec.type.value_or("");
  d.address = provider.spec.address.value_or("");
  d.channel = provider.spec.channel.value_or(d.channel);
  d.username = provider.spec.username.value_or(d.username);
  d.proxy = provider.spec.proxy.value_or("");
  if (provider.spec.secretRef && provider.spec.secretRef->name) {
    const std::string secretName = *provider.spec.secretRef->name;
    Result<std::map<std::string, std::string>> data =
        cluster::readSecret(client_, {ns, secretName}, {"address", "token"});
    if (!data) return data.error();
    if (data->contains("address")) d.address = (*data)["address"];
    if (data->contains("token")) d.token = (*data)["token"];
  }
  return d;
}

Status AlertProviderNotifier::notify(const api::Canary& canary, const Alert& alert) {
  if (!canary.spec.analysis) return {};
  std::vector<std::string> failures;
  for (const api::CanaryAlert& entry : canary.spec.analysis->alerts) {
    const std::string wants = entry.severity.value_or("info");
    // A success resolves what a rollback fired, whatever severity the entry filters on.
    const bool filtered = rank(alert.severity) < rank(wants);
    if (filtered && alert.phase != "Succeeded") continue;
    const std::string label = entry.name.value_or("alert");
    Result<Destination> destination = resolve(canary, entry);
    if (!destination) {
      failures.push_back(label + ": " + destination.error().message());
      continue;
    }
    if (filtered && destination->type != "alertmanager" && destination->type != "pagerduty") {
      continue;
    }
    Result<std::optional<Delivery>> delivery = buildDelivery(*destination, canary, alert);
    if (!delivery) {
      failures.push_back(label + ": " + delivery.error().message());
      continue;
    }
    if (!*delivery) continue;
    HttpClientOptions options;
    options.proxy = destination->proxy;
    options.addresses = addresses_;
    options.purpose = "alert";
    HttpClient http(options);
    HttpRequest request{"POST", (*delivery)->url, (*delivery)->headers, (*delivery)->body,
                        timeout_};
    request.maxResponseBytes = kMaxAnswerBytes;
    Result<HttpResponse> response = http.send(request);
    auto backoff = backoff_;
    for (int attempt = 0;
         attempt < retries_ && (!response || response->status >= 500 || response->status == 429) &&
         (response || response.error().retryable());
         ++attempt) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
      response = http.send(request);
    }
    const bool delivered = response && response->status >= 200 && response->status <= 299;
    if (onDelivery_) onDelivery_(destination->type, delivered);
    if (!response) {
      // The transport's message names the URL, which may carry a secret (Slack's hook path,
      // a token in the query): keep only its scheme and host.
      std::string why = response.error().message();
      const std::string& url = (*delivery)->url;
      const std::string shown = redactUrl(url, /*keepPath=*/false);
      for (const std::string& form : {url, redactUrl(url)}) {
        for (auto at = why.find(form); at != std::string::npos; at = why.find(form, at)) {
          why.replace(at, form.size(), shown);
          at += shown.size();
        }
      }
      failures.push_back(label + " (" + destination->type + "): " + why);
    } else if (!delivered) {
      // The URL may carry a secret (Slack's hook path): name the provider, not the address.
      failures.push_back(label + " (" + destination->type + "): HTTP " +
                         std::to_string(response->status));
    }
  }
  if (failures.empty()) return {};
  const std::string message = "alerts not delivered: " + join(failures, "; ");
  spdlog::warn("canary {}: {}", nameOf(canary), message);
  return Error::unavailable(message);
}

}  // namespace canaryd::notify
