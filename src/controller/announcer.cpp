#include "announcer.h"

#include <spdlog/spdlog.h>

#include "canaryd/api/defaults.h"
#include "canaryd/core/log.h"

namespace canaryd::controller {

Announcer::Announcer(const Clock& clock, notify::Notifier& notifier, const WebhookRunner& webhooks,
                     runtime::EventRecorder& events)
    : clock_(clock), notifier_(notifier), webhooks_(webhooks), events_(events) {}

void Announcer::event(const api::JsonValue& involved, const std::string& type,
                      const std::string& reason, const std::string& message) {
  events_.record(involved, type, reason, message);
}

void Announcer::announce(const api::Canary& canary, const api::JsonValue& involved,
                         const Step& step, const std::string& checksum, const std::string& images) {
  const std::string phase = step.status.phase.value_or("");
  api::Canary after = canary;
  after.status = step.status;
  for (const Action& action : step.actions) {
    switch (action.type) {
      case Action::Type::kEvent: {
        events_.record(involved, action.severity, "Synced", action.message);
        // One log line per decision, with the fields to filter on.
        logInfoWithFields(action.message,
                          {{"canary", canary.metadata.name.value_or("")},
                           {"namespace", canary.metadata.namespace_.value_or("")},
                           {"phase", phase},
                           {"weight", std::to_string(step.status.canaryWeight.value_or(0))},
                           {"revision", images}});
        WebhookResult r = webhooks_.event(after, phase, checksum, action.message, action.severity);
        if (!r.ok) spdlog::warn("event webhook: {}", r.failure);
        break;
      }
      case Action::Type::kAlert: {
        notify::Alert alert;
        alert.severity = action.severity;
        alert.message = action.message;
        alert.phase = phase;
        alert.time = clock_.now();
        const std::int64_t threshold =
            canary.spec.analysis->threshold.value_or(api::kDefaultThreshold);
        // A rollback resets the count: report the one that reached the threshold.
        const std::int64_t failed = phase == "Failed" && canary.status
                                        ? canary.status->failedChecks.value_or(0)
                                        : step.status.failedChecks.value_or(0);
        alert.fields = {
            {"revision", images},
            {"phase", phase},
            {"canaryWeight", std::to_string(step.status.canaryWeight.value_or(0))},
            {"failedChecks", std::to_string(failed) + " of " + std::to_string(threshold)}};
        alert.fields.insert(alert.fields.end(), action.facts.begin(), action.facts.end());
        if (Status s = notifier_.notify(after, alert); !s) {
          spdlog::warn("alert for {}: {}", canary.metadata.name.value_or(""), s.error().message());
        }
        break;
      }
      case Action::Type::kRunPostRolloutHooks: {
        WebhookResult r = webhooks_.run(after, "post-rollout", phase, checksum);
        if (!r.ok) {
          events_.record(involved, "Warning", "Synced", "post-rollout hooks failed: " + r.failure);
        }
        break;
      }
      default:
        break;
    }
  }
}

void Announcer::stalled(const api::JsonValue& involved, const std::optional<api::Canary>& canary,
                        const std::string& reason, const std::string& message) {
  events_.record(involved, "Warning", reason, message);
  if (!canary) return;
  notify::Alert alert;
  alert.severity = "error";
  alert.phase = canary->status ? canary->status->phase.value_or("") : "";
  alert.message = message;
  alert.fields = {{"reason", reason},
                  {"next", "canaryd acts on this Canary again once the problem is fixed"}};
  alert.time = clock_.now();
  if (Status s = notifier_.notify(*canary, alert); !s) {
    spdlog::warn("alert for {}/{}: {}", canary->metadata.namespace_.value_or(""),
                 canary->metadata.name.value_or(""), s.error().message());
  }
}

}  // namespace canaryd::controller
