// The simulator's traffic model: for each interval of a scenario, how many requests the primary
// and the canary served, how many failed, and their latency histograms, given the canary's
// weight. Every request is drawn (Poisson arrivals at the pattern's rate; a uniform number
// routes it, another decides whether it fails, a normal one draws its log-normal latency), from
// a random stream that depends only on the seed and the interval's index: two runs with the
// same seed see the same requests whatever their weights (common random numbers), so two
// judges are compared on the same traffic. Deterministic; no clock.
#pragma once

#include <array>
#include <cstdint>
#include <random>

#include "canaryd/core/duration.h"
#include "canaryd/sim/scenario.h"

namespace canaryd::sim {

// Latency histogram bucket bounds in seconds (Prometheus client defaults), then +Inf.
inline constexpr std::array<double, 11> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1,    2.5,   5,    10};

struct Side {
  std::int64_t requests = 0;
  std::int64_t errors = 0;
  std::int64_t slow = 0;  // requests slower than the primary's p99
  std::int64_t bad = 0;   // failed or slow (harm exposure), each request counted once
  std::array<std::int64_t, kLatencyBuckets.size() + 1> latency{};  // per bucket, not cumulative
};

struct IntervalTraffic {
  Side primary;
  Side canary;
};

// Adds `b`'s counts to `a`.
void accumulate(Side& a, const Side& b);
void accumulate(IntervalTraffic& a, const IntervalTraffic& b);

class TrafficModel {
 public:
  TrafficModel(const Scenario& scenario, std::uint64_t seed);
  // Requests per second of the pattern at `t` since the start of the run, before randomness
  // (bursts excepted).
  double meanRate(Duration t) const;
  // Interval number `index` (of `length`, starting at index * length) with `canaryWeight`
  // percent of requests to the candidate; `release` is when the candidate was released (its
  // regression starts `onset` later).
  IntervalTraffic interval(std::int64_t index, Duration length, double canaryWeight,
                           Duration release = Duration::zero()) const;
  // The load tester's requests to the canary in that interval (traffic.testRequestsPerSecond),
  // from a stream of their own: adding them changes no user request.
  Side testTraffic(std::int64_t index, Duration length, Duration release = Duration::zero()) const;

 private:
  const Behaviour& candidateAt(Duration t, Duration release) const;
  double errorRateAt(const Behaviour& b, Duration t, std::uint64_t side) const;
  void serve(const Behaviour& b, double errorRate, double fail, double z, std::mt19937_64& bursts,
             Side& side) const;

  const Scenario& scenario_;
  std::uint64_t seed_;
};

}  // namespace canaryd::sim
