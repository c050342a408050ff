#include "canaryd/core/result.h"

#include <string>

#include <gtest/gtest.h>

namespace canaryd {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return Error::invalidInput(std::to_string(n) + " is odd");
  return n / 2;
}

TEST(ResultTest, CarriesValueOrError) {
  Result<int> ok = half(8);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 4);
  Result<int> bad = half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(bad.error().message(), "3 is odd");
  EXPECT_EQ(bad.valueOr(-1), -1);
}

TEST(ResultTest, VoidStatus) {
  Status fine;
  EXPECT_TRUE(fine.ok());
  Status failed = Error::unavailable("prometheus is down");
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.error().retryable());
}

TEST(ErrorTest, KindsAndRetryability) {
  EXPECT_FALSE(Error::invalidInput("x").retryable());
  EXPECT_FALSE(Error::notFound("x").retryable());
  EXPECT_TRUE(Error::conflict("x").retryable());
  EXPECT_TRUE(Error::unavailable("x").retryable());
  EXPECT_FALSE(Error::internal("x").retryable());
  EXPECT_EQ(toString(ErrorKind::kConflict), "conflict");
  EXPECT_EQ(toString(ErrorKind::kNotFound), "not-found");
}

TEST(ErrorTest, WithContextPrefixesMessageAndKeepsKind) {
  Error e = Error::notFound("deployment my-app").withContext("reconcile production/my-app");
  EXPECT_EQ(e.message(), "reconcile production/my-app: deployment my-app");
  EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace canaryd
