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
  IntervalTraffic out;
  for (std::int64_t i = 0; i < n; ++i) {
    // Always the same three draws per request, so the streams stay aligned across weights.
    const double route = uniform(random);
    const double fail = uniform(random);
    const double z = normal(random);
    const bool toCanary = route * 100.0 < canaryWeight;
    serve(toCanary ? candidate : scenario_.primary, fail, z, toCanary ? out.canary : out.primary);
  }
  return out;
}

Side TrafficModel::testTraffic(std::int64_t index, Duration length, Duration release) const {
  Side out;
  if (scenario_.traffic.testRequestsPerSecond <= 0) return out;
  constexpr std::uint64_t kTestStream = 0x7465737474726166ULL;  // "testtraf"
  std::mt19937_64 random(mix(seed_ ^ kTestStream ^ mix(static_cast<std::uint64_t>(index))));
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::poisson_distribution<std::int64_t> arrivals(scenario_.traffic.testRequestsPerSecond *
                                                   toSeconds(length));
  const std::int64_t n = arrivals(random);
  const Behaviour& candidate = candidateAt(length * index + length / 2, release);
  for (std::int64_t i = 0; i < n; ++i) {
    const double fail = uniform(random);
    const double z = normal(random);
    serve(candidate, fail, z, out);
  }
  return out;
}

// The candidate regresses from release + onset; before that it behaves as the primary.
const Behaviour& TrafficModel::candidateAt(Duration t, Duration release) const {
  const bool regressed = !scenario_.candidate.onset || t >= release + *scenario_.candidate.onset;
  return regressed ? scenario_.candidate : scenario_.primary;
}

// One request of behaviour `b`: it fails when `fail` < the error rate; its latency is
// log-normal with the behaviour's p50 and p99 (z a standard normal draw).
void TrafficModel::serve(const Behaviour& b, double fail, double z, Side& side) const {
  const double slowAbove = scenario_.primary.latency.p99Ms / 1000.0;
  const double sigma = std::log(b.latency.p99Ms / b.latency.p50Ms) / kZ99;
  const double latency = b.latency.p50Ms / 1000.0 * std::exp(sigma * z);
  ++side.requests;
  const bool failed = fail < b.errorRate;
  const bool slow = latency > slowAbove;
  side.errors += failed ? 1 : 0;
  side.slow += slow ? 1 : 0;
  side.bad += failed || slow ? 1 : 0;
  ++side.latency[bucketOf(latency)];
}

}  // namespace canaryd::sim
