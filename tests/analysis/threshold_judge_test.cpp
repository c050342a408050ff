#include "canaryd/analysis/threshold_judge.h"

#include <limits>

#include <gtest/gtest.h>

namespace canaryd::analysis {
namespace {

TEST(ThresholdJudgeTest, FlaggerSemantics) {
  ThresholdPolicy successRate{99.0, std::nullopt};
  EXPECT_EQ(judgeThreshold(99.5, successRate).verdict, Verdict::kPass);
  EXPECT_EQ(judgeThreshold(99.0, successRate).verdict, Verdict::kPass);  // bounds are inclusive
  Judgement low = judgeThreshold(98.2, successRate);
  EXPECT_EQ(low.verdict, Verdict::kFail);
  EXPECT_EQ(low.direction, Direction::kLow);
  EXPECT_EQ(low.evidence.explanation, "98.2 < 99");

  ThresholdPolicy latency{std::nullopt, 500.0};
  Judgement high = judgeThreshold(734.5, latency);
  EXPECT_EQ(high.verdict, Verdict::kFail);
  EXPECT_EQ(high.direction, Direction::kHigh);
  EXPECT_EQ(*high.evidence.threshold, 500.0);

  ThresholdPolicy range{1.0, 2.0};
  EXPECT_EQ(judgeThreshold(1.5, range).evidence.explanation, "1.5 within [1, 2]");
  EXPECT_EQ(judgeThreshold(2.5, range).verdict, Verdict::kFail);
}

TEST(ThresholdJudgeTest, MissingOrNonFiniteValuesAreNoData) {
  ThresholdPolicy p{99.0, std::nullopt};
  EXPECT_EQ(judgeThreshold(std::nullopt, p).verdict, Verdict::kNoData);
  EXPECT_EQ(judgeThreshold(std::numeric_limits<double>::quiet_NaN(), p).verdict, Verdict::kNoData);
  EXPECT_EQ(judgeThreshold(std::numeric_limits<double>::infinity(), p).verdict, Verdict::kNoData);
  EXPECT_EQ(judgeThreshold(std::nullopt, p).evidence.explanation, "the query returned no data");
}

TEST(ThresholdJudgeTest, NoRangeAlwaysPasses) {
  EXPECT_EQ(judgeThreshold(1e9, ThresholdPolicy{}).verdict, Verdict::kPass);
}

TEST(JudgementTest, Names) {
  EXPECT_EQ(toString(Verdict::kInconclusive), "inconclusive");
  EXPECT_EQ(toString(Verdict::kNoData), "nodata");
  EXPECT_EQ(toString(Direction::kHigh), "high");
}

}  // namespace
}  // namespace canaryd::analysis
