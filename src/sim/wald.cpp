#include "canaryd/sim/wald.h"

#include <algorithm>
#include <cmath>

#include <boost/math/tools/minima.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/sim/traffic.h"

namespace canaryd::sim {
namespace {

// The information `canary` requests at error rate p1 and `primary` requests at p0 carry
// against the closest pair (p' + margin, p') of the null hypothesis.
double twoSampleInformation(double canary, double primary, double p1, double p0, double margin) {
  auto information = [&](double p) {
    return canary * bernoulliKl(p1, std::min(p + margin, 1 - 1e-12)) + primary * bernoulliKl(p0, p);
  };
  const double hi = std::max(1e-9, std::min(1 - margin - 1e-9, std::max(p0, p1)));
  const auto [at, value] = boost::math::tools::brent_find_minima(
      information, 1e-12, hi, std::numeric_limits<double>::digits / 2);
  (void)at;
  return value;
}

// The canary's weight in percent during interval `index` of the rollout: 0 in the first (it
// runs only the pre-rollout gates), then each step, then the top one.
double stepWeight(const std::vector<std::int64_t>& steps, std::int64_t index) {
  if (index == 0) return 0;
  return static_cast<double>(
      steps[std::min<std::size_t>(static_cast<std::size_t>(index - 1), steps.size() - 1)]);
}

}  // namespace

double waldNumerator(double alpha, double beta) {
  return (1 - beta) * std::log((1 - beta) / alpha) + beta * std::log(beta / (1 - alpha));
}

double bernoulliKl(double p, double q) {
  auto term = [](double a, double b) { return a <= 0 ? 0.0 : a * std::log(a / b); };
  return term(p, q) + term(1 - p, 1 - q);
}

std::optional<WaldFloor> waldFloor(const Scenario& scenario, double beta) {
  const api::Canary& canary = scenario.canary;
  if (!canary.spec.analysis) return std::nullopt;
  const api::CanaryAnalysis& analysis = *canary.spec.analysis;
  const std::optional<api::CanaryJudge>& judge = analysis.judge;
  const double alpha = judge ? judge->alpha.value_or(0.01) : 0.01;
  const double margin = judge ? judge->maxErrorIncrease.value_or(0) / 100.0 : 0.0;
  const double p0 = scenario.primary.errorRate;
  const double p1 = scenario.candidate.errorRate;
  if (p1 <= p0 + margin) return std::nullopt;
  const double numerator = waldNumerator(alpha, beta);
  WaldFloor floor;
  floor.knownBaselineRequests = numerator / bernoulliKl(p1, p0 + margin);

  const Duration interval = api::effectiveInterval(analysis);
  // The judge looks at the steps and, with judge.checkInterval, this often between them.
  const Duration every = api::judgeCheckInterval(analysis, interval).value_or(interval);
  // Users' requests reach the canary by weight; blue/green and A/B testing have no steps.
  const std::vector<std::int64_t> steps = api::weightSteps(analysis);
  if (steps.empty()) return std::nullopt;
  const TrafficModel model(scenario, 0);
  // The primary's rate is one unknown for the whole run: the information is that of all the
  // requests so far against the one closest null pair, not a sum of per-interval minima.
  double canaryServed = 0;
  double primaryServed = 0;
  constexpr std::int64_t kIntervals = 100'000;  // a floor beyond this is no floor at all
  for (std::int64_t i = 0; i < kIntervals; ++i) {
    const double weight = stepWeight(steps, i) / 100.0;
    const double requests = model.meanRate(interval * i + interval / 2) * toSeconds(interval);
    auto informationAt = [&](double fraction) {
      return twoSampleInformation(canaryServed + fraction * requests * weight,
                                  primaryServed + fraction * requests * (1 - weight), p1, p0,
                                  margin);
    };
    if (informationAt(1.0) >= numerator) {
      double lo = 0;  // the information grows with the requests: bisect for the crossing
      double hi = 1;
      for (int step = 0; step < 50; ++step) {
        const double mid = (lo + hi) / 2;
        (informationAt(mid) >= numerator ? hi : lo) = mid;
      }
      floor.canaryRequests = canaryServed + hi * requests * weight;
      // The first check at or after the crossing within this interval (or at its end).
      const double checks = std::ceil(hi * toSeconds(interval) / toSeconds(every) - 1e-9);
      const double at =
          std::min(1.0, std::max(1.0, checks) * toSeconds(every) / toSeconds(interval));
      floor.firstCheck = interval * i + std::chrono::duration_cast<Duration>(
                                            at * std::chrono::duration<double>(interval));
      floor.canaryRequestsAtFirstCheck = canaryServed + at * requests * weight;
      floor.time = std::chrono::duration_cast<Duration>(
          interval * i + hi * std::chrono::duration<double>(interval));
      return floor;
    }
    canaryServed += requests * weight;
    primaryServed += requests * (1 - weight);
  }
  return std::nullopt;
}

std::optional<double> knownEffectMedian(const Scenario& scenario, int runs, std::uint64_t seed) {
  if (!waldFloor(scenario) || runs <= 0) return std::nullopt;
  const api::CanaryAnalysis& analysis = *scenario.canary.spec.analysis;
  const std::optional<api::CanaryJudge>& judge = analysis.judge;
  const double logThreshold = -std::log(judge ? judge->alpha.value_or(0.01) : 0.01);
  const double margin = judge ? judge->maxErrorIncrease.value_or(0) / 100.0 : 0.0;
  const double p0 = scenario.primary.errorRate;
  const double ratio0 = p0 > 0 ? 1 + margin / p0 : 1;  // the judge's bound on the ratio
  const double ratio1 = p0 > 0 ? scenario.candidate.errorRate / p0 : 1e6;
  const Duration interval = api::effectiveInterval(analysis);
  const Duration every = api::judgeCheckInterval(analysis, interval).value_or(interval);
  const std::vector<std::int64_t> steps = api::weightSteps(analysis);
  constexpr Duration kTick = std::chrono::seconds(5);  // the simulator's traffic ticks
  std::vector<double> decided;
  for (int r = 0; r < runs; ++r) {
    const TrafficModel model(scenario, seed + static_cast<std::uint64_t>(r));
    double logRatio = 0;
    double served = 0;
    IntervalTraffic window;
    for (Duration t = Duration::zero(); t < scenario.durationLimit; t += kTick) {
      accumulate(window, model.interval(t / kTick, kTick, stepWeight(steps, t / interval)));
      const Duration end = t + kTick;
      const bool check = end % every == Duration::zero() || end % interval == Duration::zero();
      if (!check) continue;
      served += static_cast<double>(window.canary.requests);
      const double nc = static_cast<double>(window.canary.requests);
      const double np = static_cast<double>(window.primary.requests);
      if (nc > 0 && np > 0) {
        // Each bad request is the canary's with probability rho q / (rho q + 1 - q).
        const double q = nc / (nc + np);
        const double pi0 = ratio0 * q / (ratio0 * q + 1 - q);
        const double pi1 = ratio1 * q / (ratio1 * q + 1 - q);
        logRatio += static_cast<double>(window.canary.errors) * std::log(pi1 / pi0) +
                    static_cast<double>(window.primary.errors) * std::log((1 - pi1) / (1 - pi0));
      }
      window = {};
      if (logRatio >= logThreshold) {
        decided.push_back(served);
        break;
      }
    }
  }
  if (decided.size() * 2 < static_cast<std::size_t>(runs)) return std::nullopt;
  // The median of all runs, the undecided ones counting as never (above every decided one).
  std::sort(decided.begin(), decided.end());
  return decided[static_cast<std::size_t>(runs - 1) / 2];
}

}  // namespace canaryd::sim
