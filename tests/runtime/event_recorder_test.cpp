#include "canaryd/runtime/event_recorder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/kube/kube_client.h"

#include "kube/kubesim_process.h"

namespace canaryd::runtime {
namespace {

using nlohmann::json;

TEST(EventRecorderTest, AggregatesRepeatsWithinTenMinutes) {
  testing::KubesimProcess sim;
  kube::ConnectionConfig config;
  config.server = sim.url();
  kube::KubeClient client(config);
  ASSERT_TRUE(
      client
          .create(cluster::kNamespaces, "", api::JsonValue(json{{"metadata", {{"name", "shop"}}}}))
          .ok());
  VirtualClock clock;
  EventRecorder recorder(client, clock);
  api::JsonValue canary(
      json{{"apiVersion", "flagger.app/v1beta1"},
           {"kind", "Canary"},
           {"metadata", {{"name", "web"}, {"namespace", "shop"}, {"uid", "u1"}}}});
  recorder.record(canary, "Warning", "Synced", "Halt advancement: canary not ready");
  clock.advance(std::chrono::minutes(1));
  recorder.record(canary, "Warning", "Synced", "Halt advancement: canary not ready");
  recorder.record(canary, "Normal", "Synced", "Advance web canary weight 10");
  clock.advance(std::chrono::minutes(11));
  recorder.record(canary, "Warning", "Synced", "Halt advancement: canary not ready");
  // Two new events at the same instant (a virtual clock stands still): both recorded.
  recorder.record(canary, "Normal", "Synced", "Advance web canary weight 20");
  recorder.record(canary, "Normal", "Synced", "Advance web canary weight 30");

  auto events = client.list(cluster::kEvents, "shop", {});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->items.size(), 5u);
  std::map<std::string, int> counts;
  for (const auto& e : events->items) {
    const json& j = e.get();
    EXPECT_EQ(j["involvedObject"]["kind"], "Canary");
    EXPECT_EQ(j["involvedObject"]["uid"], "u1");
    EXPECT_EQ(j["source"]["component"], "canaryd");
    counts[j["message"].get<std::string>()] += j["count"].get<int>();
  }
  EXPECT_EQ(counts["Halt advancement: canary not ready"], 3);  // 2 aggregated + 1 after the window
  EXPECT_EQ(counts["Advance web canary weight 10"], 1);
  EXPECT_EQ(counts["Advance web canary weight 20"], 1);
  EXPECT_EQ(counts["Advance web canary weight 30"], 1);
}

TEST(EventRecorderTest, FailuresAreSwallowed) {
  kube::ConnectionConfig config;
  config.server = "http://127.0.0.1:1";  // nothing listens there
  kube::ClientOptions options;
  options.maxRetries = 0;
  kube::KubeClient client(config, options);
  VirtualClock clock;
  EventRecorder recorder(client, clock);
  EXPECT_NO_THROW(
      recorder.record(api::JsonValue(json{{"kind", "Canary"}, {"metadata", {{"name", "x"}}}}),
                      "Normal", "Synced", "hello"));
}

}  // namespace
}  // namespace canaryd::runtime
