// The rollout state machine step by step, with scripted gates and a virtual clock: the exact
// weights, phases, events, alerts and gate calls of each path.
#include "canaryd/controller/rollout.h"

#include <algorithm>
#include <deque>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/controller/primary.h"

namespace canaryd::controller {
namespace {

class ScriptedGates final : public Gates {
 public:
  std::vector<std::string> calls;
  bool confirmRolloutAnswer = true;
  bool preRolloutAnswer = true;
  bool rollbackAnswer = false;
  std::deque<CheckOutcome> checks;   // empty: pass
  std::deque<CheckOutcome> between;  // the judge between steps; empty: no verdict
  bool trafficAnswer = true;
  std::deque<bool> promotionAnswers;  // empty: accept

  bool confirmRollout() override { return log("confirm-rollout", confirmRolloutAnswer); }
  bool preRollout() override { return log("pre-rollout", preRolloutAnswer); }
  bool rollbackRequested() override { return log("rollback", rollbackAnswer); }
  CheckOutcome runChecks() override {
    calls.push_back("checks");
    if (checks.empty()) return {};
    CheckOutcome c = checks.front();
    if (checks.size() > 1) checks.pop_front();
    return c;
  }
  CheckOutcome judgeBetweenSteps() override {
    calls.push_back("judge");
    if (between.empty()) return {};
    CheckOutcome c = between.front();
    between.pop_front();
    return c;
  }
  bool confirmTrafficIncrease() override { return log("confirm-traffic-increase", trafficAnswer); }
  bool confirmPromotion() override {
    bool answer = true;
    if (!promotionAnswers.empty()) {
      answer = promotionAnswers.front();
      promotionAnswers.pop_front();
    }
    return log("confirm-promotion", answer);
  }

 private:
  bool log(const char* name, bool answer) {
    calls.push_back(name);
    return answer;
  }
};

api::Canary canaryFrom(const std::string& analysisJson) {
  auto c = api::canaryFromJson(R"({"apiVersion":"flagger.app/v1beta1","kind":"Canary",
      "metadata":{"name":"podinfo","namespace":"test"},
      "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
              "service":{"port":9898},"analysis":)" +
                               analysisJson + "}}");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return api::withDefaults(c.ok() ? *c : api::Canary{});
}

// Runs steps like the reconciler would, keeping status as the only memory.
class Driver {
 public:
  explicit Driver(api::Canary canary) : canary_(std::move(canary)) {}
  Step tick() {
    Step s = step(canary_, observed, gates, clock.now());
    canary_.status = s.status;
    clock.advance(s.requeueAfter);
    for (const Action& a : s.actions) {
      if (a.type == Action::Type::kSetWeights) weights.push_back(a.canaryWeight);
      if (a.type == Action::Type::kAlert) {
        alerts.push_back(a.severity + ": " + a.message);
        alertFacts.push_back(a.facts);
      }
      if (a.type == Action::Type::kEvent) events.push_back(a.severity + ": " + a.message);
      actions.push_back(a.type);
    }
    phases.push_back(phase());
    return s;
  }
  std::string phase() const { return canary_.status->phase.value_or(""); }
  api::Canary& canary() { return canary_; }
  const api::CanaryStatus& status() const { return *canary_.status; }

  Observation observed{"rev-1", true, false, true, false, "podinfo=podinfo:1"};
  ScriptedGates gates;
  VirtualClock clock;
  std::vector<std::int64_t> weights;
  std::vector<std::string> phases;
  std::vector<std::string> alerts;
  std::vector<Facts> alertFacts;
  std::vector<std::string> events;
  std::vector<Action::Type> actions;

 private:
  api::Canary canary_;
};

const char* kProgressive = R"({"interval":"1m","threshold":5,"maxWeight":50,"stepWeight":10})";

TEST(RolloutTest, FirstSightInitializesAndAdoptsTheRevisionWithoutAnalysis) {
  Driver d(canaryFrom(kProgressive));
  d.observed.primaryReady = false;
  d.tick();
  EXPECT_EQ(d.phase(), "Initializing");
  EXPECT_EQ(d.actions, std::vector<Action::Type>{Action::Type::kInitializePrimary});
  d.observed.primaryReady = true;
  d.tick();
  EXPECT_EQ(d.phase(), "Initialized");
  EXPECT_EQ(d.status().lastAppliedSpec, "rev-1");
  EXPECT_EQ(d.status().lastPromotedSpec, "rev-1");
  EXPECT_EQ(d.actions[1], Action::Type::kScaleTargetToZero);
  EXPECT_TRUE(d.gates.calls.empty());
  ASSERT_EQ(d.status().conditions.size(), 4u);  // Promoted, then Reconciling, Stalled, Ready
  EXPECT_EQ(d.status().conditions[0].type, "Promoted");
  EXPECT_EQ(d.status().conditions[0].status, "True");
  EXPECT_EQ(d.status().conditions[0].reason, "Initialized");
  // Nothing changes: idle.
  d.tick();
  EXPECT_EQ(d.phase(), "Initialized");
}

TEST(RolloutTest, ProgressiveCanaryStepsToMaxWeightThenPromotes) {
  Driver d(canaryFrom(kProgressive));
  d.tick();  // Initialized
  d.observed.revision = "rev-2";
  for (int i = 0; i < 10 && d.phase() != "Succeeded"; ++i)
    d.tick();
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{10, 20, 30, 40, 50, 0}));
  EXPECT_EQ(d.phases, (std::vector<std::string>{
                          "Initialized", "Progressing", "Progressing", "Progressing", "Progressing",
                          "Progressing", "Progressing", "Promoting", "Finalising", "Succeeded"}));
  EXPECT_EQ(d.status().lastPromotedSpec, "rev-2");
  EXPECT_EQ(d.status().canaryWeight, 0);
  EXPECT_EQ(d.gates.calls.front(), "confirm-rollout");
  // At weight 0 only the pre-rollout hooks run (no traffic reaches the canary, so there is
  // nothing to analyse, as in Flagger); then every interval: rollback hook, checks, and a
  // confirm-traffic-increase per step; at the top, confirm-promotion.
  std::vector<std::string> firstIntervals(d.gates.calls.begin() + 1, d.gates.calls.begin() + 7);
  EXPECT_EQ(firstIntervals,
            (std::vector<std::string>{"rollback", "pre-rollout", "confirm-traffic-increase",
                                      "rollback", "checks", "confirm-traffic-increase"}));
  EXPECT_EQ(std::count(d.gates.calls.begin(), d.gates.calls.end(), "checks"), 5);
  EXPECT_EQ(std::count(d.gates.calls.begin(), d.gates.calls.end(), "confirm-traffic-increase"), 5);
  EXPECT_EQ(std::count(d.gates.calls.begin(), d.gates.calls.end(), "confirm-promotion"), 1);
  EXPECT_EQ(d.alerts.back(), "info: Promotion completed! podinfo.test");
  EXPECT_EQ(d.events, (std::vector<std::string>{
                          "Normal: Initialization done! podinfo.test",
                          "Normal: New revision detected! Scaling up podinfo.test",
                          "Normal: Advance podinfo.test canary weight 10",
                          "Normal: Advance podinfo.test canary weight 20",
                          "Normal: Advance podinfo.test canary weight 30",
                          "Normal: Advance podinfo.test canary weight 40",
                          "Normal: Advance podinfo.test canary weight 50",
                          "Normal: Copying podinfo.test template spec to the primary",
                          "Normal: Promotion completed! Scaling down podinfo.test",
                      }));
  EXPECT_EQ(d.actions.back(), Action::Type::kRunPostRolloutHooks);
  EXPECT_EQ(d.status().conditions[0].reason, "Succeeded");
}

