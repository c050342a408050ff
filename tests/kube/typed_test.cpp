#include "canaryd/cluster/typed.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/document.h"
#include "canaryd/kube/kube_client.h"

#include "kube/kubesim_process.h"
#include "support/source_files.h"

namespace canaryd::cluster {
namespace {

using nlohmann::json;

using canaryd::testing::yamlFile;

TEST(TypedClientTest, CanaryRoundTripsThroughTheApiWithItsStatus) {
  testing::KubesimProcess sim;
  kube::ConnectionConfig config;
  config.server = sim.url();
  kube::KubeClient client(config);
  ASSERT_TRUE(
      client.create(kNamespaces, "", api::JsonValue(json{{"metadata", {{"name", "production"}}}}))
          .ok());
  ASSERT_TRUE(client
                  .create({"apiextensions.k8s.io", "v1", "customresourcedefinitions", false,
                           "CustomResourceDefinition"},
                          "", api::JsonValue(yamlFile("crds/flagger.app_canaries.yaml")))
                  .ok());
  ASSERT_TRUE(client
                  .create(kCanaries, "production",
                          api::JsonValue(yamlFile("examples/gitops-guide-canary.yaml")))
                  .ok());

  Result<api::Canary> canary = getCanary(client, {"production", "my-app"});
  ASSERT_TRUE(canary.ok()) << canary.error().message();
  EXPECT_EQ(canary->spec.analysis->stepWeight, 10);
  EXPECT_EQ(canary->metadata.generation, 1);

  api::Canary next = *canary;
  next.status = api::CanaryStatus{};
  next.status->phase = "Initialized";
  next.status->canaryWeight = 0;
  Result<std::string> written = updateCanaryStatus(client, next);
  ASSERT_TRUE(written.ok()) << written.error().message();
  EXPECT_NE(*written, canary->metadata.resourceVersion);
  Result<api::Canary> reread = getCanary(client, {"production", "my-app"});
  ASSERT_TRUE(reread.ok()) << reread.error().message();
  EXPECT_EQ(reread->status->phase, "Initialized");
  EXPECT_EQ(reread->metadata.resourceVersion, *written);

  // Writing from the stale copy again is a conflict: re-read and retry.
  Result<std::string> stale = updateCanaryStatus(client, next);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind(), ErrorKind::kConflict);

  Result<std::vector<api::Canary>> all = listCanaries(client, "");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().status->phase, "Initialized");
  EXPECT_EQ(getCanary(client, {"production", "nope"}).error().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace canaryd::cluster
