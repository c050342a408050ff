// The traffic model: the scenario's rates, error fractions and latency quantiles on average,
// the patterns' shapes, the regression's onset, and common random numbers across weights.
#include "canaryd/sim/traffic.h"

#include <vector>

#include <gtest/gtest.h>

namespace canaryd::sim {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

Scenario scenario(double rps, Pattern pattern = Pattern::kConstant) {
  Scenario s;
  s.traffic.requestsPerSecond = rps;
  s.traffic.pattern = pattern;
  s.primary = {0.01, {20, 100}, std::nullopt, 1, {}};
  s.candidate = {0.05, {20, 150}, std::nullopt, 1, {}};
  return s;
}

TEST(TrafficTest, ALoadTestersRequestsGoToTheCanaryFromAStreamOfTheirOwn) {
  Scenario s = scenario(10);
  const IntervalTraffic before = TrafficModel(s, 5).interval(3, seconds(60), 20);
  EXPECT_EQ(TrafficModel(s, 5).testTraffic(3, seconds(60)).requests, 0);  // none configured
  s.traffic.testRequestsPerSecond = 50;
  const TrafficModel model(s, 5);
  // Users' requests are the same with or without a load tester.
  const IntervalTraffic after = model.interval(3, seconds(60), 20);
  EXPECT_EQ(after.canary.requests, before.canary.requests);
  EXPECT_EQ(after.primary.errors, before.primary.errors);
  Side tests;
  for (int i = 0; i < 100; ++i)
    accumulate(tests, model.testTraffic(i, seconds(60)));
  EXPECT_NEAR(static_cast<double>(tests.requests) / (100 * 60), 50, 0.5);
  EXPECT_NEAR(static_cast<double>(tests.errors) / tests.requests, 0.05, 0.003);  // the candidate's
}

// Errors in bursts keep the mean error rate and spread the per-minute counts far beyond
// independent errors; a schedule changes the rate at its time; rate noise keeps the mean.
TEST(TrafficTest, BurstsScheduleAndNoiseShapeTheErrorsAsTheScenarioSays) {
  auto perMinute = [](const Scenario& s, std::vector<double>& counts) {
    const TrafficModel model(s, 9);
    Side sum;
    for (int i = 0; i < 2000; ++i) {
      const IntervalTraffic t = model.interval(i, seconds(60), 0);
      accumulate(sum, t.primary);
      counts.push_back(static_cast<double>(t.primary.errors));
    }
    return static_cast<double>(sum.errors) / static_cast<double>(sum.requests);
  };
  auto dispersion = [](const std::vector<double>& v) {  // variance / mean
    double mean = 0;
    for (double x : v)
      mean += x / static_cast<double>(v.size());
    double var = 0;
    for (double x : v)
      var += (x - mean) * (x - mean) / static_cast<double>(v.size() - 1);
    return var / mean;
  };
  Scenario plain = scenario(10);
  std::vector<double> independent;
  const double plainRate = perMinute(plain, independent);
  Scenario bursty = scenario(10);
  bursty.primary.burstMeanSize = 3;
  std::vector<double> inBursts;
  const double burstRate = perMinute(bursty, inBursts);
  EXPECT_NEAR(plainRate, 0.01, 0.001);
  EXPECT_NEAR(burstRate, 0.01, 0.0015);
  // Poisson: about 1; geometric bursts of mean 3: E[size^2] / E[size] = 15 / 3 = 5.
  EXPECT_NEAR(dispersion(independent), 1, 0.15);
  EXPECT_NEAR(dispersion(inBursts), 5, 1);
  Scenario noisy = scenario(10);
  noisy.traffic.errorRateNoiseCv = 0.5;
  std::vector<double> wandering;
  EXPECT_NEAR(perMinute(noisy, wandering), 0.01, 0.001);
  // Poisson with a gamma-mixed mean 6: 1 + 6 x 0.5^2 = 2.5.
  EXPECT_NEAR(dispersion(wandering), 2.5, 0.4);
  Scenario halving = scenario(100);
  halving.primary.errorRateSchedule = {{minutes(10), 0.002}};
  const TrafficModel model(halving, 3);
  Side before;
  Side after;
  for (int i = 0; i < 20; ++i)
    accumulate(i < 10 ? before : after, model.interval(i, seconds(60), 0).primary);
  EXPECT_NEAR(static_cast<double>(before.errors) / before.requests, 0.01, 0.002);
  EXPECT_NEAR(static_cast<double>(after.errors) / after.requests, 0.002, 0.001);
}

TEST(TrafficTest, RatesErrorsAndLatenciesMatchTheScenarioOnAverage) {
  const Scenario s = scenario(100);
  const TrafficModel model(s, 42);
  IntervalTraffic sum;
  for (int i = 0; i < 200; ++i)
    accumulate(sum, model.interval(i, seconds(60), 50));
  const Side& primary = sum.primary;
  const Side& canary = sum.canary;
  const double total = static_cast<double>(primary.requests + canary.requests);
  EXPECT_NEAR(total / (200 * 60), 100, 1);  // 1.2 million requests: within 1 %
  EXPECT_NEAR(static_cast<double>(canary.requests) / total, 0.5, 0.005);
  EXPECT_NEAR(static_cast<double>(primary.errors) / primary.requests, 0.01, 0.001);
  EXPECT_NEAR(static_cast<double>(canary.errors) / canary.requests, 0.05, 0.002);
  // 1 % of the primary's requests are slower than its own p99; more of the slower canary's.
  EXPECT_NEAR(static_cast<double>(primary.slow) / primary.requests, 0.01, 0.001);
  EXPECT_GT(static_cast<double>(canary.slow) / canary.requests, 0.03);
  // Harm counts each failed or slow request once: at least either count, at most their sum.
  EXPECT_GE(canary.bad, std::max(canary.errors, canary.slow));
  EXPECT_LT(canary.bad, canary.errors + canary.slow);
  // The median falls in the 10-25 ms bucket (p50 = 20 ms).
  std::int64_t below25 = 0;
  for (std::size_t b = 0; b <= 2; ++b)
    below25 += primary.latency[b];
  EXPECT_GT(static_cast<double>(below25) / primary.requests, 0.5);
}

TEST(TrafficTest, SameSeedSameTrafficWhateverTheWeight) {
  const Scenario s = scenario(10);
  const TrafficModel a(s, 7);
  const TrafficModel b(s, 7);
  for (int i = 0; i < 20; ++i) {
    const IntervalTraffic at10 = a.interval(i, seconds(60), 10);
    const IntervalTraffic again = b.interval(i, seconds(60), 10);
    EXPECT_EQ(at10.canary.requests, again.canary.requests);
    EXPECT_EQ(at10.primary.errors, again.primary.errors);
    const IntervalTraffic at50 = a.interval(i, seconds(60), 50);
    // The same requests arrive; the canary's share only grows with its weight.
    EXPECT_EQ(at10.primary.requests + at10.canary.requests,
              at50.primary.requests + at50.canary.requests);
    EXPECT_LE(at10.canary.requests, at50.canary.requests);
  }
  // Another seed, other traffic.
  const TrafficModel other(s, 8);
  int differing = 0;
  for (int i = 0; i < 20; ++i) {
    differing += other.interval(i, seconds(60), 10).primary.requests !=
                 a.interval(i, seconds(60), 10).primary.requests;
  }
  EXPECT_GT(differing, 10);
}

TEST(TrafficTest, PatternsAndOnset) {
  Scenario diurnal = scenario(100, Pattern::kDiurnal);
  diurnal.traffic.amplitude = 0.5;
  diurnal.traffic.period = std::chrono::hours(24);
  const TrafficModel d(diurnal, 1);
  EXPECT_NEAR(d.meanRate(std::chrono::hours(6)), 150, 1e-9);  // peak
  EXPECT_NEAR(d.meanRate(std::chrono::hours(18)), 50, 1e-9);  // trough

  Scenario bursty = scenario(10, Pattern::kBursty);
  bursty.traffic.burstFactor = 10;
  bursty.traffic.burstProbability = 0.2;
  const TrafficModel b(bursty, 3);
  int bursts = 0;
  for (int i = 0; i < 500; ++i) {
    const IntervalTraffic t = b.interval(i, seconds(60), 0);
    if (t.primary.requests > 3000) ++bursts;  // 6,000 expected in a burst, 600 otherwise
  }
  EXPECT_NEAR(bursts, 100, 30);

  Scenario late = scenario(1000);
  late.candidate.onset = minutes(10);
  const TrafficModel l(late, 5);
  const IntervalTraffic before = l.interval(5, seconds(60), 50);  // minute 5: not yet
  const IntervalTraffic after = l.interval(15, seconds(60), 50);
  EXPECT_NEAR(static_cast<double>(before.canary.errors) / before.canary.requests, 0.01, 0.006);
  EXPECT_NEAR(static_cast<double>(after.canary.errors) / after.canary.requests, 0.05, 0.012);
}

}  // namespace
}  // namespace canaryd::sim