TEST(RolloutTest, FailingMetricRollsBackAfterTheFifthFailedCheck) {
  Driver d(canaryFrom(kProgressive));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();  // Progressing: the canary is scaled up
  d.tick();  // weight 10
  d.gates.checks = {checkFailed("request-success-rate 91.3 < 99")};
  std::vector<std::int64_t> failed;
  for (int i = 0; i < 10 && d.phase() != "Failed"; ++i) {
    d.tick();
    failed.push_back(d.status().failedChecks.value_or(0));
  }
  // Five failed checks, then the rollback at the next interval.
  EXPECT_EQ(failed, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 0}));
  EXPECT_EQ(d.phase(), "Failed");
  EXPECT_EQ(d.weights.back(), 0);
  EXPECT_EQ(d.actions.back(), Action::Type::kRunPostRolloutHooks);
  ASSERT_FALSE(d.alerts.empty());
  EXPECT_EQ(d.alerts.back(),
            "error: Canary podinfo.test rolled back: failed checks threshold reached 5");
  EXPECT_EQ(d.status().conditions[0].status, "False");
  // The weight never advanced past the first step while checks failed.
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{10, 0}));
  // The failed revision stays failed until the target changes again.
  d.tick();
  EXPECT_EQ(d.phase(), "Failed");
}

TEST(RolloutTest, TheRollbackAlertCarriesTheLastFailedChecksNumbersAndTheNextStep) {
  Driver d(canaryFrom(kProgressive));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();  // Progressing
  ASSERT_EQ(d.alertFacts.back().back().first, "next");
  EXPECT_EQ(d.alertFacts.back().back().second,
            "canary weight 10% once the canary is ready, up to 50% in 5 steps of 1m0s, then "
            "promotion");
  d.tick();  // weight 10
  CheckOutcome failing = checkFailed("request-success-rate 91.3 < 99");
  failing.evidence = {
      {"metric", "request-success-rate"}, {"value", "91.3"}, {"thresholdRange", "min 99"}};
  d.gates.checks = {failing};
  for (int i = 0; i < 10 && d.phase() != "Failed"; ++i)
    d.tick();
  ASSERT_EQ(d.phase(), "Failed");
  // The threshold is reached one interval after the fifth failure; the evidence was kept.
  ASSERT_TRUE(d.status().lastFailedCheck.has_value());
  EXPECT_EQ(d.status().lastFailedCheck->message, "request-success-rate 91.3 < 99");
  const Facts& facts = d.alertFacts.back();
  ASSERT_EQ(facts.size(), 5u);
  EXPECT_EQ(facts[0], (std::pair<std::string, std::string>{"last failed check",
                                                           "request-success-rate 91.3 < 99"}));
  EXPECT_EQ(facts[2], (std::pair<std::string, std::string>{"value", "91.3"}));
  EXPECT_EQ(facts[3], (std::pair<std::string, std::string>{"thresholdRange", "min 99"}));
  EXPECT_EQ(facts[4].first, "next");
  EXPECT_NE(facts[4].second.find("primary keeps serving the last promoted revision"),
            std::string::npos);
  // A new revision starts with a clean slate.
  d.observed.revision = "rev-3";
  d.tick();
  EXPECT_FALSE(d.status().lastFailedCheck.has_value());
}

TEST(RolloutTest, ConfirmRolloutHoldsInWaitingUntilAccepted) {
  Driver d(canaryFrom(kProgressive));
  d.tick();
  d.observed.revision = "rev-2";
  d.gates.confirmRolloutAnswer = false;
  d.tick();
  d.tick();
  EXPECT_EQ(d.phase(), "Waiting");
  EXPECT_EQ(std::count(d.alerts.begin(), d.alerts.end(),
                       "warn: Canary is waiting for approval podinfo.test"),
            1);
  d.gates.confirmRolloutAnswer = true;
  d.tick();
  EXPECT_EQ(d.phase(), "Progressing");
}

TEST(RolloutTest, MuteAlertSilencesTheWaitingAlertOfItsGate) {
  for (bool mute : {false, true}) {
    Driver d(canaryFrom(std::string(R"({"interval":"1m","threshold":5,"stepWeight":10,
        "webhooks":[{"name":"gate","type":"confirm-rollout","url":"http://gate/","muteAlert":)") +
                        (mute ? "true" : "false") + "}]}"));
    d.tick();
    d.observed.revision = "rev-2";
    d.gates.confirmRolloutAnswer = false;
    const std::size_t before = d.alerts.size();
    d.tick();
    EXPECT_EQ(d.phase(), "Waiting");
    EXPECT_EQ(d.alerts.size() - before, mute ? 0u : 1u) << "muteAlert " << mute;
    EXPECT_EQ(d.events.back(), "Normal: Waiting for approval podinfo.test");  // always
  }
}

TEST(RolloutTest, RefusedTrafficIncreaseHaltsWithoutCountingAFailure) {
  Driver d(canaryFrom(kProgressive));
  d.tick();
  d.observed.revision = "rev-2";
  d.gates.trafficAnswer = false;
  d.tick();
  d.tick();
  EXPECT_TRUE(d.weights.empty());
  EXPECT_EQ(d.status().failedChecks.value_or(0), 0);
  d.gates.trafficAnswer = true;
  d.tick();
  EXPECT_EQ(d.weights, std::vector<std::int64_t>{10});
}

TEST(RolloutTest, RefusedPromotionWaitsWhileAnalysisContinues) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"stepWeights":[50]})"));
  d.tick();
  d.observed.revision = "rev-2";
  d.gates.promotionAnswers = {false, false, true};
  for (int i = 0; i < 8 && d.phase() != "Succeeded"; ++i)
    d.tick();
  EXPECT_EQ(d.phases, (std::vector<std::string>{"Initialized", "Progressing", "Progressing",
                                                "WaitingPromotion", "WaitingPromotion", "Promoting",
                                                "Finalising", "Succeeded"}));
  // Checks at 50 (refused), 50 (refused), 50 (accepted); none at weight 0.
  EXPECT_EQ(std::count(d.gates.calls.begin(), d.gates.calls.end(), "checks"), 3);
}

