// Clock: the only source of time for canaryd's logic.
//
// The daemon passes a SystemClock; simulations and unit tests pass a VirtualClock that moves
// only when told, so that nothing depends on the wall clock or on sleeping. Implementations
// are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

namespace canaryd {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(TimePoint start = TimePoint(std::chrono::seconds(1'800'000'000)))
      : nanos_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(nanos_.load())); }
  void advance(TimePoint::duration d) { nanos_ += d.count(); }
  void set(TimePoint t) { nanos_ = t.time_since_epoch().count(); }

 private:
  std::atomic<TimePoint::rep> nanos_;
};

// RFC 3339 in UTC with second precision, as Kubernetes writes timestamps: 2026-11-27T07:30:00Z.
std::string formatRfc3339(TimePoint t);
// Parses what formatRfc3339 writes (fractional seconds are accepted and dropped); nothing when
// the text is not such a timestamp.
std::optional<TimePoint> parseRfc3339(const std::string& text);

}  // namespace canaryd
