// A reader of a Canary's status cannot guess a tracked Secret's contents: status.trackedConfigs
// holds an HMAC under the install's key, not a bare hash that a dictionary attack reverses.
// Upgrading from unkeyed digests is not a new revision (no analysis starts).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/cluster/typed.h"
#include "canaryd/controller/primary.h"
#include "canaryd/controller/reconciler.h"
#include "canaryd/core/base64.h"
#include "canaryd/core/digest.h"
#include "canaryd/notify/notifier.h"
#include "canaryd/sim/cluster.h"

#include "support/sim_reconciler.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

TEST(StatusDigestTest, TrackedSecretsAreKeyedAndTheUpgradeIsNotANewRevision) {
  VirtualClock clock;
  sim::ClusterOptions clusterOptions;
  clusterOptions.readinessDelay = std::chrono::seconds(1);
  sim::Cluster cluster(clock, clusterOptions);
  ASSERT_TRUE(
      cluster
          .create(cluster::kNamespaces, "", api::JsonValue(json{{"metadata", {{"name", "shop"}}}}))
          .ok());
  const json secretData = {{"password", base64Encode("hunter2")}};
  ASSERT_TRUE(cluster
                  .create(cluster::kSecrets, "shop",
                          api::JsonValue(json{{"metadata", {{"name", "db"}, {"namespace", "shop"}}},
                                              {"data", secretData}}))
                  .ok());
  const json deployment = {{"apiVersion", "apps/v1"},
                           {"kind", "Deployment"},
                           {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                           {"spec",
                            {{"replicas", 1},
                             {"selector", {{"matchLabels", {{"app", "web"}}}}},
                             {"template",
                              {{"metadata", {{"labels", {{"app", "web"}}}}},
                               {"spec",
                                {{"containers",
                                  {{{"name", "web"},
                                    {"image", "web:1"},
                                    {"envFrom", {{{"secretRef", {{"name", "db"}}}}}}}}}}}}}}}};
  ASSERT_TRUE(cluster.create(cluster::kDeployments, "shop", api::JsonValue(deployment)).ok());
  const json canary = {
      {"apiVersion", "flagger.app/v1beta1"},
      {"kind", "Canary"},
      {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
      {"spec",
       {{"targetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
        {"service", {{"port", 80}}},
        {"analysis", {{"interval", "10s"}, {"threshold", 2}, {"iterations", 2}}}}}};
  ASSERT_TRUE(cluster.create(cluster::kCanaries, "shop", api::JsonValue(canary)).ok());

  testing::RecordingNotifier notifier;
  auto noMetrics =
      [](const metrics::ProviderConfig&) -> Result<std::unique_ptr<metrics::Provider>> {
    return Error::unavailable("none");
  };
  auto reconcileUntil = [&](Reconciler& reconciler, const std::string& phase) {
    for (int i = 0; i < 40; ++i) {
      cluster.settle();
      (void)reconciler.reconcile({"shop", "web"});
      Result<api::Canary> c = cluster::getCanary(cluster, {"shop", "web"});
      if (c && c->status && c->status->phase == phase) return *c;
      clock.advance(std::chrono::seconds(1));
    }
    return *cluster::getCanary(cluster, {"shop", "web"});
  };

  // Before keys: the bare digest of the data, which anyone can recompute from a guess.
  Reconciler unkeyed(cluster, clock, notifier, testing::withBuiltinPlugins(), noMetrics);
  api::Canary before = reconcileUntil(unkeyed, "Initialized");
  ASSERT_TRUE(before.status);
  const std::string guess =
      digest(api::JsonValue(json{{"data", secretData}, {"binaryData", json::object()}}))
          .substr(0, 16);
  EXPECT_EQ(before.status->trackedConfigs.at("secret/db"), guess);  // the attack of the review

  // With the install's key the same guess finds nothing; the revision is kept.
  ReconcilerOptions options;
  options.digestKey = "install-key-0123456789abcdef0123";
  Reconciler keyed(cluster, clock, notifier, testing::withBuiltinPlugins(options), noMetrics);
  for (int i = 0; i < 5; ++i) {
    cluster.settle();
    ASSERT_TRUE(keyed.reconcile({"shop", "web"}).ok());
    clock.advance(std::chrono::seconds(1));
  }
  api::Canary after = *cluster::getCanary(cluster, {"shop", "web"});
  ASSERT_TRUE(after.status);
  EXPECT_EQ(after.status->phase, "Initialized");  // no new analysis started
  const std::string shown = after.status->trackedConfigs.at("secret/db");
  EXPECT_NE(shown, guess);
  EXPECT_EQ(shown,
            hmacSha256Hex(
                options.digestKey,
                api::JsonValue(json{{"data", secretData}, {"binaryData", json::object()}}).dump())
                .substr(0, 16));
  EXPECT_NE(after.status->lastAppliedSpec, before.status->lastAppliedSpec);  // now keyed
  EXPECT_EQ(after.status->lastAppliedSpec, after.status->lastPromotedSpec);

  // A changed Secret is still a new revision under the key.
  ASSERT_TRUE(cluster
                  .patch(cluster::kSecrets, {"shop", "db"}, cluster::PatchType::kMerge,
                         json{{"data", {{"password", base64Encode("hunter3")}}}}.dump())
                  .ok());
  api::Canary changed = reconcileUntil(keyed, "Progressing");
  EXPECT_EQ(changed.status->phase, "Progressing");
}

TEST(StatusDigestTest, HmacIsTheStandardOne) {
  // RFC 4231, test case 2.
  EXPECT_EQ(hmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(randomBytes(32).size(), 32u);
  EXPECT_NE(randomBytes(32), randomBytes(32));
}

}  // namespace
}  // namespace canaryd::controller
