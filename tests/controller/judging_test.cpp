// The statistical judges as the controller runs them: queries rendered for the canary and for
// `<target>-primary`, windows kept in status and replayed, no data never a pass.
#include "canaryd/controller/judging.h"

#include <functional>
#include <map>

#include <gtest/gtest.h>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/cluster/null_client.h"

namespace canaryd::controller {
namespace {

// Answers queries with a function of the rendered text; records them.
class ScriptedProvider final : public metrics::Provider {
 public:
  using Instant = std::function<Result<double>(const std::string&)>;
  using Range = std::function<Result<std::vector<double>>(const std::string&)>;
  using ByLabel = std::function<Result<std::map<std::string, double>>(const std::string&)>;
  ScriptedProvider(Instant instant, Instant totals, Range range, ByLabel byLabel,
                   std::vector<std::string>& log)
      : instant_(std::move(instant)),
        totals_(std::move(totals)),
        range_(std::move(range)),
        byLabel_(std::move(byLabel)),
        log_(log) {}
  // The counters' totals (no increase()) go to `totals`; without it they fail, and the judge
  // counts each window with increase() instead.
  Result<double> query(const std::string& q) override {
    if (q.find("increase(") == std::string::npos && q.find("rate(") == std::string::npos) {
      if (!totals_) return Error::unavailable("no totals in this test");
      log_.push_back(q);
      return totals_(q);
    }
    log_.push_back(q);
    return instant_(q);
  }
  Result<std::vector<double>> queryRange(const std::string& q, TimePoint, TimePoint,
                                         Duration) override {
    log_.push_back(q);
    return range_(q);
  }
  // Without a script, what a provider that cannot answer it says.
  Result<std::map<std::string, double>> queryByLabel(const std::string& q,
                                                     const std::string& label) override {
    if (!byLabel_) return metrics::Provider::queryByLabel(q, label);
    log_.push_back(q);
    return byLabel_(q);
  }

