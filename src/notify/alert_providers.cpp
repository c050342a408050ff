#include "canaryd/notify/alert_providers.h"

#include <thread>

#include <spdlog/spdlog.h>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/core/text.h"

#include "notify/format_util.h"

namespace canaryd::notify {
namespace {

// Chat services answer "ok" or a short JSON; anything longer is not theirs.
constexpr std::size_t kMaxAnswerBytes = 1u << 20;

int rank(const std::string& severity) {
  if (severity == "error") return 2;
  if (severity == "warn") return 1;
  return 0;
}

const NotifierPlugin* pluginFor(const std::vector<NotifierPlugin>& formats,
                                const std::string& type) {
  for (const NotifierPlugin& plugin : formats) {
    if (plugin.entry.type == type) return &plugin;
  }
  return nullptr;
}

}  // namespace

Result<std::optional<Delivery>> buildDelivery(const std::vector<NotifierPlugin>& formats,
                                              const Destination& d, const api::Canary& canary,
                                              const Alert& alert) {
  const NotifierPlugin* plugin = pluginFor(formats, d.type);
  if (plugin == nullptr) {
    std::vector<std::string> types;
    types.reserve(formats.size());
    for (const NotifierPlugin& p : formats) {
      types.push_back(p.entry.type);
    }
    return Error::invalidInput("alert provider type " + quote(d.type) +
                               " is not supported yet; supported: " +
                               (types.empty() ? std::string("none") : join(types, ", ")));
  }
  return plugin->format(d, canary, alert);
}

AlertProviderNotifier::AlertProviderNotifier(cluster::Client& client,
                                             std::vector<NotifierPlugin> formats,
                                             std::chrono::milliseconds timeout, int retries,
                                             std::chrono::milliseconds backoff)
    : client_(client),
      formats_(std::move(formats)),
      timeout_(timeout),
      retries_(retries),
      backoff_(backoff) {}

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
    if (filtered) {
      const NotifierPlugin* plugin = pluginFor(formats_, destination->type);
      if (plugin == nullptr || !plugin->resolvesIncidents) continue;
    }
    Result<std::optional<Delivery>> delivery = buildDelivery(formats_, *destination, canary, alert);
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
