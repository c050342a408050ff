// What the hostile-input tests share: the corpus of answers (tests/hostile/corpus/<party>/, one
// file per answer body, also the seeds of the fuzzers), answers built in code (too large to
// keep as files), a listener that never answers, and the checks every message must pass.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "support/raw_http_server.h"
#include "support/source_files.h"

namespace canaryd::testing {

// The corpus files of one party, as (file name, bytes), sorted by name.
inline std::vector<std::pair<std::string, std::string>> corpus(const std::string& party) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry :
       std::filesystem::directory_iterator(sourcePath("tests/hostile/corpus/" + party))) {
    out.emplace_back(entry.path().filename().string(), readFile(entry.path().string()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Prometheus answers too large to keep as files.
inline std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}
inline std::string longError(std::size_t bytes) {
  return R"({"status":"error","errorType":"execution","error":")" + std::string(bytes, 'e') +
         R"("})";
}
inline std::string manySeries(std::size_t count) {
  std::string out = R"({"status":"success","data":{"resultType":"vector","result":[)";
  for (std::size_t i = 0; i < count; ++i) {
    out += (i == 0 ? "" : ",") + std::string(R"({"metric":{"pod":"p)") + std::to_string(i) +
           R"("},"value":[1,"1"]})";
  }
  return out + "]}}";
}

// A message fit for a status, an Event and a log line: valid UTF-8 (the JSON writer throws on
// anything else) and bounded.
inline ::testing::AssertionResult fitForStatus(const std::string& message,
                                               std::size_t maxBytes = 4096) {
  try {
    (void)nlohmann::json(message).dump();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "not valid UTF-8: " << e.what();
  }
  if (message.size() > maxBytes) {
    return ::testing::AssertionFailure()
           << message.size() << " bytes: " << message.substr(0, 300) << "...";
  }
  return ::testing::AssertionSuccess();
}

// A TCP listener on 127.0.0.1 that accepts into its backlog and never reads or answers: the
// "silent server" of a tenant that wants to hold canaryd's workers.
class SilentListener {
 public:
  SilentListener() : fd_(listenOnLoopback(port_, 64)) {}
  ~SilentListener() { close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  int port_ = 0;
  int fd_;
};

}  // namespace canaryd::testing
