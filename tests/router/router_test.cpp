// The exact objects each router writes for a given Canary and weight, and the routers against
// kubesim.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/core/duration.h"
#include "canaryd/kube/kube_client.h"
#include "canaryd/router/gateway_api.h"
#include "canaryd/router/kubernetes.h"

#include "kube/kubesim_process.h"
#include "support/source_files.h"

namespace canaryd::router {
namespace {

using canaryd::testing::yamlFile;
using nlohmann::json;

api::Canary example(const std::string& file) {
  auto c = api::canaryFromJson(yamlFile(file).dump());
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  api::Canary canary = api::withDefaults(c.ok() ? *c : api::Canary{});
  canary.metadata.uid = "uid-1";
  return canary;
}

TEST(GatewayApiRouterTest, HttpRouteForAProgressiveCanary) {
  api::Canary canary = example("examples/canary-gatewayapi.yaml");
  json route =
      buildHttpRoute(canary, {90, 10, false}, api::JsonValue(), "gateway.networking.k8s.io/v1")
          .get();
  json expected = json::parse(R"({
    "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
    "metadata": {"name": "podinfo", "namespace": "test",
      "annotations": {"helm.toolkit.fluxcd.io/driftDetection": "disabled",
                      "kustomize.toolkit.fluxcd.io/reconcile": "disabled"},
      "ownerReferences": [{"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "name": "podinfo",
                           "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}]},
    "spec": {
      "parentRefs": [{"name": "public-gateway", "namespace": "gateway"}],
      "hostnames": ["podinfo.example.com"],
      "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                 "backendRefs": [
                   {"group": "", "kind": "Service", "name": "podinfo-primary", "port": 9898, "weight": 90},
                   {"group": "", "kind": "Service", "name": "podinfo-canary", "port": 9898, "weight": 10}]}]}})");
  EXPECT_EQ(route, expected) << route.dump(2);
}

TEST(GatewayApiRouterTest, ABTestingRoutesMatchedTrafficAndKeepsADefaultRule) {
  api::Canary canary = example("examples/ab-testing-gatewayapi.yaml");
  canary.spec.provider = "gatewayapi:v1";
  json route =
      buildHttpRoute(canary, {0, 100, false}, api::JsonValue(), "gateway.networking.k8s.io/v1")
          .get();
  const json& rules = route["spec"]["rules"];
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0]["matches"][0]["headers"][0],
            json::parse(R"({"name":"x-canary","type":"Exact","value":"insider"})"));
  EXPECT_EQ(rules[0]["matches"][1]["headers"][0]["type"], "RegularExpression");
  EXPECT_EQ(rules[0]["backendRefs"][1]["weight"], 100);
  EXPECT_EQ(rules[1]["backendRefs"][0]["weight"], 100);  // everyone else: primary
  EXPECT_EQ(rules[1]["backendRefs"][1]["weight"], 0);
}

TEST(GatewayApiRouterTest, MirroringAddsARequestMirrorFilter) {
  api::Canary canary = example("examples/canary-gatewayapi.yaml");
  json route =
      buildHttpRoute(canary, {100, 0, true}, api::JsonValue(), "gateway.networking.k8s.io/v1")
          .get();
  EXPECT_EQ(route["spec"]["rules"][0]["filters"][0]["type"], "RequestMirror");
  EXPECT_EQ(route["spec"]["rules"][0]["filters"][0]["requestMirror"]["backendRef"]["name"],
            "podinfo-canary");
}

TEST(GatewayApiRouterTest, KeepsRulesItDoesNotOwn) {
  api::Canary canary = example("examples/canary-gatewayapi.yaml");
  json existing =
      buildHttpRoute(canary, {100, 0, false}, api::JsonValue(), "gateway.networking.k8s.io/v1")
          .get();
  json userRule = json::parse(R"({"matches":[{"path":{"type":"PathPrefix","value":"/admin"}}],
      "backendRefs":[{"name":"admin-ui","port":80}]})");
  existing["spec"]["rules"].push_back(userRule);
  existing["metadata"]["resourceVersion"] = "42";
  json route = buildHttpRoute(canary, {80, 20, false}, api::JsonValue(existing),
                              "gateway.networking.k8s.io/v1")
                   .get();
  ASSERT_EQ(route["spec"]["rules"].size(), 2u);
  EXPECT_EQ(route["spec"]["rules"][0]["backendRefs"][1]["weight"], 20);
  EXPECT_EQ(route["spec"]["rules"][1], userRule);
  EXPECT_EQ(route["metadata"]["resourceVersion"], "42");
}

