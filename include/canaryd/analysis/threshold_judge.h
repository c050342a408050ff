// The threshold judge: Flagger's semantics exactly. A value inside [min, max] (either bound
// optional, both inclusive) passes; outside fails, high or low; NaN, infinity or no value at
// all is no data. Pure function; thread-safe.
#pragma once

#include <optional>

#include "canaryd/analysis/judgement.h"

namespace canaryd::analysis {

struct ThresholdPolicy {
  std::optional<double> min;
  std::optional<double> max;
};

Judgement judgeThreshold(std::optional<double> value, const ThresholdPolicy& policy);

}  // namespace canaryd::analysis
