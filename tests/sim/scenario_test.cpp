// Scenario files: the library's files read whole; every mistake reported with its field path,
// line and what is allowed, as `canaryd validate` reports a Canary's.
#include "canaryd/sim/scenario.h"

#include <gtest/gtest.h>

#include "support/source_files.h"

namespace canaryd::sim {
namespace {

using testing::readFile;
using testing::sourcePath;

Result<std::string> noFiles(const std::string& name) {
  return Error::notFound("no file " + name + " in this test");
}

std::string problemsOf(const ScenarioRead& read) {
  std::string out;
  for (const api::Problem& p : read.problems)
    out += std::to_string(p.line) + " " + p.path + ": " + p.message + "\n";
  return out;
}

TEST(ScenarioTest, ReadsALibraryScenario) {
  const std::string file = "simulations/scenarios/error-plus-1pp.yaml";
  auto files = [](const std::string& name) -> Result<std::string> {
    return readFile(sourcePath("simulations/scenarios/" + name));
  };
  ScenarioRead read = readScenario(readFile(sourcePath(file)), file, files);
  ASSERT_TRUE(read.scenario.has_value()) << problemsOf(read);
  const Scenario& s = *read.scenario;
  EXPECT_EQ(s.name, "error-plus-1pp");
  EXPECT_EQ(s.canary.metadata.name, "shop");
  EXPECT_EQ(s.canary.spec.analysis->judge->type, "sequential");
  // The judge as a user writes it: its defaults decide.
  EXPECT_EQ(s.canary.spec.analysis->judge->inconclusiveLimit, std::nullopt);
  EXPECT_EQ(s.canary.spec.analysis->judge->promoteOnInconclusive, std::nullopt);
  EXPECT_EQ(s.traffic.requestsPerSecond, 10);
  EXPECT_EQ(s.traffic.pattern, Pattern::kConstant);
  EXPECT_DOUBLE_EQ(s.primary.errorRate, 0.005);
  EXPECT_DOUBLE_EQ(s.candidate.errorRate, 0.015);
  EXPECT_EQ(s.candidate.latency, (Latency{20, 200}));
  EXPECT_EQ(s.durationLimit, std::chrono::minutes(60));
  EXPECT_EQ(s.expect.phase, "Failed");
  EXPECT_EQ(s.expect.outcome, "rolledBack");
  EXPECT_EQ(s.expect.maxDuration, std::chrono::minutes(25));
}

TEST(ScenarioTest, TheCanaryMayComeFromAFileAndItsProblemsNameIt) {
  const std::string scenario = R"(apiVersion: canaryd.dev/v1alpha1
kind: Scenario
metadata: {name: from-file}
spec:
  canaryFile: canary.yaml
  traffic: {requestsPerSecond: 100, pattern: bursty, burstFactor: 4, burstProbability: 0.2}
  faults: [{type: metrics-outage, from: 3m, until: 5m}]
  durationLimit: 20m
)";
  auto files = [](const std::string& name) -> Result<std::string> {
    if (name != "canary.yaml") return Error::notFound(name);
    return readFile(sourcePath("examples/canary-sequential-judge.yaml"));
  };
  ScenarioRead read = readScenario(scenario, "s.yaml", files);
  ASSERT_TRUE(read.scenario.has_value()) << problemsOf(read);
  EXPECT_EQ(read.scenario->canary.metadata.name, "checkout");
  EXPECT_EQ(read.scenario->traffic.pattern, Pattern::kBursty);
  ASSERT_EQ(read.scenario->faults.size(), 1u);
  EXPECT_EQ(read.scenario->faults[0].until, std::chrono::minutes(5));

