#include "canaryd/core/base64.h"

#include <vector>

#include <gtest/gtest.h>

namespace canaryd {
namespace {

TEST(Base64Test, EncodesWithPadding) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("user:pa ss"), "dXNlcjpwYSBzcw==");
}

TEST(Base64Test, DecodesWhatItEncodesAndIgnoresLineBreaks) {
  for (const std::string& text :
       std::vector<std::string>{"", "f", "fo", "foo", "hello ca", std::string("\0\xff\x10", 3)}) {
    Result<std::string> back = base64Decode(base64Encode(text), "data");
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, text);
  }
  EXPECT_EQ(*base64Decode("aGVs\nbG8g\r\nY2E=", "data"), "hello ca");
}

TEST(Base64Test, RejectsWhatIsNotBase64) {
  for (const char* bad : {"%%%", "Zg=", "Zm9", "Z===", "Zm9v!", "Zg==Zg=="}) {
    Result<std::string> r = base64Decode(bad, "certificate-authority-data");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message(), "certificate-authority-data is not valid base64");
  }
}

}  // namespace
}  // namespace canaryd
