// Anytime-valid sequential tests: the canary is checked after every analysis interval, as
// often as the controller likes, and a healthy canary is still failed with probability at
// most alpha over the whole run (Ville's inequality on a nonnegative supermartingale).
//
// RateRatioTest compares the canary's rate of bad requests (errors, or requests slower than a
// latency bound: histogram exceedance counts) with the primary's. When the canary's bad-request
// intensity is rho times the primary's, each bad request is the canary's with probability
// p = rho q / (rho q + 1 - q), where q is that interval's canary share of requests; the
// primary's unknown rate cancels. The test mixes likelihood ratios over a grid of rho above
// (fail) or below (pass) the allowed bound, so changing weights (10%, 20%, ...) and any traffic
// shape keep the guarantee. One-sided: a canary that is better never fails.
//
// Errors are rarely independent: retries, one bad pod or a slow dependency bring them in bursts,
// and rates wander from minute to minute. Each window's canary share of bad requests then
// varies more than the binomial allows, and a test that counts every bad request as one
// independent outcome fails healthy canaries far more often than alpha (bursts of mean size 3:
// 11% instead of 1%). RateRatioTest therefore measures that overdispersion on the data it
// judges: phi, the mean squared predictive Pearson residual of each window's counts (each
// side's against its own rate so far, and the canary's share against the ratio so far), shrunk
// towards 1 by kPriorTerms residuals of independent errors, leaning up by kCaution standard
// errors while it rests on few, never below 1. The first window only calibrates (one window
// cannot tell a regression from a burst on one side): its evidence is not counted. Both sides' log
// likelihood ratios are divided by phi (tempered: the quasi-likelihood of an overdispersed
// binomial). When bursts of size s each go whole to one side, LR^(1/phi) with phi >= s is exactly a
// supermartingale; phi is an estimate, so the guarantee is approximate and checked by simulation
// (RESULTS.md). The price is power: with phi = 5 the requests weigh a fifth, and
// detectableIncrease() says so.
//
// ExceedanceTest checks an absolute objective such as "p99 <= 300ms": the share of canary
// requests above the bound must stay at most 1 - quantile.
//
// Each test is a small value object updated once per interval; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "canaryd/analysis/judgement.h"

namespace canaryd::analysis {

// One analysis interval's increments for one metric.
struct IntervalCounts {
  double canaryRequests = 0;
  double canaryBad = 0;  // errors, or requests above the latency bound
  double primaryRequests = 0;
  double primaryBad = 0;
};

// Mixture of likelihood ratios for Bernoulli outcomes against a boundary probability, over a
// fixed grid of alternatives on one side of it: the building block of the tests below.
class BernoulliMixture {
 public:
  static constexpr int kGrid = 8;
  // `multipliers` > 1 move the alternative odds above the boundary (tests "not above"),
  // < 1 below it (tests "not below").
  explicit BernoulliMixture(bool upward);
  // Adds `hits` of `trials` outcomes whose boundary probability is p0; alternative g has odds
  // multiplied by the grid's factor g. Hits and trials may be fractional (rates x requests).
  void add(double hits, double trials, double p0);
  // The mixture of the alternatives' likelihood ratios, each raised to 1/temper (temper >= 1:
  // evidence divided by an overdispersion).
  double eValue(double temper = 1) const;
  double logEValue(double temper = 1) const;
  // A planning bound, not a test: the log e-value this mixture would reach, at the lower
  // `z`-quantile (1.645: 95% of runs), from `trials` outcomes of success probability `p1`
  // against the boundary p0 (the best alternative's normal approximation, less the mixture's
  // cost ln kGrid).
  double projectedLogEValue(double trials, double p0, double p1, double z, double temper = 1) const;
  // Each alternative's log likelihood ratio so far: the whole memory of the mixture.
  const std::array<double, kGrid>& logLikelihoodRatios() const { return logLikelihoodRatio_; }
  void setLogLikelihoodRatios(const std::array<double, kGrid>& values) {
    logLikelihoodRatio_ = values;
  }

