// Scenario files for `canaryd simulate` (issue 7): what a rollout policy is tried against.
//
//   apiVersion: canaryd.dev/v1alpha1
//   kind: Scenario
//   metadata: {name: healthy-aa}
//   spec:
//     canary: {...}              # an inline Canary manifest, or
//     canaryFile: canary.yaml    # one read from a file (relative to the scenario)
//     traffic: {requestsPerSecond: 10, pattern: constant}   # or diurnal (amplitude, period),
//                                                           # bursty (burstFactor,
//                                                           burstProbability);
//                                                           # testRequestsPerSecond: a load
//                                                           # tester's, to the canary;
//                                                           # rateNoise: {cv: 0.3}
//     primary:   {errorRate: 0.005, latency: {p50: 20, p99: 120},
//                 errorBursts: {meanSize: 3},                         # optional, both sides
//                 errorRateSchedule: [{after: 10m, errorRate: 0.002}]} # optional, both sides
//     candidate: {errorRate: 0.015, latency: {p50: 20, p99: 120}, onset: 2m}
//     prometheus: {scrapeInterval: 15s, extrapolate: true}  # optional: counts as increase()
//     faults: [{type: metrics-outage, from: 3m, until: 5m}]  # also webhook-failure,
//                                                            # webhook-refusal, slow-readiness
//     durationLimit: 30m
//     expect: {phase: Failed, outcome: rolledBack, maxDuration: 10m}
//
// readScenario() reports every problem as `canaryd validate` does: the field path, the line,
// what is allowed. Error rates are fractions (0..1), latencies milliseconds, durations Go-style.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "canaryd/api/canary.h"
#include "canaryd/api/problem.h"
#include "canaryd/core/duration.h"
#include "canaryd/core/result.h"

namespace canaryd::sim {

inline constexpr const char* kScenarioApiVersion = "canaryd.dev/v1alpha1";

struct Latency {
  double p50Ms = 20;
  double p99Ms = 100;
  friend bool operator==(const Latency&, const Latency&) = default;
};

// From `after` (time since the run's start) on, the error rate is `errorRate`.
struct ErrorRateChange {
  Duration after{};
  double errorRate = 0;
  friend bool operator==(const ErrorRateChange&, const ErrorRateChange&) = default;
};

struct Behaviour {
  double errorRate = 0;  // fraction of requests answered 5xx
  Latency latency;
  // candidate only: it behaves as the primary until this long after the release.
  std::optional<Duration> onset;
  // errorBursts.meanSize: errors come in bursts of this mean size (geometric sizes: retries, one
  // bad pod), at errorRate / meanSize bursts per request, so the mean error rate is unchanged;
  // 1: independent errors.
  double burstMeanSize = 1;
  std::vector<ErrorRateChange> errorRateSchedule;  // in time order
  friend bool operator==(const Behaviour&, const Behaviour&) = default;
};

enum class Pattern { kConstant, kDiurnal, kBursty };

struct Traffic {
  double requestsPerSecond = 10;
  Pattern pattern = Pattern::kConstant;
  double amplitude = 0.5;  // diurnal: the rate swings by this fraction around the mean
  Duration period = std::chrono::hours(24);
  double burstFactor = 5;         // bursty: a burst multiplies the rate by this
  double burstProbability = 0.1;  // bursty: chance that an interval is a burst
  // Requests a load tester sends to the canary itself while it is analysed (what blue/green
  // and A/B testing rely on: users' traffic reaches the canary only by weight).
  double testRequestsPerSecond = 0;
  // rateNoise.cv: each side's error rate is multiplied, minute by minute, by its own
  // gamma-distributed factor of mean 1 and this coefficient of variation (overdispersion:
  // error rates that wander more than independent requests would); 0: none.
  double errorRateNoiseCv = 0;
  friend bool operator==(const Traffic&, const Traffic&) = default;
};

struct Fault {
  std::string type;  // metrics-outage, webhook-failure, webhook-refusal, slow-readiness
  Duration from{};
  Duration until{};
  friend bool operator==(const Fault&, const Fault&) = default;
};

// How the simulated Prometheus computes the judge's counter increments: exact counts of the
// window (the default), or as `increase()` does over scrapes every `scrapeInterval`: the
// difference of the first and last samples in the window, extrapolated towards its edges, with
// a new series' first increment dropped.
struct PrometheusModel {
  bool extrapolate = false;
  Duration scrapeInterval = std::chrono::seconds(15);
  friend bool operator==(const PrometheusModel&, const PrometheusModel&) = default;
};

struct Expect {
  std::optional<std::string> phase;  // the phase at the end: Succeeded, Failed, WaitingPromotion...
  std::optional<std::string> outcome;  // promoted, rolledBack, undecided
  std::optional<Duration> maxDuration;
  std::optional<Duration> minDuration;
  friend bool operator==(const Expect&, const Expect&) = default;
};

struct Scenario {
  std::string name;
  api::Canary canary;  // Flagger's defaults applied
  Traffic traffic;
  Behaviour primary;
  Behaviour candidate;
  PrometheusModel prometheus;
  std::vector<Fault> faults;
  Duration durationLimit = std::chrono::hours(1);
  Expect expect;
};

struct ScenarioRead {
  std::optional<Scenario> scenario;    // set when there are no errors
  std::vector<api::Problem> problems;  // errors and warnings, with lines
};

// Reads one Scenario document. `readFile` resolves spec.canaryFile (relative to the scenario).
ScenarioRead readScenario(std::string_view text, const std::string& source,
                          const std::function<Result<std::string>(const std::string&)>& readFile);

}  // namespace canaryd::sim