TEST(RolloutTest, NewRevisionMidRunRestartsTheAnalysis) {
  Driver d(canaryFrom(kProgressive));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();  // Progressing
  d.tick();  // weight 10
  d.tick();  // weight 20
  d.observed.revision = "rev-3";
  d.tick();
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{10, 20, 0}));
  EXPECT_EQ(d.status().lastAppliedSpec, "rev-3");
  EXPECT_EQ(d.phase(), "Progressing");
  d.tick();
  EXPECT_EQ(d.weights.back(), 10);
}

TEST(RolloutTest, CanaryNotReadyWaitsThenRollsBackAtTheDeadline) {
  Driver d(canaryFrom(kProgressive));
  d.tick();
  d.observed.revision = "rev-2";
  d.observed.canaryReady = false;
  d.tick();
  d.tick();
  EXPECT_EQ(d.phase(), "Progressing");
  EXPECT_TRUE(d.weights.empty());
  d.observed.canaryDeadlineExceeded = true;
  d.tick();
  EXPECT_EQ(d.phase(), "Failed");
  EXPECT_NE(d.alerts.back().find("not ready within the progress deadline"), std::string::npos);
}

TEST(RolloutTest, FailingPreRolloutHooksCountFailedChecksAtWeightZero) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"maxWeight":50,"stepWeight":10})"));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();  // Progressing
  d.gates.preRolloutAnswer = false;
  d.tick();
  EXPECT_EQ(d.status().failedChecks, 1);
  d.tick();
  EXPECT_EQ(d.status().failedChecks, 2);
  d.tick();
  EXPECT_EQ(d.phase(), "Failed");
  // The metrics never ran: the pre-rollout hooks gate them.
  EXPECT_EQ(std::count(d.gates.calls.begin(), d.gates.calls.end(), "checks"), 0);
  EXPECT_TRUE(d.weights == std::vector<std::int64_t>{0});
}

TEST(RolloutTest, PrimaryNotReadyWhilePromotingKeepsTrafficOnTheCanaryAndFails) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"maxWeight":20,"stepWeight":10})"));
  d.tick();
  d.observed.revision = "rev-2";
  while (d.phase() != "Promoting")
    d.tick();
  d.observed.primaryReady = false;
  d.tick();
  EXPECT_EQ(d.phase(), "Promoting");  // waiting for the primary's rolling update
  d.observed.primaryDeadlineExceeded = true;
  d.tick();
  EXPECT_EQ(d.phase(), "Failed");
  EXPECT_EQ(d.weights.back(), 100);
  EXPECT_EQ(d.alerts.back(),
            "error: Promotion of podinfo.test failed: the primary did not become ready");
}

TEST(RolloutTest, RollbackWebhookRollsBackAtOnce) {
  Driver d(canaryFrom(kProgressive));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  d.gates.rollbackAnswer = true;
  d.tick();
  EXPECT_EQ(d.phase(), "Failed");
  EXPECT_EQ(d.alerts.back(),
            "error: Canary podinfo.test rolled back: a rollback webhook requested it");
}

TEST(RolloutTest, BlueGreenRunsIterationsThenSwitchesAllTraffic) {
  Driver d(canaryFrom(R"({"interval":"30s","threshold":2,"iterations":3})"));
  d.tick();
  d.observed.revision = "rev-2";
  for (int i = 0; i < 10 && d.phase() != "Succeeded"; ++i)
    d.tick();
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{100, 0}));
  EXPECT_EQ(d.phases,
            (std::vector<std::string>{"Initialized", "Progressing", "Progressing", "Progressing",
                                      "Progressing", "Promoting", "Finalising", "Succeeded"}));
}

TEST(RolloutTest, ABTestingSendsMatchedTrafficToTheCanaryDuringTheIterations) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"iterations":2,
                          "match":[{"headers":{"x-canary":{"exact":"insider"}}}]})"));
  d.tick();
  d.observed.revision = "rev-2";
  for (int i = 0; i < 10 && d.phase() != "Succeeded"; ++i)
    d.tick();
  // 100 for the matched traffic from the first iteration, kept for promotion, then back to 0.
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{100, 100, 0}));
}

TEST(RolloutTest, MirroringCopiesTrafficDuringTheIterations) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"iterations":2,"mirror":true})"));
  d.tick();
  d.observed.revision = "rev-2";
  std::vector<bool> mirrored;
  for (int i = 0; i < 10 && d.phase() != "Succeeded"; ++i) {
    Step s = d.tick();
    for (const Action& a : s.actions) {
      if (a.type == Action::Type::kSetWeights) mirrored.push_back(a.mirror);
    }
  }
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{0, 100, 0}));
  EXPECT_EQ(mirrored, (std::vector<bool>{true, false, false}));
}

TEST(RolloutTest, StepwisePromotionShiftsTrafficBackGradually) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"stepWeight":50,"maxWeight":100,
                          "stepWeightPromotion":40})"));
  d.tick();
  d.observed.revision = "rev-2";
  for (int i = 0; i < 12 && d.phase() != "Succeeded"; ++i)
    d.tick();
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{50, 100, 60, 20, 0}));
}

TEST(RolloutTest, SkipAnalysisPromotesAtOnceAndSuspendFreezes) {
  api::Canary skip = canaryFrom(kProgressive);
  skip.spec.skipAnalysis = true;
  Driver d(skip);
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  d.tick();
  EXPECT_EQ(d.phase(), "Promoting");
  EXPECT_EQ(std::count(d.gates.calls.begin(), d.gates.calls.end(), "checks"), 0);

  api::Canary suspended = canaryFrom(kProgressive);
  suspended.spec.suspend = true;
  Driver s(suspended);
  s.tick();
  EXPECT_EQ(s.phase(), "");
  EXPECT_TRUE(s.actions.empty());
}

