// One simulated rollout: the daemon's CanaryController (its work queue: requeues, retries and
// backoff) and Reconciler, unchanged, against the simulator's cluster (sim/cluster.h), traffic
// (sim/traffic.h) and Prometheus (sim/metrics.h), with webhooks answered in process, alerts
// recorded, and a virtual clock that jumps to the next time the queue hands the Canary out (on a
// 5-second tick grid; a requeue at once is taken at most three times at one instant). The
// controller's informers do not run: the run puts the Canary on the queue where they would (its
// creation, the release).
//
// The run installs the scenario's Canary and its target Deployment, reconciles until the Canary
// is Initialized, then releases the candidate (a new image) at t = 0 and reconciles whenever
// the controller's queue hands the Canary out again, until the Canary is Succeeded or Failed or
// the scenario's durationLimit has passed. Traffic is drawn tick by tick (5 seconds) at the weights
// the router holds (plus a load tester's requests to the canary while the Canary is
// Progressing, when the scenario has them), from a stream keyed by the seed and the tick: runs
// with the same seed see the same requests whatever the judge (common random numbers). Faults apply
// from their `from` to their `until`, measured from the release. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "canaryd/core/duration.h"
#include "canaryd/sim/scenario.h"

namespace canaryd::sim {

// One reconcile of the run: where the rollout stood after it, and what happened in it.
struct TimelineEntry {
  Duration t{};  // since the release
  std::string phase;
  std::int64_t canaryWeight = 0;
  std::int64_t failedChecks = 0;
  std::vector<std::pair<std::string, double>> metrics;  // each value measured
  std::string judge;               // the statistical judge's verdict of this window and its numbers
  std::vector<std::string> notes;  // events, webhook calls and alerts, in order
};

enum class Outcome { kPromoted, kRolledBack, kUndecided };
std::string_view toString(Outcome outcome);

struct RunResult {
  std::string phase;  // the Canary's phase at the end (Succeeded, Failed, or where it stood)
  // What the user saw: promoted (the run ended Succeeded), rolledBack (it ended Failed, whatever
  // failed it), undecided (still running at the scenario's duration limit).
  Outcome outcome = Outcome::kUndecided;
  // What rolled it back: judge, threshold, inconclusive, noData, webhook or deadline.
  std::string rolledBackBy;
  // With a statistical judge: its verdict when the run was decided (pass, fail, inconclusive,
  // nodata), whatever the policy then did with it.
  std::string verdict;
  bool decided = false;     // promoted or rolled back before the duration limit
  Duration decisionTime{};  // since the release: promotion began or the rollback came
  Duration duration{};      // since the release: until the run ended
  // Users' failed or slow requests the canary served before the decision, and all users'
  // requests it served (a load tester's are not counted).
  std::int64_t badRequestsServed = 0;
  std::int64_t canaryRequests = 0;
  std::string reason;  // the last Warning event's message, for rollbacks
  std::vector<TimelineEntry> timeline;
};

struct RunOptions {
  std::uint64_t seed = 1;
  // Overrides the Canary's judge: threshold (Flagger's fixed thresholds), mann-whitney or
  // sequential (keeping the judge block's parameters where it has one).
  std::optional<std::string> judge;
  bool keepTimeline = true;  // many-run benchmarks skip it
  // Told of each entry as it happens (the live timeline).
  std::function<void(const TimelineEntry&)> onEntry;
};

RunResult runScenario(const Scenario& scenario, const RunOptions& options);

// What of the scenario's `expect` the run missed, one sentence each; empty when it met all.
// The Canary with its sequential judge also checking between steps, every `every` (a duration,
// at least 5s; judge.checkInterval). An error when the judge is not sequential.
Result<api::Canary> withCheckInterval(const api::Canary& canary, const std::string& every);

std::vector<std::string> unmetExpectations(const Expect& expect, const RunResult& result);

// The Canary with the judge of `judge` (see RunOptions::judge); an error for other names.
Result<api::Canary> withJudge(const api::Canary& canary, const std::string& judge);

}  // namespace canaryd::sim
