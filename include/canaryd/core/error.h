// Error: what went wrong, as a value that crosses module boundaries.
//
// Every fallible operation in canaryd returns an Error (inside a Result<T>) instead of
// throwing. The message is written for the person who has to act on it; the kind tells
// callers whether trying again can help. Immutable value type; thread-safe to copy.
#pragma once

#include <string>
#include <string_view>

namespace canaryd {

enum class ErrorKind {
  kInvalidInput,  // the input is wrong; retrying the same input fails the same way
  kNotFound,      // the thing asked for does not exist
  kConflict,      // someone else changed it first (optimistic concurrency); re-read and retry
  kUnavailable,   // a dependency is down, slow or overloaded; retry with backoff
  kExpired,       // a resourceVersion is too old to resume from (HTTP 410); relist
  kInternal,      // a bug in canaryd or a broken invariant
};

std::string_view toString(ErrorKind kind);

// The kind of failure an HTTP error status from the Kubernetes API means: 400, 401, 403, 415
// and 422 kInvalidInput, 404 kNotFound, 409 kConflict, 410 kExpired, 429 and 5xx kUnavailable.
ErrorKind errorKindForHttpStatus(int status);

class Error {
 public:
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  static Error invalidInput(std::string message) {
    return {ErrorKind::kInvalidInput, std::move(message)};
  }
  static Error notFound(std::string message) { return {ErrorKind::kNotFound, std::move(message)}; }
  static Error conflict(std::string message) { return {ErrorKind::kConflict, std::move(message)}; }
  static Error unavailable(std::string message) {
    return {ErrorKind::kUnavailable, std::move(message)};
  }
  static Error internal(std::string message) { return {ErrorKind::kInternal, std::move(message)}; }
  static Error expired(std::string message) { return {ErrorKind::kExpired, std::move(message)}; }

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // True when the same operation may succeed later (conflict and unavailable).
  bool retryable() const {
    return kind_ == ErrorKind::kConflict || kind_ == ErrorKind::kUnavailable;
  }
  // Returns a copy whose message is prefixed with `context: `.
  Error withContext(std::string_view context) const;

  friend bool operator==(const Error&, const Error&) = default;

 private:
  ErrorKind kind_;
  std::string message_;
};

}  // namespace canaryd
