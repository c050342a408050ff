// One simulated rollout: the daemon's Reconciler driven in virtual time through the library's
// scenarios; deterministic per seed, the same traffic for every judge, faults that act.
#include "canaryd/sim/run.h"

#include <gtest/gtest.h>

#include "support/source_files.h"

namespace canaryd::sim {
namespace {

using std::chrono::minutes;
using testing::readFile;
using testing::sourcePath;

Scenario library(const std::string& name) {
  const std::string dir = "simulations/scenarios/";
  ScenarioRead read = readScenario(readFile(sourcePath(dir + name + ".yaml")), name,
                                   [&](const std::string& file) -> Result<std::string> {
                                     return readFile(sourcePath(dir + file));
                                   });
  EXPECT_TRUE(read.scenario.has_value());
  return *read.scenario;
}

bool sawNote(const RunResult& r, const std::string& text) {
  for (const TimelineEntry& e : r.timeline) {
    for (const std::string& note : e.notes) {
      if (note.find(text) != std::string::npos) return true;
    }
  }
  return false;
}

TEST(SimRunTest, AHealthyReleaseClimbsTheStepsAndIsPromoted) {
  const RunResult r = runScenario(library("healthy-aa"), {});
  EXPECT_EQ(r.phase, "Succeeded");
  ASSERT_FALSE(r.timeline.empty());
  std::vector<std::int64_t> weights;
  for (const TimelineEntry& e : r.timeline) {
    if (weights.empty() || weights.back() != e.canaryWeight) weights.push_back(e.canaryWeight);
  }
  // 10% steps to 50% every minute, then the promotion routes everything back to the primary.
  EXPECT_EQ(weights, (std::vector<std::int64_t>{0, 10, 20, 30, 40, 50, 0}));
  EXPECT_TRUE(sawNote(r, "Advance shop.sim canary weight 50"));
  EXPECT_TRUE(sawNote(r, "alert info: Promotion completed!"));
  // 5 steps, then held at the top until the requests would have caught +1 point of errors
  // (detectIncrease), without a verdict: promoted, as a healthy Flagger run is.
  EXPECT_EQ(r.outcome, Outcome::kPromoted);
  EXPECT_EQ(r.verdict, "inconclusive");
  EXPECT_TRUE(r.rolledBackBy.empty());
  EXPECT_GT(r.decisionTime, minutes(5));
  EXPECT_LE(r.decisionTime, minutes(20));
  EXPECT_TRUE(sawNote(r, "would not catch an error-rate increase of 1 points"));
  EXPECT_GT(r.canaryRequests, 0);
  EXPECT_LT(r.badRequestsServed, r.canaryRequests / 10);
}

TEST(SimRunTest, AnErrorRegressionIsRolledBackWithTheJudgesNumbers) {
  const RunResult r = runScenario(library("error-plus-5pp"), {});
  EXPECT_EQ(r.phase, "Failed");
  EXPECT_EQ(r.outcome, Outcome::kRolledBack);
  EXPECT_LE(r.decisionTime, minutes(5));
  EXPECT_NE(r.reason.find("the sequential judge failed the canary"), std::string::npos) << r.reason;
  EXPECT_EQ(r.rolledBackBy, "judge");
  EXPECT_TRUE(sawNote(r, "alert error: Canary shop.sim rolled back"));
  EXPECT_EQ(r.timeline.back().canaryWeight, 0);
}

TEST(SimRunTest, CheckIntervalRollsBackBetweenStepsOnTheSameTraffic) {
  Scenario often = library("error-plus-5pp");
  Result<api::Canary> canary = withCheckInterval(often.canary, "15s");
  ASSERT_TRUE(canary.ok()) << canary.error().message();
  often.canary = *canary;
  const RunResult stepwise = runScenario(library("error-plus-5pp"), {});
  const RunResult r = runScenario(often, {});
  EXPECT_EQ(r.outcome, Outcome::kRolledBack);
  // The judge looked every 15s: a verdict between the steps, and the rollback no later.
  bool between = false;
  for (const TimelineEntry& e : r.timeline) {
    if (!e.judge.empty() && e.t % minutes(1) != Duration::zero()) between = true;
  }
  EXPECT_TRUE(between);
  EXPECT_LE(r.decisionTime, stepwise.decisionTime);
  EXPECT_LE(r.canaryRequests, stepwise.canaryRequests);
  // Only the sequential judge can be checked that often.
  EXPECT_FALSE(withCheckInterval(*withJudge(often.canary, "threshold"), "15s").ok());
  EXPECT_FALSE(withCheckInterval(often.canary, "2s").ok());
}

TEST(SimRunTest, TheSameSeedGivesTheSameRunAndJudgesSeeTheSameTraffic) {
  const Scenario s = library("error-plus-1pp");
  RunOptions a;
  a.seed = 7;
  const RunResult first = runScenario(s, a);
  const RunResult again = runScenario(s, a);
  EXPECT_EQ(first.decisionTime, again.decisionTime);
  EXPECT_EQ(first.badRequestsServed, again.badRequestsServed);
  EXPECT_EQ(first.timeline.size(), again.timeline.size());
  // Two judges on one seed: until the first decision both served the same canary requests.
  RunOptions threshold = a;
  threshold.judge = "threshold";
  const RunResult other = runScenario(s, threshold);
  const std::size_t common = std::min(first.timeline.size(), other.timeline.size());
  ASSERT_GT(common, 2u);
  EXPECT_EQ(first.timeline[1].t, other.timeline[1].t);
  EXPECT_EQ(first.timeline[1].canaryWeight, other.timeline[1].canaryWeight);
  // Another seed is other traffic.
  RunOptions b;
  b.seed = 8;
  EXPECT_NE(runScenario(s, b).canaryRequests, first.canaryRequests);
}

TEST(SimRunTest, ThresholdJudgeOverrideUsesFlaggersChecks) {
  RunOptions o;
  o.judge = "threshold";
  const RunResult r = runScenario(library("error-plus-5pp"), o);
  EXPECT_EQ(r.phase, "Failed");
  EXPECT_EQ(r.outcome, Outcome::kRolledBack);
  EXPECT_NE(r.reason.find("failed checks threshold reached 5"), std::string::npos) << r.reason;
  EXPECT_EQ(r.rolledBackBy, "threshold");
  EXPECT_FALSE(withJudge(library("healthy-aa").canary, "bayesian").ok());
}

TEST(SimRunTest, ARefusingGateHoldsThePromotion) {
  const RunResult r = runScenario(library("refusing-gate"), {});
  EXPECT_EQ(r.phase, "WaitingPromotion");
  EXPECT_FALSE(r.decided);
  EXPECT_EQ(r.outcome, Outcome::kUndecided);
  EXPECT_TRUE(sawNote(r, "webhook http://approvals.sim/gate (Progressing): 403"));
  EXPECT_TRUE(unmetExpectations(library("refusing-gate").expect, r).empty());
}

TEST(SimRunTest, AMetricsOutageHaltsTheRolloutUntilPrometheusAnswers) {
  const RunResult r = runScenario(library("metrics-outage"), {});
  EXPECT_EQ(r.phase, "Succeeded");
  EXPECT_TRUE(sawNote(r, "simulated metrics outage"));
  // Halted for the outage's windows: later than the healthy run.
  EXPECT_GT(r.decisionTime, runScenario(library("healthy-aa"), {}).decisionTime);
}

TEST(SimRunTest, BlueGreenIsJudgedOnTheLoadTestersRequestsAlone) {
  const RunResult healthy = runScenario(library("blue-green"), {});
  EXPECT_EQ(healthy.phase, "Succeeded");
  // Users stay on the primary during the analysis; Flagger's blue/green switches them to the
  // canary only while the primary is updated.
  for (const TimelineEntry& e : healthy.timeline) {
    if (e.phase == "Progressing") {
      EXPECT_EQ(e.canaryWeight, 0) << "at " << e.t.count();
    }
  }
  EXPECT_EQ(healthy.canaryRequests, 0);  // users never reached the canary
  const RunResult bad = runScenario(library("blue-green-error-plus-5pp"), {});
  EXPECT_EQ(bad.phase, "Failed");
  EXPECT_EQ(bad.outcome, Outcome::kRolledBack);
  EXPECT_EQ(bad.badRequestsServed, 0);
}

TEST(SimRunTest, UnmetExpectationsAreNamed) {
  Expect e;
  e.phase = "Failed";
  e.outcome = "rolledBack";
  e.maxDuration = minutes(10);
  RunResult r;
  r.phase = "Succeeded";
  r.outcome = Outcome::kPromoted;
  r.duration = minutes(22);
  const std::vector<std::string> unmet = unmetExpectations(e, r);
  EXPECT_EQ(unmet, (std::vector<std::string>{"phase Succeeded, expected Failed",
                                             "outcome promoted, expected rolledBack",
                                             "took 22m0s, expected at most 10m0s"}));
}

}  // namespace
}  // namespace canaryd::sim
