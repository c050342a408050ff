#include "canaryd/analysis/sequential.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>

#include <gtest/gtest.h>

namespace canaryd::analysis {
namespace {

TEST(RateRatioTestTest, ClearRegressionFails) {
  RateRatioTest test({0.01, 0});
  // 10% canary traffic, canary 5% errors against the primary's 0.5%. The first window only
  // calibrates: alone, it could be one burst of errors on the canary's side.
  EXPECT_EQ(test.update({600, 30, 5400, 27}), Verdict::kInconclusive);
  EXPECT_DOUBLE_EQ(test.failEValue(), 1.0);
  EXPECT_EQ(test.update({600, 30, 5400, 27}), Verdict::kFail);
  Judgement j = test.judgement();
  EXPECT_EQ(j.verdict, Verdict::kFail);
  EXPECT_EQ(j.direction, Direction::kHigh);
  EXPECT_GE(*j.evidence.eValue, 100);
  EXPECT_NEAR(*j.evidence.estimate, 10.0, 1e-9);
  EXPECT_NE(j.evidence.explanation.find("bad-request rate 5% vs 0.5% on primary; e-value "),
            std::string::npos)
      << j.evidence.explanation;
}

TEST(RateRatioTestTest, BetterCanaryPassesAndNeverFails) {
  RateRatioTest test({0.01, 0});
  EXPECT_EQ(test.update({3000, 0, 3000, 60}), Verdict::kInconclusive);  // calibrates
  EXPECT_EQ(test.update({3000, 0, 3000, 60}), Verdict::kPass);
  EXPECT_LT(test.failEValue(), 0.01);
  // Fed to the fail side alone, a better canary only drives the e-value down.
  BernoulliMixture failSide(true);
  for (int i = 0; i < 50; ++i)
    failSide.add(0, 60, 0.5);
  EXPECT_LT(failSide.eValue(), 1e-50);
  BernoulliMixture slightlyBetter(true);
  for (int i = 0; i < 1000; ++i)
    slightlyBetter.add(29, 60, 0.5);
  EXPECT_LT(slightlyBetter.eValue(), 1.0);
}

TEST(RateRatioTestTest, PassNeedsEvidenceWithinTheMargin) {
  // Equal error rates with a half-point margin: enough traffic shows the canary is within it.
  RateRatioTest test({0.01, 0.005});
  Verdict v = Verdict::kInconclusive;
  int intervals = 0;
  while (v != Verdict::kPass && intervals < 100) {
    v = test.update({3000, 30, 3000, 30});
    ++intervals;
  }
  Judgement j = test.judgement();
  EXPECT_EQ(j.verdict, Verdict::kPass);
  EXPECT_LT(intervals, 100);
  EXPECT_NE(j.evidence.explanation.find("within the allowed margin"), std::string::npos);

  // Without a margin the same data never passes: "no worse at all" cannot be shown.
  RateRatioTest strict({0.01, 0});
  for (int i = 0; i < 100; ++i)
    EXPECT_NE(strict.update({3000, 30, 3000, 30}), Verdict::kPass);
  EXPECT_EQ(strict.judgement().verdict, Verdict::kInconclusive);
}

TEST(RateRatioTestTest, NoTrafficIsNoDataAndAddsNothing) {
  RateRatioTest test;
  EXPECT_EQ(test.update({0, 0, 1000, 3}), Verdict::kNoData);
  EXPECT_EQ(test.judgement().verdict, Verdict::kNoData);
  EXPECT_DOUBLE_EQ(test.failEValue(), 1.0);
  // No bad requests at all: data, but no evidence either way.
  EXPECT_EQ(test.update({100, 0, 900, 0}), Verdict::kInconclusive);
  EXPECT_DOUBLE_EQ(test.failEValue(), 1.0);
}

TEST(RateRatioTestTest, DecisionIsSticky) {
  RateRatioTest test({0.01, 0});
  test.update({600, 60, 5400, 27});
  ASSERT_EQ(test.update({600, 60, 5400, 27}), Verdict::kFail);
  EXPECT_EQ(test.update({600, 0, 5400, 1000}), Verdict::kFail);
  // A later interval without traffic is reported, the decision is kept.
  EXPECT_EQ(test.update({0, 0, 0, 0}), Verdict::kFail);
}

TEST(RateRatioTestTest, ASavedTestContinuesExactlyWhereItWas) {
  const std::vector<IntervalCounts> windows = {
      {600, 7, 5400, 30}, {1200, 9, 4800, 25}, {1800, 20, 4200, 21}, {2400, 15, 3600, 18}};
  for (double margin : {0.0, 0.005}) {
    RateRatioTest straight({0.01, margin});
    RateRatioTest saved({0.01, margin});
    for (const IntervalCounts& w : windows) {
      straight.update(w);
      RateRatioTest restored({0.01, margin});
      ASSERT_TRUE(restored.restore(saved.save())) << saved.save();
      restored.update(w);
      saved = restored;
    }
    EXPECT_EQ(saved.save(), straight.save());
    EXPECT_DOUBLE_EQ(saved.failEValue(), straight.failEValue());
    EXPECT_DOUBLE_EQ(saved.passEValue(), straight.passEValue());
    EXPECT_EQ(saved.judgement().verdict, straight.judgement().verdict);
    EXPECT_EQ(saved.judgement().evidence.explanation, straight.judgement().evidence.explanation);
  }
  // A decided test stays decided after a restore.
  RateRatioTest failed({0.01, 0});
  failed.update({600, 60, 5400, 27});
  ASSERT_EQ(failed.update({600, 60, 5400, 27}), Verdict::kFail);
  RateRatioTest again({0.01, 0});
  ASSERT_TRUE(again.restore(failed.save()));
  EXPECT_EQ(again.update({600, 0, 5400, 1000}), Verdict::kFail);
  // Anything else is refused and leaves the test as it was.
  for (const char* text : {"", "1000,50,1000,5", "totals=1,2,3;fail=0;pass=0",
                           "totals=1,2,3,4;fail=0,0,0,0,0,0,0,x;pass=0,0,0,0,0,0,0,0",
                           "totals=1,2,3,4;fail=0,0,0,0,0,0,0,0;pass=0,0,0,0,0,0,0,0;more"}) {
    RateRatioTest fresh;
    EXPECT_FALSE(fresh.restore(text)) << text;
    EXPECT_EQ(fresh.save(), RateRatioTest().save());
  }
}

TEST(ExceedanceTestTest, P99ObjectiveFailsAndPasses) {
  ExceedanceTest slow({0.01, 0.99});
  EXPECT_EQ(slow.update(2000, 100), Verdict::kFail);  // 5% above the bound, 1% allowed
  Judgement j = slow.judgement();
  EXPECT_NE(j.evidence.explanation.find("5% of requests above the bound (allowed 1%)"),
            std::string::npos)
      << j.evidence.explanation;

  ExceedanceTest fast({0.01, 0.99});
  Verdict k = Verdict::kInconclusive;
  for (int i = 0; i < 20 && k != Verdict::kPass; ++i)
    k = fast.update(2000, 2);
  EXPECT_EQ(k, Verdict::kPass);
  EXPECT_NE(fast.judgement().evidence.explanation.find("objective met"), std::string::npos);
  EXPECT_EQ(ExceedanceTest().update(0, 0), Verdict::kNoData);
}

std::vector<double> lognormalSample(std::mt19937_64& rng, double median, int n) {
  std::lognormal_distribution<double> d(std::log(median), 0.3);
  std::vector<double> out(static_cast<std::size_t>(n));
  for (double& v : out)
    v = d(rng);
  return out;
}

TEST(MeanShiftTestTest, SlowCanaryFailsAndSimilarCanaryPasses) {
  std::mt19937_64 rng(3);
  MeanShiftTest slow({0.01, 0.1, 0.1});
  Verdict v = Verdict::kInconclusive;
  for (int i = 0; i < 10 && v == Verdict::kInconclusive; ++i) {
    v = slow.update(summarizeLog(lognormalSample(rng, 150, 60)),
                    summarizeLog(lognormalSample(rng, 100, 540)));
  }
  EXPECT_EQ(v, Verdict::kFail);
  Judgement j = slow.judgement();
  EXPECT_NEAR(*j.evidence.estimate, 1.5, 0.1);
  EXPECT_NE(j.evidence.explanation.find("canary slower"), std::string::npos);

  MeanShiftTest same({0.01, 0.1, 0.1});
  v = Verdict::kInconclusive;
  for (int i = 0; i < 30 && v == Verdict::kInconclusive; ++i) {
    v = same.update(summarizeLog(lognormalSample(rng, 100, 300)),
                    summarizeLog(lognormalSample(rng, 100, 300)));
  }
  EXPECT_EQ(v, Verdict::kPass);
  EXPECT_EQ(MeanShiftTest().update({}, summarizeLog(lognormalSample(rng, 100, 10))),
            Verdict::kNoData);
}

TEST(MeanShiftTestTest, HealthyCanaryRarelyFails) {
  std::mt19937_64 rng(11);
  int fails = 0;
  constexpr int kRuns = 1000;
  for (int run = 0; run < kRuns; ++run) {
    MeanShiftTest test({0.05, 0.0, 0.1});  // no allowed slowdown: the strictest null
    for (int i = 0; i < 10; ++i) {
      if (test.update(summarizeLog(lognormalSample(rng, 100, 60)),
                      summarizeLog(lognormalSample(rng, 100, 240))) == Verdict::kFail) {
        ++fails;
        break;
      }
    }
  }
  std::cout << "mSPRT healthy canary: " << fails << " of " << kRuns
            << " runs failed (alpha 0.05)\n";
  EXPECT_LE(fails, 50 + 3 * 7);  // alpha plus three Monte Carlo standard errors
}

TEST(CombineTest, FailWinsThenNoDataThenInconclusive) {
  Judgement pass;
  pass.verdict = Verdict::kPass;
  Judgement fail;
  fail.verdict = Verdict::kFail;
  Judgement nodata;
  nodata.verdict = Verdict::kNoData;
  Judgement unsure;
  unsure.verdict = Verdict::kInconclusive;
  EXPECT_EQ(combine(std::vector<Judgement>{pass, nodata, fail}).verdict, Verdict::kFail);
  EXPECT_EQ(combine(std::vector<Judgement>{pass, unsure, nodata}).verdict, Verdict::kNoData);
  EXPECT_EQ(combine(std::vector<Judgement>{pass, unsure}).verdict, Verdict::kInconclusive);
  EXPECT_EQ(combine(std::vector<Judgement>{pass, pass}).verdict, Verdict::kPass);
  EXPECT_EQ(combine(std::vector<Judgement>{}).verdict, Verdict::kNoData);
  EXPECT_DOUBLE_EQ(perMetricAlpha(0.01, 4), 0.0025);
}

// One simulated rollout: 100 requests/s, one-minute intervals, canary weight stepping 10, 20,
// 30, 40, 50% (two intervals each); errors drawn per request. Returns the 1-based interval at
// which the test failed, or 0 when it never did.
int simulateRun(std::mt19937_64& rng, double primaryErrorRate, double canaryErrorRate,
                double alpha) {
  RateRatioTest test({alpha, 0});
  const int perInterval = 100 * 60;
  int interval = 0;
  for (int weight = 10; weight <= 50; weight += 10) {
    for (int repeat = 0; repeat < 2; ++repeat) {
      ++interval;
      const int canaryRequests = perInterval * weight / 100;
      const int primaryRequests = perInterval - canaryRequests;
      std::binomial_distribution<int> canaryErrors(canaryRequests, canaryErrorRate);
      std::binomial_distribution<int> primaryErrors(primaryRequests, primaryErrorRate);
      IntervalCounts counts{
          static_cast<double>(canaryRequests), static_cast<double>(canaryErrors(rng)),
          static_cast<double>(primaryRequests), static_cast<double>(primaryErrors(rng))};
      if (test.update(counts) == Verdict::kFail) return interval;  // checked every time
    }
  }
  return 0;
}

TEST(SequentialPropertyTest, HealthyCanaryFalseFailRateStaysBelowAlpha) {
  constexpr int kRuns = 10000;
  constexpr double kAlpha = 0.05;
  std::mt19937_64 rng(20261127);
  int falseFails = 0;
  for (int run = 0; run < kRuns; ++run)
    falseFails += simulateRun(rng, 0.01, 0.01, kAlpha) > 0;
  const double rate = static_cast<double>(falseFails) / kRuns;
  const double monteCarloError = 3 * std::sqrt(kAlpha * (1 - kAlpha) / kRuns);
  std::cout << "healthy canary: " << falseFails << " of " << kRuns << " runs falsely failed (rate "
            << rate << ", alpha " << kAlpha << ", checked after each of 10 intervals)\n";
  RecordProperty("false_fail_rate", std::to_string(rate));
  EXPECT_LE(rate, kAlpha + monteCarloError);
}

// maxErrorRatio keeps the guarantee exact whatever the primary's rate does: the canary at
// exactly 1.5 times the primary's rate, which falls from 2% to 0.5% halfway through the run
// (where a percentage-point margin, converted through the rate seen so far, breaks).
TEST(SequentialPropertyTest, AnAllowedRatioStaysExactWhenThePrimarysRateMoves) {
  constexpr int kRuns = 4000;
  constexpr double kAlpha = 0.05;
  std::mt19937_64 rng(20261129);
  SequentialPolicy policy;
  policy.alpha = kAlpha;
  policy.minRatio = 1.5;
  int falseFails = 0;
  int caught = 0;
  for (int run = 0; run < kRuns; ++run) {
    for (const double canaryFactor : {1.5, 4.0}) {
      RateRatioTest test(policy);
      bool failed = false;
      for (int interval = 0; interval < 10 && !failed; ++interval) {
        const double primaryRate = interval < 5 ? 0.02 : 0.005;
        const int canaryRequests = 6000 * (10 + 10 * (interval / 2)) / 100;
        const int primaryRequests = 6000 - canaryRequests;
        std::binomial_distribution<int> canaryErrors(canaryRequests, canaryFactor * primaryRate);
        std::binomial_distribution<int> primaryErrors(primaryRequests, primaryRate);
        failed = test.update({static_cast<double>(canaryRequests),
                              static_cast<double>(canaryErrors(rng)),
                              static_cast<double>(primaryRequests),
                              static_cast<double>(primaryErrors(rng))}) == Verdict::kFail;
      }
      (canaryFactor == 1.5 ? falseFails : caught) += failed ? 1 : 0;
    }
  }
  const double rate = static_cast<double>(falseFails) / kRuns;
  std::cout << "ratio 1.5 allowed, primary 2% then 0.5%: " << falseFails << " of " << kRuns
            << " runs at the boundary failed (alpha " << kAlpha << "); 4x the primary: " << caught
            << " caught\n";
  EXPECT_LE(rate, kAlpha + 3 * std::sqrt(kAlpha * (1 - kAlpha) / kRuns));
  EXPECT_GE(caught, kRuns * 95 / 100);
}

TEST(SequentialPropertyTest, RegressionFromOneToThreePercentIsCaught) {
  constexpr int kRuns = 2000;
  std::mt19937_64 rng(7);
  std::vector<int> decisionIntervals;
  for (int run = 0; run < kRuns; ++run) {
    int at = simulateRun(rng, 0.01, 0.03, 0.01);
    if (at > 0) decisionIntervals.push_back(at);
  }
  const double power = static_cast<double>(decisionIntervals.size()) / kRuns;
  std::sort(decisionIntervals.begin(), decisionIntervals.end());
  const int median =
      decisionIntervals.empty() ? 0 : decisionIntervals[decisionIntervals.size() / 2];
  std::cout << "1% -> 3% regression: failed in " << decisionIntervals.size() << " of " << kRuns
            << " runs (power " << power << ", alpha 0.01), median decision at interval " << median
            << "\n";
  RecordProperty("power", std::to_string(power));
  RecordProperty("median_decision_interval", median);
  EXPECT_GE(power, 0.95);
  EXPECT_GE(median, 1);
}

// A window's errors at `rate` over `requests`, independent (meanBurst 1) or in bursts of
// geometric size with that mean (retries, one bad pod): same mean, more variance.
double errorsIn(std::mt19937_64& rng, int requests, double rate, double meanBurst) {
  if (meanBurst <= 1) return std::binomial_distribution<int>(requests, rate)(rng);
  const int bursts = std::poisson_distribution<int>(requests * rate / meanBurst)(rng);
  std::geometric_distribution<int> extra(1 / meanBurst);
  double errors = 0;
  for (int b = 0; b < bursts; ++b)
    errors += 1 + extra(rng);
  return errors;
}

struct BurstyRun {
  bool failed = false;
  double dispersion = 1;
};

// The simulator's schedule at 10 requests/s: one-minute windows at 10, 20, 30, 40% and then
// 16 at 50%, errors at 0.5% on the primary.
BurstyRun burstyRun(std::mt19937_64& rng, double canaryRate, double meanBurst, double alpha) {
  RateRatioTest test({alpha, 0});
  BurstyRun out;
  for (int window = 0; window < 20 && !out.failed; ++window) {
    const int canary = 600 * std::min(10 + 10 * window, 50) / 100;
    const int primary = 600 - canary;
    out.failed =
        test.update({static_cast<double>(canary), errorsIn(rng, canary, canaryRate, meanBurst),
                     static_cast<double>(primary), errorsIn(rng, primary, 0.005, meanBurst)}) ==
        Verdict::kFail;
  }
  out.dispersion = test.dispersion();
  return out;
}

// Errors in bursts of mean size 3 vary five times as much as independent ones: counted as
// independent, a healthy canary fails far more often than alpha. The test measures the
// dispersion on the data and divides the evidence by it: the false fails come back near alpha
// (an estimate, not a proof: the bound allows 2.5 alpha), and independent errors keep a
// dispersion near 1 and their power.
TEST(SequentialPropertyTest, ErrorsInBurstsAreMeasuredAndKeepFalseFailsNearAlpha) {
  constexpr int kRuns = 4000;
  constexpr double kAlpha = 0.01;
  std::mt19937_64 rng(20261130);
  int bursty = 0;
  int independent = 0;
  std::vector<double> burstyDispersion;
  std::vector<double> independentDispersion;
  for (int run = 0; run < kRuns; ++run) {
    const BurstyRun b = burstyRun(rng, 0.005, 3, kAlpha);
    bursty += b.failed;
    if (!b.failed) burstyDispersion.push_back(b.dispersion);
    const BurstyRun i = burstyRun(rng, 0.005, 1, kAlpha);
    independent += i.failed;
    if (!i.failed) independentDispersion.push_back(i.dispersion);
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  std::cout << "A/A, bursts of mean 3: " << bursty << " of " << kRuns
            << " runs falsely failed, median dispersion " << median(burstyDispersion)
            << "; independent errors: " << independent << ", median dispersion "
            << median(independentDispersion) << " (alpha " << kAlpha << ")\n";
  EXPECT_LE(bursty, kRuns * kAlpha * 2.5);
  EXPECT_LE(independent, kRuns * kAlpha * 1.5);
  EXPECT_GT(median(burstyDispersion), 3.5);
  EXPECT_LT(median(independentDispersion), 1.3);
}

TEST(SequentialTest, TheDispersionIsKeptAndReported) {
  RateRatioTest test({0.01, 0});
  // A calibrating window, a burst of 20 errors on the canary's side, then quiet windows.
  test.update({300, 1, 300, 1});
  test.update({300, 20, 300, 1});
  for (int i = 0; i < 3; ++i)
    test.update({300, 1, 300, 1});
  EXPECT_GT(test.dispersion(), 3);
  EXPECT_EQ(test.judgement().verdict, Verdict::kInconclusive);
  EXPECT_NE(test.judgement().evidence.explanation.find("(dispersion x"), std::string::npos)
      << test.judgement().evidence.explanation;
  EXPECT_DOUBLE_EQ(*test.judgement().evidence.dispersion, test.dispersion());
  RateRatioTest restored({0.01, 0});
  ASSERT_TRUE(restored.restore(test.save()));
  EXPECT_DOUBLE_EQ(restored.dispersion(), test.dispersion());
  // Counted as independent errors, the burst alone would have failed the canary.
  BernoulliMixture independent(true);
  independent.add(20, 21, 0.5);
  EXPECT_GE(independent.eValue(), 100);
  // What canaryd saved before the dispersion was measured still restores (as a new test has it).
  const std::string old = "totals=60,12,540,2;fail=0,0,0,0,0,0,0,0;pass=0,0,0,0,0,0,0,0";
  RateRatioTest earlier({0.01, 0});
  ASSERT_TRUE(earlier.restore(old));
  EXPECT_DOUBLE_EQ(earlier.dispersion(), RateRatioTest().dispersion());
  EXPECT_FALSE(earlier.restore(old + ";dispersion=-1,2"));
  EXPECT_FALSE(earlier.restore(old + ";dispersion=1"));
}

// detectableIncrease() plans the hold at the top weight: the smallest increase the requests
// seen so far would have caught in 95% of runs. Check that claim on the run's own traffic: a
// canary worse by that much fails in about 95% of simulated runs, one worse by half of it far
// less often, and more requests make smaller increases detectable.
TEST(SequentialPropertyTest, DetectableIncreaseIsCaughtInAbout95PercentOfRuns) {
  constexpr double kPrimary = 0.005;
  constexpr int kPerInterval = 10 * 60;  // 10 requests/s, one-minute intervals
  constexpr int kIntervals = 12;         // at 50% canary weight
  auto run = [&](std::mt19937_64& rng, double canaryRate, RateRatioTest& test) {
    for (int i = 0; i < kIntervals; ++i) {
      const int canary = kPerInterval / 2;
      const int primary = kPerInterval - canary;
      std::binomial_distribution<int> canaryErrors(canary, canaryRate);
      std::binomial_distribution<int> primaryErrors(primary, kPrimary);
      IntervalCounts counts{static_cast<double>(canary), static_cast<double>(canaryErrors(rng)),
                            static_cast<double>(primary), static_cast<double>(primaryErrors(rng))};
      if (test.update(counts) == Verdict::kFail) return true;
    }
    return false;
  };
  // A healthy run's own estimate after the 12 intervals.
  std::mt19937_64 rng(20261129);
  RateRatioTest healthy({0.01, 0});
  run(rng, kPrimary, healthy);
  const double detectable = healthy.detectableIncrease();
  ASSERT_TRUE(std::isfinite(detectable));
  constexpr int kRuns = 2000;
  int caught = 0;
  int caughtHalf = 0;
  for (int i = 0; i < kRuns; ++i) {
    RateRatioTest full({0.01, 0});
    RateRatioTest half({0.01, 0});
    caught += run(rng, kPrimary + detectable, full);
    caughtHalf += run(rng, kPrimary + detectable / 2, half);
  }
  std::cout << "detectable increase " << detectable * 100 << " points after " << kIntervals
            << " intervals: caught in " << caught << " of " << kRuns << " runs at it, "
            << caughtHalf << " at half of it\n";
  EXPECT_GE(caught, kRuns * 90 / 100);
  EXPECT_LT(caughtHalf, kRuns * 80 / 100);
  // Half the requests: only a larger increase is detectable.
  RateRatioTest shorter({0.01, 0});
  IntervalCounts one{300, 1.5, 300, 1.5};
  for (int i = 0; i < kIntervals / 2; ++i)
    shorter.update(one);
  EXPECT_GT(shorter.detectableIncrease(), detectable);
  EXPECT_TRUE(std::isinf(RateRatioTest().detectableIncrease()));  // nothing seen yet
}

}  // namespace
}  // namespace canaryd::analysis