TEST(RolloutTest, RevertingToThePromotedRevisionStartsNoRun) {
  Driver d(canaryFrom(kProgressive));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  d.gates.rollbackAnswer = true;
  d.tick();  // Failed on rev-2
  d.gates.rollbackAnswer = false;
  d.observed.revision = "rev-1";  // the user reverts Git to the promoted version
  d.tick();
  EXPECT_EQ(d.phase(), "Failed");
  EXPECT_EQ(d.status().lastAppliedSpec, "rev-1");
  EXPECT_EQ(std::count(d.gates.calls.begin(), d.gates.calls.end(), "confirm-rollout"), 1);
}

TEST(RolloutTest, ReplayingAStepFromTheSameStatusGivesTheSameResult) {
  // A daemon killed after writing nothing re-runs the step from the same status: same answer.
  api::Canary c = canaryFrom(kProgressive);
  Driver d(c);
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  api::Canary snapshot = c;
  snapshot.status = d.status();
  ScriptedGates g1;
  ScriptedGates g2;
  VirtualClock clock;
  Step a = step(snapshot, d.observed, g1, clock.now());
  Step b = step(snapshot, d.observed, g2, clock.now());
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.actions, b.actions);
  EXPECT_EQ(g1.calls, g2.calls);
}

api::JsonValue deploymentWith(int replicas, int generation, int observed, int available) {
  return api::JsonValue(nlohmann::json{
      {"metadata", {{"name", "podinfo"}, {"generation", generation}}},
      {"spec",
       {{"replicas", replicas},
        {"template", {{"spec", {{"containers", {{{"name", "app"}, {"image", "podinfo:1"}}}}}}}}}},
      {"status",
       {{"observedGeneration", observed},
        {"updatedReplicas", replicas},
        {"availableReplicas", available}}}});
}

TEST(ObserveTest, ReadinessAndDeadlinesFromTheDeployments) {
  VirtualClock clock;
  api::Canary canary = canaryFrom(kProgressive);
  canary.spec.progressDeadlineSeconds = 60;
  canary.status = api::CanaryStatus{};
  canary.status->lastTransitionTime = formatRfc3339(clock.now());

  Observation ready =
      observe(canary, deploymentWith(2, 1, 1, 2), deploymentWith(2, 3, 3, 2), {}, clock.now());
  EXPECT_TRUE(ready.canaryReady);
  EXPECT_TRUE(ready.primaryReady);
  EXPECT_EQ(ready.revision, revisionOf(deploymentWith(2, 1, 1, 2), {}));

  Observation slow = observe(canary, deploymentWith(2, 1, 1, 1), std::nullopt, {},
                             clock.now() + std::chrono::seconds(30));
  EXPECT_FALSE(slow.canaryReady);
  EXPECT_FALSE(slow.canaryDeadlineExceeded);
  EXPECT_FALSE(slow.primaryReady);  // no primary yet
  Observation late = observe(canary, deploymentWith(2, 1, 1, 1), std::nullopt, {},
                             clock.now() + std::chrono::seconds(61));
  EXPECT_TRUE(late.canaryDeadlineExceeded);
  EXPECT_TRUE(late.primaryDeadlineExceeded);

  Observation scaledDown =
      observe(canary, deploymentWith(0, 1, 1, 0), deploymentWith(2, 1, 1, 2), {}, clock.now());
  EXPECT_FALSE(scaledDown.canaryReady);
  EXPECT_NE(
      observe(canary, deploymentWith(2, 1, 1, 2), std::nullopt, {{"configmap/x", "1"}}, clock.now())
          .revision,
      ready.revision);
}

api::JsonValue knativeRevision(const std::string& name, const char* ready) {
  return api::JsonValue(nlohmann::json{
      {"apiVersion", "serving.knative.dev/v1"},
      {"kind", "Revision"},
      {"metadata", {{"name", name}, {"generation", 1}}},
      {"status",
       {{"observedGeneration", 1}, {"conditions", {{{"type", "Ready"}, {"status", ready}}}}}}});
}

TEST(ObserveTest, AKnativeTargetsReadinessIsItsRevisions) {
  VirtualClock clock;
  api::Canary canary = canaryFrom(kProgressive);
  canary.spec.progressDeadlineSeconds = 60;
  canary.spec.targetRef = api::LocalObjectReference{"serving.knative.dev/v1", "Service", "web"};
  canary.status = api::CanaryStatus{};
  canary.status->lastTransitionTime = formatRfc3339(clock.now());
  const api::JsonValue service(nlohmann::json{
      {"apiVersion", "serving.knative.dev/v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "web"}, {"annotations", {{"flagger.app/primary-revision", "web-1"}}}}},
      {"spec", {{"template", {{"spec", {{"containers", {{{"image", "web:2"}}}}}}}}}},
      {"status", {{"latestCreatedRevisionName", "web-2"}}}});

  Observation ready = observe(canary, service, knativeRevision("web-1", "True"), {}, clock.now(),
                              knativeRevision("web-2", "True"));
  EXPECT_TRUE(ready.primaryReady);
  EXPECT_TRUE(ready.canaryReady);
  EXPECT_EQ(ready.revision, revisionOf(service, {}));
  EXPECT_EQ(ready.images, "web:2");

  Observation deploying =
      observe(canary, service, knativeRevision("web-1", "True"), {},
              clock.now() + std::chrono::seconds(61), knativeRevision("web-2", "Unknown"));
  EXPECT_TRUE(deploying.primaryReady);
  EXPECT_FALSE(deploying.canaryReady);
  EXPECT_TRUE(deploying.canaryDeadlineExceeded);

  // No canary Revision (Knative made none, or it is gone), no primary Revision: not ready, not
  // the always-ready of a core Service target.
  Observation none = observe(canary, service, std::nullopt, {}, clock.now());
  EXPECT_FALSE(none.primaryReady);
  EXPECT_FALSE(none.canaryReady);
  Observation brokenPrimary = observe(canary, service, knativeRevision("web-1", "False"), {},
                                      clock.now(), knativeRevision("web-2", "True"));
  EXPECT_FALSE(brokenPrimary.primaryReady);
  EXPECT_TRUE(brokenPrimary.canaryReady);
}

TEST(RolloutTest, ReconcilesBetweenIntervalsChangeNothing) {
  // Watch events (the status write, a Deployment's status) wake the reconciler between
  // analysis steps; only a full interval after the last step may the next one run.
  Driver d(canaryFrom(kProgressive));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();  // Progressing
  d.tick();  // weight 10, one interval later
  ASSERT_EQ(d.status().canaryWeight, 10);
  const api::Canary between = [&] {
    api::Canary c = canaryFrom(kProgressive);
    c.status = d.status();
    return c;
  }();
  ScriptedGates gates;
  for (int seconds : {0, 1, 30, 59}) {
    Step s = step(between, d.observed, gates,
                  d.clock.now() - std::chrono::seconds(60) + std::chrono::seconds(seconds));
    EXPECT_EQ(s.status, d.status()) << "at +" << seconds << "s";
    EXPECT_TRUE(s.actions.empty());
    EXPECT_EQ(s.requeueAfter, std::chrono::seconds(60 - seconds));
  }
  EXPECT_TRUE(gates.calls.empty());
  Step due = step(between, d.observed, gates, d.clock.now());
  EXPECT_EQ(due.status.canaryWeight, 20);
}

TEST(RolloutTest, TheIntervalFloorIsTenSecondsUnlessLowered) {
  api::Canary c = canaryFrom(R"({"interval":"2s","threshold":5,"maxWeight":50,"stepWeight":10})");
  ScriptedGates gates;
  VirtualClock clock;
  Observation o{"rev-1", true, false, true, false, "podinfo=podinfo:1"};
  EXPECT_EQ(step(c, o, gates, clock.now()).requeueAfter, std::chrono::seconds(10));
  EXPECT_EQ(step(c, o, gates, clock.now(), std::chrono::seconds(1)).requeueAfter,
            std::chrono::seconds(2));
}

CheckOutcome judged(analysis::Verdict verdict, std::string explanation = "evidence") {
  CheckOutcome c;
  c.passed = verdict != analysis::Verdict::kFail;
  c.failure = std::move(explanation);
  c.verdict = verdict;
  c.judge = api::CanaryJudgeStatus{};
  c.judge->verdict = std::string(analysis::toString(verdict));
  return c;
}

const char* kJudged =
    R"({"interval":"1m","threshold":2,"maxWeight":30,"stepWeight":10,
        "judge":{"type":"sequential","noDataLimit":2}})";