 private:
  std::array<double, kGrid> logOddsFactor_{};
  std::array<double, kGrid> logLikelihoodRatio_{};
};

struct SequentialPolicy {
  double alpha = 0.01;
  // Allowed increase of the canary's bad-request rate over the primary's, as a fraction
  // (0.005 = half a percentage point). 0 tests "canary no worse than primary" exactly; with a
  // margin the bound is rho0 = 1 + margin / primary rate, the rate estimated from the data so
  // far (a plug-in: exact only for margin 0).
  double maxIncrease = 0;
  // The allowed ratio of the canary's bad-request rate to the primary's, at least (1: none);
  // the bound is the larger of this and the margin's (latency: the share of requests above a
  // bucket boundary may grow by the ratio a `maxLatencyIncrease` slowdown would give).
  double minRatio = 1;
  std::string what = "bad-request rate";  // how explanations name the rate
};

class RateRatioTest {
 public:
  explicit RateRatioTest(SequentialPolicy policy = {});
  // Adds one interval and returns the verdict so far; cheap (no strings), so the controller
  // can afford it for every metric of every Canary. Once fail or pass is reached it stays: the
  // run stopped there. An interval without requests on either side is kNoData and adds
  // nothing; a run without bad requests stays inconclusive.
  Verdict update(const IntervalCounts& counts);
  // The verdict of the last update with its evidence and explanation.
  Judgement judgement() const;
  double failEValue() const { return fail_.eValue(dispersion()); }
  // The smallest increase of the canary's bad-request rate over the allowed bound (a fraction,
  // 0.01 = one percentage point) that the requests seen so far would have failed in 95% of
  // runs, at the primary's rate and the canary's share of requests observed: how much harm a
  // promotion now could have missed. Infinity before any interval, or when no increase would
  // have been caught (too few requests). Errors that come in bursts make it larger: it plans
  // with the upper end of the dispersion's estimate.
  double detectableIncrease() const;
  double passEValue() const { return pass_.eValue(dispersion()); }
  // The test's memory as text (the totals and both mixtures' log likelihood ratios, to 17
  // significant digits), for the Canary's status: restore() of it continues exactly where
  // this test is, in constant space however many windows there were.
  std::string save() const;
  // Continues from what save() wrote (or an earlier canaryd's save() without the dispersion's
  // sums); false (and the test unchanged) when `text` is not that.
  bool restore(std::string_view text);
  // The overdispersion the evidence is divided by: 1 for independent errors.
  double dispersion() const;

  // The dispersion estimate starts from this many residuals of independent errors.
  static constexpr double kPriorTerms = 2;
  // ... and leans up by this many of its standard errors, while it rests on few residuals.
  static constexpr double kCaution = 1.0;

 private:
  double boundaryRatio() const;
  void measureDispersion(const IntervalCounts& counts);

  SequentialPolicy policy_;
  BernoulliMixture fail_{true};
  BernoulliMixture pass_{false};
  IntervalCounts total_{};
  double pearson_ = 0;  // sum of the squared Pearson residuals
  double terms_ = 0;    // how many: per window, each side's count and the canary's share
  Verdict state_ = Verdict::kInconclusive;  // of the run
  Verdict last_ = Verdict::kInconclusive;   // of the last interval (kNoData when it had none)
  bool judged_ = false;
};

struct ExceedancePolicy {
  double alpha = 0.01;
  double quantile = 0.99;  // "p99 <= bound": at most 1% of requests above the bound
};

class ExceedanceTest {
 public:
  explicit ExceedanceTest(ExceedancePolicy policy = {});
  // `above` of `requests` canary requests exceeded the latency bound in this interval.
  Verdict update(double requests, double above);
  Judgement judgement() const;

 private:
  ExceedancePolicy policy_;
  BernoulliMixture fail_{true};
  BernoulliMixture pass_{false};
  double requests_ = 0;
  double above_ = 0;
  Verdict state_ = Verdict::kInconclusive;
  Verdict last_ = Verdict::kInconclusive;
};

// Sums of log-latencies of one interval's requests (from raw samples: summarizeLog()).
struct LogSummary {
  double count = 0;
  double sum = 0;         // of log(latency)
  double sumSquares = 0;  // of log(latency)^2
};
LogSummary summarizeLog(std::span<const double> latencies);

struct MeanShiftPolicy {
  double alpha = 0.01;
  double maxIncrease = 0.1;   // allowed slowdown of the geometric-mean latency (0.1 = 10%)
  double mixtureScale = 0.1;  // tau: the spread of shifts the test is tuned for, log scale
};

// mSPRT (Johari et al.) on the difference of mean log-latency, canary minus primary, with a
// normal mixture over the shift: fails when the mixture likelihood ratio for "shift =
// log(1 + maxIncrease)" reaches 1/alpha with the estimate above that bound, passes when the
// matching confidence sequence lies below it. The variance is estimated from the data (pooled),
// so the guarantee is the Gaussian one with a plug-in variance: approximate for small samples.
class MeanShiftTest {
 public:
  explicit MeanShiftTest(MeanShiftPolicy policy = {});
  Verdict update(const LogSummary& canary, const LogSummary& primary);
  Judgement judgement() const;

 private:
  MeanShiftPolicy policy_;
  LogSummary canary_;
  LogSummary primary_;
  Verdict state_ = Verdict::kInconclusive;
  Verdict last_ = Verdict::kInconclusive;
  double logLambda_ = 0;
  double shift_ = 0;
  double halfWidth_ = 0;
};

// Several metrics judged at once keep the overall false-rollback rate at alpha when each test
// runs at alpha / metrics (Bonferroni: reject when an e-value reaches metrics / alpha).
double perMetricAlpha(double alpha, int metrics);

// Fail when any metric fails; pass when all pass; no data when any has none and none failed;
// otherwise inconclusive. The evidence is the deciding metric's.
Judgement combine(std::span<const Judgement> perMetric);

}  // namespace canaryd::analysis
