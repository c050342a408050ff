// Checker: collects validation problems with the messages every validator shares
// ("is required", "must be one of", "must be between"). Internal to api/.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "canaryd/api/problem.h"

namespace canaryd::api {

class Checker {
 public:
  void error(std::string path, std::string message) {
    problems_.push_back({Severity::kError, std::move(path), std::move(message), 0, 0});
  }
  void warn(std::string path, std::string message) {
    problems_.push_back({Severity::kWarning, std::move(path), std::move(message), 0, 0});
  }

  // Reports a missing field; `why` says what it is for. Returns whether it is present.
  template <typename T>
  bool required(const std::string& path, const std::optional<T>& value, std::string_view why) {
    if (value) return true;
    error(path, "required field is missing: " + std::string(why));
    return false;
  }
  bool requiredText(const std::string& path, const std::optional<std::string>& value,
                    std::string_view why);

  // `value`, when set, must be one of `allowed` ("" in the list accepts an empty value).
  void oneOf(const std::string& path, const std::optional<std::string>& value,
             std::span<const std::string_view> allowed);
  // `value`, when set, must lie in [lo, hi].
  void range(const std::string& path, const std::optional<std::int64_t>& value, std::int64_t lo,
             std::int64_t hi);
  void atLeast(const std::string& path, const std::optional<std::int64_t>& value, std::int64_t lo);
  // A Go duration; with `flaggerPattern` also Flagger's CRD pattern ^[0-9]+(m|s), which the
  // API server enforces for analysis and metric intervals and webhook timeouts.
  void duration(const std::string& path, const std::optional<std::string>& value,
                bool flaggerPattern);
  // An absolute http(s) URL with a host.
  void url(const std::string& path, const std::optional<std::string>& value);
  // A Kubernetes object name (RFC 1123 subdomain) or namespace (RFC 1123 label).
  void objectName(const std::string& path, const std::optional<std::string>& value);
  void namespaceName(const std::string& path, const std::optional<std::string>& value);

  std::vector<Problem> take() { return std::move(problems_); }

 private:
  std::vector<Problem> problems_;
};

}  // namespace canaryd::api