  auto broken = [](const std::string&) -> Result<std::string> {
    return std::string(
        "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: x, namespace: y}\n"
        "spec:\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: x}\n"
        "  service: {port: 80}\n  analysis: {interval: 1m, stepWeigth: 10}\n");
  };
  read = readScenario(scenario, "s.yaml", broken);
  EXPECT_FALSE(read.scenario.has_value());
  EXPECT_NE(problemsOf(read).find("spec.canaryFile: canary.yaml:7: spec.analysis.stepWeigth"),
            std::string::npos)
      << problemsOf(read);
}

TEST(ScenarioTest, MistakesNameTheFieldTheLineAndWhatIsAllowed) {
  const std::string scenario = R"(apiVersion: canaryd.dev/v1alpha1
kind: Scenario
metadata: {name: broken}
spec:
  canary:
    apiVersion: flagger.app/v1beta1
    kind: Canary
    metadata: {name: shop, namespace: sim}
    spec:
      targetRef: {apiVersion: apps/v1, kind: Deployment, name: shop}
      service: {port: 8080}
      analysis: {interval: 1m, threshold: 0}
  traffic: {requestsPerSecond: 10, pattern: weekly}
  primary: {errorRate: 5, latency: {p50: 20, p99: 10}}
  candidate: {errorRate: 0.01, onset: soon}
  faults: [{type: dns-outage, from: 5m, until: 2m}]
  durationLimit: 1h
  expect: {phase: Promoted}
  extra: true
)";
  // The error processes' fields (a separate scenario: the lines above stay as they are).
  const std::string processes = R"(apiVersion: canaryd.dev/v1alpha1
kind: Scenario
metadata: {name: broken}
spec:
  canaryFile: c.yaml
  traffic: {requestsPerSecond: 10, pattern: constant, rateNoise: {cv: -1}}
  primary: {errorRate: 0.01, errorBursts: {meanSize: 0.5},
            errorRateSchedule: [{after: 5m, errorRate: 0.1}, {after: 2m, errorRate: 0.2}]}
  candidate: {errorRate: 0.01, errorRateSchedule: [{errorRate: 0.1}]}
)";
  const std::string processProblems = problemsOf(readScenario(processes, "p.yaml", noFiles));
  for (const char* want : {"spec.traffic.rateNoise.cv: must be between 0 and 5",
                           "spec.primary.errorBursts.meanSize: must be between 1 and 1000",
                           "spec.primary.errorRateSchedule[1].after: must be later than the change "
                           "before it",
                           "spec.candidate.errorRateSchedule[0]: needs after"}) {
    EXPECT_NE(processProblems.find(want), std::string::npos) << "missing: " << want << "\nin:\n"
                                                             << processProblems;
  }
  ScenarioRead read = readScenario(scenario, "broken.yaml", noFiles);
  EXPECT_FALSE(read.scenario.has_value());
  const std::string all = problemsOf(read);
  for (const char* want :
       {"13 spec.traffic.pattern: must be one of: constant, diurnal, bursty; got \"weekly\"",
        "14 spec.primary.errorRate: must be between 0 and 1 (a fraction of requests), got 5",
        "14 spec.primary.latency.p99: must not be below p50",
        "15 spec.candidate.onset: ", "16 spec.faults[0].type: must be one of: metrics-outage",
        "16 spec.faults[0].until: must be after from",
        "18 spec.expect.phase: must be one of: Succeeded, Failed",
        "19 spec.extra: unknown field; allowed here:", "spec.canary.spec.analysis.threshold"}) {
    EXPECT_NE(all.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << all;
  }
  read = readScenario("apiVersion: v1\nkind: Pod\n", "pod.yaml", noFiles);
  EXPECT_NE(problemsOf(read).find("apiVersion: must be canaryd.dev/v1alpha1"), std::string::npos);
  EXPECT_NE(problemsOf(read).find("spec: required field is missing"), std::string::npos);
  read = readScenario("{{{", "bad.yaml", noFiles);
  EXPECT_FALSE(read.scenario.has_value());
  EXPECT_FALSE(read.problems.empty());
}

}  // namespace
}  // namespace canaryd::sim