TEST(JudgeRolloutTest, AFailRollsBackAtOnce) {
  Driver d(canaryFrom(kJudged));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();  // Progressing
  d.gates.checks = {judged(analysis::Verdict::kInconclusive)};
  d.tick();  // 10
  d.gates.checks = {
      judged(analysis::Verdict::kFail, "errors: rate ratio 3.1 (e-value 214 >= 100)")};
  d.tick();
  EXPECT_EQ(d.phase(), "Failed");
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{10, 0}));
  EXPECT_EQ(d.alerts.back(),
            "error: Canary podinfo.test rolled back: the sequential judge failed the canary: "
            "errors: rate ratio 3.1 (e-value 214 >= 100)");
  EXPECT_EQ(d.status().failedChecks, 0);
  ASSERT_TRUE(d.status().judge.has_value());
  EXPECT_EQ(d.status().judge->verdict, "fail");
}

TEST(JudgeRolloutTest, TheRollbackAlertCarriesTheJudgesEvidence) {
  Driver d(canaryFrom(kJudged));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();  // Progressing
  d.tick();  // pre-rollout hooks, weight 10
  CheckOutcome fail = judged(analysis::Verdict::kFail, "errors: rate ratio 3.1");
  fail.evidence = {{"judge", "sequential"}, {"e-value", "214 (decides at 100)"}};
  d.gates.checks = {fail};
  d.tick();
  ASSERT_EQ(d.phase(), "Failed");
  const Facts& facts = d.alertFacts.back();
  ASSERT_EQ(facts.size(), 3u);
  EXPECT_EQ(facts[1], (std::pair<std::string, std::string>{"e-value", "214 (decides at 100)"}));
  EXPECT_EQ(facts[2].first, "next");
}

TEST(JudgeRolloutTest, NoDataHoldsTheWeightAndRollsBackAtItsOwnLimit) {
  Driver d(canaryFrom(kJudged));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  d.gates.checks = {judged(analysis::Verdict::kInconclusive)};
  d.tick();  // 10
  d.gates.checks = {judged(analysis::Verdict::kNoData, "no data: no values found")};
  d.tick();
  EXPECT_EQ(d.phase(), "Progressing");
  EXPECT_EQ(d.status().canaryWeight, 10);  // held
  EXPECT_EQ(d.status().failedChecks, 0);   // not a failed check
  EXPECT_EQ(d.status().judge->noDataChecks, 1);
  // noDataLimit counts consecutive windows: one with data starts the count over.
  d.gates.checks = {judged(analysis::Verdict::kInconclusive)};
  d.tick();  // 20
  EXPECT_EQ(d.status().judge->noDataChecks, 0);
  d.gates.checks = {judged(analysis::Verdict::kNoData, "no data: no values found")};
  d.tick();
  EXPECT_EQ(d.phase(), "Progressing");
  EXPECT_EQ(d.status().judge->noDataChecks, 1);
  d.tick();
  EXPECT_EQ(d.phase(), "Failed");
  EXPECT_NE(d.alerts.back().find("no data in 2 consecutive analysis windows (noDataLimit 2)"),
            std::string::npos)
      << d.alerts.back();
}

// minSamples is the run's total of canary requests before a promotion, not a gate per window.
TEST(JudgeRolloutTest, MinSamplesHoldsThePromotionUntilTheRunHasCountedThatManyRequests) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"maxWeight":20,"stepWeight":10,
        "judge":{"type":"sequential","minSamples":500,"inconclusiveLimit":3}})"));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  CheckOutcome few = judged(analysis::Verdict::kPass, "errors: pass");
  few.judgedRequests = 120;
  d.gates.checks = {few};
  d.tick();  // 10
  d.tick();  // 20, the top
  d.tick();  // a pass, but 120 requests: held
  EXPECT_EQ(d.phase(), "Progressing");
  EXPECT_NE(d.events.back().find("has counted 120 canary requests, fewer than minSamples 500"),
            std::string::npos)
      << d.events.back();
  few.judgedRequests = 600;
  d.gates.checks = {few};
  d.tick();
  EXPECT_EQ(d.phase(), "Promoting");
  // A run that never counts them is rolled back at inconclusiveLimit, as no data.
  Driver quiet(canaryFrom(R"({"interval":"1m","threshold":2,"maxWeight":20,"stepWeight":10,
        "judge":{"type":"sequential","minSamples":500,"inconclusiveLimit":2}})"));
  quiet.tick();
  quiet.observed.revision = "rev-2";
  quiet.tick();
  CheckOutcome none = judged(analysis::Verdict::kInconclusive);
  none.judgedRequests = 40;
  quiet.gates.checks = {none};
  for (int i = 0; i < 4; ++i)
    quiet.tick();
  EXPECT_EQ(quiet.phase(), "Failed");
  EXPECT_NE(quiet.alerts.back().find("fewer than minSamples 500 after 2 windows at the top weight"),
            std::string::npos)
      << quiet.alerts.back();
}

