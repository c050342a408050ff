#include "canaryd/analysis/mann_whitney.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <boost/math/distributions/normal.hpp>

#include "canaryd/core/text.h"

#include "brent_root.h"

namespace canaryd::analysis {
namespace {

// R's uniroot tolerance in wilcox.test (tol.root).
constexpr double kRootTolerance = 1e-4;

// Rank-sum statistics of `shifted` (sorted) within the combination with `other` (sorted):
// the canary's rank sum with midranks for ties, and sum(t^3 - t) over groups of ties.
struct RankSums {
  double canaryRankSum = 0;
  double tieTerm = 0;
};

RankSums rankSums(const std::vector<double>& shifted, const std::vector<double>& other) {
  RankSums out;
  std::size_t i = 0;
  std::size_t j = 0;
  double position = 0;  // ranks used so far
  while (i < shifted.size() || j < other.size()) {
    double v;
    if (j >= other.size() || (i < shifted.size() && shifted[i] <= other[j])) {
      v = shifted[i];
    } else {
      v = other[j];
    }
    double inShifted = 0;
    double inOther = 0;
    while (i < shifted.size() && shifted[i] == v) {
      ++i;
      ++inShifted;
    }
    while (j < other.size() && other[j] == v) {
      ++j;
      ++inOther;
    }
    const double t = inShifted + inOther;
    out.canaryRankSum += inShifted * (position + (t + 1) / 2);
    out.tieTerm += t * t * t - t;
    position += t;
  }
  return out;
}

// The rank-sum statistic with the canary shifted by d, standardized as R's wdiff() does.
class ShiftedStatistic {
 public:
  ShiftedStatistic(std::vector<double> canary, std::vector<double> baseline)
      : canary_(std::move(canary)), baseline_(std::move(baseline)), shifted_(canary_.size()) {
    std::sort(canary_.begin(), canary_.end());
    std::sort(baseline_.begin(), baseline_.end());
  }

  double nx() const { return static_cast<double>(canary_.size()); }
  double ny() const { return static_cast<double>(baseline_.size()); }
  double minCanary() const { return canary_.front(); }
  double maxCanary() const { return canary_.back(); }
  double minBaseline() const { return baseline_.front(); }
  double maxBaseline() const { return baseline_.back(); }

  struct Value {
    double w;      // W statistic
    double z;      // standardized, continuity-corrected when asked
    double sigma;  // 0 when every value is tied
  };

  Value at(double d, bool correct) {
    // Subtracting keeps the order, so the shifted canary stays sorted.
    for (std::size_t k = 0; k < canary_.size(); ++k)
      shifted_[k] = canary_[k] - d;
    RankSums sums = rankSums(shifted_, baseline_);
    const double n = nx() + ny();
    const double w = sums.canaryRankSum - nx() * (nx() + 1) / 2;
    const double dz = w - nx() * ny() / 2;
    const double correction = correct ? (dz > 0 ? 0.5 : dz < 0 ? -0.5 : 0.0) : 0.0;
    const double sigma = std::sqrt((nx() * ny() / 12) * ((n + 1) - sums.tieTerm / (n * (n - 1))));
    return {w, (dz - correction) / sigma, sigma};
  }

 private:
  std::vector<double> canary_;
  std::vector<double> baseline_;
  std::vector<double> shifted_;
};

}  // namespace

Result<RankSumResult> wilcoxonRankSum(std::span<const double> canary,
                                      std::span<const double> baseline, double confidence) {
  if (canary.empty() || baseline.empty()) {
    return Error::invalidInput(
        "the rank-sum test needs at least one canary and one baseline value");
  }
  for (double v : canary) {
    if (!std::isfinite(v)) return Error::invalidInput("canary values must be finite numbers");
  }
  for (double v : baseline) {
    if (!std::isfinite(v)) return Error::invalidInput("baseline values must be finite numbers");
  }
  if (!(confidence > 0 && confidence < 1)) {
    return Error::invalidInput("confidence must be between 0 and 1, got " +
                               formatNumber(confidence));
  }
  ShiftedStatistic stat({canary.begin(), canary.end()}, {baseline.begin(), baseline.end()});
  ShiftedStatistic::Value atZero = stat.at(0.0, /*correct=*/true);
  if (atZero.sigma == 0 || !std::isfinite(atZero.z)) {
    return Error::invalidInput(
        "every canary and baseline value is the same; there is no shift to test");
  }

  const boost::math::normal standard;
  RankSumResult out;
  out.canaryCount = canary.size();
  out.baselineCount = baseline.size();
  out.statistic = atZero.w;
  out.pValue = 2 * boost::math::cdf(boost::math::complement(standard, std::fabs(atZero.z)));

  const double mumin = stat.minCanary() - stat.maxBaseline();
  const double mumax = stat.maxCanary() - stat.minBaseline();
  auto root = [&](double zq, bool correct) {
    auto f = [&](double d) { return stat.at(d, correct).z - zq; };
    const double fLower = f(mumin);
    const double fUpper = f(mumax);
    // Extreme cases return the ends of the range, as R does (e.g. canary 1 vs baseline 2:60).
    if (correct && fLower <= 0) return mumin;
    if (correct && fUpper >= 0) return mumax;
    return brentRoot(f, mumin, mumax, fLower, fUpper, kRootTolerance);
  };
  const double alpha = 1 - confidence;
  const double zq = boost::math::quantile(boost::math::complement(standard, alpha / 2));
  out.lower = root(zq, true);
  out.upper = root(-zq, true);
  out.estimate = root(0.0, false);  // R drops the continuity correction for the estimate
  return out;
}

namespace {

std::vector<double> prepare(std::span<const double> values, const MannWhitneyPolicy& policy) {
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values) {
    if (std::isfinite(v)) {
      out.push_back(v);
    } else if (policy.nanStrategy == NanStrategy::kReplaceWithZero) {
      out.push_back(0.0);
    }
  }
  if (!policy.removeOutliers || out.size() < 4) return out;
  // Tukey's fences with R's default (type 7) quartiles.
  std::vector<double> sorted = out;
  std::sort(sorted.begin(), sorted.end());
  auto quantile = [&](double p) {
    const double h = (static_cast<double>(sorted.size()) - 1) * p;
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
  };
  const double q1 = quantile(0.25);
  const double q3 = quantile(0.75);
  const double iqr = q3 - q1;
  std::erase_if(out, [&](double v) { return v < q1 - 1.5 * iqr || v > q3 + 1.5 * iqr; });
  return out;
}

double mean(const std::vector<double>& v) {
  return Eigen::Map<const Eigen::ArrayXd>(v.data(), static_cast<Eigen::Index>(v.size())).mean();
}

// Probability that a canary value exceeds a baseline value, ties counting half: W / (nx ny).
double cles(double w, std::size_t nx, std::size_t ny) {
  return w / (static_cast<double>(nx) * static_cast<double>(ny));
}

}  // namespace

