#include "canaryd/controller/webhooks.h"

#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/core/http.h"
#include "canaryd/core/json_read.h"

namespace canaryd::controller {

WebhookRunner::WebhookRunner(const Clock& clock, std::function<void(Duration)> sleep,
                             HttpTransport transport,
                             std::shared_ptr<const AddressPolicy> addresses)
    : clock_(clock),
      sleep_(std::move(sleep)),
      transport_(std::move(transport)),
      addresses_(std::move(addresses)) {
  if (!sleep_) sleep_ = [](Duration d) { std::this_thread::sleep_for(d); };
}

WebhookResult WebhookRunner::send(
    const api::Canary& canary, std::string_view type, std::string_view phase,
    std::string_view checksum,
    const std::vector<std::pair<std::string, std::string>>& extra) const {
  WebhookResult result;
  if (!canary.spec.analysis) return result;
  for (const api::CanaryWebhook& hook : canary.spec.analysis->webhooks) {
    const std::string hookType = hook.type.value_or("").empty() ? "rollout" : *hook.type;
    if (hookType != type) continue;
    const std::string name = hook.name.value_or("");
    result.called.push_back(name);
    nlohmann::json metadata = nlohmann::json::object();
    for (const auto& [k, v] : hook.metadata)
      metadata[k] = v;
    for (const auto& [k, v] : extra)
      metadata[k] = v;
    nlohmann::json payload = {{"name", canary.metadata.name.value_or("")},
                              {"namespace", canary.metadata.namespace_.value_or("")},
                              {"phase", std::string(phase)},
                              {"checksum", std::string(checksum)},
                              {"metadata", metadata}};
    Result<Duration> timeout =
        parseDuration(hook.timeout.value_or(std::string(api::kDefaultWebhookTimeout)));
    // What validation refuses is never done differently: out of range, the hook fails.
    if (timeout && (*timeout < std::chrono::seconds(1) || *timeout > api::kMaxWebhookTimeout)) {
      result.ok = false;
      result.failure = std::string(type) + " webhook " + name + " failed: its timeout " +
                       *hook.timeout + " is out of range (1s..10m)";
      return result;
    }
    if (hook.retries.value_or(0) > api::kMaxWebhookRetries) {
      result.ok = false;
      result.failure = std::string(type) + " webhook " + name + " failed: retries " +
                       std::to_string(*hook.retries) + " is more than the maximum of " +
                       std::to_string(api::kMaxWebhookRetries);
      return result;
    }
    std::optional<HttpClient> http;
    if (!transport_) {
      HttpClientOptions options;
      options.tls.insecureSkipVerify = hook.disableTLS.value_or(false);
      options.addresses = addresses_;
      options.purpose = "webhook";
      http.emplace(options);
    }
    HttpRequest request;
    request.method = "POST";
    request.url = hook.url.value_or("");
    request.headers = {{"Content-Type", "application/json"}};
    request.body = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    request.maxResponseBytes = kMaxWebhookAnswerBytes;
    request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        timeout ? *timeout : std::chrono::seconds(10));
    const std::int64_t attempts = 1 + std::max<std::int64_t>(0, hook.retries.value_or(0));
    std::string failure;
    bool ok = false;
    for (std::int64_t attempt = 0; attempt < attempts && !ok; ++attempt) {
      if (attempt > 0) sleep_(std::chrono::seconds(1) * attempt);
      Result<HttpResponse> response = http ? http->send(request) : transport_(request);
      if (!response) {
        failure = response.error().message();
        if (!response.error().retryable()) break;  // a refused address stays refused
      } else if (response->status >= 200 && response->status < 300) {
        ok = true;
      } else {
        failure = "answered " + std::to_string(response->status) +
                  (response->body.empty() ? "" : ": " + jsonread::snippet(response->body, 200));
      }
    }
    if (!ok) {
      result.ok = false;
      result.failure = std::string(type) + " webhook " + name + " failed: " + failure;
      return result;
    }
  }
  return result;
}

WebhookResult WebhookRunner::run(const api::Canary& canary, std::string_view type,
                                 std::string_view phase, std::string_view checksum) const {
  return send(canary, type, phase, checksum, {});
}

WebhookResult WebhookRunner::event(const api::Canary& canary, std::string_view phase,
                                   std::string_view checksum, std::string_view message,
                                   std::string_view eventType) const {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count();
  return send(canary, "event", phase, checksum,
              {{"eventMessage", std::string(message)},
               {"eventType", std::string(eventType)},
               {"timestamp", std::to_string(millis)}});
}

}  // namespace canaryd::controller
