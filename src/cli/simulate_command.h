// `canaryd simulate SCENARIO.yaml [--seed N] [--judge J] [--runs N] [--output text|json]`:
// the daemon's controller against a simulated cluster, traffic and Prometheus (sim/run.h).
//
// One run prints the live timeline (virtual time, phase, canary weight, each metric's value
// and verdict, webhook calls, events and alerts) and the final phase; `--output json` prints
// one object with phase, outcome, durationSeconds and the timeline. Several runs (seeds N,
// N+1, ...) run on `--jobs` threads with a progress bar on stderr and print a summary: runs,
// promoted, rolledBack, inconclusive, the rollback rate with its exact (Clopper-Pearson) 95%
// interval, the median and p90 seconds to decision (and to a rollback, with the canary
// requests served until then: the samples a detection took, a run without a rollback counting
// as never), the bad requests served, and for error regressions Wald's floor (sim/wald.h).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace canaryd::cli {

struct SimulateOptions {
  std::string file;
  std::uint64_t seed = 1;
  std::string judge;          // "" keeps the scenario's
  std::string checkInterval;  // "" keeps the scenario's judge.checkInterval
  int runs = 1;
  int jobs = 0;  // 0: one per core
  std::string output = "text";
  bool progress = true;  // the progress bar of many runs
};

// Exit codes: 0 ran and met the scenario's expect (a single run), 1 the scenario file is
// unreadable or invalid, 3 the run missed its expect.
int runSimulate(const SimulateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace canaryd::cli
