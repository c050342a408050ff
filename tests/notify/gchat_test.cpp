// gchatNotifiers(): Google Chat's text message; golden files in tests/notify/golden/.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/notify/alert_providers.h"

#include "alert_fixtures.h"

namespace canaryd::notify {
namespace {

TEST(GchatNotifierTest, SendsOneTextMessageForEachEvent) {
  ASSERT_EQ(gchatNotifiers().size(), 1u);
  EXPECT_EQ(gchatNotifiers()[0].entry.type, "gchat");
  expectEachEventGolden(gchatNotifiers(),
                        chatDestination("gchat", "https://chat.googleapis.com/v1/spaces/x"),
                        "https://chat.googleapis.com/v1/spaces/x");
}

TEST(GchatNotifierTest, TheNameInBoldThenAFieldALine) {
  Alert a = rollback();
  a.message = "rolled back";
  a.fields = {{"failedChecks", "5"}, {"metric", "error-rate"}};
  auto r = buildDelivery(gchatNotifiers(), chatDestination("gchat", "https://chat.example.com"),
                         canary(), a);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->body,
            R"({"text":"*podinfo.test* rolled back\nfailedChecks: 5\nmetric: error-rate"})");
}

TEST(GchatNotifierTest, NeedsAnAddress) {
  auto r = buildDelivery(gchatNotifiers(), chatDestination("gchat", ""), canary(), rollback());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("has no address"), std::string::npos);
}

}  // namespace
}  // namespace canaryd::notify
