// Durations as Kubernetes and Go write them: "30s", "1m30s", "2h", "500ms", "1.5h".
//
// Parsing follows Go's time.ParseDuration (the format Flagger and the Kubernetes API use):
// a sequence of decimal numbers, each with an optional fraction and a unit
// (ns, us, µs, ms, s, m, h), optionally signed; "0" alone needs no unit.
// Formatting follows Go's Duration.String(): "1h0m0s", "1m30s", "1.5s", "500ms".
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "canaryd/core/result.h"

namespace canaryd {

using Duration = std::chrono::nanoseconds;

// Parses `text`; on failure the error says what is wrong and what is allowed.
Result<Duration> parseDuration(std::string_view text);

// Formats `d` the way Go's Duration.String() does.
std::string formatDuration(Duration d);

// `d` in (fractional) seconds.
inline double toSeconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace canaryd
