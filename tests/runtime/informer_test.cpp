// The informer against a real kubesim: sync, handlers, indexes, resume and relist.
#include "canaryd/runtime/informer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/core/http.h"
#include "canaryd/kube/kube_client.h"

#include "kube/kubesim_process.h"

namespace canaryd::runtime {
namespace {

using nlohmann::json;
using namespace cluster;

api::JsonValue configMap(const std::string& name, const std::string& ownerUid = "") {
  json o = {{"metadata", {{"name", name}}}, {"data", {{"v", "1"}}}};
  if (!ownerUid.empty()) {
    o["metadata"]["ownerReferences"] = {
        {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"}, {"uid", ownerUid}}};
  }
  return api::JsonValue(o);
}

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kube::ConnectionConfig config;
    config.server = sim_.url();
    client_ = std::make_unique<kube::KubeClient>(config);
    for (const char* ns : {"a", "b"}) {
      ASSERT_TRUE(
          client_->create(kNamespaces, "", api::JsonValue(json{{"metadata", {{"name", ns}}}}))
              .ok());
    }
  }
  void admin(const std::string& what) {
    HttpClient http;
    HttpRequest req;
    req.method = "POST";
    req.url = sim_.url() + "/admin/" + what;
    req.headers = {{"Content-Type", "application/json"}};
    ASSERT_TRUE(http.send(req).ok());
  }
  testing::KubesimProcess sim_;
  std::unique_ptr<cluster::Client> client_;
  VirtualClock clock_;
};

TEST_F(InformerTest, ListsInPagesAndIndexesByNamespaceAndOwner) {
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(
        client_->create(kConfigMaps, "a", configMap("x" + std::to_string(i), "owner-1")).ok());
  ASSERT_TRUE(client_->create(kConfigMaps, "b", configMap("y")).ok());
  InformerOptions options;
  options.pageSize = 3;
  Informer informer(*client_, kConfigMaps, clock_, options);
  int adds = 0;
  informer.addHandlers({[&](const api::JsonValue&) { ++adds; }, nullptr, nullptr});
  ASSERT_TRUE(informer.relist().ok());
  EXPECT_TRUE(informer.hasSynced());
  EXPECT_EQ(informer.size(), 8u);
  EXPECT_EQ(adds, 8);
  EXPECT_EQ(informer.list("a").size(), 7u);
  EXPECT_EQ(informer.list("b").size(), 1u);
  EXPECT_EQ(informer.byOwner("owner-1").size(), 7u);
  ASSERT_TRUE(informer.get("b", "y").has_value());
  EXPECT_FALSE(informer.lastResourceVersion().empty());
}

TEST_F(InformerTest, WatchDeliversUpdatesAndDeletesThenResumes) {
  ASSERT_TRUE(client_->create(kConfigMaps, "a", configMap("x")).ok());
  Informer informer(*client_, kConfigMaps, clock_);
  std::vector<std::string> seen;
  informer.addHandlers({[&](const api::JsonValue& o) {
                          seen.push_back("add " + o.get()["metadata"]["name"].get<std::string>());
                        },
                        [&](const api::JsonValue& before, const api::JsonValue& after) {
                          seen.push_back("update " + before.get()["data"]["v"].get<std::string>() +
                                         "->" + after.get()["data"]["v"].get<std::string>());
                        },
                        [&](const api::JsonValue& o) {
                          seen.push_back("delete " +
                                         o.get()["metadata"]["name"].get<std::string>());
                        }});
  ASSERT_TRUE(informer.relist().ok());
  ASSERT_TRUE(
      client_->patch(kConfigMaps, {"a", "x"}, PatchType::kMerge, R"({"data":{"v":"2"}})").ok());
  ASSERT_TRUE(client_->create(kConfigMaps, "a", configMap("z")).ok());
  ASSERT_TRUE(client_->remove(kConfigMaps, {"a", "x"}).ok());
  // The server ends this watch after a second; everything since the list is replayed.
  ASSERT_TRUE(informer.watchOnce(std::chrono::seconds(1)).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"add x", "update 1->2", "add z", "delete x"}));
  EXPECT_EQ(informer.size(), 1u);

  // Resuming from the last version seen delivers only what came after.
  ASSERT_TRUE(
      client_->patch(kConfigMaps, {"a", "z"}, PatchType::kMerge, R"({"data":{"v":"3"}})").ok());
  ASSERT_TRUE(informer.watchOnce(std::chrono::seconds(1)).ok());
  EXPECT_EQ(seen.back(), "update 1->3");
  EXPECT_EQ(seen.size(), 5u);
}

TEST_F(InformerTest, ExpiredWatchRelistsAndCatchesUp) {
  ASSERT_TRUE(client_->create(kConfigMaps, "a", configMap("keep")).ok());
  ASSERT_TRUE(client_->create(kConfigMaps, "a", configMap("drop")).ok());
  Informer informer(*client_, kConfigMaps, clock_);
  std::vector<std::string> deletes;
  informer.addHandlers({nullptr, nullptr, [&](const api::JsonValue& o) {
                          deletes.push_back(o.get()["metadata"]["name"]);
                        }});
  ASSERT_TRUE(informer.relist().ok());
  ASSERT_TRUE(client_->remove(kConfigMaps, {"a", "drop"}).ok());
  ASSERT_TRUE(client_->create(kConfigMaps, "a", configMap("new")).ok());
  admin("compact");  // the history the informer would resume from is gone
  Status watched = informer.watchOnce(std::chrono::seconds(1));
  ASSERT_FALSE(watched.ok());
  EXPECT_EQ(watched.error().kind(), ErrorKind::kExpired);
  ASSERT_TRUE(informer.relist().ok());
  EXPECT_EQ(deletes, std::vector<std::string>{"drop"});
  EXPECT_TRUE(informer.get("a", "new").has_value());
  EXPECT_EQ(informer.size(), 2u);
}

TEST_F(InformerTest, ResyncReplaysEveryObjectAsAnUpdate) {
  ASSERT_TRUE(client_->create(kConfigMaps, "a", configMap("x")).ok());
  ASSERT_TRUE(client_->create(kConfigMaps, "b", configMap("y")).ok());
  Informer informer(*client_, kConfigMaps, clock_);
  int updates = 0;
  informer.addHandlers(
      {nullptr, [&](const api::JsonValue&, const api::JsonValue&) { ++updates; }, nullptr});
  ASSERT_TRUE(informer.relist().ok());
  informer.resync();
  EXPECT_EQ(updates, 2);
}

TEST_F(InformerTest, BackgroundLoopSyncsAndSurvivesDroppedWatchesAndCompaction) {
  SystemClock clock;
  InformerOptions options;
  options.retryDelay = std::chrono::milliseconds(50);
  Informer informer(*client_, kConfigMaps, clock, options);
  informer.start();
  ASSERT_TRUE(informer.waitForSync(std::chrono::seconds(10)));
  auto waitForSize = [&](std::size_t n) {
    for (int i = 0; i < 400 && informer.size() != n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return informer.size() == n;
  };
  ASSERT_TRUE(client_->create(kConfigMaps, "a", configMap("one")).ok());
  EXPECT_TRUE(waitForSize(1));
  admin("drop-watches");
  ASSERT_TRUE(client_->create(kConfigMaps, "a", configMap("two")).ok());
  EXPECT_TRUE(waitForSize(2));
  admin("drop-watches");
  admin("compact");
  ASSERT_TRUE(client_->create(kConfigMaps, "a", configMap("three")).ok());
  EXPECT_TRUE(waitForSize(3));
  informer.stop();
}

}  // namespace
}  // namespace canaryd::runtime
