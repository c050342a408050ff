#include "step_gates.h"

#include <spdlog/spdlog.h>

#include "canaryd/controller/judging.h"

#include "canary_names.h"

namespace canaryd::controller {
StepGates::StepGates(const api::Canary& canary, const WebhookRunner& webhooks,
                     const MetricCheckContext& metrics, std::string checksum, TimePoint now,
                     Duration interval)
    : canary_(canary),
      webhooks_(webhooks),
      metrics_(metrics),
      checksum_(std::move(checksum)),
      now_(now),
      interval_(interval) {}

bool StepGates::confirmRollout() {
  return hooks("confirm-rollout");
}
bool StepGates::preRollout() {
  return hooks("pre-rollout");
}
bool StepGates::confirmTrafficIncrease() {
  return hooks("confirm-traffic-increase");
}
bool StepGates::confirmPromotion() {
  return hooks("confirm-promotion");
}
std::string StepGates::lastHookFailure() const {
  return lastHookFailure_;
}

bool StepGates::rollbackRequested() {
  WebhookResult r = webhooks_.run(canary_, "rollback", phaseOf(canary_), checksum_);
  return r.ok && !r.called.empty();
}

CheckOutcome StepGates::runChecks() {
  WebhookResult r = webhooks_.run(canary_, "rollout", phaseOf(canary_), checksum_);
  if (!r.ok) return webhookFailed(r.failure);
  if (!usesStatisticalJudge(canary_)) {
    CheckOutcome checked = runMetricChecks(canary_, metrics_);
    values_ = checked.values;
    return checked;
  }
  if (canary_.spec.analysis->judge->type.value_or("") == "sequential") {
    // The sequential judge decides on errors; the other metrics (latency, custom) keep their
    // thresholds, and a miss counts as a failed check as in Flagger.
    CheckOutcome others = runMetricChecks(canary_, metrics_, {"request-success-rate"});
    values_ = others.values;
    if (!others.passed) return others;
  }
  return judge();
}

CheckOutcome StepGates::judgeBetweenSteps() {
  return judge();
}

CheckOutcome StepGates::judge() {
  JudgeRun run = runJudge(canary_, metrics_, now_, judgeWindow(canary_, now_, interval_));
  CheckOutcome out;
  out.passed = run.judgement.verdict != analysis::Verdict::kFail;
  out.failure = run.judgement.evidence.explanation;
  out.evidence = evidenceOf(canary_.spec.analysis->judge->type.value_or(""), run.judgement);
  out.values = values_;
  out.verdict = run.judgement.verdict;
  out.judge = run.status;
  out.detectableIncrease = run.judgement.evidence.detectableIncrease;
  out.dispersion = run.judgement.evidence.dispersion;
  if (run.judgement.evidence.canaryCount > 0) {
    out.judgedRequests = static_cast<double>(run.judgement.evidence.canaryCount);
  }
  return out;
}

bool StepGates::hooks(const char* type) {
  WebhookResult r = webhooks_.run(canary_, type, phaseOf(canary_), checksum_);
  if (!r.ok)
    spdlog::info("{} hooks of {}: {}", type, canary_.metadata.name.value_or(""), r.failure);
  lastHookFailure_ = r.failure;
  return r.ok;
}

}  // namespace canaryd::controller
