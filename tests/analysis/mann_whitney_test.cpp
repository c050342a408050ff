#include "canaryd/analysis/mann_whitney.h"

#include <cmath>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace canaryd::analysis {
namespace {

using nlohmann::json;

json loadReference() {
  std::ifstream in(std::string(CANARYD_SOURCE_DIR) + "/tests/analysis/data/wilcox_reference.json");
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

std::vector<double> values(const json& list) {
  std::vector<double> out;
  for (const json& v : list) {
    out.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
  }
  return out;
}

std::vector<double> finite(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v) {
    if (std::isfinite(x)) out.push_back(x);
  }
  return out;
}

// |got - want| within 1e-6 of |want| (and 1e-12 absolute, for values at zero).
::testing::AssertionResult closeRelative(double got, double want) {
  if (std::fabs(got - want) <= 1e-6 * std::fabs(want) + 1e-12) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got << ", want " << want << " (relative error "
                                       << std::fabs(got - want) / std::fabs(want) << ")";
}

TEST(WilcoxonRankSumTest, MatchesRAndSciPyOnEveryReferenceCase) {
  json reference = loadReference();
  ASSERT_TRUE(reference.is_object()) << "tests/analysis/data/wilcox_reference.json is missing";
  ASSERT_GE(reference["cases"].size(), 25u);
  for (const json& c : reference["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<double> canary = finite(values(c["canary"]));
    std::vector<double> baseline = finite(values(c["baseline"]));
    Result<RankSumResult> r = wilcoxonRankSum(canary, baseline, c["confidence"].get<double>());
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->statistic, c["r"]["W"].get<double>());
    EXPECT_EQ(r->statistic, c["scipy"]["U"].get<double>());
    EXPECT_TRUE(closeRelative(r->pValue, c["r"]["pValue"].get<double>())) << "p-value vs R";
    EXPECT_TRUE(closeRelative(r->pValue, c["scipy"]["pValue"].get<double>())) << "p vs SciPy";
    EXPECT_TRUE(closeRelative(r->estimate, c["r"]["estimate"].get<double>())) << "estimate";
    EXPECT_TRUE(closeRelative(r->lower, c["r"]["lower"].get<double>())) << "lower bound";
    EXPECT_TRUE(closeRelative(r->upper, c["r"]["upper"].get<double>())) << "upper bound";
    // The estimate is the Hodges-Lehmann shift up to R's root-finding tolerance (1e-4).
    EXPECT_NEAR(r->estimate, c["numpy"]["hodgesLehmann"].get<double>(),
                1e-4 * std::max(1.0, std::fabs(r->estimate)) + (r->upper - r->lower))
        << "estimate far from the median of pairwise differences";
  }
}

TEST(WilcoxonRankSumTest, PublishedKayentaReferencePoint) {
  std::vector<double> canary = {10, 20, 30, 40};
  std::vector<double> baseline = {1, 2, 3, 4};
  Result<RankSumResult> r = wilcoxonRankSum(canary, baseline, 0.95);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->estimate, 22.5);
  EXPECT_DOUBLE_EQ(r->lower, 6);
  EXPECT_DOUBLE_EQ(r->upper, 39);
  EXPECT_EQ(r->canaryCount, 4u);
  EXPECT_EQ(r->baselineCount, 4u);
}

TEST(WilcoxonRankSumTest, RejectsInputItCannotTest) {
  std::vector<double> empty;
  std::vector<double> some = {1, 2};
  std::vector<double> nan = {1, std::numeric_limits<double>::quiet_NaN()};
  std::vector<double> same = {3, 3, 3};
  EXPECT_FALSE(wilcoxonRankSum(empty, some).ok());
  EXPECT_FALSE(wilcoxonRankSum(nan, some).ok());
  EXPECT_FALSE(wilcoxonRankSum(some, some, 1.5).ok());
  Result<RankSumResult> tied = wilcoxonRankSum(same, same);
  ASSERT_FALSE(tied.ok());
  EXPECT_NE(tied.error().message().find("the same"), std::string::npos);
}

std::vector<double> sequence(double start, double step, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i)
    out.push_back(start + step * i + (i % 3) * 0.1);
  return out;
}

TEST(MannWhitneyJudgeTest, ClassifiesHighLowAndPass) {
  std::vector<double> baseline = sequence(100, 1, 30);
  std::vector<double> slower = sequence(160, 1, 30);
  std::vector<double> faster = sequence(40, 1, 30);
  std::vector<double> same = sequence(100.5, 1, 30);

  Judgement high = judgeMannWhitney(slower, baseline, {});
  EXPECT_EQ(high.verdict, Verdict::kFail);
  EXPECT_EQ(high.direction, Direction::kHigh);
  EXPECT_GT(*high.evidence.lower, 0);
  EXPECT_GT(*high.evidence.effectSize, 1.5);
  EXPECT_NE(high.evidence.explanation.find("canary higher than baseline"), std::string::npos);

  Judgement low = judgeMannWhitney(faster, baseline, {});
  EXPECT_EQ(low.verdict, Verdict::kFail);
  EXPECT_EQ(low.direction, Direction::kLow);

  Judgement pass = judgeMannWhitney(same, baseline, {});
  EXPECT_EQ(pass.verdict, Verdict::kPass);
  EXPECT_EQ(pass.evidence.canaryCount, 30);
  EXPECT_EQ(pass.evidence.baselineCount, 30);
}