// The judge as a harm detector (its default): without evidence of harm the run is promoted at
// its planned end, held at the top while its requests could not have caught +1 point.
TEST(JudgeRolloutTest, WithoutEvidenceOfHarmTheRunIsPromotedOnceItCouldHaveCaughtOnePoint) {
  Driver d(canaryFrom(kJudged));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  CheckOutcome quiet = judged(analysis::Verdict::kInconclusive, "rate ratio 1.0 [0.4, 2.6]");
  quiet.detectableIncrease = 0.031;  // would have caught +3.1 points, not +1 yet
  d.gates.checks = {quiet};
  for (int i = 0; i < 3; ++i)
    d.tick();  // 10, 20, 30
  d.tick();    // the top: held
  EXPECT_EQ(d.phase(), "Progressing");
  EXPECT_EQ(d.status().judge->inconclusiveChecks, 1);
  EXPECT_NE(d.events.back().find("would not catch an error-rate increase of 1 points"),
            std::string::npos)
      << d.events.back();
  quiet.detectableIncrease = 0.009;
  d.gates.checks = {quiet};
  d.tick();
  EXPECT_EQ(d.phase(), "Promoting");
  EXPECT_NE(d.events.back().find("Copying"), std::string::npos) << d.events.back();
}

TEST(JudgeRolloutTest, AQuietServiceIsPromotedAfterInconclusiveLimitWindowsNotRolledBack) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"maxWeight":10,"stepWeight":10,
      "judge":{"type":"sequential","inconclusiveLimit":3}})"));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  CheckOutcome quiet = judged(analysis::Verdict::kInconclusive);
  quiet.detectableIncrease = std::numeric_limits<double>::infinity();  // never enough requests
  d.gates.checks = {quiet};
  d.tick();  // weight 10, the top
  d.tick();  // 1/3
  d.tick();  // 2/3
  EXPECT_EQ(d.phase(), "Progressing");
  d.tick();  // 3/3: the planned end, without evidence of harm
  EXPECT_EQ(d.phase(), "Promoting");
}

// Errors in bursts carry less evidence per window: the default hold (15 windows of independent
// errors' evidence) lasts as many times longer as the judge measured them overdispersed; an
// explicit inconclusiveLimit is kept as written.
TEST(JudgeRolloutTest, TheDefaultHoldGrowsWithTheErrorsDispersion) {
  auto holdFor =
      [](const std::string& judge, double dispersion) {
        Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"maxWeight":10,"stepWeight":10,
        "judge":)" + judge + "}"));
        d.tick();
        d.observed.revision = "rev-2";
        d.tick();
        CheckOutcome bursty = judged(analysis::Verdict::kInconclusive);
        bursty.detectableIncrease = std::numeric_limits<double>::infinity();
        bursty.dispersion = dispersion;
        d.gates.checks = {bursty};
        d.tick();  // weight 10, the top
        int held = 0;
        while (d.phase() == "Progressing" && held < 200) {
          d.tick();
          ++held;
        }
        EXPECT_EQ(d.phase(), "Promoting");
        return std::pair{held, d.events};
      };
  EXPECT_EQ(holdFor(R"({"type":"sequential"})", 1).first, 15);
  const auto [held, events] = holdFor(R"({"type":"sequential"})", 3.2);
  EXPECT_EQ(held, 48);
  const bool named = std::any_of(events.begin(), events.end(), [](const std::string& e) {
    return e.find(
               "(error dispersion x3.2: each window weighs less); holding at the top "
               "weight (1/48)") != std::string::npos;
  });
  EXPECT_TRUE(named);
  EXPECT_EQ(holdFor(R"({"type":"sequential","inconclusiveLimit":4})", 3.2).first, 4);
}

TEST(JudgeRolloutTest, PromoteOnInconclusiveFalseNeedsAPass) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"maxWeight":30,"stepWeight":10,
        "judge":{"type":"sequential","noDataLimit":2,"promoteOnInconclusive":false}})"));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  d.gates.checks = {judged(analysis::Verdict::kInconclusive)};
  for (int i = 0; i < 3; ++i)
    d.tick();  // 10, 20, 30
  EXPECT_EQ(d.status().canaryWeight, 30);
  d.tick();  // inconclusive at the top: hold
  EXPECT_EQ(d.phase(), "Progressing");
  EXPECT_EQ(d.status().judge->inconclusiveChecks, 1);
  d.gates.checks = {judged(analysis::Verdict::kPass)};
  d.tick();
  EXPECT_EQ(d.phase(), "Promoting");
  while (d.phase() != "Succeeded")
    d.tick();
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{10, 20, 30, 0}));
}

// Asked for evidence of no harm (promoteOnInconclusive: false): `threshold` windows at the top
// without a pass roll back.
TEST(JudgeRolloutTest, AnInconclusiveRunEndsAfterThresholdWindowsAtTheTop) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"maxWeight":20,"stepWeight":10,
      "judge":{"type":"sequential","promoteOnInconclusive":false}})"));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  d.gates.checks = {judged(analysis::Verdict::kInconclusive, "rate ratio 1.0 [0.4, 2.6]")};
  for (int i = 0; i < 3; ++i)
    d.tick();  // 10, 20, inconclusive 1/2
  d.tick();    // inconclusive 2/2: the run ends
  EXPECT_EQ(d.phase(), "Failed");
  EXPECT_EQ(d.alerts.back(),
            "error: Canary podinfo.test rolled back: the sequential judge stayed "
            "inconclusive for 2 windows at the top weight: rate ratio 1.0 [0.4, 2.6]");
}

TEST(JudgeRolloutTest, InconclusiveLimitReplacesThresholdAtTheTop) {
  Driver d(canaryFrom(R"({"interval":"1m","threshold":2,"maxWeight":10,"stepWeight":10,
      "judge":{"type":"sequential","inconclusiveLimit":4,"promoteOnInconclusive":false}})"));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  d.gates.checks = {judged(analysis::Verdict::kInconclusive, "rate ratio 1.0 [0.4, 2.6]")};
  d.tick();  // weight 10, the top
  for (int i = 1; i < 4; ++i) {
    d.tick();  // inconclusive i/4: past threshold 2, still waiting for evidence
    EXPECT_EQ(d.phase(), "Progressing") << "window " << i;
  }
  d.tick();  // 4/4
  EXPECT_EQ(d.phase(), "Failed");
  EXPECT_EQ(d.alerts.back(),
            "error: Canary podinfo.test rolled back: the sequential judge stayed "
            "inconclusive for 4 windows at the top weight: rate ratio 1.0 [0.4, 2.6]");
}

