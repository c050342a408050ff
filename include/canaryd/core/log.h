// Logging set-up. canaryd logs through spdlog's default logger; this configures it once at
// start-up as human-readable text or as JSON lines (one object per line with the keys
// "ts", "level", "logger" and "msg"), which log pipelines ingest without parsing rules.
// Call before starting threads; logging itself is thread-safe.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "canaryd/core/result.h"

namespace canaryd {

enum class LogFormat { kText, kJson };

struct LogOptions {
  LogFormat format = LogFormat::kText;
  std::string_view level = "info";  // trace, debug, info, warn, error, critical, off
  std::ostream* out = nullptr;      // stderr when null (tests pass a stringstream)
};

// Parses "text" or "json".
Result<LogFormat> parseLogFormat(std::string_view name);

// Replaces the default logger. Fails, changing nothing, on an unknown level.
Status setupLogging(const LogOptions& options);

// One log line at info level with named fields (a controller's decision: canary, namespace,
// phase, weight, reason). Text: `message key=value ...`, values with spaces quoted; JSON: the
// fields are keys of the line's object, next to "msg".
using LogFields = std::vector<std::pair<std::string, std::string>>;
void logInfoWithFields(std::string_view message, const LogFields& fields);

}  // namespace canaryd
