// The gates of one reconcile's step (controller/rollout.h): webhooks and metric checks, or the
// statistical judge, asked by the state machine when it needs them. Internal to the controller.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "canaryd/api/canary.h"
#include "canaryd/controller/metric_checks.h"
#include "canaryd/controller/rollout.h"
#include "canaryd/controller/webhooks.h"
#include "canaryd/core/clock.h"

namespace canaryd::controller {

class StepGates final : public Gates {
 public:
  StepGates(const api::Canary& canary, const WebhookRunner& webhooks,
            const MetricCheckContext& metrics, std::string checksum, TimePoint now,
            Duration interval);

  bool confirmRollout() override;
  bool preRollout() override;
  bool rollbackRequested() override;
  CheckOutcome runChecks() override;
  CheckOutcome judgeBetweenSteps() override;
  bool confirmTrafficIncrease() override;
  bool confirmPromotion() override;
  std::string lastHookFailure() const override;

  // The metric values this step measured.
  const std::vector<std::pair<std::string, double>>& values() const { return values_; }

 private:
  CheckOutcome judge();
  bool hooks(const char* type);

  const api::Canary& canary_;
  const WebhookRunner& webhooks_;
  const MetricCheckContext& metrics_;
  std::string checksum_;
  TimePoint now_;
  Duration interval_;
  std::vector<std::pair<std::string, double>> values_;
  std::string lastHookFailure_;
};

}  // namespace canaryd::controller
