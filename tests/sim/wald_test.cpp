// Wald's floor: the numerator and KL by hand, and the two-sample floor along a rollout.
#include "canaryd/sim/wald.h"

#include <cmath>

#include <gtest/gtest.h>

namespace canaryd::sim {
namespace {

Scenario regression(double rps, double primary, double candidate) {
  Scenario s;
  s.traffic.requestsPerSecond = rps;
  s.primary.errorRate = primary;
  s.candidate.errorRate = candidate;
  s.durationLimit = std::chrono::minutes(60);
  api::CanaryAnalysis a;
  a.interval = "1m";
  a.stepWeight = 10;
  a.maxWeight = 50;
  a.judge = api::CanaryJudge{};
  a.judge->alpha = 0.01;
  a.judge->maxErrorIncrease = 0;
  s.canary.spec.analysis = a;
  return s;
}

TEST(WaldTest, ATestToldTheEffectNeedsAboutTheFloorAndTheCadenceAddsToIt) {
  Scenario s = regression(10, 0.005, 0.015);
  s.canary.spec.analysis->judge->type = "sequential";
  const std::optional<WaldFloor> f = waldFloor(s);
  ASSERT_TRUE(f.has_value());
  const std::optional<double> stepwise = knownEffectMedian(s, 200, 1);
  ASSERT_TRUE(stepwise.has_value());
  // Checked once a minute: decided at a step, never before the floor's neighbourhood.
  EXPECT_GT(*stepwise, 0.8 * f->canaryRequests);
  EXPECT_LT(*stepwise, 2.5 * f->canaryRequests);
  // Every 15 seconds: decided sooner (the same traffic, more moments to stop at).
  s.canary.spec.analysis->judge->checkInterval = "15s";
  const std::optional<double> often = knownEffectMedian(s, 200, 1);
  ASSERT_TRUE(often.has_value());
  EXPECT_LE(*often, *stepwise);
  // No regression: no floor, nothing to tell.
  EXPECT_FALSE(knownEffectMedian(regression(10, 0.005, 0.005), 50, 1).has_value());
  // Deterministic per seed.
  EXPECT_EQ(knownEffectMedian(s, 50, 7), knownEffectMedian(s, 50, 7));
}

TEST(WaldTest, NumeratorAndKullbackLeibler) {
  // alpha 1%, beta 5%: 0.95 ln 95 + 0.05 ln(0.05/0.99).
  EXPECT_NEAR(waldNumerator(0.01, 0.05), 0.95 * std::log(95.0) + 0.05 * std::log(0.05 / 0.99),
              1e-12);
  EXPECT_NEAR(waldNumerator(0.01, 0.05), 4.1769, 1e-4);
  EXPECT_NEAR(bernoulliKl(0.015, 0.005), 0.015 * std::log(3.0) + 0.985 * std::log(0.985 / 0.995),
              1e-12);
  EXPECT_DOUBLE_EQ(bernoulliKl(0.2, 0.2), 0.0);
}

TEST(WaldTest, TheTwoSampleFloorLiesAboveTheKnownBaselineOne) {
  const std::optional<WaldFloor> f = waldFloor(regression(10, 0.005, 0.015));
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->knownBaselineRequests, 4.1769 / bernoulliKl(0.015, 0.005), 0.5);
  EXPECT_GT(f->canaryRequests, f->knownBaselineRequests);
  // Reached during the seventh minute (weights 0, 10, ..., 50, 50 of 600 requests a minute).
  EXPECT_GT(f->canaryRequests, 900);
  EXPECT_LT(f->canaryRequests, 1200);
  EXPECT_GT(f->time, std::chrono::minutes(6));
  EXPECT_LT(f->time, std::chrono::minutes(7));
  // The first check after it, at 7 minutes: 60 + 120 + 180 + 240 + 300 + 300 canary requests.
  EXPECT_EQ(f->firstCheck, std::chrono::minutes(7));
  EXPECT_NEAR(f->canaryRequestsAtFirstCheck, 1200, 1e-6);
  // A sequential judge that also checks every 15s between steps: its first check after the
  // floor comes within 15s of it, with the canary's 5 requests a second up to then.
  Scenario often = regression(10, 0.005, 0.015);
  often.canary.spec.analysis->judge->type = "sequential";
  often.canary.spec.analysis->judge->checkInterval = "15s";
  const std::optional<WaldFloor> sooner = waldFloor(often);
  ASSERT_TRUE(sooner.has_value());
  EXPECT_DOUBLE_EQ(sooner->canaryRequests, f->canaryRequests);
  EXPECT_GE(sooner->firstCheck, sooner->time);
  EXPECT_LT(sooner->firstCheck, sooner->time + std::chrono::seconds(15));
  EXPECT_EQ(sooner->firstCheck.count() % std::chrono::nanoseconds(std::chrono::seconds(15)).count(),
            0);
  EXPECT_NEAR(sooner->canaryRequestsAtFirstCheck,
              900 + 5 * toSeconds(sooner->firstCheck - std::chrono::minutes(6)), 1e-6);
  // Ten times the traffic: the same samples, a tenth of the time after the first interval.
  const std::optional<WaldFloor> fast = waldFloor(regression(100, 0.005, 0.015));
  ASSERT_TRUE(fast.has_value());
  EXPECT_LT(fast->time, std::chrono::minutes(3));
  // One request a second: half an hour and more, and more canary requests (most of them at
  // the top weight, where the primary teaches less about its own rate).
  const std::optional<WaldFloor> slow = waldFloor(regression(1, 0.005, 0.015));
  ASSERT_TRUE(slow.has_value());
  EXPECT_GT(slow->canaryRequests, f->canaryRequests);
  EXPECT_GT(slow->time, std::chrono::minutes(30));
  // No regression (or one within the allowed increase): no floor.
  EXPECT_FALSE(waldFloor(regression(10, 0.005, 0.005)).has_value());
  // Blue/green (iterations, no weights): users' requests never reach the canary.
  Scenario blueGreen = regression(10, 0.005, 0.015);
  blueGreen.canary.spec.analysis->stepWeight.reset();
  blueGreen.canary.spec.analysis->maxWeight.reset();
  blueGreen.canary.spec.analysis->iterations = 10;
  EXPECT_FALSE(waldFloor(blueGreen).has_value());
}

}  // namespace
}  // namespace canaryd::sim
