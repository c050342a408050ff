// What a reconcile tells people once its status is written: Kubernetes Events, one log line
// per decision, event webhooks, alerts through the notifier (with the numbers that explain
// them) and the post-rollout hooks; and, for a Canary the daemon cannot act on, the Warning
// event and the alert naming the problem. Never fails a reconcile: a failure to tell is
// logged. Internal to the controller; thread-safe as its parts are.
#pragma once

#include <optional>
#include <string>

#include "canaryd/api/canary.h"
#include "canaryd/api/json_value.h"
#include "canaryd/controller/rollout.h"
#include "canaryd/controller/webhooks.h"
#include "canaryd/core/clock.h"
#include "canaryd/notify/notifier.h"
#include "canaryd/runtime/event_recorder.h"

namespace canaryd::controller {

class Announcer {
 public:
  Announcer(const Clock& clock, notify::Notifier& notifier, const WebhookRunner& webhooks,
            runtime::EventRecorder& events);

  // The step's events, alerts and post-rollout hooks. `canary`: as read before the step;
  // `involved`: the Canary object the events are about; `images`: the revision as people name
  // it.
  void announce(const api::Canary& canary, const api::JsonValue& involved, const Step& step,
                const std::string& checksum, const std::string& images);
  // A Canary the daemon cannot act on: a Warning event with `reason`, and an alert when the
  // Canary could be read (the notifier needs its spec).
  void stalled(const api::JsonValue& involved, const std::optional<api::Canary>& canary,
               const std::string& reason, const std::string& message);
  // Events of the daemon's own making (deletion, post-rollout hook failures).
  void event(const api::JsonValue& involved, const std::string& type, const std::string& reason,
             const std::string& message);

 private:
  const Clock& clock_;
  notify::Notifier& notifier_;
  const WebhookRunner& webhooks_;
  runtime::EventRecorder& events_;
};

}  // namespace canaryd::controller
