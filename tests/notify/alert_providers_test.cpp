// The notifier registry and AlertProviderNotifier: a provider's type picks its plugin (an
// unknown type is refused, naming the supported ones), Flagger's severity routing, secrets,
// and failures that are reported, never thrown. Each plugin's requests:
// tests/notify/<type>_test.cpp.
#include "canaryd/notify/alert_providers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/core/base64.h"

#include "alert_fixtures.h"
#include "support/objects_client.h"
#include "support/raw_http_server.h"

namespace canaryd::notify {
namespace {

// A plugin that records which alerts reached it and sends nothing (or `url`, when set).
NotifierPlugin recordingPlugin(const std::string& type, std::vector<std::string>& heard,
                               bool resolvesIncidents = false, const std::string& url = "") {
  return {.entry = {type},
          .format = [&heard, type, url](const Destination&, const api::Canary&,
                                        const Alert& alert) -> Result<std::optional<Delivery>> {
            heard.push_back(type + ":" + alert.phase);
            if (url.empty()) return std::optional<Delivery>();
            return std::optional<Delivery>(Delivery{url, {}, "{}"});
          },
          .resolvesIncidents = resolvesIncidents};
}

TEST(BuildDeliveryTest, ATypeWithoutAPluginIsRefusedNamingTheSupportedOnes) {
  Destination d;
  d.type = "sms";
  d.address = "https://sms.example.com";
  auto r = buildDelivery(allNotifiersForTest(), d, canary(), rollback());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(r.error().message(),
            "alert provider type \"sms\" is not supported yet; supported: slack, discord, rocket, "
            "msteams, gchat, webhook, alertmanager, pagerduty");

  // The list is the one given, not a built-in one: slack is unknown to a webhook-only canaryd.
  d.type = "slack";
  r = buildDelivery(webhookNotifiers(), d, canary(), rollback());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "alert provider type \"slack\" is not supported yet; supported: webhook");
  r = buildDelivery({}, d, canary(), rollback());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "alert provider type \"slack\" is not supported yet; supported: none");
}

TEST(BuildDeliveryTest, TheFirstPluginServingTheTypeBuildsTheRequest) {
  std::vector<std::string> heard;
  const std::vector<NotifierPlugin> plugins = {
      recordingPlugin("sms", heard, false, "https://first.example.com"),
      recordingPlugin("sms", heard, false, "https://second.example.com")};
  Destination d;
  d.type = "sms";
  auto r = buildDelivery(plugins, d, canary(), rollback());
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->url, "https://first.example.com");
  EXPECT_EQ(heard, (std::vector<std::string>{"sms:Failed"}));
}

// AlertProviders and their Secrets, served as a cluster would.
using Providers = testing::ObjectsClient;

TEST(AlertProviderNotifierTest, RoutesBySeverityAndTakesTheAddressFromTheSecret) {
  std::vector<std::string> received;
  testing::RawHttpServer server([&](const std::string& request) {
    received.push_back(request);
    return testing::RawHttpServer::response(200, "ok");
  });
  Providers cluster;
  cluster.objects["AlertProvider/test/team"] = {
      {"apiVersion", "flagger.app/v1beta1"},
      {"kind", "AlertProvider"},
      {"metadata", {{"name", "team"}, {"namespace", "test"}}},
      {"spec", {{"type", "webhook"}, {"secretRef", {{"name", "team-hook"}}}}}};
  cluster.objects["Secret/test/team-hook"] = {
      {"metadata", {{"name", "team-hook"}, {"namespace", "test"}}},
      {"data",
       {{"address", base64Encode(server.url("/hook"))}, {"token", base64Encode("s3cret")}}}};
  AlertProviderNotifier notifier(cluster, allNotifiersForTest(), std::chrono::milliseconds(2000),
                                 0);
  const api::Canary c = canary(R"([{"name":"all","providerRef":{"name":"team"}},
                                   {"name":"errors-only","severity":"error",
                                    "providerRef":{"name":"team"}}])");
  ASSERT_TRUE(notifier.notify(c, promoted()).ok());
  EXPECT_EQ(received.size(), 1u);  // info: only the entry without a severity
  ASSERT_TRUE(notifier.notify(c, rollback()).ok());
  ASSERT_EQ(received.size(), 3u);  // error: both entries
  EXPECT_NE(received[1].find("POST /hook "), std::string::npos) << received[1];
  EXPECT_NE(received[1].find("Authorization: Bearer s3cret"), std::string::npos);
  EXPECT_NE(received[1].find(R"("severity":"error")"), std::string::npos);
}

