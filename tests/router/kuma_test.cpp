// The TrafficRoute the Kuma router writes (as Flagger's Kuma router writes it), and the router
// against kubesim serving a cluster-scoped stand-in for Kuma's TrafficRoute CRD.
#include "canaryd/router/kuma.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/kube/kube_client.h"

#include "router/canary_fixture.h"

namespace canaryd::router {
namespace kuma_test {

using nlohmann::json;

api::Canary decode(const json& manifest) {
  return testing::decodeCanary(manifest);
}

// The Canary of Flagger's Kuma tutorial (artifacts/examples/kuma-canary.yaml).
json tutorialManifest() {
  return json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test",
                 "annotations": {"kuma.io/mesh": "default"}},
    "spec": {"provider": "kuma",
      "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
      "progressDeadlineSeconds": 60,
      "service": {"port": 9898, "targetPort": 9898,
        "apex": {"annotations": {"9898.service.kuma.io/protocol": "http"}},
        "canary": {"annotations": {"9898.service.kuma.io/protocol": "http"}},
        "primary": {"annotations": {"9898.service.kuma.io/protocol": "http"}}},
      "analysis": {"interval": "15s", "threshold": 15, "maxWeight": 50, "stepWeight": 10}}})");
}

api::Canary tutorialCanary() {
  return decode(tutorialManifest());
}