TEST(MannWhitneyJudgeTest, AnIntervalThatExcludesZeroWithoutASignificantTestIsAPass) {
  // Two values a side: R's root finding returns an interval that excludes zero, but the
  // rank-sum test cannot be significant at 98.75% (the smallest two-sided p is about 0.12).
  const std::vector<double> canary = {120, 130};
  const std::vector<double> baseline = {95, 100};
  MannWhitneyPolicy policy;
  policy.confidence = 0.9875;
  Judgement j = judgeMannWhitney(canary, baseline, policy);
  EXPECT_EQ(j.verdict, Verdict::kPass);
  EXPECT_GT(*j.evidence.pValue, 1 - policy.confidence);
  EXPECT_GT(*j.evidence.lower, 0);
}

TEST(MannWhitneyJudgeTest, AllowedIncreaseAndDirectionGateTheVerdict) {
  std::vector<double> baseline = sequence(100, 1, 30);
  std::vector<double> slower = sequence(160, 1, 30);
  MannWhitneyPolicy tolerant;
  tolerant.allowedIncrease = 2.0;  // a 1.5x mean ratio is within what this metric allows
  EXPECT_EQ(judgeMannWhitney(slower, baseline, tolerant).verdict, Verdict::kPass);
  MannWhitneyPolicy onlyDecrease;
  onlyDecrease.direction = MetricDirection::kDecrease;
  EXPECT_EQ(judgeMannWhitney(slower, baseline, onlyDecrease).verdict, Verdict::kPass);
  MannWhitneyPolicy cles;
  cles.effectSize = EffectSizeMeasure::kCles;
  cles.allowedIncrease = 0.9;
  Judgement j = judgeMannWhitney(slower, baseline, cles);
  EXPECT_EQ(j.verdict, Verdict::kFail);
  EXPECT_DOUBLE_EQ(*j.evidence.effectSize, 1.0);  // every canary value above every baseline one
}

TEST(MannWhitneyJudgeTest, NoDataIsNeverAPass) {
  std::vector<double> nan = {std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::quiet_NaN()};
  std::vector<double> baseline = {1, 2, 3};
  std::vector<double> empty;
  EXPECT_EQ(judgeMannWhitney(empty, baseline, {}).verdict, Verdict::kNoData);
  EXPECT_EQ(judgeMannWhitney(nan, baseline, {}).verdict, Verdict::kNoData);
  EXPECT_EQ(judgeMannWhitney(baseline, empty, {}).verdict, Verdict::kNoData);
  MannWhitneyPolicy replace;
  replace.nanStrategy = NanStrategy::kReplaceWithZero;
  Judgement j = judgeMannWhitney(nan, baseline, replace);
  EXPECT_NE(j.verdict, Verdict::kNoData);
  EXPECT_EQ(j.evidence.canaryCount, 2);
}

TEST(MannWhitneyJudgeTest, IdenticalConstantSamplesPass) {
  std::vector<double> a = {5, 5, 5, 5};
  std::vector<double> b = {5, 5, 5};
  Judgement j = judgeMannWhitney(a, b, {});
  EXPECT_EQ(j.verdict, Verdict::kPass);
  EXPECT_NE(j.evidence.explanation.find("identical"), std::string::npos);
  std::vector<double> c = {1, 2, 3};
  std::vector<double> d = {3, 1, 2};
  EXPECT_EQ(judgeMannWhitney(c, d, {}).verdict, Verdict::kPass);
}

TEST(MannWhitneyJudgeTest, OutlierRemovalDropsValuesBeyondTukeysFences) {
  std::vector<double> baseline = sequence(100, 1, 30);
  std::vector<double> canary = sequence(100.2, 1, 30);
  canary.push_back(1e6);
  canary.push_back(2e6);
  MannWhitneyPolicy withRemoval;
  withRemoval.removeOutliers = true;
  Judgement j = judgeMannWhitney(canary, baseline, withRemoval);
  EXPECT_EQ(j.evidence.canaryCount, 30);
  EXPECT_EQ(j.verdict, Verdict::kPass);
  EXPECT_EQ(judgeMannWhitney(canary, baseline, {}).evidence.canaryCount, 32);
}

}  // namespace
}  // namespace canaryd::analysis
