// webhookNotifiers(): canaryd's own flat JSON for any receiver; golden files in
// tests/notify/golden/.
#include <gtest/gtest.h>

#include "canaryd/notify/alert_providers.h"

#include "alert_fixtures.h"

namespace canaryd::notify {
namespace {

TEST(WebhookNotifierTest, SendsCanarydsJsonForEachEvent) {
  ASSERT_EQ(webhookNotifiers().size(), 1u);
  EXPECT_EQ(webhookNotifiers()[0].entry.type, "webhook");
  expectEachEventGolden(webhookNotifiers(),
                        chatDestination("webhook", "https://hooks.example.com/canaryd"),
                        "https://hooks.example.com/canaryd");
}

TEST(WebhookNotifierTest, TheTokenIsABearerToken) {
  Destination d = chatDestination("webhook", "https://hooks.example.com/canaryd");
  d.token = "s3cret";
  auto r = buildDelivery(webhookNotifiers(), d, canary(), rollback());
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->headers,
            (Headers{{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret"}}));
}

TEST(WebhookNotifierTest, NeedsAnAddress) {
  auto r = buildDelivery(webhookNotifiers(), chatDestination("webhook", ""), canary(), rollback());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("has no address"), std::string::npos);
}

}  // namespace
}  // namespace canaryd::notify
