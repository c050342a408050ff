// Webhooks: the gates and notifications of a rollout, sent as Flagger sends them.
//
// Each hook of a type is POSTed, in the order of the manifest, the JSON payload
// {"name", "namespace", "phase", "checksum", "metadata"}; event hooks add eventMessage,
// eventType and timestamp (unix milliseconds, as a string) to the metadata. A hook succeeds on
// any 2xx answer (Flagger accepts only <= 202: a 204 fails there, not here). Each hook has its
// own timeout (default 10s) and number of retries; a failing hook stops the gate at once.
// Only http and https URLs are called, within the operator's allow-list when one is set; an
// answer is read up to kMaxWebhookAnswerBytes, and only its first 200 bytes, escaped, reach a
// message. Thread-compatible; the HTTP client is created per call.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "canaryd/api/canary.h"
#include "canaryd/core/clock.h"
#include "canaryd/core/duration.h"
#include "canaryd/core/http.h"

namespace canaryd::controller {

struct WebhookResult {
  bool ok = true;       // every hook of the type answered 2xx (true when there are none)
  std::string failure;  // which hook failed and how, for events and alerts
  std::vector<std::string> called;  // names of the hooks called, in order
};

class WebhookRunner {
 public:
  // `sleep` waits between retries (tests pass one that does not sleep); `transport` sends the
  // requests (default: HTTP; the simulator answers them itself).
  explicit WebhookRunner(const Clock& clock, std::function<void(Duration)> sleep = nullptr,
                         HttpTransport transport = nullptr,
                         std::shared_ptr<const AddressPolicy> addresses = nullptr);

  // Runs the hooks of `type` ("rollout" also matches hooks without a type).
  WebhookResult run(const api::Canary& canary, std::string_view type, std::string_view phase,
                    std::string_view checksum) const;
  // Sends an event to every `event` hook; failures are reported, never fatal.
  WebhookResult event(const api::Canary& canary, std::string_view phase, std::string_view checksum,
                      std::string_view message, std::string_view eventType) const;

 private:
  WebhookResult send(const api::Canary& canary, std::string_view type, std::string_view phase,
                     std::string_view checksum,
                     const std::vector<std::pair<std::string, std::string>>& extra) const;

  const Clock& clock_;
  std::function<void(Duration)> sleep_;
  HttpTransport transport_;
  std::shared_ptr<const AddressPolicy> addresses_;
};

inline constexpr std::size_t kMaxWebhookAnswerBytes = 1u << 20;

}  // namespace canaryd::controller
