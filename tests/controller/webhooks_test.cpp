// Webhooks against a local HTTP server that records what it receives.
#include "canaryd/controller/webhooks.h"

#include <deque>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"

#include "support/raw_http_server.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

// Answers each request with the next scripted status (200 when the script is empty) and keeps
// the request lines and bodies.
class HookServer {
 public:
  HookServer()
      : server_([this](const std::string&) {
          int status = 200;
          if (!statuses_.empty()) {
            status = statuses_.front();
            statuses_.pop_front();
          }
          return canaryd::testing::RawHttpServer::response(status, "no");
        }) {}
  std::string url(const std::string& path) const { return server_.url(path); }
  void script(std::deque<int> statuses) { statuses_ = std::move(statuses); }
  std::vector<std::pair<std::string, json>> received() {
    std::vector<std::pair<std::string, json>> out;
    for (const std::string& r : server_.requests()) {
      const auto headerEnd = r.find("\r\n\r\n");
      out.emplace_back(r.substr(0, r.find("\r\n")),
                       headerEnd == std::string::npos
                           ? json()
                           : json::parse(r.substr(headerEnd + 4), nullptr, false));
    }
    return out;
  }

 private:
  std::deque<int> statuses_;  // set before the requests it answers are sent
  canaryd::testing::RawHttpServer server_;
};

api::Canary canaryWithHooks(const HookServer& server) {
  json hooks = json::array({
      {{"name", "gate"}, {"type", "confirm-rollout"}, {"url", server.url("/gate")}},
      {{"name", "smoke"},
       {"type", "pre-rollout"},
       {"url", server.url("/smoke")},
       {"retries", 2},
       {"metadata", {{"cmd", "curl -sf http://podinfo-canary/healthz"}}}},
      {{"name", "load"}, {"url", server.url("/load")}},
      {{"name", "load-2"}, {"type", "rollout"}, {"url", server.url("/load2")}},
      {{"name", "slack-events"}, {"type", "event"}, {"url", server.url("/events")}},
  });
  json c = {{"metadata", {{"name", "podinfo"}, {"namespace", "test"}}},
            {"spec",
             {{"analysis",
               {{"interval", "1m"}, {"threshold", 2}, {"stepWeight", 10}, {"webhooks", hooks}}}}}};
  auto canary = api::canaryFromJson(c.dump());
  EXPECT_TRUE(canary.ok()) << (canary.ok() ? "" : canary.error().message());
  return *canary;
}

TEST(WebhookRunnerTest, PostsFlaggersPayloadToEachHookOfTheType) {
  HookServer server;
  VirtualClock clock;
  WebhookRunner runner(clock, [](Duration) {});
  api::Canary canary = canaryWithHooks(server);
  WebhookResult r = runner.run(canary, "pre-rollout", "Progressing", "abc123");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.called, std::vector<std::string>{"smoke"});
  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "POST /smoke HTTP/1.1");
  EXPECT_EQ(got[0].second,
            json::parse(R"({"name":"podinfo","namespace":"test","phase":"Progressing",
      "checksum":"abc123","metadata":{"cmd":"curl -sf http://podinfo-canary/healthz"}})"));
  // Hooks without a type are rollout hooks, called in manifest order.
  EXPECT_EQ(runner.run(canary, "rollout", "Progressing", "abc123").called,
            (std::vector<std::string>{"load", "load-2"}));
  EXPECT_TRUE(runner.run(canary, "confirm-promotion", "Progressing", "x").ok);  // none: ok
}

TEST(WebhookRunnerTest, AnyTwoHundredIsSuccessAndFailuresStopTheGate) {
  HookServer server;
  VirtualClock clock;
  WebhookRunner runner(clock, [](Duration) {});
  api::Canary canary = canaryWithHooks(server);
  server.script({204});
  EXPECT_TRUE(runner.run(canary, "confirm-rollout", "Initialized", "c").ok);  // Flagger: failure
  server.script({403});
  WebhookResult refused = runner.run(canary, "confirm-rollout", "Initialized", "c");
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.failure, "confirm-rollout webhook gate failed: answered 403: no");
  server.script({500, 200});
  WebhookResult stopped = runner.run(canary, "rollout", "Progressing", "c");
  EXPECT_FALSE(stopped.ok);
  EXPECT_EQ(stopped.called, std::vector<std::string>{"load"});  // load-2 never called
}

TEST(WebhookRunnerTest, RetriesAsManyTimesAsTheHookSays) {
  HookServer server;
  VirtualClock clock;
  std::vector<Duration> waits;
  WebhookRunner runner(clock, [&](Duration d) { waits.push_back(d); });
  api::Canary canary = canaryWithHooks(server);
  server.script({503, 503, 200});
  EXPECT_TRUE(runner.run(canary, "pre-rollout", "Progressing", "c").ok);
  EXPECT_EQ(server.received().size(), 3u);
  EXPECT_EQ(waits.size(), 2u);
  server.script({503, 503, 503});
  EXPECT_FALSE(runner.run(canary, "pre-rollout", "Progressing", "c").ok);
}

TEST(WebhookRunnerTest, UnreachableOrSlowHooksFailWithTheReason) {
  VirtualClock clock;
  WebhookRunner runner(clock, [](Duration) {});
  json c = {{"metadata", {{"name", "p"}, {"namespace", "n"}}},
            {"spec",
             {{"analysis",
               {{"webhooks",
                 {{{"name", "down"},
                   {"type", "rollback"},
                   {"url", "http://127.0.0.1:1/"},
                   {"timeout", "1s"}}}}}}}}};
  WebhookResult r = runner.run(*api::canaryFromJson(c.dump()), "rollback", "Progressing", "c");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.failure.find("rollback webhook down failed: "), std::string::npos) << r.failure;
}

TEST(WebhookRunnerTest, EventHooksCarryTheMessageTypeAndTimestamp) {
  HookServer server;
  VirtualClock clock(TimePoint(std::chrono::milliseconds(1'800'000'000'123)));
  WebhookRunner runner(clock, [](Duration) {});
  api::Canary canary = canaryWithHooks(server);
  EXPECT_TRUE(
      runner.event(canary, "Progressing", "c", "Advance podinfo.test canary weight 10", "Normal")
          .ok);
  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  const json& meta = got[0].second["metadata"];
  EXPECT_EQ(meta["eventMessage"], "Advance podinfo.test canary weight 10");
  EXPECT_EQ(meta["eventType"], "Normal");
  EXPECT_EQ(meta["timestamp"], "1800000000123");
}

}  // namespace
}  // namespace canaryd::controller
