#include "canaryd/core/log.h"

#include <atomic>
#include <chrono>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "canaryd/core/duration.h"

namespace canaryd {
namespace {

std::atomic<LogFormat> currentFormat{LogFormat::kText};
// The fields of the line being logged by this thread (logInfoWithFields), for the formatter.
thread_local const LogFields* pendingFields = nullptr;

// Formats each record as one JSON object; nlohmann does the escaping.
class JsonLinesFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    auto since = duration_cast<milliseconds>(msg.time.time_since_epoch());
    std::time_t secs = duration_cast<seconds>(since).count();
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char stamp[40];
    std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(since.count() % 1000));
    nlohmann::json line = {
        {"ts", stamp},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    if (pendingFields != nullptr) {
      for (const auto& [key, value] : *pendingFields)
        line[key] = value;
    }
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text += '\n';
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLinesFormatter>();
  }
};

}  // namespace

Result<LogFormat> parseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return Error::invalidInput("unknown log format \"" + std::string(name) +
                             "\"; must be one of: text, json");
}

Status setupLogging(const LogOptions& options) {
  spdlog::level::level_enum level = spdlog::level::from_str(std::string(options.level));
  // from_str answers "off" for anything it does not know; only accept "off" when asked for.
  if (level == spdlog::level::off && options.level != "off") {
    return Error::invalidInput(
        "unknown log level \"" + std::string(options.level) +
        "\"; must be one of: trace, debug, info, warn, error, critical, off");
  }
  spdlog::sink_ptr sink;
  if (options.out != nullptr) {
    sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*options.out, /*force_flush=*/true);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  if (options.format == LogFormat::kJson) {
    sink->set_formatter(std::make_unique<JsonLinesFormatter>());
  } else {
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  }
  auto logger = std::make_shared<spdlog::logger>("canaryd", std::move(sink));
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
  currentFormat = options.format;
  return {};
}

void logInfoWithFields(std::string_view message, const LogFields& fields) {
  if (!spdlog::default_logger_raw()->should_log(spdlog::level::info)) return;
  if (currentFormat == LogFormat::kJson) {
    pendingFields = &fields;
    spdlog::info("{}", message);
    pendingFields = nullptr;
    return;
  }
  std::string line(message);
  for (const auto& [key, value] : fields) {
    const bool quote = value.empty() || value.find_first_of(" \t\"=") != std::string::npos;
    line += " " + key + "=" + (quote ? nlohmann::json(value).dump() : value);
  }
  spdlog::info("{}", line);
}

}  // namespace canaryd
