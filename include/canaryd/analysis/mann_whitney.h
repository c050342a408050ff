// The Mann-Whitney judge: Kayenta's classifier over the Wilcoxon rank-sum test.
//
// wilcoxonRankSum() follows R's wilcox.test(canary, baseline, conf.int = TRUE,
// correct = TRUE, exact = FALSE): midranks for ties, tie-corrected variance, continuity
// correction, two-sided normal p-value, and the shift estimate (canary minus baseline) and its
// confidence interval found, as R finds them, by Brent's root finding on the standardized
// statistic with tolerance 1e-4. Reference point: canary [10,20,30,40] vs baseline [1,2,3,4]
// at 95% gives estimate 22.5 and interval [6, 39].
//
// judgeMannWhitney() classifies as Kayenta does: high when the interval's lower bound is above
// tolerance x |estimate| and the effect size (mean ratio canary/baseline, or CLES) is at least
// allowedIncrease; low symmetrically; pass otherwise. Unlike Kayenta it also asks the test's
// p-value to be below 1 - confidence: with a handful of values the interval can exclude zero
// while the test is far from significant. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "canaryd/analysis/judgement.h"
#include "canaryd/core/result.h"

namespace canaryd::analysis {

struct RankSumResult {
  double statistic = 0;  // W: sum of the canary's ranks minus n(n+1)/2
  double pValue = 1;     // two-sided
  double estimate = 0;   // difference in location, canary minus baseline
  double lower = 0;      // confidence interval of the difference
  double upper = 0;
  std::size_t canaryCount = 0;
  std::size_t baselineCount = 0;
};

// Both samples must be non-empty and finite, and not every value may be tied; otherwise an
// invalid-input error says which.
Result<RankSumResult> wilcoxonRankSum(std::span<const double> canary,
                                      std::span<const double> baseline, double confidence = 0.95);

enum class EffectSizeMeasure { kMeanRatio, kCles };
enum class NanStrategy { kRemove, kReplaceWithZero };
enum class MetricDirection { kEither, kIncrease, kDecrease };  // which change is a failure

struct MannWhitneyPolicy {
  double confidence = 0.95;
  double tolerance = 0.25;  // fraction of |estimate| the interval must clear (Kayenta)
  // Effect-size bounds; unset means 1.0 for the mean ratio and 0.5 for CLES (Kayenta's).
  std::optional<double> allowedIncrease;
  std::optional<double> allowedDecrease;
  EffectSizeMeasure effectSize = EffectSizeMeasure::kMeanRatio;
  NanStrategy nanStrategy = NanStrategy::kRemove;
  bool removeOutliers = false;  // drop values outside Tukey's fences (1.5 IQR) first
  MetricDirection direction = MetricDirection::kEither;
};

Judgement judgeMannWhitney(std::span<const double> canary, std::span<const double> baseline,
                           const MannWhitneyPolicy& policy);

}  // namespace canaryd::analysis
