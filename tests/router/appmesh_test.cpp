// The objects the App Mesh router writes (as Flagger's App Mesh v1beta2 router writes them), and
// the router against kubesim serving stand-ins for App Mesh's CRDs.
#include "canaryd/router/appmesh.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/kube/kube_client.h"

#include "router/canary_fixture.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

json manifest() {
  return json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test"},
    "spec": {"provider": "appmesh:v1beta2",
      "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
      "service": {"port": 9898, "timeout": "15s", "retries": {"attempts": 3,
                  "perTryTimeout": "5s", "retryOn": "gateway-error,client-error,stream-error"},
                  "backends": ["backend.test", "arn:aws:appmesh:eu-west-1:1:mesh/m/virtualService/b"]},
      "analysis": {"interval": "15s", "threshold": 15, "maxWeight": 50, "stepWeight": 10}}})");
}

api::Canary canaryOf(const json& m) {
  return testing::decodeCanary(m);
}

json owner() {
  return api::ownerReferenceTo(canaryOf(manifest())).get();
}

const json kRoute = json::parse(R"({"match": {"prefix": "/"},
  "timeout": {"perRequest": {"unit": "ms", "value": 15000}},
  "retryPolicy": {"perRetryTimeout": {"unit": "ms", "value": 5000}, "maxRetries": 3,
                  "httpRetryEvents": ["gateway-error", "client-error", "stream-error"]}})");

json expectedRouter(const std::string& name, std::int64_t canary, std::int64_t primary) {
  json route = kRoute;
  route["action"] = {{"weightedTargets",
                      {{{"virtualNodeRef", {{"name", "podinfo-canary"}}}, {"weight", canary}},
                       {{"virtualNodeRef", {{"name", "podinfo-primary"}}}, {"weight", primary}}}}};
  return {{"apiVersion", "appmesh.k8s.aws/v1beta2"},
          {"kind", "VirtualRouter"},
          {"metadata", {{"name", name}, {"namespace", "test"}, {"ownerReferences", {owner()}}}},
          {"spec",
           {{"listeners", {{{"portMapping", {{"port", 9898}, {"protocol", "http"}}}}}},
            {"routes", {{{"name", name}, {"httpRoute", route}}}}}}};
}

TEST(AppMeshRouterTest, VirtualNodes) {
  json m = manifest();
  m["metadata"]["annotations"] = {{"appmesh.flagger.app/accesslog", "enabled"}};
  json node = buildVirtualNode(canaryOf(m), {}, true, api::JsonValue()).get();
  json expected = json::parse(R"({"apiVersion": "appmesh.k8s.aws/v1beta2", "kind": "VirtualNode",
    "metadata": {"name": "podinfo-primary", "namespace": "test",
      "annotations": {"helm.toolkit.fluxcd.io/driftDetection": "disabled",
                      "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}},
    "spec": {"listeners": [{"portMapping": {"port": 9898, "protocol": "http"},
                            "timeout": {"http": {"perRequest": {"unit": "ms", "value": 15000}}}}],
      "serviceDiscovery": {"dns": {"hostname": "podinfo-primary.test.svc.cluster.local."}},
      "podSelector": {"matchLabels": {"app": "podinfo-primary"}},
      "logging": {"accessLog": {"file": {"path": "/dev/stdout"}}},
      "backends": [{"virtualService": {"virtualServiceRef": {"name": "backend.test"}}},
        {"virtualService": {"virtualServiceARN":
          "arn:aws:appmesh:eu-west-1:1:mesh/m/virtualService/b"}}]}})");
  expected["metadata"]["ownerReferences"] = {owner()};
  EXPECT_EQ(node, expected) << node.dump(2);

  m = manifest();
  m["spec"]["service"] = {{"port", 80}, {"targetPort", 8080}, {"portName", "grpc-web"}};
  node =
      buildVirtualNode(canaryOf(m), {"app.kubernetes.io/name", ""}, false, api::JsonValue()).get();
  EXPECT_EQ(node["metadata"]["name"], "podinfo-canary");
  EXPECT_EQ(node["spec"], json::parse(R"({
    "listeners": [{"portMapping": {"port": 8080, "protocol": "grpc"}}],
    "serviceDiscovery": {"dns": {"hostname": "podinfo-canary.test.svc.cluster.local."}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "podinfo"}}})"));
}

