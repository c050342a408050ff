// slackNotifiers(): Slack's incoming-webhook attachment, for Slack, Discord (its /slack
// endpoint) and Rocket.Chat; golden files in tests/notify/golden/.
#include <gtest/gtest.h>

#include "canaryd/notify/alert_providers.h"

#include "alert_fixtures.h"

namespace canaryd::notify {
namespace {

TEST(SlackNotifierTest, ProvidesSlackDiscordAndRocket) {
  std::vector<std::string> types;
  for (const NotifierPlugin& plugin : slackNotifiers())
    types.push_back(plugin.entry.type);
  EXPECT_EQ(types, (std::vector<std::string>{"slack", "discord", "rocket"}));
}

TEST(SlackNotifierTest, EachTypeSendsSlacksAttachmentForEachEvent) {
  const auto plugins = slackNotifiers();
  expectEachEventGolden(plugins, chatDestination("slack", "https://hooks.slack.com/services/T/B/X"),
                        "https://hooks.slack.com/services/T/B/X");
  expectEachEventGolden(plugins, chatDestination("rocket", "https://rocket.example.com/hooks/x"),
                        "https://rocket.example.com/hooks/x");
  expectEachEventGolden(plugins,
                        chatDestination("discord", "https://discord.com/api/webhooks/1/abc/"),
                        "https://discord.com/api/webhooks/1/abc/slack");
}

TEST(SlackNotifierTest, DiscordPostsToItsWebhooksSlackEndpointWhateverTheTrailingSlashes) {
  for (const std::string address :
       {"https://discord.com/api/webhooks/1/abc", "https://discord.com/api/webhooks/1/abc//"}) {
    auto r =
        buildDelivery(slackNotifiers(), chatDestination("discord", address), canary(), rollback());
    ASSERT_TRUE(r.ok() && r->has_value()) << address;
    EXPECT_EQ((*r)->url, "https://discord.com/api/webhooks/1/abc/slack");
  }
}

TEST(SlackNotifierTest, SlackAndRocketSendTheTokenAsABearerTokenDiscordDoesNot) {
  for (const std::string type : {"slack", "rocket", "discord"}) {
    Destination d = chatDestination(type, "https://chat.example.com/hook");
    auto without = buildDelivery(slackNotifiers(), d, canary(), rollback());
    ASSERT_TRUE(without.ok() && without->has_value());
    EXPECT_EQ((*without)->headers, (Headers{{"Content-Type", "application/json"}})) << type;
    d.token = "s3cret";
    auto with = buildDelivery(slackNotifiers(), d, canary(), rollback());
    ASSERT_TRUE(with.ok() && with->has_value());
    EXPECT_EQ(header(**with, "Authorization"), type == "discord" ? "" : "Bearer s3cret") << type;
  }
}

TEST(SlackNotifierTest, AProviderWithoutAnAddressIsAnError) {
  for (const std::string type : {"slack", "rocket", "discord"}) {
    auto r = buildDelivery(slackNotifiers(), chatDestination(type, ""), canary(), rollback());
    ASSERT_FALSE(r.ok()) << type;
    EXPECT_EQ(r.error().message(), "alert provider of type \"" + type +
                                       "\" has no address (spec.address or the secret's "
                                       "address key)");
  }
}

}  // namespace
}  // namespace canaryd::notify
