#include "canaryd/sim/traffic.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

namespace canaryd::sim {
namespace {

// The standard normal's quantile at 0.99: p99 = p50 * exp(z99 * sigma).
constexpr double kZ99 = 2.3263478740408408;

// splitmix64: a well-mixed stream seed from (run seed, interval index).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr std::uint64_t kBurstStream = 0x6275727374730000ULL;  // "bursts"
constexpr std::uint64_t kNoiseStream = 0x6e6f697365000000ULL;  // "noise"
constexpr std::uint64_t kTestStream = 0x7465737474726166ULL;   // "testtraf"

std::size_t bucketOf(double latencySeconds) {
  const auto* it = std::lower_bound(kLatencyBuckets.begin(), kLatencyBuckets.end(), latencySeconds);
  return static_cast<std::size_t>(it - kLatencyBuckets.begin());
}

}  // namespace

void accumulate(Side& a, const Side& b) {
  a.requests += b.requests;
  a.errors += b.errors;
  a.slow += b.slow;
  a.bad += b.bad;
  for (std::size_t i = 0; i < a.latency.size(); ++i)
    a.latency[i] += b.latency[i];
}

void accumulate(IntervalTraffic& a, const IntervalTraffic& b) {
  accumulate(a.primary, b.primary);
  accumulate(a.canary, b.canary);
}

TrafficModel::TrafficModel(const Scenario& scenario, std::uint64_t seed)
    : scenario_(scenario), seed_(seed) {}

double TrafficModel::meanRate(Duration t) const {
  const Traffic& traffic = scenario_.traffic;
  if (traffic.pattern != Pattern::kDiurnal) return traffic.requestsPerSecond;
  const double phase = 2 * std::numbers::pi * toSeconds(t) / toSeconds(traffic.period);
  return traffic.requestsPerSecond * (1 + traffic.amplitude * std::sin(phase));
}

IntervalTraffic TrafficModel::interval(std::int64_t index, Duration length, double canaryWeight,
                                       Duration release) const {
  std::mt19937_64 random(mix(seed_ ^ mix(static_cast<std::uint64_t>(index))));
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  const Duration start = length * index;
  double rate = meanRate(start + length / 2);
  if (scenario_.traffic.pattern == Pattern::kBursty &&
      uniform(random) < scenario_.traffic.burstProbability) {
    rate *= scenario_.traffic.burstFactor;
  }
  std::poisson_distribution<std::int64_t> arrivals(std::max(0.0, rate * toSeconds(length)));
  const std::int64_t n = arrivals(random);
  const Behaviour& candidate = candidateAt(start + length / 2, release);
  const Duration middle = start + length / 2;
  const double primaryRate = errorRateAt(scenario_.primary, middle, 0);
  const double canaryRate = errorRateAt(candidate, middle, 1);
  std::mt19937_64 bursts(mix(seed_ ^ kBurstStream ^ mix(static_cast<std::uint64_t>(index))));
  IntervalTraffic out;
  for (std::int64_t i = 0; i < n; ++i) {
    // Always the same three draws per request, so the streams stay aligned across weights.
    const double route = uniform(random);
    const double fail = uniform(random);
    const double z = normal(random);
    const bool toCanary = route * 100.0 < canaryWeight;
    serve(toCanary ? candidate : scenario_.primary, toCanary ? canaryRate : primaryRate, fail, z,
          bursts, toCanary ? out.canary : out.primary);
  }
  for (Side* side : {&out.primary, &out.canary}) {
    side->errors = std::min(side->errors, side->requests);
    side->bad = std::min(side->bad, side->requests);
  }
  return out;
}

Side TrafficModel::testTraffic(std::int64_t index, Duration length, Duration release) const {
  Side out;
  if (scenario_.traffic.testRequestsPerSecond <= 0) return out;
  std::mt19937_64 random(mix(seed_ ^ kTestStream ^ mix(static_cast<std::uint64_t>(index))));
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::poisson_distribution<std::int64_t> arrivals(scenario_.traffic.testRequestsPerSecond *
                                                   toSeconds(length));
  const std::int64_t n = arrivals(random);
  const Behaviour& candidate = candidateAt(length * index + length / 2, release);
  const double rate = errorRateAt(candidate, length * index + length / 2, 1);
  std::mt19937_64 bursts(
      mix(seed_ ^ kTestStream ^ kBurstStream ^ mix(static_cast<std::uint64_t>(index))));
  for (std::int64_t i = 0; i < n; ++i) {
    const double fail = uniform(random);
    const double z = normal(random);
    serve(candidate, rate, fail, z, bursts, out);
  }
  out.errors = std::min(out.errors, out.requests);
  out.bad = std::min(out.bad, out.requests);
  return out;
}

// The candidate regresses from release + onset; before that it behaves as the primary.
const Behaviour& TrafficModel::candidateAt(Duration t, Duration release) const {
  const bool regressed = !scenario_.candidate.onset || t >= release + *scenario_.candidate.onset;
  return regressed ? scenario_.candidate : scenario_.primary;
}

// The side's error rate in the minute around `t`: the behaviour's schedule, times the minute's
// noise factor for that side (traffic.rateNoise), from a stream of its own.
double TrafficModel::errorRateAt(const Behaviour& b, Duration t, std::uint64_t side) const {
  double rate = b.errorRate;
  for (const ErrorRateChange& change : b.errorRateSchedule)
    if (t >= change.after) rate = change.errorRate;
  const double cv = scenario_.traffic.errorRateNoiseCv;
  if (cv <= 0) return rate;
  const auto minute = static_cast<std::uint64_t>(t / std::chrono::minutes(1));
  std::mt19937_64 random(mix(seed_ ^ kNoiseStream ^ mix(minute * 2 + side)));
  std::gamma_distribution<double> factor(1 / (cv * cv), cv * cv);  // mean 1, this cv
  return std::min(1.0, rate * factor(random));
}

// One request of behaviour `b` at error rate `errorRate`: it fails when `fail` < the rate
// (with errorBursts, a burst of failures starts when `fail` < rate / meanSize, its size drawn
// from `bursts`); its latency is log-normal with the behaviour's p50 and p99 (z a standard
// normal draw). Burst errors are counted on the side as it serves them; the interval caps them
// at its requests.
void TrafficModel::serve(const Behaviour& b, double errorRate, double fail, double z,
                         std::mt19937_64& bursts, Side& side) const {
  const double slowAbove = scenario_.primary.latency.p99Ms / 1000.0;
  const double sigma = std::log(b.latency.p99Ms / b.latency.p50Ms) / kZ99;
  const double latency = b.latency.p50Ms / 1000.0 * std::exp(sigma * z);
  ++side.requests;
  const bool failed = fail < errorRate / b.burstMeanSize;
  std::int64_t errors = failed ? 1 : 0;
  if (failed && b.burstMeanSize > 1) {
    std::geometric_distribution<std::int64_t> extra(1 / b.burstMeanSize);
    errors += extra(bursts);
  }
  const bool slow = latency > slowAbove;
  side.errors += errors;
  side.slow += slow ? 1 : 0;
  side.bad += std::max<std::int64_t>(errors, slow ? 1 : 0);
  ++side.latency[bucketOf(latency)];
}

}  // namespace canaryd::sim
