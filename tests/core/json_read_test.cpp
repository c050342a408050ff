#include "canaryd/core/json_read.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace canaryd::jsonread {
namespace {

using nlohmann::json;

TEST(JsonReadTest, ParseRefusesWhatIsNotJsonTooLargeOrTooDeep) {
  Limits limits;
  limits.maxBytes = 100;
  limits.maxDepth = 3;
  EXPECT_TRUE(parse(R"({"a":[1,{"b":2}]})", "server", limits).ok());
  Result<json> deep = parse("[[[[1]]]]", "server", limits);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().message(),
            "server answered JSON nested deeper than the limit of 3 levels");
  // Brackets inside strings are not nesting.
  EXPECT_TRUE(parse(R"(["[[[[[[", "\"[[[["])", "server", limits).ok());
  Result<json> large = parse(std::string(101, ' '), "server", limits);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().message(), "server answered 101 bytes, more than the limit of 100");
  Result<json> truncated = parse(R"({"a":)", "server", limits);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().message(), R"(server answered a body that is not JSON: {"a":)");
  EXPECT_FALSE(parse("\xff\xfe", "server", limits).ok());
}

TEST(JsonReadTest, AccessorsReadMissingAndMistypedMembersAsTheFallback) {
  const json v = json::parse(R"({"s":"x","n":5,"u":18446744073709551615,"o":{},"a":[],"f":1.5})");
  EXPECT_EQ(string(v, "s"), "x");
  EXPECT_EQ(string(v, "n", "fallback"), "fallback");
  EXPECT_EQ(string(v, "missing"), "");
  EXPECT_EQ(string(json::array({1}), "s", "d"), "d");  // value() throws here
  EXPECT_EQ(integer(v, "n"), 5);
  EXPECT_EQ(integer(v, "u"), std::nullopt);  // beyond int64
  EXPECT_EQ(integer(v, "f"), std::nullopt);
  EXPECT_EQ(integer(v, "s"), std::nullopt);
  EXPECT_NE(object(v, "o"), nullptr);
  EXPECT_EQ(object(v, "a"), nullptr);
  EXPECT_NE(array(v, "a"), nullptr);
  EXPECT_EQ(array(json("text"), "a"), nullptr);
  EXPECT_EQ(member(json(nullptr), "x"), nullptr);
}

TEST(JsonReadTest, NestingDepthStopsScanningAboveTheLimit) {
  EXPECT_EQ(nestingDepth("{}", 10), 1u);
  EXPECT_EQ(nestingDepth(R"({"a":[{}]})", 10), 3u);
  EXPECT_EQ(nestingDepth(std::string(1000, '['), 5), 6u);
  EXPECT_EQ(nestingDepth("]]]", 5), 0u);
}

TEST(JsonReadTest, SnippetIsBoundedAndValidUtf8) {
  EXPECT_EQ(snippet("short \"x\""), "short \"x\"");
  EXPECT_EQ(snippet(std::string(300, 'a'), 4), "aaaa... (300 bytes)");
  // A multi-byte character cut in half is escaped, not left as invalid UTF-8.
  const std::string cut = snippet("\xc3\xa9\xc3\xa9", 3);
  EXPECT_EQ(cut, "\xc3\xa9\\xc3... (4 bytes)");
  EXPECT_NO_THROW((void)json(cut).dump());
}

}  // namespace
}  // namespace canaryd::jsonread
