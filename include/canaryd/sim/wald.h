// Wald's bound: the fewest samples any test can expect to need to tell a regression from no
// regression at false-alarm rate alpha and miss rate beta,
//   E[N] >= ((1-beta) log((1-beta)/alpha) + beta log(beta/(1-alpha))) / KL,
// where KL is the information one sample carries about the difference. The benchmark reports
// each judge's median samples to a rollback as a ratio to it.
//
// For a canary the samples are requests, and the primary's error rate is not known: it is
// learned from the primary's own requests, whose share the rollout's weights set. So the floor
// is computed for the experiment the rollout actually runs: interval by interval (weight 0 for
// the first, then the steps, then the top weight), the canary and primary requests served so
// far carry N_c KL(p1 || p' + m) + N_p KL(p0 || p') against the closest no-regression pair of
// rates (p' + m, p'), m the allowed increase; the floor is the canary requests served when
// that information reaches Wald's numerator. With the primary's rate known the floor
// would be numerator / KL(candidate || primary + margin) per canary request
// (knownBaselineRequests): lower, and out of reach of any two-sample test.
#pragma once

#include <optional>

#include "canaryd/core/duration.h"
#include "canaryd/sim/scenario.h"

namespace canaryd::sim {

// Wald's numerator: (1-beta) log((1-beta)/alpha) + beta log(beta/(1-alpha)), in nats.
double waldNumerator(double alpha, double beta);

// KL(Bernoulli(p) || Bernoulli(q)) in nats.
double bernoulliKl(double p, double q);

struct WaldFloor {
  double canaryRequests = 0;         // two-sample, along the rollout's weights
  Duration time{};                   // since the release, when that many have been served
  double knownBaselineRequests = 0;  // with the primary's error rate known
  // The controller judges once per interval (with judge.checkInterval, that often between
  // steps too): the first check at or after the floor, and the canary requests served by then
  // (the fewest any judge checked there can decide on).
  Duration firstCheck{};
  double canaryRequestsAtFirstCheck = 0;
};

// For an error regression (the candidate's error rate above the primary's plus the judge's
// maxErrorIncrease): the floor at the judge's alpha (0.01 without one) and `beta`, wherever it
// falls (compare its time with the scenario's durationLimit). Nothing for other scenarios, nor
// for Canaries without weight steps (blue/green, A/B testing: users' requests never reach the
// canary there, so there are no samples to count).
std::optional<WaldFloor> waldFloor(const Scenario& scenario, double beta = 0.05);

// What a test that is told the effect reaches on the same rollout: Wald's sequential
// probability ratio test of the candidate's true bad-request ratio against the judge's bound,
// on the bad requests of each window (the primary's rate unknown, as for the judge), checked
// when the controller checks (every interval, or judge.checkInterval) until it reaches
// 1/alpha. It is the best any judge checked at those moments can hope for, so it tells how
// much of the gap to the floor is the cadence and how much is not knowing the effect. Runs
// the scenario's traffic with seeds seed..seed+runs-1; the median canary requests served
// when it decided (runs that never decided within durationLimit count as never; nothing when
// fewer than half decided, or for the scenarios waldFloor() has nothing for).
std::optional<double> knownEffectMedian(const Scenario& scenario, int runs, std::uint64_t seed);

}  // namespace canaryd::sim
