// Alert delivery: each provider type's exact request (golden files in tests/notify/golden/,
// one per provider and event), Flagger's severity routing, secrets, and failures that are
// reported, never thrown.
#include "canaryd/notify/alert_providers.h"

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/cluster/null_client.h"
#include "canaryd/core/base64.h"

#include "support/objects_client.h"
#include "support/raw_http_server.h"
#include "support/source_files.h"

namespace canaryd::notify {
namespace {

using nlohmann::json;

api::Canary canary(const std::string& alerts = "[]") {
  auto c = api::canaryFromJson(R"({"apiVersion":"flagger.app/v1beta1","kind":"Canary",
      "metadata":{"name":"podinfo","namespace":"test"},
      "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
              "service":{"port":9898},
              "analysis":{"interval":"1m","threshold":5,"stepWeight":10,"alerts":)" +
                               alerts + "}}}");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return *c;
}

// The alerts the controller sends, with the fields the reconciler attaches.
Alert rollback() {
  Alert a;
  a.severity = "error";
  a.phase = "Failed";
  a.message = "Canary podinfo.test rolled back: failed checks threshold reached 5";
  a.fields = {{"revision", "podinfo=ghcr.io/stefanprodan/podinfo:6.0.1"},
              {"phase", "Failed"},
              {"canaryWeight", "0"},
              {"failedChecks", "5 of 5"},
              {"last failed check", "request-success-rate 91.3 < 99"},
              {"metric", "request-success-rate"},
              {"value", "91.3"},
              {"thresholdRange", "min 99"},
              {"next",
               "the primary keeps serving the last promoted revision and the canary is scaled "
               "to zero; a new revision of the target (a fix, or the revert in Git) starts a "
               "new analysis"}};
  a.time = parseRfc3339("2026-11-27T10:00:00Z").value();
  return a;
}

Alert promoted() {
  Alert a;
  a.severity = "info";
  a.phase = "Succeeded";
  a.message = "Promotion completed! podinfo.test";
  a.fields = {
      {"revision", "podinfo=ghcr.io/stefanprodan/podinfo:6.0.2"},
      {"phase", "Succeeded"},
      {"canaryWeight", "0"},
      {"failedChecks", "0 of 5"},
      {"next", "none: the primary serves this revision; the next one starts a new analysis"}};
  a.time = parseRfc3339("2026-11-27T10:30:00Z").value();
  return a;
}

Alert progressing() {
  Alert a;
  a.severity = "info";
  a.phase = "Progressing";
  a.message = "New revision detected, progressing canary analysis podinfo.test";
  a.fields = {{"revision", "podinfo=ghcr.io/stefanprodan/podinfo:6.0.2"},
              {"phase", "Progressing"},
              {"canaryWeight", "0"},
              {"failedChecks", "0 of 5"},
              {"next",
               "canary weight 10% once the canary is ready, up to 50% in 5 steps of 1m0s, then "
               "promotion"}};
  a.time = parseRfc3339("2026-11-27T10:20:00Z").value();
  return a;
}

Alert waitingPromotion() {
  Alert a;
  a.severity = "warn";
  a.phase = "WaitingPromotion";
  a.message = "Canary is waiting for promotion approval podinfo.test";
  a.fields = {{"revision", "podinfo=ghcr.io/stefanprodan/podinfo:6.0.2"},
              {"phase", "WaitingPromotion"},
              {"canaryWeight", "50"},
              {"failedChecks", "0 of 5"},
              {"next", "promotion once the confirm-promotion hooks approve"}};
  a.time = parseRfc3339("2026-11-27T10:25:00Z").value();
  return a;
}

// Compares with tests/notify/golden/NAME; CANARYD_UPDATE_GOLDEN=1 rewrites the file instead
// (review the diff before committing it).
void expectGolden(const std::string& body, const std::string& name) {
  const std::string path = testing::sourcePath("tests/notify/golden/" + name);
  const char* update = std::getenv("CANARYD_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path) << json::parse(body).dump(2) << "\n";
    return;
  }
  const std::string expected = testing::readFile(path);
  ASSERT_FALSE(expected.empty()) << "missing golden file " << path;
  EXPECT_EQ(json::parse(body), json::parse(expected)) << name << ": " << body;
}

TEST(AlertPayloadTest, EachProviderSendsItsWireFormatForEachEvent) {
  struct Case {
    std::string type;
    std::string url;
  };
  const std::vector<std::pair<std::string, Alert>> events = {
      {"rollback", rollback()},
      {"promoted", promoted()},
      {"progressing", progressing()},
      {"waiting-promotion", waitingPromotion()}};
  for (const Case& c :
       std::vector<Case>{{"slack", "https://hooks.slack.com/services/T/B/X"},
                         {"discord", "https://discord.com/api/webhooks/1/abc/slack"},
                         {"rocket", "https://rocket.example.com/hooks/x"},
                         {"msteams", "https://example.webhook.office.com/w"},
                         {"gchat", "https://chat.googleapis.com/v1/spaces/x"},
                         {"webhook", "https://hooks.example.com/canaryd"}}) {
    Destination d;
    d.type = c.type;
    d.address = c.type == "discord" ? "https://discord.com/api/webhooks/1/abc/" : c.url;
    d.channel = "on-call";
    d.username = "canaryd";
    for (const auto& [event, alert] : events) {
      Result<std::optional<Delivery>> r = buildDelivery(d, canary(), alert);
      ASSERT_TRUE(r.ok() && r->has_value()) << c.type << " " << event;
      EXPECT_EQ((*r)->url, c.url);
      expectGolden((*r)->body, c.type + "-" + event + ".json");
    }
  }
}

TEST(AlertPayloadTest, AlertmanagerFiresOnRollbackAndResolvesOnSuccess) {
  Destination d;
  d.type = "alertmanager";
  d.address = "http://alertmanager.monitoring:9093/";
  Result<std::optional<Delivery>> fire = buildDelivery(d, canary(), rollback());
  ASSERT_TRUE(fire.ok() && fire->has_value());
  EXPECT_EQ((*fire)->url, "http://alertmanager.monitoring:9093/api/v2/alerts");
  expectGolden((*fire)->body, "alertmanager-rollback.json");
  Result<std::optional<Delivery>> resolve = buildDelivery(d, canary(), promoted());
  ASSERT_TRUE(resolve.ok() && resolve->has_value());
  expectGolden((*resolve)->body, "alertmanager-promoted.json");
  Result<std::optional<Delivery>> nothing = buildDelivery(d, canary(), progressing());
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
}

TEST(AlertPayloadTest, PagerDutyTriggersOnRollbackAndResolvesOnSuccess) {
  Destination d;
  d.type = "pagerduty";
  d.token = "R0UTINGKEY";
  Result<std::optional<Delivery>> trigger = buildDelivery(d, canary(), rollback());
  ASSERT_TRUE(trigger.ok() && trigger->has_value());
  EXPECT_EQ((*trigger)->url, "https://events.pagerduty.com/v2/enqueue");
  expectGolden((*trigger)->body, "pagerduty-rollback.json");
  Result<std::optional<Delivery>> resolve = buildDelivery(d, canary(), promoted());
  ASSERT_TRUE(resolve.ok() && resolve->has_value());
  expectGolden((*resolve)->body, "pagerduty-promoted.json");
  d.token = "";
  EXPECT_NE(buildDelivery(d, canary(), rollback()).error().message().find("routing key"),
            std::string::npos);
}

TEST(AlertPayloadTest, UnknownTypesAndMissingAddressesAreErrors) {
  Destination d;
  d.type = "slack";
  EXPECT_NE(buildDelivery(d, canary(), rollback()).error().message().find("has no address"),
            std::string::npos);
  d.type = "sms";
  d.address = "https://sms.example.com";
  EXPECT_NE(buildDelivery(d, canary(), rollback()).error().message().find("not supported yet"),
            std::string::npos);
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
  AlertProviderNotifier notifier(cluster, std::chrono::milliseconds(2000), 0);
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
  AlertProviderNotifier notifier(cluster, std::chrono::milliseconds(2000), 1,
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

}  // namespace
}  // namespace canaryd::notify
