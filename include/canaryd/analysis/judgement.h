// Judgement: what a judge concluded about one metric, and the evidence for it.
//
// The analysis library is pure: judges take numbers and a policy and return a Judgement, with
// no I/O, no clock and no Kubernetes. Missing data is never a pass: it is kNoData, which the
// controller counts against its own limit. kInconclusive means "not enough evidence yet" and
// never causes a rollback by itself. Plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace canaryd::analysis {

enum class Verdict { kPass, kFail, kInconclusive, kNoData };

// For kFail: whether the canary is too high or too low (kNone where it does not apply).
enum class Direction { kNone, kHigh, kLow };

std::string_view toString(Verdict verdict);
std::string_view toString(Direction direction);

struct Evidence {
  std::optional<double> statistic;  // the test statistic (W for the rank-sum test)
  std::optional<double> pValue;     // fixed-sample tests
  std::optional<double> eValue;     // anytime-valid tests: reject when >= 1/alpha
  std::optional<double> threshold;  // the e-value or value bound the decision used
  std::optional<double> estimate;   // effect estimate (shift, rate ratio, value)
  std::optional<double> lower;      // its confidence interval / sequence
  std::optional<double> upper;
  std::optional<double> effectSize;  // mean ratio, CLES, ...
  // Sequential tests while inconclusive: the smallest increase the sample so far would have
  // caught in 95% of runs (a fraction; infinity: none yet). What a promotion now could miss.
  std::optional<double> detectableIncrease;
  // Rate tests: how overdispersed the counts are (1: independent outcomes); the evidence was
  // divided by it.
  std::optional<double> dispersion;
  std::int64_t canaryCount = 0;  // samples or requests behind the decision
  std::int64_t baselineCount = 0;
  std::string explanation;  // one line for events and alerts
};

struct Judgement {
  Verdict verdict = Verdict::kNoData;
  Direction direction = Direction::kNone;
  Evidence evidence;
};

}  // namespace canaryd::analysis