TEST(GatewayApiRouterTest, TimeoutAndBackendTimeoutGoOnEveryRule) {
  api::Canary canary = example("examples/ab-testing-gatewayapi.yaml");
  canary.spec.provider = "gatewayapi:v1";
  canary.spec.service->timeout = "30s";
  canary.spec.service->backendTimeout = "10s";
  json route =
      buildHttpRoute(canary, {0, 100, false}, api::JsonValue(), "gateway.networking.k8s.io/v1")
          .get();
  const json timeouts = json::parse(R"({"request": "30s", "backendRequest": "10s"})");
  ASSERT_EQ(route["spec"]["rules"].size(), 2u);
  EXPECT_EQ(route["spec"]["rules"][0]["timeouts"], timeouts);
  EXPECT_EQ(route["spec"]["rules"][1]["timeouts"], timeouts);
  // A backend timeout alone.
  canary.spec.service->timeout.reset();
  route = buildHttpRoute(canary, {0, 100, false}, api::JsonValue(), "gateway.networking.k8s.io/v1")
              .get();
  EXPECT_EQ(route["spec"]["rules"][0]["timeouts"], json::parse(R"({"backendRequest": "10s"})"));
}

// Session affinity, as Flagger's getSessionAffinityRouteRules: the cookie rules first, the
// weighted rule last with the backends setting the cookies.
TEST(GatewayApiRouterTest, SessionAffinityPinsUsersWithTheStatusCookies) {
  api::Canary canary = example("examples/canary-gatewayapi.yaml");
  api::SessionAffinity affinity;
  affinity.cookieName = "flagger-cookie";
  affinity.primaryCookieName = "primary-cookie";
  affinity.maxAge = 21600;
  affinity.sameSite = "Strict";
  canary.spec.analysis->sessionAffinity = affinity;
  canary.status = api::CanaryStatus{};
  canary.status->sessionAffinityCookie = "flagger-cookie=abcdefghij";
  canary.status->primarySessionAffinityCookie = "primary-cookie=klmnopqrst";
  json route =
      buildHttpRoute(canary, {90, 10, false}, api::JsonValue(), "gateway.networking.k8s.io/v1")
          .get();
  const std::string interval =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                         parseDuration(*canary.spec.analysis->interval).valueOr(Duration{}))
                         .count());
  json expected = json::parse(R"([
    {"matches": [{"path": {"type": "PathPrefix", "value": "/"},
                  "headers": [{"name": "Cookie", "type": "RegularExpression",
                               "value": ".*flagger-cookie.*abcdefghij.*"}]}],
     "backendRefs": [
       {"group": "", "kind": "Service", "name": "podinfo-primary", "port": 9898, "weight": 0},
       {"group": "", "kind": "Service", "name": "podinfo-canary", "port": 9898, "weight": 100}]},
    {"matches": [{"path": {"type": "PathPrefix", "value": "/"},
                  "headers": [{"name": "Cookie", "type": "RegularExpression",
                               "value": ".*primary-cookie.*klmnopqrst.*"}]}],
     "backendRefs": [
       {"group": "", "kind": "Service", "name": "podinfo-primary", "port": 9898, "weight": 100},
       {"group": "", "kind": "Service", "name": "podinfo-canary", "port": 9898, "weight": 0}]},
    {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
     "backendRefs": [
       {"group": "", "kind": "Service", "name": "podinfo-primary", "port": 9898, "weight": 90,
        "filters": [{"type": "ResponseHeaderModifier", "responseHeaderModifier": {"add": [
          {"name": "Set-Cookie", "value": "primary-cookie=klmnopqrst; Max-Age=INTERVAL; SameSite=Strict"}]}}]},
       {"group": "", "kind": "Service", "name": "podinfo-canary", "port": 9898, "weight": 10,
        "filters": [{"type": "ResponseHeaderModifier", "responseHeaderModifier": {"add": [
          {"name": "Set-Cookie", "value": "flagger-cookie=abcdefghij; Max-Age=21600; SameSite=Strict"}]}}]}]}])");
  expected[2]["backendRefs"][0]["filters"][0]["responseHeaderModifier"]["add"][0]["value"] =
      "primary-cookie=klmnopqrst; Max-Age=" + interval + "; SameSite=Strict";
  EXPECT_EQ(route["spec"]["rules"], expected) << route["spec"]["rules"].dump(2);

  // At weight 0 the previous run's cookie is expired by a rule of its own.
  canary.status = api::CanaryStatus{};
  canary.status->previousSessionAffinityCookie = "flagger-cookie=abcdefghij";
  route = buildHttpRoute(canary, {100, 0, false}, api::JsonValue(), "gateway.networking.k8s.io/v1")
              .get();
  ASSERT_EQ(route["spec"]["rules"].size(), 2u);
  EXPECT_EQ(route["spec"]["rules"][0]["matches"][0]["headers"][0]["value"],
            ".*flagger-cookie.*abcdefghij.*");
  EXPECT_EQ(route["spec"]["rules"][0]["filters"], json::parse(R"([{"type": "ResponseHeaderModifier",
    "responseHeaderModifier": {"add": [{"name": "Set-Cookie",
                                        "value": "flagger-cookie=abcdefghij; Max-Age=-1"}]}}])"));
  EXPECT_FALSE(route["spec"]["rules"][1].contains("filters"));
  EXPECT_EQ(route["spec"]["rules"][1]["backendRefs"][0]["weight"], 100);
}

