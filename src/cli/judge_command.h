// `canaryd judge mann-whitney | sequential`: run a judge on numbers from files, as the
// controller would on numbers from Prometheus.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

namespace canaryd::cli {

struct JudgeMannWhitneyOptions {
  std::string baselineFile;
  std::string canaryFile;
  double confidence = 0.95;
  std::optional<double> allowedIncrease;
  std::optional<double> allowedDecrease;
  std::string effectSize = "mean-ratio";  // mean-ratio | cles
  std::string nanStrategy = "remove";     // remove | replace
  std::string output = "text";            // text | json
};

struct JudgeSequentialOptions {
  std::string input;  // CSV, one row per analysis interval
  double alpha = 0.01;
  double maxIncrease = 0;  // percentage points
  double maxRatio = 1;     // allowed ratio of the canary's error rate to the primary's
};

// Exit codes: 0 judged (whatever the verdict), 1 bad input (unreadable file, non-numeric
// token, impossible counts; the message names file and line).
int runJudgeMannWhitney(const JudgeMannWhitneyOptions& options, std::ostream& out,
                        std::ostream& err);
int runJudgeSequential(const JudgeSequentialOptions& options, std::ostream& out, std::ostream& err);

}  // namespace canaryd::cli