// What Flagger creates for the tutorial's Canary.
json tutorialRoute(std::int64_t primary, std::int64_t canary) {
  json route = json::parse(R"({"apiVersion": "kuma.io/v1alpha1", "kind": "TrafficRoute",
    "metadata": {"name": "podinfo",
      "annotations": {"9898.service.kuma.io/protocol": "http",
                      "helm.toolkit.fluxcd.io/driftDetection": "disabled",
                      "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}},
    "mesh": "default",
    "spec": {
      "sources": [{"match": {"kuma.io/service": "*"}}],
      "destinations": [{"match": {"kuma.io/service": "podinfo_test_svc_9898"}}],
      "conf": {"split": [
        {"weight": 0, "destination": {"kuma.io/service": "podinfo-primary_test_svc_9898"}},
        {"weight": 0, "destination": {"kuma.io/service": "podinfo-canary_test_svc_9898"}}]}}})");
  route["spec"]["conf"]["split"][0]["weight"] = primary;
  route["spec"]["conf"]["split"][1]["weight"] = canary;
  return route;
}

TEST(KumaRouterTest, ServiceTagsAreNameNamespaceSvcPort) {
  api::Canary canary = tutorialCanary();
  EXPECT_EQ(kumaServiceTag(canary, "podinfo-primary"), "podinfo-primary_test_svc_9898");
}

TEST(KumaRouterTest, TrafficRouteForTheTutorialCanary) {
  json route = buildTrafficRoute(tutorialCanary(), {}, api::JsonValue()).get();
  EXPECT_EQ(route, tutorialRoute(100, 0)) << route.dump(2);
  route = buildTrafficRoute(tutorialCanary(), {60, 40, false}, api::JsonValue()).get();
  EXPECT_EQ(route, tutorialRoute(60, 40)) << route.dump(2);
}

TEST(KumaRouterTest, TheMeshComesFromTheAnnotationElseDefaultAndTheNameFromServiceName) {
  json manifest = tutorialManifest();
  manifest["metadata"]["annotations"] = {{"kuma.io/mesh", "payments"}};
  manifest["spec"]["service"] = {
      {"port", 80}, {"name", "frontend"}, {"apex", {{"labels", {{"team", "web"}}}}}};
  json route = buildTrafficRoute(decode(manifest), {}, api::JsonValue()).get();
  EXPECT_EQ(route["mesh"], "payments");
  EXPECT_EQ(route["metadata"], json::parse(R"({"name": "frontend", "labels": {"team": "web"},
    "annotations": {"helm.toolkit.fluxcd.io/driftDetection": "disabled",
                    "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}})"));
  EXPECT_EQ(route["spec"]["destinations"],
            json::parse(R"([{"match": {"kuma.io/service": "frontend_test_svc_80"}}])"));
  EXPECT_EQ(route["spec"]["conf"]["split"][0]["destination"]["kuma.io/service"],
            "frontend-primary_test_svc_80");
  EXPECT_EQ(route["spec"]["conf"]["split"][1]["destination"]["kuma.io/service"],
            "frontend-canary_test_svc_80");

  manifest["metadata"].erase("annotations");
  route = buildTrafficRoute(decode(manifest), {}, api::JsonValue()).get();
  EXPECT_EQ(route["mesh"], "default");
}

TEST(KumaRouterTest, AnExistingTrafficRouteKeepsWhatCanarydDoesNotOwn) {
  json existing = json::parse(R"({"apiVersion": "kuma.io/v1alpha1", "kind": "TrafficRoute",
    "metadata": {"name": "podinfo", "resourceVersion": "42",
                 "labels": {"team": "web"}, "annotations": {"note": "mine"}},
    "mesh": "other",
    "spec": {"sources": [{"match": {"kuma.io/service": "frontend_test_svc_80"}}],
             "destinations": [{"match": {"kuma.io/service": "podinfo_test_svc_9898"}}],
             "conf": {"loadBalancer": {"roundRobin": {}},
                      "split": [{"weight": 1, "destination": {"kuma.io/service": "x"}}]}}})");
  json route = buildTrafficRoute(tutorialCanary(), {80, 20, false}, api::JsonValue(existing)).get();
  json expected = existing;
  expected["metadata"]["annotations"] = tutorialRoute(80, 20)["metadata"]["annotations"];
  expected["metadata"]["annotations"]["note"] = "mine";
  expected["spec"]["sources"] = tutorialRoute(80, 20)["spec"]["sources"];
  expected["spec"]["conf"]["split"] = tutorialRoute(80, 20)["spec"]["conf"]["split"];
  EXPECT_EQ(route, expected) << route.dump(2);
  // Built again on what it wrote: the same object.
  EXPECT_EQ(buildTrafficRoute(tutorialCanary(), {80, 20, false}, api::JsonValue(route)).get(),
            route);
}

TEST(KumaRouterTest, ProviderCapabilities) {
  std::vector<RouterPlugin> plugins = kumaRouters();
  ASSERT_EQ(plugins.size(), 1u);
  const api::RouterEntry& entry = plugins[0].entry;
  EXPECT_EQ(entry.name, "kuma");
  EXPECT_TRUE(entry.can.weights);
  EXPECT_FALSE(entry.can.matching);
  EXPECT_FALSE(entry.can.mirroring);
  EXPECT_FALSE(entry.can.mirrorWeight);
  EXPECT_FALSE(entry.can.sessionAffinity);
  EXPECT_EQ(entry.can.targetKinds,
            (std::vector<std::string>{"Deployment", "DaemonSet", "Service"}));
  EXPECT_FALSE(entry.check);
}

// A stand-in for Kuma's TrafficRoute CRD: cluster-scoped, `mesh` beside the spec.
json trafficRouteCrd() {
  json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "trafficroutes.kuma.io"}}},
          {"spec",
           {{"group", "kuma.io"},
            {"scope", "Cluster"},
            {"names",
             {{"kind", "TrafficRoute"},
              {"listKind", "TrafficRouteList"},
              {"plural", "trafficroutes"},
              {"singular", "trafficroute"}}},
            {"versions",
             {{{"name", "v1alpha1"},
               {"served", true},
               {"storage", true},
               {"schema",
                {{"openAPIV3Schema",
                  {{"type", "object"},
                   {"properties", {{"mesh", {{"type", "string"}}}, {"spec", open}}}}}}}}}}}}};
}

class KumaKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    installCrd(trafficRouteCrd());
    router_ = kumaRouters()[0].make({*client_, nullptr, {}});
  }

  json get(const std::string& name) { return object(kKumaTrafficRoutes, "", name); }

  std::unique_ptr<Router> router_;
};