Judgement judgeMannWhitney(std::span<const double> canaryIn, std::span<const double> baselineIn,
                           const MannWhitneyPolicy& policy) {
  Judgement j;
  std::vector<double> canary = prepare(canaryIn, policy);
  std::vector<double> baseline = prepare(baselineIn, policy);
  j.evidence.canaryCount = static_cast<std::int64_t>(canary.size());
  j.evidence.baselineCount = static_cast<std::int64_t>(baseline.size());
  if (canary.empty() || baseline.empty()) {
    j.verdict = Verdict::kNoData;
    j.evidence.explanation =
        std::string("no ") + (canary.empty() ? "canary" : "baseline") + " values to compare";
    return j;
  }
  const bool useCles = policy.effectSize == EffectSizeMeasure::kCles;
  const double increase = policy.allowedIncrease.value_or(useCles ? 0.5 : 1.0);
  const double decrease = policy.allowedDecrease.value_or(useCles ? 0.5 : 1.0);

  std::vector<double> sortedCanary = canary;
  std::vector<double> sortedBaseline = baseline;
  std::sort(sortedCanary.begin(), sortedCanary.end());
  std::sort(sortedBaseline.begin(), sortedBaseline.end());
  const bool allOneValue = sortedCanary.front() == sortedCanary.back() &&
                           sortedBaseline.front() == sortedBaseline.back() &&
                           sortedCanary.front() == sortedBaseline.front();
  if (sortedCanary == sortedBaseline || allOneValue) {
    j.verdict = Verdict::kPass;
    j.evidence.effectSize = useCles ? 0.5 : 1.0;
    j.evidence.explanation = "canary and baseline values are identical";
    return j;
  }
  Result<RankSumResult> test = wilcoxonRankSum(canary, baseline, policy.confidence);
  if (!test) {
    j.verdict = Verdict::kNoData;
    j.evidence.explanation = test.error().message();
    return j;
  }
  const RankSumResult& r = *test;
  const double baselineMean = mean(baseline);
  const double effect = useCles             ? cles(r.statistic, canary.size(), baseline.size())
                        : baselineMean == 0 ? 1.0
                                            : mean(canary) / baselineMean;
  j.evidence.statistic = r.statistic;
  j.evidence.pValue = r.pValue;
  j.evidence.estimate = r.estimate;
  j.evidence.lower = r.lower;
  j.evidence.upper = r.upper;
  j.evidence.effectSize = effect;

  const double critical = policy.tolerance * std::fabs(r.estimate);
  // The rank-sum test's own decision first: with few values the interval R's root finding
  // returns can exclude zero at a p-value far above 1 - confidence (two points a side: p 0.25
  // with an interval of [9, 39] at 98.75%), so the interval alone would fail healthy canaries.
  const bool significant = r.pValue < 1 - policy.confidence;
  const bool checkHigh = policy.direction != MetricDirection::kDecrease;
  const bool checkLow = policy.direction != MetricDirection::kIncrease;
  const std::string shift = "shift " + formatNumber(r.estimate) + " [" + formatNumber(r.lower) +
                            ", " + formatNumber(r.upper) + "], p " + formatNumber(r.pValue) + ", " +
                            (useCles ? "CLES " : "mean ratio ") + formatNumber(effect);
  if (significant && checkHigh && r.lower > critical && effect >= increase) {
    j.verdict = Verdict::kFail;
    j.direction = Direction::kHigh;
    j.evidence.explanation = "canary higher than baseline: " + shift;
  } else if (significant && checkLow && r.upper < -critical && effect <= decrease) {
    j.verdict = Verdict::kFail;
    j.direction = Direction::kLow;
    j.evidence.explanation = "canary lower than baseline: " + shift;
  } else {
    j.verdict = Verdict::kPass;
    j.evidence.explanation = "no significant difference: " + shift;
  }
  return j;
}

}  // namespace canaryd::analysis
