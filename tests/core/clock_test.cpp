#include "canaryd/core/clock.h"

#include <gtest/gtest.h>

namespace canaryd {
namespace {

TEST(ClockTest, Rfc3339RoundTrips) {
  VirtualClock clock;
  const TimePoint t = std::chrono::time_point_cast<std::chrono::seconds>(clock.now());
  EXPECT_EQ(parseRfc3339(formatRfc3339(t)), t);
  EXPECT_EQ(parseRfc3339("2026-11-27T07:30:00.123456Z"), parseRfc3339("2026-11-27T07:30:00Z"));
  EXPECT_EQ(parseRfc3339("yesterday"), std::nullopt);
  EXPECT_EQ(parseRfc3339("2026-11-27T07:30:00+02:00"), std::nullopt);
}

TEST(ClockTest, VirtualClockMovesOnlyWhenTold) {
  VirtualClock clock;
  const TimePoint start = clock.now();
  EXPECT_EQ(clock.now(), start);
  clock.advance(std::chrono::seconds(90));
  EXPECT_EQ(clock.now() - start, std::chrono::seconds(90));
  EXPECT_EQ(formatRfc3339(TimePoint(std::chrono::seconds(1'800'000'000))), "2027-01-15T08:00:00Z");
}

}  // namespace
}  // namespace canaryd
