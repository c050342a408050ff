#include "canaryd/core/duration.h"

#include <limits>

#include <gtest/gtest.h>

namespace canaryd {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(DurationTest, ParsesGoDurations) {
  struct Case {
    const char* text;
    Duration want;
  } cases[] = {
      {"30s", seconds(30)},
      {"1m30s", seconds(90)},
      {"2h", hours(2)},
      {"500ms", milliseconds(500)},
      {"1.5h", minutes(90)},
      {"0", Duration::zero()},
      {"0s", Duration::zero()},
      {"-1m", -minutes(1)},
      {"+5s", seconds(5)},
      {"1h2m3s4ms5us6ns", hours(1) + minutes(2) + seconds(3) + milliseconds(4) + nanoseconds(5006)},
      {"10\xC2\xB5s", nanoseconds(10'000)},
      {".5s", milliseconds(500)},
      {"1.s", seconds(1)},
      {"2562047h47m16.854775807s", nanoseconds(std::numeric_limits<std::int64_t>::max())},
  };
  for (const Case& c : cases) {
    Result<Duration> got = parseDuration(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(DurationTest, RejectsMalformedWithHelpfulMessage) {
  for (const char* text : {"", "30", "s", "1x", "1m30", "--1s", "1.2.3s", "abc", "1 m",
                           "2562047h47m16.854775808s", "99999999999999999999h"}) {
    Result<Duration> got = parseDuration(text);
    ASSERT_FALSE(got.ok()) << "accepted " << text;
    EXPECT_EQ(got.error().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(got.error().message().find("for example 30s, 1m30s"), std::string::npos)
        << got.error().message();
  }
  EXPECT_NE(parseDuration("1x").error().message().find("unknown unit \"x\""), std::string::npos);
  EXPECT_NE(parseDuration("30").error().message().find("unit is missing"), std::string::npos);
}

TEST(DurationTest, FormatsLikeGo) {
  EXPECT_EQ(formatDuration(Duration::zero()), "0s");
  EXPECT_EQ(formatDuration(seconds(30)), "30s");
  EXPECT_EQ(formatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(formatDuration(hours(2)), "2h0m0s");
  EXPECT_EQ(formatDuration(milliseconds(500)), "500ms");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(formatDuration(nanoseconds(1500)), "1.5\xC2\xB5s");
  EXPECT_EQ(formatDuration(nanoseconds(7)), "7ns");
  EXPECT_EQ(formatDuration(-minutes(1)), "-1m0s");
  EXPECT_EQ(formatDuration(nanoseconds(std::numeric_limits<std::int64_t>::min())),
            "-2562047h47m16.854775808s");
}

TEST(DurationTest, FormatThenParseRoundTrips) {
  for (Duration d : {Duration(seconds(61)), Duration(milliseconds(1)), Duration(hours(25)),
                     Duration(nanoseconds(123456789))}) {
    Result<Duration> back = parseDuration(formatDuration(d));
    ASSERT_TRUE(back.ok()) << formatDuration(d);
    EXPECT_EQ(*back, d);
  }
}

}  // namespace
}  // namespace canaryd