TEST(AppMeshRouterTest, VirtualRoutersAndServices) {
  api::Canary canary = canaryOf(manifest());
  json router = buildVirtualRouter(canary, false, {}, api::JsonValue()).get();
  EXPECT_EQ(router, expectedRouter("podinfo", 0, 100)) << router.dump(2);
  router = buildVirtualRouter(canary, true, {}, api::JsonValue()).get();
  EXPECT_EQ(router, expectedRouter("podinfo-canary", 100, 0)) << router.dump(2);

  // An existing router keeps its weights, awsName and meshRef.
  json existing = expectedRouter("podinfo", 30, 70);
  existing["spec"]["awsName"] = "podinfo_test";
  existing["spec"]["meshRef"] = {{"name", "global"}, {"uid", "u"}};
  existing["spec"]["routes"][0]["httpRoute"].erase("retryPolicy");
  router = buildVirtualRouter(canary, false, {}, api::JsonValue(existing)).get();
  json expected = expectedRouter("podinfo", 30, 70);
  expected["spec"]["awsName"] = "podinfo_test";
  expected["spec"]["meshRef"] = existing["spec"]["meshRef"];
  EXPECT_EQ(router, expected) << router.dump(2);

  json service = buildVirtualService(canary, false).get();
  EXPECT_EQ(service["spec"], json::parse(R"({"provider": {"virtualRouter":
    {"virtualRouterRef": {"name": "podinfo"}}}})"));
  EXPECT_FALSE(service["metadata"].contains("annotations"));
  json m = manifest();
  m["spec"]["service"]["hosts"] = {"podinfo.example.com", "www.example.com"};
  service = buildVirtualService(canaryOf(m), false).get();
  EXPECT_EQ(service["metadata"]["annotations"], json::parse(R"({
    "gateway.appmesh.k8s.aws/expose": "true",
    "gateway.appmesh.k8s.aws/domain": "podinfo.example.com,www.example.com,",
    "gateway.appmesh.k8s.aws/timeout": "15s", "gateway.appmesh.k8s.aws/retries": "3"})"));
  EXPECT_FALSE(buildVirtualService(canaryOf(m), true).get()["metadata"].contains("annotations"));
}

TEST(AppMeshRouterTest, ABTestingRoutes) {
  json m = manifest();
  m["spec"]["service"] = {{"port", 9898}, {"match", {{{"uri", {{"prefix", "/api"}}}}}}};
  m["spec"]["analysis"]["match"] = json::parse(R"([{"headers": {"x-canary": {"exact": "insider"},
    "user-agent": {"regex": ".*Firefox.*"}}}])");
  json routes =
      buildVirtualRouter(canaryOf(m), false, {}, api::JsonValue()).get()["spec"]["routes"];
  EXPECT_EQ(routes, json::parse(R"([
    {"name": "podinfo-a", "priority": 10, "httpRoute": {
      "match": {"prefix": "/api", "headers": [{"name": "user-agent", "match": {"regex": ".*Firefox.*"}},
                                              {"name": "x-canary", "match": {"exact": "insider"}}]},
      "action": {"weightedTargets": [{"virtualNodeRef": {"name": "podinfo-canary"}, "weight": 0},
                                     {"virtualNodeRef": {"name": "podinfo-primary"}, "weight": 100}]}}},
    {"name": "podinfo-b", "priority": 20, "httpRoute": {"match": {"prefix": "/api"},
      "action": {"weightedTargets": [{"virtualNodeRef": {"name": "podinfo-primary"}, "weight": 100}]}}}
  ])"))
      << routes.dump(2);
  // The canary router has no A/B routes.
  EXPECT_EQ(
      buildVirtualRouter(canaryOf(m), true, {}, api::JsonValue()).get()["spec"]["routes"].size(),
      1u);
}

TEST(AppMeshRouterTest, ProviderCapabilities) {
  std::vector<RouterPlugin> plugins = appMeshRouters();
  ASSERT_EQ(plugins.size(), 2u);
  EXPECT_EQ(plugins[0].entry.name, "appmesh");
  EXPECT_EQ(plugins[1].entry.name, "appmesh:v1beta2");
  for (const RouterPlugin& plugin : plugins) {
    EXPECT_TRUE(plugin.entry.can.weights);
    EXPECT_TRUE(plugin.entry.can.matching);
    EXPECT_FALSE(plugin.entry.can.mirroring);
    EXPECT_FALSE(plugin.entry.can.sessionAffinity);
    EXPECT_EQ(plugin.entry.can.targetKinds, (std::vector<std::string>{"Deployment", "DaemonSet"}));
  }
  json m = manifest();
  m["spec"]["analysis"]["match"] = json::parse(R"([{"headers": {"x": {"exact": "1"}}},
    {"queryParams": {"q": {"exact": "1"}}}])");
  api::FieldProblems problems = plugins[0].entry.check(canaryOf(m));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.analysis.match[1].queryParams");
}

