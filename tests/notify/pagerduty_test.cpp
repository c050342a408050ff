// pagerdutyNotifiers(): Events API v2, a rollback triggers, the next success resolves; golden
// files in tests/notify/golden/.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/notify/alert_providers.h"

#include "alert_fixtures.h"

namespace canaryd::notify {
namespace {

Destination pagerduty() {
  Destination d;
  d.type = "pagerduty";
  d.token = "R0UTINGKEY";
  return d;
}

TEST(PagerDutyNotifierTest, TriggersOnRollbackAndResolvesOnSuccess) {
  ASSERT_EQ(pagerdutyNotifiers().size(), 1u);
  EXPECT_EQ(pagerdutyNotifiers()[0].entry.type, "pagerduty");
  EXPECT_TRUE(pagerdutyNotifiers()[0].resolvesIncidents);
  auto trigger = buildDelivery(pagerdutyNotifiers(), pagerduty(), canary(), rollback());
  ASSERT_TRUE(trigger.ok() && trigger->has_value());
  EXPECT_EQ((*trigger)->url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ((*trigger)->headers, (Headers{{"Content-Type", "application/json"}}));
  expectGolden((*trigger)->body, "pagerduty-rollback.json");
  auto resolve = buildDelivery(pagerdutyNotifiers(), pagerduty(), canary(), promoted());
  ASSERT_TRUE(resolve.ok() && resolve->has_value());
  expectGolden((*resolve)->body, "pagerduty-promoted.json");
}

TEST(PagerDutyNotifierTest, HearsNothingButRollbacksAndSuccesses) {
  for (const Alert& a : {progressing(), waitingPromotion()}) {
    auto r = buildDelivery(pagerdutyNotifiers(), pagerduty(), canary(), a);
    ASSERT_TRUE(r.ok()) << a.phase;
    EXPECT_FALSE(r->has_value()) << a.phase;
  }
  Alert failedWarning = rollback();
  failedWarning.severity = "warn";
  auto r = buildDelivery(pagerdutyNotifiers(), pagerduty(), canary(), failedWarning);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(PagerDutyNotifierTest, AnAddressReplacesPagerDutysOwn) {
  Destination d = pagerduty();
  d.address = "https://pagerduty-proxy.example.com/v2/enqueue";
  auto r = buildDelivery(pagerdutyNotifiers(), d, canary(), rollback());
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->url, "https://pagerduty-proxy.example.com/v2/enqueue");
}

TEST(PagerDutyNotifierTest, NeedsTheRoutingKey) {
  Destination d = pagerduty();
  d.token = "";
  // Even for an alert it would not send: the misconfiguration shows on the first alert.
  for (const Alert& a : {rollback(), progressing()}) {
    auto r = buildDelivery(pagerdutyNotifiers(), d, canary(), a);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("routing key"), std::string::npos);
  }
}

}  // namespace
}  // namespace canaryd::notify
