// teamsNotifiers(): an Office 365 MessageCard; golden files in tests/notify/golden/.
#include <gtest/gtest.h>

#include "canaryd/notify/alert_providers.h"

#include "alert_fixtures.h"

namespace canaryd::notify {
namespace {

TEST(TeamsNotifierTest, SendsAMessageCardForEachEvent) {
  ASSERT_EQ(teamsNotifiers().size(), 1u);
  EXPECT_EQ(teamsNotifiers()[0].entry.type, "msteams");
  expectEachEventGolden(teamsNotifiers(),
                        chatDestination("msteams", "https://example.webhook.office.com/w"),
                        "https://example.webhook.office.com/w");
}

TEST(TeamsNotifierTest, SendsNoTokenAndNeedsAnAddress) {
  Destination d = chatDestination("msteams", "https://example.webhook.office.com/w");
  d.token = "s3cret";
  auto r = buildDelivery(teamsNotifiers(), d, canary(), rollback());
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->headers, (Headers{{"Content-Type", "application/json"}}));
  d.address = "";
  r = buildDelivery(teamsNotifiers(), d, canary(), rollback());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("has no address"), std::string::npos);
}

}  // namespace
}  // namespace canaryd::notify
