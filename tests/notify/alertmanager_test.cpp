// alertmanagerNotifiers(): the request (golden files in tests/notify/golden/), then a rollback
// alert through Debian's real Alertmanager: the AlertProviderNotifier posts it, the
// Alertmanager routes it to a loopback webhook receiver with the canary's labels, and the
// next success resolves it.
#include <mutex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/cluster/null_client.h"
#include "canaryd/notify/alert_providers.h"

#include "alert_fixtures.h"
#include "support/alertmanager_process.h"
#include "support/raw_http_server.h"

namespace canaryd::notify {
namespace {

using nlohmann::json;

TEST(AlertmanagerNotifierTest, FiresOnRollbackAndResolvesOnSuccess) {
  ASSERT_EQ(alertmanagerNotifiers().size(), 1u);
  EXPECT_EQ(alertmanagerNotifiers()[0].entry.type, "alertmanager");
  EXPECT_TRUE(alertmanagerNotifiers()[0].resolvesIncidents);
  Destination d;
  d.type = "alertmanager";
  d.address = "http://alertmanager.monitoring:9093/";
  auto fire = buildDelivery(alertmanagerNotifiers(), d, canary(), rollback());
  ASSERT_TRUE(fire.ok() && fire->has_value());
  EXPECT_EQ((*fire)->url, "http://alertmanager.monitoring:9093/api/v2/alerts");
  EXPECT_EQ((*fire)->headers, (Headers{{"Content-Type", "application/json"}}));
  expectGolden((*fire)->body, "alertmanager-rollback.json");
  auto resolve = buildDelivery(alertmanagerNotifiers(), d, canary(), promoted());
  ASSERT_TRUE(resolve.ok() && resolve->has_value());
  expectGolden((*resolve)->body, "alertmanager-promoted.json");
  for (const Alert& a : {progressing(), waitingPromotion()}) {
    auto nothing = buildDelivery(alertmanagerNotifiers(), d, canary(), a);
    ASSERT_TRUE(nothing.ok());
    EXPECT_FALSE(nothing->has_value()) << a.phase;
  }
}

TEST(AlertmanagerNotifierTest, NeedsAnAddressEvenForAnAlertItWouldNotSend) {
  Destination d;
  d.type = "alertmanager";
  for (const Alert& a : {rollback(), progressing()}) {
    auto r = buildDelivery(alertmanagerNotifiers(), d, canary(), a);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("has no address"), std::string::npos);
  }
}

class OneProvider final : public cluster::NullClient {
 public:
  explicit OneProvider(std::string address)
      : NullClient("not in this test"), address_(std::move(address)) {}
  Result<api::JsonValue> get(const cluster::Resource& r, const cluster::ObjectRef& ref) override {
    if (r == cluster::kAlertProviders && ref.name == "alertmanager") {
      return api::JsonValue(json{{"metadata", {{"name", "alertmanager"}, {"namespace", "test"}}},
                                 {"spec", {{"type", "alertmanager"}, {"address", address_}}}});
    }
    return NullClient::get(r, ref);
  }

 private:
  std::string address_;
};

// The webhook notifications Alertmanager sends: {"status": "firing"|"resolved", "alerts": [...]}.
class Receiver {
 public:
  Receiver()
      : server_([this](const std::string& request) {
          const auto body = request.find("\r\n\r\n");
          std::lock_guard lock(mu_);
          if (body != std::string::npos) {
            json n = json::parse(request.substr(body + 4), nullptr, false);
            if (!n.is_discarded()) notifications_.push_back(n);
          }
          return testing::RawHttpServer::response(200, "ok");
        }) {}
  std::string url() const { return server_.url("/alerts"); }
  // Waits (up to 30 s) for a notification with `status`.
  std::optional<json> waitFor(const std::string& status) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        for (const json& n : notifications_) {
          if (n.value("status", "") == status) return n;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
  }

 private:
  std::mutex mu_;
  std::vector<json> notifications_;
  testing::RawHttpServer server_;
};

// The entry takes errors only; the success (info) still resolves what the rollback fired.
TEST(AlertmanagerTest, ARollbackFiresAndTheNextSuccessResolves) {
  Receiver receiver;
  testing::AlertmanagerProcess alertmanager(receiver.url());
  OneProvider cluster(alertmanager.url());
  AlertProviderNotifier notifier(cluster, alertmanagerNotifiers());
  auto canary = api::canaryFromJson(R"({"apiVersion":"flagger.app/v1beta1","kind":"Canary",
      "metadata":{"name":"podinfo","namespace":"test"},
      "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
              "service":{"port":9898},
              "analysis":{"interval":"1m","threshold":5,"stepWeight":10,
                          "alerts":[{"name":"am","severity":"error",
                                    "providerRef":{"name":"alertmanager"}}]}}})");
  ASSERT_TRUE(canary.ok());

  Alert rollback;
  rollback.severity = "error";
  rollback.phase = "Failed";
  rollback.message = "Canary podinfo.test rolled back: error-rate 5 > 1";
  rollback.fields = {{"failedChecks", "5"}};
  rollback.time = std::chrono::system_clock::now();
  ASSERT_TRUE(notifier.notify(*canary, rollback).ok());
  std::optional<json> firing = receiver.waitFor("firing");
  ASSERT_TRUE(firing.has_value()) << "Alertmanager delivered no firing alert";
  const json& alert = (*firing)["alerts"][0];
  EXPECT_EQ(alert["labels"]["alertname"], "CanaryRolledBack");
  EXPECT_EQ(alert["labels"]["canary"], "podinfo");
  EXPECT_EQ(alert["labels"]["namespace"], "test");
  EXPECT_EQ(alert["labels"]["severity"], "error");
  EXPECT_EQ(alert["annotations"]["summary"], rollback.message);
  EXPECT_EQ(alert["annotations"]["description"], "failedChecks: 5");

  Alert success;
  success.severity = "info";
  success.phase = "Succeeded";
  success.message = "Promotion completed! podinfo.test";
  success.time = std::chrono::system_clock::now();
  ASSERT_TRUE(notifier.notify(*canary, success).ok());
  std::optional<json> resolved = receiver.waitFor("resolved");
  ASSERT_TRUE(resolved.has_value()) << "Alertmanager did not resolve the alert";
  EXPECT_EQ((*resolved)["alerts"][0]["labels"]["canary"], "podinfo");
}

}  // namespace
}  // namespace canaryd::notify
