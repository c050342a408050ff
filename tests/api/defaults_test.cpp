#include "canaryd/api/defaults.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"

namespace canaryd::api {
namespace {

using std::chrono::seconds;

Canary parse(const char* text) {
  Result<Canary> c = canaryFromJson(text);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return c.ok() ? *c : Canary{};
}

TEST(DefaultsTest, FillsFlaggerDefaults) {
  Canary c = withDefaults(parse(R"({"spec":{
      "targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
      "service":{"port":80},
      "analysis":{"stepWeight":10,
        "metrics":[{"name":"request-success-rate"}],
        "webhooks":[{"name":"w","url":"http://x/"}],
        "alerts":[{"name":"a","providerRef":{"name":"p"}}],
        "sessionAffinity":{"cookieName":"c"}}}})"));
  const CanaryAnalysis& a = *c.spec.analysis;
  EXPECT_EQ(a.interval, "1m0s");
  EXPECT_EQ(a.threshold, 1);
  EXPECT_EQ(a.maxWeight, 100);
  EXPECT_EQ(a.primaryReadyThreshold, 100);
  EXPECT_EQ(a.canaryReadyThreshold, 100);
  EXPECT_EQ(a.metrics[0].interval, "1m");
  EXPECT_EQ(a.webhooks[0].type, "rollout");
  EXPECT_EQ(a.webhooks[0].timeout, "10s");
  EXPECT_EQ(a.alerts[0].severity, "info");
  EXPECT_EQ(a.sessionAffinity->maxAge, 86400);
  EXPECT_EQ(c.spec.progressDeadlineSeconds, 600);
  EXPECT_EQ(c.spec.service->name, "web");
  EXPECT_EQ(c.spec.service->portName, "http");
  EXPECT_EQ(c.spec.service->targetPort, (IntOrString{std::int64_t{80}}));
  EXPECT_FALSE(a.iterations.has_value());
}

TEST(DefaultsTest, KeepsWhatIsSet) {
  Canary in = parse(R"({"spec":{"service":{"port":80,"portName":"grpc","targetPort":"api"},
      "progressDeadlineSeconds":60,
      "analysis":{"interval":"30s","threshold":5,"maxWeight":50,"stepWeight":10}}})");
  Canary c = withDefaults(in);
  EXPECT_EQ(c.spec.analysis->interval, "30s");
  EXPECT_EQ(c.spec.analysis->threshold, 5);
  EXPECT_EQ(c.spec.analysis->maxWeight, 50);
  EXPECT_EQ(c.spec.service->portName, "grpc");
  EXPECT_EQ(c.spec.service->targetPort, (IntOrString{std::string("api")}));
  EXPECT_EQ(c.spec.progressDeadlineSeconds, 60);
  EXPECT_EQ(withDefaults(c), c);  // idempotent
}

TEST(DefaultsTest, ThresholdBelowOneBecomesOne) {
  Canary c = withDefaults(parse(R"({"spec":{"analysis":{"threshold":0,"stepWeight":5}}})"));
  EXPECT_EQ(c.spec.analysis->threshold, 1);
}

TEST(DefaultsTest, MaxWeightIsLastStepWeightCappedAt100) {
  Canary c = withDefaults(parse(R"({"spec":{"analysis":{"stepWeights":[1,5,25,60]}}})"));
  EXPECT_EQ(c.spec.analysis->maxWeight, 60);
  EXPECT_EQ(weightSteps(*c.spec.analysis), (std::vector<std::int64_t>{1, 5, 25, 60}));
}

TEST(DefaultsTest, KubernetesProviderRunsTenIterations) {
  Canary c = withDefaults(parse(R"({"spec":{"provider":"kubernetes",
      "analysis":{"stepWeight":10,"maxWeight":50}}})"));
  EXPECT_EQ(c.spec.analysis->iterations, 10);
  EXPECT_EQ(strategyOf(*c.spec.analysis), Strategy::kBlueGreen);
  Canary explicitIterations = withDefaults(parse(R"({"spec":{"provider":"kubernetes",
      "analysis":{"iterations":3}}})"));
  EXPECT_EQ(explicitIterations.spec.analysis->iterations, 3);
}

TEST(DefaultsTest, DeprecatedCanaryAnalysisIsUsedWhenAnalysisIsAbsent) {
  Canary c = withDefaults(parse(R"({"spec":{"canaryAnalysis":{"stepWeight":20}}})"));
  ASSERT_TRUE(c.spec.analysis.has_value());
  EXPECT_EQ(c.spec.analysis->stepWeight, 20);
}

TEST(DefaultsTest, EffectiveIntervalIsNeverBelowTenSeconds) {
  CanaryAnalysis a;
  EXPECT_EQ(effectiveInterval(a), seconds(60));
  a.interval = "5s";
  EXPECT_EQ(effectiveInterval(a), seconds(10));
  a.interval = "2m";
  EXPECT_EQ(effectiveInterval(a), seconds(120));
  a.interval = "soon";
  EXPECT_EQ(effectiveInterval(a), seconds(60));
}

TEST(DefaultsTest, StrategyFollowsFlagger) {
  CanaryAnalysis a;
  a.stepWeight = 10;
  EXPECT_EQ(strategyOf(a), Strategy::kCanary);
  CanaryAnalysis ab;
  ab.iterations = 10;
  ab.match.push_back(JsonValue(nlohmann::json::object()));
  EXPECT_EQ(strategyOf(ab), Strategy::kABTesting);
  CanaryAnalysis bg;
  bg.iterations = 5;
  EXPECT_EQ(strategyOf(bg), Strategy::kBlueGreen);
  bg.mirror = true;
  EXPECT_EQ(strategyOf(bg), Strategy::kBlueGreenMirroring);
  EXPECT_EQ(toString(Strategy::kABTesting), "A/B testing");
}

TEST(DefaultsTest, WeightStepsEndAtMaxWeight) {
  CanaryAnalysis a;
  a.stepWeight = 10;
  a.maxWeight = 50;
  EXPECT_EQ(weightSteps(a), (std::vector<std::int64_t>{10, 20, 30, 40, 50}));
  a.stepWeight = 30;
  EXPECT_EQ(weightSteps(a), (std::vector<std::int64_t>{30, 50}));
  a.maxWeight.reset();
  a.stepWeight = 25;
  EXPECT_EQ(weightSteps(a), (std::vector<std::int64_t>{25, 50, 75, 100}));
  CanaryAnalysis blueGreen;
  blueGreen.iterations = 3;
  EXPECT_TRUE(weightSteps(blueGreen).empty());
}

TEST(DefaultsTest, AlertProviderDefaults) {
  AlertProvider p = withDefaults(AlertProvider{});
  EXPECT_EQ(p.spec.channel, "general");
  EXPECT_EQ(p.spec.username, "flagger");
}

}  // namespace
}  // namespace canaryd::api