json crd(const std::string& kind, const std::string& plural) {
  json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  return {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", plural + ".appmesh.k8s.aws"}}},
      {"spec",
       {{"group", "appmesh.k8s.aws"},
        {"scope", "Namespaced"},
        {"names", {{"kind", kind}, {"listKind", kind + "List"}, {"plural", plural}}},
        {"versions",
         {{{"name", "v1beta2"},
           {"served", true},
           {"storage", true},
           {"schema",
            {{"openAPIV3Schema", {{"type", "object"}, {"properties", {{"spec", open}}}}}}}}}}}}};
}

class AppMeshKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    createTestNamespace();
    for (const cluster::Resource* r :
         {&kAppMeshVirtualNodes, &kAppMeshVirtualRouters, &kAppMeshVirtualServices}) {
      installCrd(crd(r->kind, r->resource));
    }
    router_ = appMeshRouters()[1].make({*client_, nullptr, {}});
  }

  json get(const cluster::Resource& r, const std::string& name) { return object(r, "test", name); }

  std::unique_ptr<Router> router_;
};

TEST_F(AppMeshKubesimTest, ReconcileCreatesEverythingAndSetRoutesMovesTheWeights) {
  api::Canary canary = canaryOf(manifest());
  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);

  {
    Status s = router_->reconcile(canary);
    ASSERT_TRUE(s.ok()) << s.error().message();
  }
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
  for (const char* name : {"podinfo-primary", "podinfo-canary"})
    EXPECT_EQ(get(kAppMeshVirtualNodes, name)["spec"],
              buildVirtualNode(canary, {}, std::string(name) == "podinfo-primary", api::JsonValue())
                  .get()["spec"]);
  EXPECT_EQ(get(kAppMeshVirtualRouters, "podinfo")["spec"],
            expectedRouter("podinfo", 0, 100)["spec"]);
  EXPECT_EQ(get(kAppMeshVirtualRouters, "podinfo-canary")["spec"],
            expectedRouter("podinfo-canary", 100, 0)["spec"]);
  EXPECT_EQ(get(kAppMeshVirtualServices,
                "podinfo-canary")["spec"]["provider"]["virtualRouter"]["virtualRouterRef"]["name"],
            "podinfo-canary");

  ASSERT_TRUE(router_->setRoutes(canary, {60, 40, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{60, 40, false}));
  EXPECT_EQ(get(kAppMeshVirtualRouters, "podinfo")["spec"],
            expectedRouter("podinfo", 40, 60)["spec"]);

  // A second reconcile keeps the weights and writes nothing.
  const json before = get(kAppMeshVirtualRouters, "podinfo");
  const json node = get(kAppMeshVirtualNodes, "podinfo-primary");
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get(kAppMeshVirtualRouters, "podinfo"), before);
  EXPECT_EQ(get(kAppMeshVirtualNodes, "podinfo-primary"), node);

  // A changed timeout rewrites the route at the same weights.
  canary.spec.service->timeout = "30s";
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get(kAppMeshVirtualRouters, "podinfo")["spec"]["routes"][0]["httpRoute"]["timeout"],
            json::parse(R"({"perRequest": {"unit": "ms", "value": 30000}})"));
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{60, 40, false}));

  auto mirror = router_->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);

  // Someone empties the targets: unavailable until setRoutes writes them again.
  json router = get(kAppMeshVirtualRouters, "podinfo");
  router["spec"]["routes"][0]["httpRoute"]["action"]["weightedTargets"] = json::array();
  ASSERT_TRUE(client_->update(kAppMeshVirtualRouters, api::JsonValue(router)).ok());
  auto lost = router_->getRoutes(canary);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind(), ErrorKind::kUnavailable);
  ASSERT_TRUE(router_->setRoutes(canary, {100, 0, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
}

}  // namespace
}  // namespace canaryd::router