const char* kJudgedOften =
    R"({"interval":"1m","threshold":2,"maxWeight":30,"stepWeight":10,
        "judge":{"type":"sequential","checkInterval":"15s"}})";

TEST(JudgeRolloutTest, CheckIntervalJudgesBetweenStepsWithoutMovingTheWeight) {
  Driver d(canaryFrom(kJudgedOften));
  d.tick();
  d.observed.revision = "rev-2";
  const TimePoint start = d.clock.now();
  d.tick();  // Progressing, weight 0: nothing reaches the canary, nothing to judge
  d.gates.calls.clear();
  while (d.status().canaryWeight.value_or(0) == 0)
    d.tick();  // pre-rollout hooks at 1m, weight 10
  EXPECT_EQ(d.clock.now() - start, std::chrono::minutes(1) + std::chrono::seconds(15));
  d.gates.checks = {judged(analysis::Verdict::kInconclusive)};
  for (int i = 0; i < 4; ++i)
    d.tick();  // three checks between steps, 15s apart, then the step to 20
  EXPECT_EQ(d.gates.calls,
            (std::vector<std::string>{"rollback", "pre-rollout", "confirm-traffic-increase",
                                      "judge", "judge", "judge", "rollback", "checks",
                                      "confirm-traffic-increase"}));
  EXPECT_EQ(d.weights, (std::vector<std::int64_t>{10, 20}));
  EXPECT_EQ(d.clock.now() - start, std::chrono::minutes(2) + std::chrono::seconds(15));
  EXPECT_EQ(d.status().failedChecks, 0);
  EXPECT_FALSE(d.status().judge->noDataChecks.has_value());
}

TEST(JudgeRolloutTest, AFailBetweenStepsRollsBackAtOnce) {
  Driver d(canaryFrom(kJudgedOften));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  while (d.status().canaryWeight.value_or(0) == 0)
    d.tick();  // weight 10 at 1m
  d.gates.between = {judged(analysis::Verdict::kInconclusive),
                     judged(analysis::Verdict::kFail, "errors: rate ratio 3.1")};
  d.tick();  // 1m15s: inconclusive
  EXPECT_EQ(d.phase(), "Progressing");
  d.tick();  // 1m30s: fail
  ASSERT_EQ(d.phase(), "Failed");
  EXPECT_EQ(d.weights.back(), 0);
  EXPECT_EQ(d.alerts.back(),
            "error: Canary podinfo.test rolled back: the sequential judge failed the canary: "
            "errors: rate ratio 3.1");
  EXPECT_EQ(d.status().judge->verdict, "fail");
}

TEST(JudgeRolloutTest, WithoutCheckIntervalTheJudgeRunsOncePerStep) {
  Driver d(canaryFrom(kJudged));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  d.gates.checks = {judged(analysis::Verdict::kInconclusive)};
  for (int i = 0; i < 3; ++i)
    d.tick();
  EXPECT_EQ(std::count(d.gates.calls.begin(), d.gates.calls.end(), "judge"), 0);
  EXPECT_EQ(std::count(d.gates.calls.begin(), d.gates.calls.end(), "checks"), 2);
}

TEST(JudgeRolloutTest, ANewRunForgetsThePreviousRunsEvidence) {
  Driver d(canaryFrom(kJudged));
  d.tick();
  d.observed.revision = "rev-2";
  d.tick();
  d.tick();  // weight 10
  d.gates.checks = {judged(analysis::Verdict::kNoData)};
  d.tick();
  ASSERT_TRUE(d.status().judge.has_value());
  d.observed.revision = "rev-3";
  d.tick();
  EXPECT_FALSE(d.status().judge.has_value());
}

// kstatus, as Flux computes health for a resource with standard conditions (sigs.k8s.io/cli-utils
// kstatus): observedGeneration behind generation -> InProgress; Reconciling True -> InProgress;
// Stalled True -> Failed; otherwise Current.
std::string kstatus(const api::Canary& c) {
  const api::CanaryStatus& s = *c.status;
  if (c.metadata.generation && s.observedGeneration != c.metadata.generation) return "InProgress";
  auto isTrue = [&](const std::string& type) {
    for (const api::CanaryCondition& cond : s.conditions) {
      if (cond.type == type) return cond.status == "True";
    }
    return false;
  };
  if (isTrue("Reconciling")) return "InProgress";
  if (isTrue("Stalled")) return "Failed";
  return "Current";
}

// Argo CD's built-in health check for flagger.app/Canary, from status.phase.
std::string argoHealth(const api::Canary& c) {
  const std::string phase = c.status->phase.value_or("");
  if (phase == "Failed") return "Degraded";
  if (phase == "Progressing" || phase == "Promoting" || phase == "Finalising") return "Progressing";
  if (phase == "Succeeded" || phase == "Initialized") return "Healthy";
  return "Progressing";  // Argo CD: no known phase yet
}

const api::CanaryCondition& conditionOf(const api::CanaryStatus& s, const std::string& type) {
  for (const api::CanaryCondition& c : s.conditions) {
    if (c.type == type) return c;
  }
  static const api::CanaryCondition kNone;
  ADD_FAILURE() << "no condition " << type;
  return kNone;
}