TEST(KubernetesRouterTest, ThreeServicesWithTheApexOnThePrimary) {
  api::Canary canary = example("examples/gitops-guide-canary.yaml");
  std::vector<api::JsonValue> services = buildServices(canary);
  ASSERT_EQ(services.size(), 3u);
  EXPECT_EQ(services[0].get()["metadata"]["name"], "my-app");
  EXPECT_EQ(services[0].get()["spec"]["selector"]["app"], "my-app-primary");
  EXPECT_EQ(services[1].get()["metadata"]["name"], "my-app-primary");
  EXPECT_EQ(services[1].get()["spec"]["selector"]["app"], "my-app-primary");
  EXPECT_EQ(services[2].get()["metadata"]["name"], "my-app-canary");
  EXPECT_EQ(services[2].get()["spec"]["selector"]["app"], "my-app");
  EXPECT_EQ(services[0].get()["spec"]["ports"][0],
            json::parse(R"({"name":"http","port":80,"protocol":"TCP","targetPort":8080})"));
  EXPECT_EQ(services[0].get()["spec"]["type"], "ClusterIP");
}

class RouterKubesimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kube::ConnectionConfig config;
    config.server = sim_.url();
    client_ = std::make_unique<kube::KubeClient>(config);
    for (const char* ns : {"test", "production"}) {
      ASSERT_TRUE(
          client_
              ->create(cluster::kNamespaces, "", api::JsonValue(json{{"metadata", {{"name", ns}}}}))
              .ok());
    }
    json crd =
        json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
      "metadata":{"name":"httproutes.gateway.networking.k8s.io"},
      "spec":{"group":"gateway.networking.k8s.io","scope":"Namespaced",
        "names":{"plural":"httproutes","singular":"httproute","kind":"HTTPRoute"},
        "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
          "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})");
    ASSERT_TRUE(client_->create(cluster::kCustomResourceDefinitions, "", api::JsonValue(crd)).ok());
  }
  testing::KubesimProcess sim_;
  std::unique_ptr<cluster::Client> client_;
};

TEST_F(RouterKubesimTest, KubernetesRouterSwitchesTheApexSelector) {
  api::Canary canary = example("examples/gitops-guide-canary.yaml");
  KubernetesRouter router(*client_);
  ASSERT_TRUE(router.reconcile(canary).ok());
  ASSERT_TRUE(router.reconcile(canary).ok());  // idempotent
  EXPECT_EQ(*router.getRoutes(canary), (Weights{100, 0, false}));
  ASSERT_TRUE(router.setRoutes(canary, {0, 100, false}).ok());
  EXPECT_EQ(*router.getRoutes(canary), (Weights{0, 100, false}));
  auto apex = client_->get(cluster::kServices, {"production", "my-app"});
  EXPECT_EQ(apex->get()["spec"]["selector"]["app"], "my-app");
  // A reconcile keeps the switched selector.
  ASSERT_TRUE(router.reconcile(canary).ok());
  EXPECT_EQ(*router.getRoutes(canary), (Weights{0, 100, false}));
  auto split = router.setRoutes(canary, {50, 50, false});
  ASSERT_FALSE(split.ok());
  EXPECT_EQ(split.error().kind(), ErrorKind::kInvalidInput);
}