 private:
  Instant instant_;
  Instant totals_;
  Range range_;
  ByLabel byLabel_;
  std::vector<std::string>& log_;
};

api::Canary canaryWith(const std::string& judge, const std::string& metrics = "[]") {
  auto c = api::canaryFromJson(R"({"apiVersion":"flagger.app/v1beta1","kind":"Canary",
      "metadata":{"name":"podinfo","namespace":"test"},
      "spec":{"provider":"gatewayapi:v1",
              "targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
              "service":{"port":9898},
              "analysis":{"interval":"1m","threshold":2,"maxWeight":50,"stepWeight":10,
                          "judge":)" +
                               judge + R"(,"metrics":)" + metrics + "}}}");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return api::withDefaults(*c);
}

bool isPrimary(const std::string& q) {
  return q.find("podinfo-primary-") != std::string::npos;
}
bool isErrors(const std::string& q) {
  return q.find(R"(status=~"5.*")") != std::string::npos;
}

struct Fixture {
  // The judges never reach the cluster for built-in metrics.
  cluster::NullClient cluster{"no cluster in this test"};
  std::vector<std::string> queries;
  ScriptedProvider::Instant instant;
  ScriptedProvider::Instant totals;
  ScriptedProvider::Range range;
  ScriptedProvider::ByLabel byLabel;
  ProviderFactory factory =
      [this](const metrics::ProviderConfig&) -> Result<std::unique_ptr<metrics::Provider>> {
    return std::unique_ptr<metrics::Provider>(
        std::make_unique<ScriptedProvider>(instant, totals, range, byLabel, queries));
  };
  MetricCheckContext context{cluster, factory, "http://prometheus:9090", "kubernetes"};
  VirtualClock clock;
};

// The next window a minute later, from where `last` left the judge.
JudgeRun judgeAgain(Fixture& f, api::Canary& c, const JudgeRun& last) {
  api::CanaryStatus status = c.status.value_or(api::CanaryStatus{});
  status.judge = last.status;
  c.status = status;
  f.clock.advance(std::chrono::minutes(1));
  return runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
}

TEST(JudgingTest, SequentialRendersCanaryAndPrimaryCountsAndKeepsTheWindows) {
  Fixture f;
  // 1,000 requests a window on each side; the canary fails 5 %, the primary 0.5 %.
  f.instant = [](const std::string& q) -> Result<double> {
    if (isErrors(q)) return isPrimary(q) ? 5.0 : 50.0;
    return 1000.0;
  };
  api::Canary c = canaryWith(R"({"type":"sequential","alpha":0.01})");
  JudgeRun run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
  ASSERT_EQ(f.queries.size(), 4u);
  EXPECT_NE(f.queries[0].find("[60s]"), std::string::npos) << f.queries[0];
  EXPECT_FALSE(isPrimary(f.queries[0]));
  EXPECT_TRUE(isPrimary(f.queries[2]));
  // The test's memory: the totals and each alternative's evidence.
  EXPECT_EQ(run.status.state["errors"].rfind("totals=1000,50,1000,5;fail=", 0), 0u)
      << run.status.state["errors"];
  // The first window only calibrates (one window cannot tell a regression from a burst).
  EXPECT_EQ(run.judgement.verdict, analysis::Verdict::kInconclusive);
  run = judgeAgain(f, c, run);
  EXPECT_EQ(run.status.state["errors"].rfind("totals=2000,100,2000,10;fail=", 0), 0u)
      << run.status.state["errors"];
  // Ten times the primary's error rate on 2,000 more requests is decisive.
  EXPECT_EQ(run.judgement.verdict, analysis::Verdict::kFail);
  EXPECT_EQ(run.status.verdict, "fail");
  EXPECT_FALSE(run.status.explanation->empty());
}

TEST(JudgingTest, EvidenceNamesTheJudgeItsEValueTheEffectAndTheCounts) {
  Fixture f;
  f.instant = [](const std::string& q) -> Result<double> {
    if (isErrors(q)) return isPrimary(q) ? 5.0 : 50.0;
    return 1000.0;
  };
  api::Canary c = canaryWith(R"({"type":"sequential","alpha":0.01})");
  JudgeRun run = judgeAgain(f, c, runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1)));
  const Facts facts = evidenceOf("sequential", run.judgement);
  std::map<std::string, std::string> byName(facts.begin(), facts.end());
  EXPECT_EQ(facts.front(), (std::pair<std::string, std::string>{"judge", "sequential"}));
  EXPECT_EQ(byName["verdict"], "fail");
  // Errors and latency share alpha 1%: errors decide at 2 / 0.01.
  EXPECT_NE(byName["e-value"].find("(decides at 200)"), std::string::npos) << byName["e-value"];
  EXPECT_EQ(byName["bad-rate ratio canary/primary"].substr(0, 2), "10")
      << byName["bad-rate ratio canary/primary"];
  EXPECT_EQ(byName["canary"], "2000 requests");
  EXPECT_EQ(byName["primary"], "2000 requests");
}

// The histograms of one window, 1,000 requests a side, cumulative by le (seconds).
std::map<std::string, double> healthyBuckets() {
  return {{"0.05", 900}, {"0.1", 950}, {"0.25", 995}, {"0.5", 1000}, {"+Inf", 1000}};
}
std::map<std::string, double> slowerBuckets() {
  return {{"0.05", 700}, {"0.1", 850}, {"0.25", 960}, {"0.5", 1000}, {"+Inf", 1000}};
}
bool isBuckets(const std::string& q) {
  return q.find("_bucket") != std::string::npos;
}

TEST(JudgingTest, SequentialFailsASlowerCanaryOnTheShareAboveABucketNearThePrimaryP90) {
  Fixture f;
  f.instant = [](const std::string& q) -> Result<double> {
    if (isErrors(q)) return 5.0;
    return 1000.0;
  };
  f.byLabel = [](const std::string& q) -> Result<std::map<std::string, double>> {
    return isPrimary(q) ? healthyBuckets() : slowerBuckets();
  };
  api::Canary c = canaryWith(R"({"type":"sequential"})");
  JudgeRun run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
  // The bucket queries, canary then primary, by le over the window.
  ASSERT_GE(f.queries.size(), 2u);
  EXPECT_TRUE(isBuckets(f.queries[0]) && !isPrimary(f.queries[0])) << f.queries[0];
  EXPECT_TRUE(isBuckets(f.queries[1]) && isPrimary(f.queries[1])) << f.queries[1];
  EXPECT_NE(f.queries[0].find("sum by (le)"), std::string::npos) << f.queries[0];
  // Pooled, 90% of the 2,000 requests took at most 0.1 s and 99% at most 0.5 s: the two
  // boundaries, no slowdown allowed (ratio 1).
  EXPECT_EQ(run.status.state["latency boundaries"], "0.1 1;0.5 1");
  // 15% of the canary's requests above 100 ms against 5% of the primary's, errors equal: after
  // the calibrating window, decisive.
  EXPECT_EQ(run.judgement.verdict, analysis::Verdict::kInconclusive);
  run = judgeAgain(f, c, run);
  EXPECT_EQ(run.judgement.verdict, analysis::Verdict::kFail);
  EXPECT_NE(run.judgement.evidence.explanation.find(
                "latency: share slower than 100 ms 15% vs 5% on primary"),
            std::string::npos)
      << run.judgement.evidence.explanation;
}

TEST(JudgingTest, SequentialLatencyNeverFailsAnEqualCanaryAndKeepsItsBoundaries) {
  Fixture f;
  f.instant = [](const std::string& q) -> Result<double> {
    if (isErrors(q)) return 5.0;
    return 1000.0;
  };
  f.byLabel = [](const std::string&) -> Result<std::map<std::string, double>> {
    return healthyBuckets();
  };
  api::Canary c = canaryWith(R"({"type":"sequential","maxLatencyIncrease":50})");
  for (int window = 0; window < 5; ++window) {
    JudgeRun run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
    EXPECT_NE(run.judgement.verdict, analysis::Verdict::kFail)
        << run.judgement.evidence.explanation;
    api::CanaryStatus status;
    status.judge = run.status;
    c.status = status;
  }
  // Pooled, 90% of the requests took at most 0.05 s and 99% at most 0.25 s. maxLatencyIncrease
  // 50%: above 0.05 s the canary may have the pooled share above 0.05 / 1.5 s (linear in the
  // bucket from 0: 2,000 - 1,800 x 2/3 = 800) over the share above 0.05 s (200): ratio
  // (800 + 0.5) / (200 + 0.5) = 3.99; above 0.25 s, (60 + 0.5) / (10 + 0.5) = 5.76.
  const std::string& kept = c.status->judge->state["latency boundaries"];
  ASSERT_EQ(kept.rfind("0.05 3.99", 0), 0u) << kept;
  EXPECT_NE(kept.find(";0.25 5.76"), std::string::npos) << kept;
  EXPECT_EQ(c.status->judge->state.count("latency 0.05"), 1u);
  // A window whose histograms cannot be read adds nothing to latency and says so.
  f.byLabel = [](const std::string&) -> Result<std::map<std::string, double>> {
    return Error::notFound("no values found for the query");
  };
  const std::string before = c.status->judge->state["latency 0.05"];
  JudgeRun run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
  EXPECT_EQ(run.status.state["latency 0.05"], before);
  EXPECT_NE(run.judgement.evidence.explanation.find("latency not judged in this window"),
            std::string::npos)
      << run.judgement.evidence.explanation;
}

// The windows tile: each is the difference of the counters' totals from the last read, so no
// request is counted twice or lost to increase()'s extrapolation; the first window, and one
// after a counter went down, count with increase() instead.
TEST(JudgingTest, SequentialCountsEachWindowAsTheCountersDifferenceFromTheLastRead) {
  Fixture f;
  f.instant = [](const std::string& q) -> Result<double> {
    return isErrors(q) ? (isPrimary(q) ? 9.0 : 7.0) : 1333.0;  // increase(): extrapolated
  };
  double canary = 5000;
  double primary = 20000;
  double canaryResets = 0;
  f.totals = [&](const std::string& q) -> Result<double> {
    if (q.find("resets(") != std::string::npos) return isPrimary(q) ? 0.0 : canaryResets;
    if (isErrors(q)) return isPrimary(q) ? primary / 200 : canary / 200;
    return isPrimary(q) ? primary : canary;
  };
  api::Canary c = canaryWith(R"({"type":"sequential"})");
  auto look = [&] {
    JudgeRun run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
    api::CanaryStatus status;
    status.judge = run.status;
    c.status = status;
    return run;
  };
  look();  // the first window: increase()
  EXPECT_EQ(c.status->judge->state["errors totals"], "5000,25,20000,100");
  EXPECT_EQ(c.status->judge->state["errors"].rfind("totals=1333,7,1333,9;", 0), 0u)
      << c.status->judge->state["errors"];
  canary += 600;
  primary += 1200;
  look();  // the difference: 600 and 3 canary, 1,200 and 6 primary
  EXPECT_EQ(c.status->judge->state["errors"].rfind("totals=1933,10,2533,15;", 0), 0u)
      << c.status->judge->state["errors"];
  EXPECT_EQ(c.status->judge->state["errors totals"], "5600,28,21200,106");
  // Nothing new since (a look between two scrapes): no data, and the next difference still
  // starts at the last read.
  JudgeRun quiet = look();
  EXPECT_EQ(quiet.judgement.verdict, analysis::Verdict::kNoData);
  EXPECT_EQ(c.status->judge->state["errors totals"], "5600,28,21200,106");
  // A canary pod restarted: its counter went down, so this window counts with increase().
  canary = 400;
  look();
  EXPECT_EQ(c.status->judge->state["errors"].rfind("totals=3266,17,3866,24;", 0), 0u)
      << c.status->judge->state["errors"];
  EXPECT_EQ(c.status->judge->state["errors totals"], "400,2,21200,106");
  // A canary pod restarted in place while the others grew more: the sum went up, but resets()
  // says a count was lost, so this window counts with increase() as well.
  canary += 300;
  canaryResets = 1;
  look();
  EXPECT_EQ(c.status->judge->state["errors"].rfind("totals=4599,24,5199,33;", 0), 0u)
      << c.status->judge->state["errors"];
  EXPECT_EQ(c.status->judge->state["errors totals"], "700,3.5,21200,106");
  EXPECT_TRUE(std::any_of(f.queries.begin(), f.queries.end(), [](const std::string& q) {
    return q.find("sum(resets(http_request_duration_seconds_count{") != std::string::npos &&
           q.find("[60s]))") != std::string::npos;
  })) << "no resets() query";
}

TEST(JudgingTest, SequentialReplaysTheStoredWindowsSoARestartDecidesTheSame) {
  Fixture f;
  f.instant = [](const std::string& q) -> Result<double> {
    if (isErrors(q)) return isPrimary(q) ? 10.0 : 11.0;
    return 1000.0;
  };
  api::Canary c = canaryWith(R"({"type":"sequential","alpha":0.01})");
  std::vector<std::string> verdicts;
  for (int window = 0; window < 3; ++window) {
    JudgeRun run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
    verdicts.push_back(*run.status.verdict);
    api::CanaryStatus status;
    status.judge = run.status;
    c.status = status;  // what the reconciler writes; a restarted daemon reads it back
  }
  EXPECT_EQ(c.status->judge->state["errors"].rfind("totals=3000,33,3000,30;", 0), 0u)
      << c.status->judge->state["errors"];
  // Similar error rates: no reason to fail; not yet enough to pass either.
  for (const std::string& v : verdicts)
    EXPECT_NE(v, "fail");
  // A status written by an earlier canaryd (the windows' counts) is replayed: same evidence.
  api::Canary old = canaryWith(R"({"type":"sequential","alpha":0.01})");
  old.status = api::CanaryStatus{};
  old.status->judge = api::CanaryJudgeStatus{};
  old.status->judge->state["errors"] = "1000,11,1000,10;1000,11,1000,10";
  JudgeRun replayed = runJudge(old, f.context, f.clock.now(), std::chrono::minutes(1));
  EXPECT_EQ(replayed.status.state["errors"], c.status->judge->state["errors"]);
}

TEST(JudgingTest, WithCheckIntervalEachWindowStartsWhereTheLastEnded) {
  Fixture f;
  f.instant = [](const std::string&) -> Result<double> { return 100.0; };
  api::Canary c = canaryWith(R"({"type":"sequential","checkInterval":"15s"})");
  const Duration minute = std::chrono::minutes(1);
  // No status yet: the analysis interval.
  EXPECT_EQ(judgeWindow(c, f.clock.now(), minute), minute);
  // The last step 40s ago, no check since: the window starts at the step.
  api::CanaryStatus status;
  api::CanaryCondition promoted;
  promoted.type = "Promoted";
  promoted.lastUpdateTime = formatRfc3339(f.clock.now());
  status.conditions.push_back(promoted);
  c.status = status;
  f.clock.advance(std::chrono::seconds(40));
  EXPECT_EQ(judgeWindow(c, f.clock.now(), minute), std::chrono::seconds(40));
  JudgeRun run = runJudge(c, f.context, f.clock.now(), judgeWindow(c, f.clock.now(), minute));
  EXPECT_NE(f.queries[0].find("[40s]"), std::string::npos) << f.queries[0];
  EXPECT_EQ(run.status.lastCheckTime, formatRfc3339(f.clock.now()));
  // 15s after that check: the window starts at the check.
  c.status->judge = run.status;
  f.clock.advance(std::chrono::seconds(15));
  EXPECT_EQ(judgeWindow(c, f.clock.now(), minute), std::chrono::seconds(15));
  // A window without canary requests is not consumed: the next one starts where it did, so
  // the requests of a quiet 15s window are not lost.
  f.instant = [](const std::string& q) -> Result<double> { return isPrimary(q) ? 100.0 : 0.0; };
  api::Canary strict = canaryWith(R"({"type":"sequential","checkInterval":"15s"})");
  strict.status = c.status;
  JudgeRun quiet =
      runJudge(strict, f.context, f.clock.now(), judgeWindow(strict, f.clock.now(), minute));
  EXPECT_EQ(quiet.judgement.verdict, analysis::Verdict::kNoData)
      << quiet.judgement.evidence.explanation;
  EXPECT_EQ(quiet.status.lastCheckTime, run.status.lastCheckTime);
  strict.status->judge = quiet.status;
  f.clock.advance(std::chrono::seconds(15));
  EXPECT_EQ(judgeWindow(strict, f.clock.now(), minute), std::chrono::seconds(30));
  // Without checkInterval, or for another judge: always the interval.
  api::Canary plain = canaryWith(R"({"type":"sequential"})");
  plain.status = c.status;
  EXPECT_EQ(judgeWindow(plain, f.clock.now(), minute), minute);
  // ... and the end of the window is not recorded (the stored one is kept as it was).
  EXPECT_EQ(runJudge(plain, f.context, f.clock.now(), minute).status.lastCheckTime,
            c.status->judge->lastCheckTime);
}

TEST(JudgingTest, MissingDataOrTooFewRequestsIsNoDataAndAddsNothing) {
  Fixture f;
  f.instant = [](const std::string& q) -> Result<double> {
    if (isPrimary(q)) return Error::notFound("no values found for the query");
    return 100.0;
  };
  api::Canary c = canaryWith(R"({"type":"sequential"})");
  JudgeRun run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
  EXPECT_EQ(run.judgement.verdict, analysis::Verdict::kNoData);
  EXPECT_NE(run.status.explanation->find("no values found"), std::string::npos);
  EXPECT_EQ(run.status.state["errors"].rfind("totals=0,0,0,0;", 0), 0u)
      << run.status.state["errors"];
  // A window with no canary request is no data; one with a few counts, whatever minSamples
  // says (minSamples is the run's total before a promotion).
  f.instant = [](const std::string& q) -> Result<double> {
    return isErrors(q) || !isPrimary(q) ? 0.0 : 40.0;
  };
  run = runJudge(canaryWith(R"({"type":"sequential"})"), f.context, f.clock.now(),
                 std::chrono::minutes(1));
  EXPECT_EQ(run.judgement.verdict, analysis::Verdict::kNoData);
  EXPECT_NE(run.status.explanation->find("the canary served no requests in the window"),
            std::string::npos)
      << *run.status.explanation;
  f.instant = [](const std::string& q) -> Result<double> { return isErrors(q) ? 0.0 : 40.0; };
  run = runJudge(canaryWith(R"({"type":"sequential","minSamples":200})"), f.context, f.clock.now(),
                 std::chrono::minutes(1));
  EXPECT_EQ(run.judgement.verdict, analysis::Verdict::kInconclusive);
  EXPECT_EQ(run.judgement.evidence.canaryCount, 40);
  EXPECT_EQ(run.status.state["errors"].rfind("totals=40,0,40,0;", 0), 0u)
      << run.status.state["errors"];
}

TEST(JudgingTest, MannWhitneyComparesEachMetricsRangeAgainstThePrimarys) {
  Fixture f;
  // Latency: the canary about 30 % slower than the primary, with noise.
  f.range = [](const std::string& q) -> Result<std::vector<double>> {
    std::vector<double> v;
    for (int i = 0; i < 12; ++i)
      v.push_back((isPrimary(q) ? 100.0 : 130.0) + (i % 4) * 3.0);
    return v;
  };
  api::Canary c = canaryWith(R"({"type":"mann-whitney","confidence":0.95})",
                             R"([{"name":"request-duration","thresholdRange":{"max":500}}])");
  JudgeRun run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
  ASSERT_EQ(f.queries.size(), 2u);
  EXPECT_NE(f.queries[0].find("histogram_quantile(0.99"), std::string::npos);
  EXPECT_EQ(run.judgement.verdict, analysis::Verdict::kFail);
  EXPECT_EQ(run.status.explanation->rfind("request-duration: ", 0), 0u);
  // The same numbers for a success rate (lower is worse) do not fail: the canary is higher.
  c = canaryWith(R"({"type":"mann-whitney"})",
                 R"([{"name":"request-success-rate","thresholdRange":{"min":99}}])");
  run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
  EXPECT_NE(run.judgement.verdict, analysis::Verdict::kFail);
  // A metric whose query fails is no data, never a pass.
  f.range = [](const std::string&) -> Result<std::vector<double>> {
    return Error::unavailable("Prometheus did not answer");
  };
  run = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
  EXPECT_EQ(run.judgement.verdict, analysis::Verdict::kNoData);
}

// Over a run the rank-sum judge keeps its points (non-overlapping sub-windows, each with its own
// requests) and spends 1 - confidence across its looks: alpha/2 at the first, alpha/6 at the
// second, ... so that however many windows there are, false rollbacks stay within it.
TEST(JudgingTest, MannWhitneyAccumulatesIndependentPointsAndSpendsAlphaAcrossLooks) {
  Fixture f;
  f.range = [](const std::string& q) -> Result<std::vector<double>> {
    return std::vector<double>{isPrimary(q) ? 100.0 : 101.0, isPrimary(q) ? 102.0 : 99.0};
  };
  api::Canary c = canaryWith(R"({"type":"mann-whitney","confidence":0.95})",
                             R"([{"name":"request-duration","thresholdRange":{"max":500},
                                  "interval":"1m"}])");
  JudgeRun first = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
  // Each point's rate looks back over its own 30 s, not over the whole minute.
  ASSERT_FALSE(f.queries.empty());
  EXPECT_NE(f.queries[0].find("[30s]"), std::string::npos) << f.queries[0];
  EXPECT_EQ(first.status.state["mann-whitney request-duration"], "c=101,99;p=100,102");
  EXPECT_NE(first.status.explanation->find("(look 1, at confidence 0.975)"), std::string::npos)
      << *first.status.explanation;
  c.status = api::CanaryStatus{};
  c.status->judge = first.status;
  f.clock.advance(std::chrono::minutes(1));
  JudgeRun second = runJudge(c, f.context, f.clock.now(), std::chrono::minutes(1));
  EXPECT_EQ(second.status.state["mann-whitney request-duration"],
            "c=101,99,101,99;p=100,102,100,102");
  EXPECT_NE(second.status.explanation->find("(look 2, at confidence 0.99167)"), std::string::npos)
      << *second.status.explanation;
}

}  // namespace
}  // namespace canaryd::controller
