// A Service target, as Flagger's ServiceController: canaryd copies the user's Service to
// `<name>-primary` and `<name>-canary`, the router splits between the copies, the user's Service
// is never written, a change of its spec is a new revision, and promotion copies it to the
// primary. Against the simulator's in-memory cluster (with its Gateway API route acceptance).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/cluster/typed.h"
#include "canaryd/controller/reconciler.h"
#include "canaryd/notify/notifier.h"
#include "canaryd/sim/cluster.h"

#include "support/sim_canary_test.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

class ServiceTargetTest : public testing::SimCanaryTest {
 protected:
  void SetUp() override {
    SimCanaryTest::SetUp();
    // The user's Service, as Git holds it: it selects the pods of version 1.
    const json service = {{"apiVersion", "v1"},
                          {"kind", "Service"},
                          {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                          {"spec",
                           {{"selector", {{"app", "web"}, {"version", "v1"}}},
                            {"ports", {{{"name", "http"}, {"port", 80}}}}}}};
    ASSERT_TRUE(cluster_.create(cluster::kServices, "shop", api::JsonValue(service)).ok());
  }
  void createCanary(const std::string& provider) {
    const json canary = {
        {"apiVersion", "flagger.app/v1beta1"},
        {"kind", "Canary"},
        {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
        {"spec",
         {{"provider", provider},
          {"targetRef", {{"apiVersion", "v1"}, {"kind", "Service"}, {"name", "web"}}},
          {"service", {{"port", 80}, {"gatewayRefs", {{{"name", "edge"}}}}}},
          {"analysis",
           {{"interval", "10s"}, {"threshold", 2}, {"stepWeight", 50}, {"maxWeight", 50}}}}}};
    ASSERT_TRUE(cluster_.create(cluster::kCanaries, "shop", api::JsonValue(canary)).ok());
  }
  json get(const cluster::Resource& resource, const std::string& name) {
    Result<api::JsonValue> object = cluster_.get(resource, {"shop", name});
    return object.ok() ? object->get() : json();
  }
  json selectorOf(const std::string& service) {
    return get(cluster::kServices, service).value("spec", json::object()).value("selector", json());
  }
  json backendWeights() {
    json out = json::object();
    const json route = get(cluster::kHttpRoutes, "web");
    for (const json& rule : route.value("spec", json::object()).value("rules", json::array())) {
      for (const json& backend : rule.value("backendRefs", json::array()))
        out[backend.value("name", "")] = backend.value("weight", -1);
    }
    return out;
  }
};

TEST_F(ServiceTargetTest, CopiesTheServiceRoutesBetweenTheCopiesAndPromotesANewSpec) {
  createCanary("gatewayapi:v1");
  reconcileUntil("Initialized");
  ASSERT_EQ(phase(), "Initialized");
  const json v1 = {{"app", "web"}, {"version", "v1"}};
  EXPECT_EQ(selectorOf("web-primary"), v1);
  EXPECT_EQ(selectorOf("web-canary"), v1);
  const json primary = get(cluster::kServices, "web-primary");
  EXPECT_EQ(primary["metadata"]["ownerReferences"][0].value("kind", ""), "Canary");
  EXPECT_EQ(backendWeights(), (json{{"web-primary", 100}, {"web-canary", 0}}));
  // The user's Service is Git's: canaryd never writes it.
  const json user = get(cluster::kServices, "web");
  EXPECT_EQ(user["spec"]["selector"], v1);
  EXPECT_FALSE(user["metadata"].contains("ownerReferences"));

  // A new revision: the Service now selects version 2.
  ASSERT_TRUE(cluster_
                  .patch(cluster::kServices, {"shop", "web"}, cluster::PatchType::kMerge,
                         R"({"spec":{"selector":{"version":"v2"}}})")
                  .ok());
  const json v2 = {{"app", "web"}, {"version", "v2"}};
  const std::string userVersion =
      get(cluster::kServices, "web")["metadata"].value("resourceVersion", "");
  const std::vector<std::string> phases = reconcileUntil("Progressing");
  ASSERT_EQ(phase(), "Progressing");
  EXPECT_EQ(selectorOf("web-canary"), v2);
  EXPECT_EQ(selectorOf("web-primary"), v1);  // the primary waits for the promotion
  bool split = false;
  const std::vector<std::string> rest = reconcileUntil("Succeeded", 300, [&] {
    split = split || backendWeights() == json{{"web-primary", 50}, {"web-canary", 50}};
  });
  ASSERT_EQ(phase(), "Succeeded") << ::testing::PrintToString(rest);
  EXPECT_TRUE(split) << "the route never split 50/50 between the copies";
  EXPECT_EQ(selectorOf("web-primary"), v2);
  EXPECT_EQ(backendWeights(), (json{{"web-primary", 100}, {"web-canary", 0}}));
  const json after = get(cluster::kServices, "web");
  EXPECT_EQ(after["metadata"].value("resourceVersion", ""), userVersion)
      << "canaryd wrote the user's Service";
}

TEST_F(ServiceTargetTest, TheKubernetesProviderCannotRouteBetweenServicesAndSaysWhoCan) {
  createCanary("kubernetes");
  reconcileUntil("never", 3);
  const std::optional<api::CanaryCondition> stalled = condition("Stalled");
  ASSERT_TRUE(stalled.has_value());
  EXPECT_EQ(stalled->reason, "UnsupportedTarget");
  EXPECT_NE(stalled->message->find("\"Service\" targets are not supported by provider kubernetes"),
            std::string::npos)
      << *stalled->message;
  // Nothing generated: neither copy exists.
  EXPECT_TRUE(get(cluster::kServices, "web-primary").is_null());
  EXPECT_TRUE(get(cluster::kServices, "web-canary").is_null());
}

}  // namespace
}  // namespace canaryd::controller