TEST_F(RouterKubesimTest, GatewayApiRouterWaitsForTheGatewayToAccept) {
  api::Canary canary = example("examples/canary-gatewayapi.yaml");
  GatewayApiRouter router(*client_, "gateway.networking.k8s.io/v1");
  ASSERT_TRUE(router.reconcile(canary).ok());
  EXPECT_EQ(*router.getRoutes(canary), (Weights{100, 0, false}));
  auto early = router.setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(early.error().message().find("not been accepted"), std::string::npos);

  // The Gateway accepts the route's current generation.
  auto accept = [&] {
    auto route = client_->get(cluster::kHttpRoutes, {"test", "podinfo"});
    json r = route->get();
    r["status"] = {{"parents",
                    {{{"parentRef", {{"name", "public-gateway"}}},
                      {"controllerName", "example.com/gateway"},
                      {"conditions",
                       {{{"type", "Accepted"},
                         {"status", "True"},
                         {"observedGeneration", r["metadata"]["generation"]}}}}}}}};
    ASSERT_TRUE(client_->updateStatus(cluster::kHttpRoutes, api::JsonValue(r)).ok());
  };
  accept();
  ASSERT_TRUE(router.setRoutes(canary, {90, 10, false}).ok());
  EXPECT_EQ(*router.getRoutes(canary), (Weights{90, 10, false}));
  // The change bumped the generation: the next change waits for the Gateway again.
  EXPECT_FALSE(router.setRoutes(canary, {80, 20, false}).ok());
  accept();
  EXPECT_TRUE(router.setRoutes(canary, {80, 20, false}).ok());
  EXPECT_EQ(*router.getRoutes(canary), (Weights{80, 20, false}));

  // With session affinity the split is read from the weighted rule, after the sticky ones.
  api::Canary sticky = canary;
  sticky.spec.analysis->sessionAffinity.emplace();
  sticky.spec.analysis->sessionAffinity->cookieName = "c";
  sticky.status = api::CanaryStatus{};
  sticky.status->sessionAffinityCookie = "c=xyz";
  accept();
  ASSERT_TRUE(router.setRoutes(sticky, {60, 40, false}).ok());
  EXPECT_EQ(*router.getRoutes(sticky), (Weights{60, 40, false}));
  EXPECT_EQ(client_->get(cluster::kHttpRoutes, {"test", "podinfo"})->get()["spec"]["rules"].size(),
            2u);
  accept();
  ASSERT_TRUE(router.setRoutes(canary, {80, 20, false}).ok());

  // Refused rather than late: an error that names the Gateway and its reason, not a retry.
  auto route = client_->get(cluster::kHttpRoutes, {"test", "podinfo"});
  json r = route->get();
  r["status"] = {{"parents",
                  {{{"parentRef", {{"name", "public-gateway"}, {"namespace", "istio-ingress"}}},
                    {"controllerName", "example.com/gateway"},
                    {"conditions",
                     {{{"type", "Accepted"},
                       {"status", "False"},
                       {"reason", "NotAllowedByListeners"},
                       {"message", "namespace test is not allowed"},
                       {"observedGeneration", r["metadata"]["generation"]}}}}}}}};
  ASSERT_TRUE(client_->updateStatus(cluster::kHttpRoutes, api::JsonValue(r)).ok());
  auto refused = router.setRoutes(canary, {70, 30, false});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(refused.error().message(),
            "HTTPRoute test/podinfo was not accepted by Gateway istio-ingress/public-gateway: "
            "NotAllowedByListeners: namespace test is not allowed (spec.service.gatewayRefs "
            "names the Gateways)");
}

}  // namespace
}  // namespace canaryd::router