TEST(GitopsStatusTest, KstatusAndArgoCdSeeEachPhaseOfARollout) {
  api::Canary c = canaryFrom(kProgressive);
  c.metadata.generation = 3;
  Driver d(c);
  std::vector<std::string> seen;
  auto record = [&] {
    seen.push_back(d.phase() + ":" + kstatus(d.canary()) + "/" + argoHealth(d.canary()));
    for (const char* type : {"Reconciling", "Stalled", "Ready"}) {
      EXPECT_EQ(conditionOf(d.status(), type).observedGeneration, 3) << type;
      EXPECT_EQ(conditionOf(d.status(), type).reason, d.phase()) << type;
    }
    EXPECT_EQ(d.status().observedGeneration, 3);
  };
  d.observed.primaryReady = false;
  d.tick();
  record();
  d.observed.primaryReady = true;
  d.tick();
  record();
  EXPECT_EQ(conditionOf(d.status(), "Ready").status, "True");
  EXPECT_EQ(d.status().lastPromotedRevision, "podinfo=podinfo:1");
  // A new revision: Reconciling from the reconcile the target's change triggers.
  d.observed.revision = "rev-2";
  d.observed.images = "podinfo=podinfo:2";
  d.tick();
  record();
  EXPECT_EQ(d.status().lastAppliedRevision, "podinfo=podinfo:2");
  EXPECT_NE(conditionOf(d.status(), "Reconciling").message->find("Rolling out podinfo=podinfo:2"),
            std::string::npos);
  EXPECT_EQ(conditionOf(d.status(), "Ready").status, "False");
  while (d.phase() != "Succeeded") {
    d.tick();
    if (d.phase() != "Progressing") record();
  }
  EXPECT_EQ(d.status().lastPromotedRevision, "podinfo=podinfo:2");
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "Initializing:InProgress/Progressing", "Initialized:Current/Healthy",
                      "Progressing:InProgress/Progressing", "Promoting:InProgress/Progressing",
                      "Finalising:InProgress/Progressing", "Succeeded:Current/Healthy"}));
  // Flagger's Promoted condition is as Flagger writes it.
  const api::CanaryCondition& promoted = d.status().conditions[0];
  EXPECT_EQ(promoted.type, "Promoted");
  EXPECT_EQ(promoted.status, "True");
  EXPECT_EQ(promoted.reason, "Succeeded");
  EXPECT_EQ(promoted.message, "Canary analysis completed successfully, promotion finished.");
  EXPECT_FALSE(promoted.observedGeneration.has_value());

  // A failing revision: Stalled, kstatus Failed, Argo CD Degraded; the message says why.
  d.observed.revision = "rev-3";
  d.observed.images = "podinfo=podinfo:3";
  d.tick();  // Progressing
  d.tick();  // weight 10
  d.gates.checks = {checkFailed("request-success-rate 91.3 < 99")};
  while (d.phase() != "Failed")
    d.tick();
  EXPECT_EQ(kstatus(d.canary()), "Failed");
  EXPECT_EQ(argoHealth(d.canary()), "Degraded");
  const api::CanaryCondition& stalled = conditionOf(d.status(), "Stalled");
  EXPECT_EQ(stalled.status, "True");
  EXPECT_EQ(stalled.reason, "RolledBack");
  EXPECT_NE(stalled.message->find("Rolled back podinfo=podinfo:3: request-success-rate 91.3 < 99"),
            std::string::npos)
      << *stalled.message;
  EXPECT_NE(stalled.message->find("the primary serves podinfo=podinfo:2"), std::string::npos);
  EXPECT_EQ(conditionOf(d.status(), "Ready").status, "False");
  EXPECT_EQ(d.status().conditions[0].status, "False");  // Promoted, as Flagger
  EXPECT_EQ(d.status().conditions[0].reason, "Failed");

  // A spec edit not yet reconciled: observedGeneration is behind, kstatus waits.
  d.canary().metadata.generation = 4;
  EXPECT_EQ(kstatus(d.canary()), "InProgress");
  d.tick();
  EXPECT_EQ(d.status().observedGeneration, 4);
  EXPECT_EQ(kstatus(d.canary()), "Failed");
}

}  // namespace
}  // namespace canaryd::controller

namespace canaryd::controller {
namespace {

TEST(SessionCookiesTest, AWeightedStepGetsCookiesAndWeightZeroRetiresTheCanarys) {
  api::Canary canary = canaryFrom(
      R"({"interval":"1m","threshold":5,"maxWeight":50,"stepWeight":10,
          "sessionAffinity":{"cookieName":"flagger-cookie","primaryCookieName":"primary-cookie"}})");
  canary.metadata.uid = "uid-1";
  api::CanaryStatus status;
  trackSessionCookies(status, canary, 10, "rev-a");
  const std::string cookie = status.sessionAffinityCookie.value_or("");
  ASSERT_EQ(cookie.size(), std::string("flagger-cookie=").size() + 10) << cookie;
  EXPECT_EQ(cookie.rfind("flagger-cookie=", 0), 0u);
  EXPECT_EQ(status.primarySessionAffinityCookie.value_or("").rfind("primary-cookie=", 0), 0u);
  // A later step keeps it; a retried step of the same revision would make the same one.
  trackSessionCookies(status, canary, 20, "rev-a");
  EXPECT_EQ(status.sessionAffinityCookie, cookie);
  api::CanaryStatus retried;
  trackSessionCookies(retried, canary, 10, "rev-a");
  EXPECT_EQ(retried.sessionAffinityCookie, cookie);
  // Another revision, another cookie.
  api::CanaryStatus other;
  trackSessionCookies(other, canary, 10, "rev-b");
  EXPECT_NE(other.sessionAffinityCookie, cookie);
  // Weight 0: the canary cookie becomes the previous one; the primary's stays.
  const auto primary = status.primarySessionAffinityCookie;
  trackSessionCookies(status, canary, 0, "rev-a");
  EXPECT_FALSE(status.sessionAffinityCookie.has_value());
  EXPECT_EQ(status.previousSessionAffinityCookie, cookie);
  EXPECT_EQ(status.primarySessionAffinityCookie, primary);
}

TEST(SessionCookiesTest, AnotherRevisionsCookieIsRetiredWhenANewRunHasWeight) {
  api::Canary canary = canaryFrom(
      R"({"interval":"1m","threshold":5,"maxWeight":50,"stepWeight":10,
          "sessionAffinity":{"cookieName":"c"}})");
  canary.metadata.uid = "uid-1";
  api::CanaryStatus status;
  trackSessionCookies(status, canary, 10, "rev-a");
  const auto first = status.sessionAffinityCookie;
  // A run that ended without going back to weight 0 kept its cookie; the next revision's run
  // retires it and pins its users with its own.
  trackSessionCookies(status, canary, 10, "rev-b");
  EXPECT_EQ(status.previousSessionAffinityCookie, first);
  EXPECT_NE(status.sessionAffinityCookie, first);
  EXPECT_TRUE(status.sessionAffinityCookie.has_value());
}

TEST(SessionCookiesTest, WithoutSessionAffinityOrPrimaryCookieNameNothingIsSet) {
  api::Canary canary = canaryFrom(kProgressive);
  api::CanaryStatus status;
  trackSessionCookies(status, canary, 10, "rev-a");
  EXPECT_EQ(status, api::CanaryStatus{});
  canary = canaryFrom(R"({"interval":"1m","threshold":5,"maxWeight":50,"stepWeight":10,
                          "sessionAffinity":{"cookieName":"c"}})");
  trackSessionCookies(status, canary, 10, "rev-a");
  EXPECT_TRUE(status.sessionAffinityCookie.has_value());
  EXPECT_FALSE(status.primarySessionAffinityCookie.has_value());
}

}  // namespace
}  // namespace canaryd::controller
