// Webhook receivers and alert endpoints that a tenant named, answering anything at all, and
// URLs that are not HTTP: each call ends in success or in a failure message fit for a status;
// nothing throws, nothing but http and https is spoken, and a silent receiver costs its
// timeout, not more.
#include "canaryd/controller/webhooks.h"

#include <chrono>

#include <gtest/gtest.h>

#include "canaryd/api/codec.h"
#include "canaryd/core/base64.h"
#include "canaryd/notify/alert_providers.h"
#include "canaryd/plugins/builtin.h"

#include "hostile/hostile.h"
#include "support/objects_client.h"
#include "support/raw_http_server.h"

namespace canaryd {
namespace {

using testing::RawHttpServer;

api::Canary withHook(const std::string& url, const std::string& timeout = "2s") {
  auto c = api::canaryFromJson(
      R"({"apiVersion":"flagger.app/v1beta1","kind":"Canary",
          "metadata":{"name":"podinfo","namespace":"test"},
          "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
                  "service":{"port":9898},
                  "analysis":{"interval":"1m","threshold":5,"stepWeight":10,
                              "alerts":[{"name":"on-call","providerRef":{"name":"team"}}],
                              "webhooks":[{"name":"gate","type":"pre-rollout","url":")" +
      url + R"(","timeout":")" + timeout + R"("}]}}})");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return *c;
}

controller::WebhookResult preRollout(const std::string& url, const std::string& timeout = "2s") {
  SystemClock clock;
  controller::WebhookRunner runner(clock, [](Duration) {});
  return runner.run(withHook(url, timeout), "pre-rollout", "Progressing", "abc");
}

TEST(HostileWebhookTest, EveryCorpusAnswerIsASuccessOrAFailureFitForAStatus) {
  const auto answers = testing::corpus("webhook");
  ASSERT_GE(answers.size(), 5u);
  for (const auto& [name, body] : answers) {
    for (int status : {200, 204, 400, 500}) {
      RawHttpServer server(
          [&](const std::string&) { return RawHttpServer::response(status, body); });
      controller::WebhookResult r;
      ASSERT_NO_THROW(r = preRollout(server.url("/gate"))) << name;
      EXPECT_EQ(r.ok, status < 300) << name << " " << status;
      EXPECT_TRUE(testing::fitForStatus(r.failure, 600)) << name << " " << status;
    }
  }
}

TEST(HostileWebhookTest, OnlyHttpAndHttpsAreSpoken) {
  for (const std::string url :
       {"file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "dict://127.0.0.1:11211/stats",
        "ftp://127.0.0.1/x", "ldap://127.0.0.1/", "FILE:///etc/hostname", "/etc/passwd"}) {
    controller::WebhookResult r = preRollout(url);
    ASSERT_FALSE(r.ok) << url;
    EXPECT_NE(r.failure.find("only http and https URLs are allowed"), std::string::npos)
        << url << ": " << r.failure;
    EXPECT_EQ(r.failure.find("root:"), std::string::npos) << r.failure;
  }
}

TEST(HostileWebhookTest, LongAnswersAndSilenceAreBounded) {
  RawHttpServer huge(
      [](const std::string&) { return RawHttpServer::response(200, std::string(2u << 20, 'x')); });
  controller::WebhookResult r = preRollout(huge.url());
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.failure.find("larger than the limit of 1048576 bytes"), std::string::npos)
      << r.failure;

  testing::SilentListener silent;
  const auto started = std::chrono::steady_clock::now();
  r = preRollout(silent.url(), "1s");
  ASSERT_FALSE(r.ok);
  EXPECT_NE(r.failure.find("timed out"), std::string::npos) << r.failure;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(HostileAlertTest, EveryCorpusAnswerIsDeliveredOrReportedNeverThrown) {
  for (const auto& [name, body] : testing::corpus("webhook")) {
    for (int status : {200, 500}) {
      RawHttpServer server(
          [&](const std::string&) { return RawHttpServer::response(status, body); });
      testing::ObjectsClient cluster;
      cluster.objects["AlertProvider/test/team"] = {
          {"metadata", {{"name", "team"}, {"namespace", "test"}}},
          {"spec", {{"type", "slack"}, {"address", server.url("/services/T/B/SECRET")}}}};
      notify::AlertProviderNotifier notifier(cluster, plugins::builtin().notifiers(),
                                             std::chrono::milliseconds(2000), 0);
      notify::Alert alert;
      alert.severity = "error";
      alert.phase = "Failed";
      alert.message = "rolled back";
      Status s;
      ASSERT_NO_THROW(s = notifier.notify(withHook("http://unused"), alert)) << name;
      EXPECT_EQ(s.ok(), status == 200) << name;
      if (!s.ok()) {
        EXPECT_TRUE(testing::fitForStatus(s.error().message())) << name;
        EXPECT_EQ(s.error().message().find("SECRET"), std::string::npos) << s.error().message();
      }
    }
  }
}

TEST(HostileAlertTest, ALongAnswerOrANonHttpAddressIsAReportedFailure) {
  RawHttpServer huge(
      [](const std::string&) { return RawHttpServer::response(200, std::string(3u << 20, 'x')); });
  // A token in the query, a password in the userinfo: neither reaches the message or the log.
  const std::string withUserinfo =
      "http://deployer:SECRET@" + huge.url("/hook").substr(std::string("http://").size());
  for (const std::string& address :
       {huge.url("/hook?token=SECRET"), withUserinfo, std::string("file:///etc/passwd")}) {
    testing::ObjectsClient cluster;
    cluster.objects["AlertProvider/test/team"] = {
        {"metadata", {{"name", "team"}, {"namespace", "test"}}},
        {"spec", {{"type", "webhook"}, {"secretRef", {{"name", "hook"}}}}}};
    cluster.objects["Secret/test/hook"] = {{"metadata", {{"name", "hook"}, {"namespace", "test"}}},
                                           {"data", {{"address", base64Encode(address)}}}};
    notify::AlertProviderNotifier notifier(cluster, plugins::builtin().notifiers(),
                                           std::chrono::milliseconds(2000), 0);
    notify::Alert alert;
    alert.severity = "error";
    alert.phase = "Failed";
    Status s = notifier.notify(withHook("http://unused"), alert);
    ASSERT_FALSE(s.ok()) << address;
    EXPECT_EQ(s.error().message().find("SECRET"), std::string::npos) << s.error().message();
    EXPECT_TRUE(s.error().message().find("larger than the limit") != std::string::npos ||
                s.error().message().find("only http and https") != std::string::npos)
        << s.error().message();
  }
}

}  // namespace
}  // namespace canaryd
