// notify::Notifier: how the on-call hears about a rollout (Slack, Teams, Discord, Google Chat,
// generic webhooks, Alertmanager, PagerDuty — see the alerts issue).
//
// The controller hands every alert of a step to the Notifier after the step's status has been
// written; a Notifier failure is logged and never fails or repeats a rollout step.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "canaryd/api/canary.h"
#include "canaryd/core/clock.h"
#include "canaryd/core/result.h"

namespace canaryd::notify {

struct Alert {
  std::string severity;  // info, warn, error
  std::string message;
  std::string phase;
  // Numbers that explain the alert (failed checks, weight, the failing metric), in order.
  std::vector<std::pair<std::string, std::string>> fields;
  TimePoint time;
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual Status notify(const api::Canary& canary, const Alert& alert) = 0;
};

// Writes alerts to canaryd's log (at info, warn or error level). The daemon's default until
// AlertProviders are wired in.
class LogNotifier final : public Notifier {
 public:
  Status notify(const api::Canary& canary, const Alert& alert) override;
};

}  // namespace canaryd::notify