TEST_F(KumaKubesimTest, ReconcileCreatesTheRouteOnThePrimaryWithoutAnOwner) {
  api::Canary canary = tutorialCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  json route = get("podinfo");
  const json expected = tutorialRoute(100, 0);
  EXPECT_EQ(route["spec"], expected["spec"]);
  EXPECT_EQ(route["mesh"], "default");
  EXPECT_EQ(route["metadata"]["annotations"], expected["metadata"]["annotations"]);
  EXPECT_FALSE(route["metadata"].contains("ownerReferences"));
  EXPECT_FALSE(route["metadata"].contains("namespace"));

  // A second reconcile writes nothing.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo")["metadata"]["resourceVersion"], route["metadata"]["resourceVersion"]);
}

TEST_F(KumaKubesimTest, SetsAndReadsTheWeights) {
  api::Canary canary = tutorialCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {90, 10, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{90, 10, false}));
  EXPECT_EQ(get("podinfo")["spec"], tutorialRoute(90, 10)["spec"]);
  ASSERT_TRUE(router_->setRoutes(canary, {0, 100, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{0, 100, false}));

  // Mirroring is refused: a TrafficRoute cannot mirror.
  auto mirror = router_->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);
}

TEST_F(KumaKubesimTest, AReconcileKeepsTheWeightsTheMeshAndTheFieldsCanarydDoesNotOwn) {
  api::Canary canary = tutorialCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());

  // Someone labels it and sets a load balancer.
  json route = get("podinfo");
  route["metadata"]["labels"] = {{"team", "web"}};
  route["spec"]["conf"]["loadBalancer"] = {{"roundRobin", json::object()}};
  ASSERT_TRUE(client_->update(kKumaTrafficRoutes, api::JsonValue(route)).ok());
  const json written = get("podinfo");

  // Nothing canaryd owns changed: nothing is written.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo"), written);

  // The port and the mesh annotation change: the route is rewritten at the same weights, in the
  // mesh it was created in.
  canary.spec.service->port = 8080;
  canary.metadata.annotations["kuma.io/mesh"] = "other";
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json after = get("podinfo");
  EXPECT_EQ(after["spec"]["destinations"][0]["match"]["kuma.io/service"], "podinfo_test_svc_8080");
  EXPECT_EQ(after["spec"]["conf"]["split"][0]["destination"]["kuma.io/service"],
            "podinfo-primary_test_svc_8080");
  EXPECT_EQ(after["spec"]["conf"]["loadBalancer"], json::parse(R"({"roundRobin": {}})"));
  EXPECT_EQ(after["metadata"]["labels"]["team"], "web");
  EXPECT_EQ(after["mesh"], "default");
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{70, 30, false}));
}

TEST_F(KumaKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = tutorialCanary();
  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("TrafficRoute podinfo"), std::string::npos)
      << missing.error().message();
  auto notSet = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(notSet.ok());
  EXPECT_EQ(notSet.error().kind(), ErrorKind::kNotFound);

  // Someone points the split elsewhere: no weights to read until a reconcile restores it.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json route = get("podinfo");
  route["spec"]["conf"]["split"] =
      json::parse(R"([{"weight": 100, "destination": {"kuma.io/service": "elsewhere"}}])");
  ASSERT_TRUE(client_->update(kKumaTrafficRoutes, api::JsonValue(route)).ok());
  auto lost = router_->getRoutes(canary);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind(), ErrorKind::kUnavailable);
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  // A Canary of the same name in another namespace does not take the route over.
  json other = tutorialManifest();
  other["metadata"]["namespace"] = "staging";
  api::Canary stranger = decode(other);
  auto taken = router_->reconcile(stranger);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(taken.error().message().find("another Canary"), std::string::npos)
      << taken.error().message();
  EXPECT_FALSE(router_->setRoutes(stranger, {50, 50, false}).ok());
  EXPECT_FALSE(router_->getRoutes(stranger).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
}

}  // namespace kuma_test
}  // namespace canaryd::router
