#include "canaryd/analysis/threshold_judge.h"

#include <cmath>

#include "canaryd/core/text.h"

namespace canaryd::analysis {

Judgement judgeThreshold(std::optional<double> value, const ThresholdPolicy& policy) {
  Judgement j;
  if (!value || !std::isfinite(*value)) {
    j.verdict = Verdict::kNoData;
    j.evidence.explanation = value ? "the query returned " + formatNumber(*value) + ", not a number"
                                   : "the query returned no data";
    return j;
  }
  j.evidence.estimate = *value;
  j.evidence.lower = policy.min;
  j.evidence.upper = policy.max;
  j.evidence.canaryCount = 1;
  if (policy.min && *value < *policy.min) {
    j.verdict = Verdict::kFail;
    j.direction = Direction::kLow;
    j.evidence.threshold = policy.min;
    j.evidence.explanation = formatNumber(*value) + " < " + formatNumber(*policy.min);
    return j;
  }
  if (policy.max && *value > *policy.max) {
    j.verdict = Verdict::kFail;
    j.direction = Direction::kHigh;
    j.evidence.threshold = policy.max;
    j.evidence.explanation = formatNumber(*value) + " > " + formatNumber(*policy.max);
    return j;
  }
  j.verdict = Verdict::kPass;
  std::string range = policy.min && policy.max
                          ? "[" + formatNumber(*policy.min) + ", " + formatNumber(*policy.max) + "]"
                      : policy.min ? ">= " + formatNumber(*policy.min)
                      : policy.max ? "<= " + formatNumber(*policy.max)
                                   : "(no range)";
  j.evidence.explanation = formatNumber(*value) + " within " + range;
  return j;
}

}  // namespace canaryd::analysis
