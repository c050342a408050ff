#include "api/checker.h"

#include <regex>

#include "canaryd/api/enums.h"
#include "canaryd/core/duration.h"
#include "canaryd/core/text.h"

namespace canaryd::api {

bool Checker::requiredText(const std::string& path, const std::optional<std::string>& value,
                           std::string_view why) {
  if (value && !value->empty()) return true;
  error(path, "required field is missing: " + std::string(why));
  return false;
}

void Checker::oneOf(const std::string& path, const std::optional<std::string>& value,
                    std::span<const std::string_view> allowed) {
  if (!value || allowed::contains(allowed, *value)) return;
  std::vector<std::string_view> shown;
  for (std::string_view a : allowed) {
    if (!a.empty()) shown.push_back(a);
  }
  std::string message = quote(*value) + " is not allowed; must be one of: " + join(shown, ", ");
  if (auto hint = closestMatch(*value, shown)) message += " (did you mean " + quote(*hint) + "?)";
  error(path, std::move(message));
}

void Checker::range(const std::string& path, const std::optional<std::int64_t>& value,
                    std::int64_t lo, std::int64_t hi) {
  if (!value || (*value >= lo && *value <= hi)) return;
  error(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                  std::to_string(*value));
}

void Checker::atLeast(const std::string& path, const std::optional<std::int64_t>& value,
                      std::int64_t lo) {
  if (!value || *value >= lo) return;
  error(path, "must be at least " + std::to_string(lo) + ", got " + std::to_string(*value));
}

void Checker::duration(const std::string& path, const std::optional<std::string>& value,
                       bool flaggerPattern) {
  if (!value) return;
  Result<Duration> parsed = parseDuration(*value);
  if (!parsed) {
    error(path, parsed.error().message());
    return;
  }
  static const std::regex kPattern("^[0-9]+(m|s).*");
  if (flaggerPattern && !std::regex_match(*value, kPattern)) {
    error(path, quote(*value) +
                    " is not allowed by the Canary schema (pattern ^[0-9]+(m|s)); write it in "
                    "seconds or minutes, for example 30s, 5m or 1m30s");
    return;
  }
  if (parsed->count() < 0) error(path, "must not be negative, got " + quote(*value));
}

void Checker::url(const std::string& path, const std::optional<std::string>& value) {
  if (!value) return;
  static const std::regex kUrl(R"(^https?://[^/\s?#]+([/?#]\S*)?$)");
  if (!std::regex_match(*value, kUrl)) {
    error(path, quote(*value) +
                    " is not an absolute http(s) URL; expected for example "
                    "http://flagger-loadtester.test/");
  }
}

void Checker::objectName(const std::string& path, const std::optional<std::string>& value) {
  if (!value) return;
  static const std::regex kName(
      R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  if (value->size() > 253 || !std::regex_match(*value, kName)) {
    error(path, quote(*value) +
                    " is not a valid name: lower-case letters, digits, '-' and '.', starting and "
                    "ending with a letter or digit, at most 253 characters");
  }
}

void Checker::namespaceName(const std::string& path, const std::optional<std::string>& value) {
  if (!value) return;
  static const std::regex kLabel(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)");
  if (value->size() > 63 || !std::regex_match(*value, kLabel)) {
    error(path, quote(*value) +
                    " is not a valid namespace: lower-case letters, digits and '-', starting and "
                    "ending with a letter or digit, at most 63 characters");
  }
}

}  // namespace canaryd::api