TEST(AlertProviderNotifierTest, FailuresAreReportedWithoutTheAddress) {
  testing::RawHttpServer server(
      [](const std::string&) { return testing::RawHttpServer::response(500, "down"); });
  Providers cluster;
  cluster.objects["AlertProvider/test/team"] = {
      {"metadata", {{"name", "team"}, {"namespace", "test"}}},
      {"spec", {{"type", "slack"}, {"address", server.url("/services/T/B/SECRETPART")}}}};
  AlertProviderNotifier notifier(cluster, allNotifiersForTest(), std::chrono::milliseconds(2000), 1,
                                 std::chrono::milliseconds(1));
  Status s = notifier.notify(canary(R"([{"name":"on-call","providerRef":{"name":"team"}},
                 {"name":"gone","providerRef":{"name":"missing"}}])"),
                             rollback());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("on-call (slack): HTTP 500"), std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find("gone: AlertProvider test/missing"), std::string::npos);
  EXPECT_EQ(s.error().message().find("SECRETPART"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 2u);  // one retry

  // Nobody listening (a port bound but not listening refuses): the transport error names the
  // host, not the secret path.
  const int refusing = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(refusing, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(refusing, reinterpret_cast<sockaddr*>(&addr), &len);
  cluster.objects["AlertProvider/test/team"]["spec"]["address"] =
      "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/services/T/B/SECRETPART";
  s = notifier.notify(canary(R"([{"name":"on-call","providerRef":{"name":"team"}}])"), rollback());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("on-call (slack): POST http://127.0.0.1:"), std::string::npos)
      << s.error().message();
  EXPECT_NE(s.error().message().find("/..."), std::string::npos) << s.error().message();
  EXPECT_EQ(s.error().message().find("SECRETPART"), std::string::npos) << s.error().message();
  close(refusing);
}

TEST(AlertProviderNotifierTest, ATypeWithoutAPluginFailsThatDeliveryOnly) {
  testing::RawHttpServer server(
      [](const std::string&) { return testing::RawHttpServer::response(200, "ok"); });
  Providers cluster;
  cluster.objects["AlertProvider/test/chat"] = {
      {"metadata", {{"name", "chat"}, {"namespace", "test"}}},
      {"spec", {{"type", "slack"}, {"address", server.url("/services/T/B/X")}}}};
  cluster.objects["AlertProvider/test/hook"] = {
      {"metadata", {{"name", "hook"}, {"namespace", "test"}}},
      {"spec", {{"type", "webhook"}, {"address", server.url("/hook")}}}};
  AlertProviderNotifier notifier(cluster, webhookNotifiers(), std::chrono::milliseconds(2000), 0);
  Status s = notifier.notify(canary(R"([{"name":"on-call","providerRef":{"name":"chat"}},
                                        {"name":"audit","providerRef":{"name":"hook"}}])"),
                             rollback());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "alerts not delivered: on-call: alert provider type \"slack\" is not supported yet; "
            "supported: webhook");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_NE(server.requests()[0].find("POST /hook "), std::string::npos);
}

// An entry of severity error hears a success only through a plugin that resolves incidents: it
// closes what the rollback opened; a chat would only be told of something it did not ask for.
TEST(AlertProviderNotifierTest, AFilteredSuccessReachesOnlyPluginsThatResolveIncidents) {
  std::vector<std::string> heard;
  Providers cluster;
  for (const std::string type : {"chat", "incidents"}) {
    cluster.objects["AlertProvider/test/" + type] = {
        {"metadata", {{"name", type}, {"namespace", "test"}}},
        {"spec", {{"type", type}, {"address", "https://unused.example.com"}}}};
  }
  AlertProviderNotifier notifier(
      cluster, {recordingPlugin("chat", heard), recordingPlugin("incidents", heard, true)});
  const api::Canary c = canary(R"([{"name":"a","severity":"error","providerRef":{"name":"chat"}},
      {"name":"b","severity":"error","providerRef":{"name":"incidents"}}])");
  ASSERT_TRUE(notifier.notify(c, progressing()).ok());
  EXPECT_TRUE(heard.empty());
  ASSERT_TRUE(notifier.notify(c, rollback()).ok());
  EXPECT_EQ(heard, (std::vector<std::string>{"chat:Failed", "incidents:Failed"}));
  heard.clear();
  ASSERT_TRUE(notifier.notify(c, promoted()).ok());
  EXPECT_EQ(heard, (std::vector<std::string>{"incidents:Succeeded"}));
}

}  // namespace
}  // namespace canaryd::notify
