// Reading JSON that came from outside canaryd (a Prometheus a tenant named, a webhook
// receiver, the Kubernetes API, a watch stream): parsing within limits, and typed access that
// never throws.
//
// nlohmann::json's value() and get<T>() throw when a member has another type than expected
// ("cannot use value() with array"); an answer of the wrong shape must be an error value, not
// an exception. Every reader of outside bytes parses with parseJson() and reads with these
// accessors: a missing member or one of another type is the fallback, never an exception.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "canaryd/core/result.h"

namespace canaryd::jsonread {

struct Limits {
  std::size_t maxBytes = 16u << 20;  // of the text
  std::size_t maxDepth = 64;         // nested arrays and objects
};

// Parses `text` as one JSON value. Errors (kUnavailable: the server's answer is wrong, which
// may change) name `what` ("Prometheus http://prom:9090") and say which limit was exceeded or
// that the text is not JSON. Never throws.
Result<nlohmann::json> parse(std::string_view text, std::string_view what, const Limits& limits);

// The deepest nesting of arrays and objects in `text` (strings skipped), scanning no further
// than the first level above `stopAbove`. Pure; O(size).
std::size_t nestingDepth(std::string_view text, std::size_t stopAbove);

// The member `key` of `value` when `value` is an object holding it; otherwise nullptr.
const nlohmann::json* member(const nlohmann::json& value, std::string_view key);
// The member as a string, when it is one; otherwise `fallback`.
std::string string(const nlohmann::json& value, std::string_view key,
                   std::string_view fallback = "");
// The member as an integer, when it is an integral number; otherwise nothing.
std::optional<std::int64_t> integer(const nlohmann::json& value, std::string_view key);
// The member when it is an object (or array); otherwise nullptr.
const nlohmann::json* object(const nlohmann::json& value, std::string_view key);
const nlohmann::json* array(const nlohmann::json& value, std::string_view key);

// At most `maxBytes` of `text` for a message: control characters and bytes that are not valid
// UTF-8 escaped (printable()), and "... (N bytes)" when cut.
std::string snippet(std::string_view text, std::size_t maxBytes = 200);

}  // namespace canaryd::jsonread
