#include "canaryd/core/text.h"

#include <array>
#include <cmath>

#include <gtest/gtest.h>

namespace canaryd {
namespace {

using namespace std::string_view_literals;

TEST(TextTest, Join) {
  std::array items = {"a"sv, "b"sv, "c"sv};
  EXPECT_EQ(join(items, ", "), "a, b, c");
  EXPECT_EQ(join(std::span<const std::string_view>(), ", "), "");
}

TEST(TextTest, EditDistance) {
  EXPECT_EQ(editDistance("stepWeight", "stepWeight"), 0u);
  EXPECT_EQ(editDistance("stepWeigth", "stepWeight"), 1u);  // a transposition is one edit
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(editDistance("StepWeight", "stepWeight"), 0u);  // case-insensitive
  EXPECT_EQ(editDistance("", "abc"), 3u);
}

TEST(TextTest, ClosestMatchSuggestsPlausibleTypos) {
  std::array names = {"stepWeight"sv, "stepWeights"sv, "maxWeight"sv, "threshold"sv};
  EXPECT_EQ(closestMatch("stepweigth", names), "stepWeight");
  EXPECT_EQ(closestMatch("treshold", names), "threshold");
  EXPECT_EQ(closestMatch("color", names), std::nullopt);
}

TEST(TextTest, FormatNumber) {
  EXPECT_EQ(formatNumber(99), "99");
  EXPECT_EQ(formatNumber(99.5), "99.5");
  EXPECT_EQ(formatNumber(-0.25), "-0.25");
  EXPECT_EQ(formatNumber(NAN), "nan");
  EXPECT_EQ(formatNumber(INFINITY), "inf");
}

TEST(TextTest, QuoteEscapes) {
  EXPECT_EQ(quote("plain"), "\"plain\"");
  EXPECT_EQ(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(quote(std::string_view("\x01", 1)), "\"\\x01\"");
  // Valid UTF-8 is kept; bytes that are not (stray, overlong, surrogate, cut) are escaped, so the
  // result is always valid UTF-8.
  EXPECT_EQ(quote("caf\xc3\xa9 \xf0\x9f\x8e\x89"), "\"caf\xc3\xa9 \xf0\x9f\x8e\x89\"");
  EXPECT_EQ(quote("\xff\xc0\xaf\xed\xa0\x80\xe2\x82"),
            "\"\\xff\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82\"");
}

}  // namespace
}  // namespace canaryd
