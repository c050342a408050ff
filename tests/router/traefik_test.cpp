// The TraefikService the Traefik router writes (as Flagger v1.44's Traefik router writes it),
// for Flagger's own e2e Canary, and the router against kubesim serving stand-ins for Traefik's
// TraefikService CRDs (traefik.io and traefik.containo.us).
#include "canaryd/router/traefik.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/kube/kube_client.h"

#include "router/canary_fixture.h"
#include "support/source_files.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

// The Canary of Flagger's Traefik e2e test (test/traefik/test-canary.sh).
json e2eManifest() {
  return testing::yamlFile("tests/data/flagger-e2e/traefik.yaml");
}

api::Canary e2eCanary() {
  return testing::decodeCanary(e2eManifest());
}

const json kOwner = json::parse(R"([{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
  "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}])");

json weighted(const std::string& name, std::int64_t weight) {
  return {{"name", name}, {"namespace", "test"}, {"port", 80}, {"weight", weight}};
}

// What Flagger creates for the e2e Canary: the primary alone, then the canary beside it while it
// has traffic.
json e2eTraefikService(std::int64_t primary, std::int64_t canary) {
  json object = json::parse(R"({"apiVersion": "traefik.io/v1alpha1", "kind": "TraefikService",
    "metadata": {"name": "podinfo", "namespace": "test",
      "labels": {"test": "test-label"},
      "annotations": {"test": "test-annotation",
                      "helm.toolkit.fluxcd.io/driftDetection": "disabled",
                      "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}},
    "spec": {"weighted": {"services": []}}})");
  object["metadata"]["ownerReferences"] = kOwner;
  json& services = object["spec"]["weighted"]["services"];
  services.push_back(weighted("podinfo-primary", primary));
  if (canary > 0) services.push_back(weighted("podinfo-canary", canary));
  return object;
}

TEST(TraefikRouterTest, TheE2eCanaryDecodes) {
  api::Canary canary = e2eCanary();
  EXPECT_EQ(canary.spec.provider.value_or(""), "traefik");
  EXPECT_EQ(apexServiceName(canary), "podinfo");
}

TEST(TraefikRouterTest, ProgressiveStepsForFlaggersE2eCanary) {
  const api::Canary canary = e2eCanary();
  // Created: everything on the primary, no canary service.
  json object = buildTraefikService(canary, {}, api::JsonValue(), "traefik.io/v1alpha1").get();
  EXPECT_EQ(object, e2eTraefikService(100, 0)) << object.dump(2);
  // stepWeight 10 up to maxWeight 60.
  for (std::int64_t step = 10; step <= 60; step += 10) {
    object = buildTraefikService(canary, {100 - step, step, false}, api::JsonValue(object),
                                 "traefik.io/v1alpha1")
                 .get();
    EXPECT_EQ(object, e2eTraefikService(100 - step, step)) << object.dump(2);
  }
  // Promotion, and a rollback: the primary alone at 100 again.
  object =
      buildTraefikService(canary, {100, 0, false}, api::JsonValue(object), "traefik.io/v1alpha1")
          .get();
  EXPECT_EQ(object, e2eTraefikService(100, 0)) << object.dump(2);
}

TEST(TraefikRouterTest, BlueGreenSendsEverythingToTheCanaryWithAnExplicitZero) {
  json manifest = e2eManifest();
  manifest["spec"]["analysis"].erase("maxWeight");
  manifest["spec"]["analysis"].erase("stepWeight");
  manifest["spec"]["analysis"]["iterations"] = 10;
  const api::Canary canary = testing::decodeCanary(manifest);
  // Iterations test the canary at 0/100 (Flagger writes the primary without a weight there,
  // which Traefik reads as 1; canaryd writes the 0).
  json object =
      buildTraefikService(canary, {0, 100, false}, api::JsonValue(), "traefik.io/v1alpha1").get();
  EXPECT_EQ(object, e2eTraefikService(0, 100)) << object.dump(2);
  EXPECT_EQ(object["spec"]["weighted"]["services"][0]["weight"], 0);
}

TEST(TraefikRouterTest, NamesPortAndApiGroupFollowTheCanaryAndTheProvider) {
  json manifest = e2eManifest();
  manifest["spec"]["provider"] = "traefik:containo.us";
  manifest["spec"]["service"] = {{"name", "frontend"}, {"port", 8080}};
  manifest["metadata"]["namespace"] = "shop";
  json object = buildTraefikService(testing::decodeCanary(manifest), {70, 30, false},
                                    api::JsonValue(), "traefik.containo.us/v1alpha1")
                    .get();
  EXPECT_EQ(object["apiVersion"], "traefik.containo.us/v1alpha1");
  EXPECT_EQ(object["metadata"]["name"], "frontend");
  EXPECT_EQ(object["metadata"]["namespace"], "shop");
  EXPECT_FALSE(object["metadata"].contains("labels"));
  EXPECT_EQ(object["spec"], json::parse(R"({"weighted": {"services": [
    {"name": "frontend-primary", "namespace": "shop", "port": 8080, "weight": 70},
    {"name": "frontend-canary", "namespace": "shop", "port": 8080, "weight": 30}]}})"));
}

TEST(TraefikRouterTest, AnExistingTraefikServiceKeepsWhatCanarydDoesNotOwn) {
  json existing = json::parse(R"({"apiVersion": "traefik.io/v1alpha1", "kind": "TraefikService",
    "metadata": {"name": "podinfo", "namespace": "test", "resourceVersion": "42",
                 "labels": {"team": "web", "test": "old"}, "annotations": {"note": "mine"}},
    "spec": {"weighted": {"sticky": {"cookie": {"name": "lb"}},
                          "services": [{"name": "elsewhere", "port": 80}]}}})");
  json object = buildTraefikService(e2eCanary(), {80, 20, false}, api::JsonValue(existing),
                                    "traefik.io/v1alpha1")
                    .get();
  json expected = existing;
  expected["metadata"]["labels"]["test"] = "test-label";
  expected["metadata"]["annotations"] = e2eTraefikService(80, 20)["metadata"]["annotations"];
  expected["metadata"]["annotations"]["note"] = "mine";
  expected["spec"]["weighted"]["services"] =
      e2eTraefikService(80, 20)["spec"]["weighted"]["services"];
  EXPECT_EQ(object, expected) << object.dump(2);
  // Built again on what it wrote: the same object.
  EXPECT_EQ(buildTraefikService(e2eCanary(), {80, 20, false}, api::JsonValue(object),
                                "traefik.io/v1alpha1")
                .get(),
            object);
}

TEST(TraefikRouterTest, ProviderCapabilities) {
  std::vector<RouterPlugin> plugins = traefikRouters();
  ASSERT_EQ(plugins.size(), 2u);
  EXPECT_EQ(plugins[0].entry.name, "traefik");
  EXPECT_EQ(plugins[1].entry.name, "traefik:containo.us");
  for (const RouterPlugin& plugin : plugins) {
    const api::RouterEntry& entry = plugin.entry;
    EXPECT_TRUE(entry.can.weights);
    EXPECT_FALSE(entry.can.matching);
    EXPECT_FALSE(entry.can.mirroring);
    EXPECT_FALSE(entry.can.mirrorWeight);
    EXPECT_FALSE(entry.can.sessionAffinity);
    EXPECT_EQ(entry.can.targetKinds,
              (std::vector<std::string>{"Deployment", "DaemonSet", "Service"}));
    EXPECT_FALSE(entry.check);
  }
}

// A stand-in for Traefik's TraefikService CRD of `group`: namespaced, an open spec.
json traefikServiceCrd(const std::string& group) {
  json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  return {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "traefikservices." + group}}},
      {"spec",
       {{"group", group},
        {"scope", "Namespaced"},
        {"names",
         {{"kind", "TraefikService"},
          {"listKind", "TraefikServiceList"},
          {"plural", "traefikservices"},
          {"singular", "traefikservice"}}},
        {"versions",
         {{{"name", "v1alpha1"},
           {"served", true},
           {"storage", true},
           {"schema",
            {{"openAPIV3Schema", {{"type", "object"}, {"properties", {{"spec", open}}}}}}}}}}}}};
}

class TraefikKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    createTestNamespace();
    installCrd(traefikServiceCrd("traefik.io"));
    installCrd(traefikServiceCrd("traefik.containo.us"));
    router_ = traefikRouters()[0].make({*client_, nullptr, {}});
  }

  json get(const std::string& name) { return object(kTraefikServices, "test", name); }

  std::unique_ptr<Router> router_;
};

TEST_F(TraefikKubesimTest, ReconcileCreatesTheTraefikServiceOnThePrimaryOwnedByTheCanary) {
  api::Canary canary = e2eCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  json object = get("podinfo");
  const json expected = e2eTraefikService(100, 0);
  EXPECT_EQ(object["spec"], expected["spec"]);
  EXPECT_EQ(object["metadata"]["labels"], expected["metadata"]["labels"]);
  EXPECT_EQ(object["metadata"]["annotations"], expected["metadata"]["annotations"]);
  EXPECT_EQ(object["metadata"]["ownerReferences"], kOwner);

  // A second reconcile writes nothing.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo")["metadata"]["resourceVersion"], object["metadata"]["resourceVersion"]);
}

TEST_F(TraefikKubesimTest, SetsAndReadsTheWeights) {
  api::Canary canary = e2eCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {90, 10, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{90, 10, false}));
  EXPECT_EQ(get("podinfo")["spec"], e2eTraefikService(90, 10)["spec"]);
  ASSERT_TRUE(router_->setRoutes(canary, {0, 100, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{0, 100, false}));
  EXPECT_EQ(get("podinfo")["spec"], e2eTraefikService(0, 100)["spec"]);
  ASSERT_TRUE(router_->setRoutes(canary, {100, 0, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
  EXPECT_EQ(get("podinfo")["spec"], e2eTraefikService(100, 0)["spec"]);

  // Mirroring is refused (Flagger's Traefik router has none), and so are no weights at all.
  auto mirror = router_->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);
  auto none = router_->setRoutes(canary, {0, 0, false});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
}

TEST_F(TraefikKubesimTest, AReconcileKeepsTheWeightsAndTheFieldsCanarydDoesNotOwn) {
  api::Canary canary = e2eCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());

  // Someone labels it and makes it sticky.
  json object = get("podinfo");
  object["metadata"]["labels"]["team"] = "web";
  object["spec"]["weighted"]["sticky"] = {{"cookie", {{"name", "lb"}}}};
  ASSERT_TRUE(client_->update(kTraefikServices, api::JsonValue(object)).ok());
  const json written = get("podinfo");

  // Nothing canaryd owns changed: nothing is written.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo"), written);

  // The port and the apex labels change: the services are rewritten at the same weights.
  canary.spec.service->port = 8080;
  canary.spec.service->apex->labels["tier"] = "front";
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json after = get("podinfo");
  EXPECT_EQ(after["spec"]["weighted"]["services"], json::parse(R"([
    {"name": "podinfo-primary", "namespace": "test", "port": 8080, "weight": 70},
    {"name": "podinfo-canary", "namespace": "test", "port": 8080, "weight": 30}])"));
  EXPECT_EQ(after["spec"]["weighted"]["sticky"], json::parse(R"({"cookie": {"name": "lb"}})"));
  EXPECT_EQ(after["metadata"]["labels"],
            json::parse(R"({"team": "web", "test": "test-label", "tier": "front"})"));
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{70, 30, false}));
}

TEST_F(TraefikKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = e2eCanary();
  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("TraefikService test/podinfo"), std::string::npos)
      << missing.error().message();
  auto notSet = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(notSet.ok());
  EXPECT_EQ(notSet.error().kind(), ErrorKind::kNotFound);

  ASSERT_TRUE(router_->reconcile(canary).ok());
  // Someone points the weighted services elsewhere, breaks them, or writes a weight that is no
  // number: errors, never a crash; a reconcile restores them.
  for (const json& broken : {json::parse(R"({"services": [{"name": "x", "weight": 100}]})"),
                             json::parse(R"({"services": "podinfo-primary"})"),
                             json::parse(R"({"services": [7, null, {"name": 3}]})"),
                             json::parse(R"({"services": [{"name": "podinfo-primary",
                                                           "weight": "all"}]})")}) {
    json object = get("podinfo");
    object["spec"]["weighted"] = broken;
    ASSERT_TRUE(client_->update(kTraefikServices, api::JsonValue(object)).ok());
    auto lost = router_->getRoutes(canary);
    ASSERT_FALSE(lost.ok()) << broken.dump();
    EXPECT_NE(lost.error().message().find("TraefikService test/podinfo"), std::string::npos)
        << lost.error().message();
    ASSERT_TRUE(router_->reconcile(canary).ok());
    EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
  }
  json object = get("podinfo");
  object.erase("spec");
  ASSERT_TRUE(client_->update(kTraefikServices, api::JsonValue(object)).ok());
  auto gone = router_->getRoutes(canary);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind(), ErrorKind::kUnavailable);
  ASSERT_TRUE(router_->setRoutes(canary, {60, 40, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{60, 40, false}));
}

TEST_F(TraefikKubesimTest, TheContainousProviderWritesTheOldApiGroup) {
  json manifest = e2eManifest();
  manifest["spec"]["provider"] = "traefik:containo.us";
  api::Canary canary = testing::decodeCanary(manifest);
  std::unique_ptr<Router> old = traefikRouters()[1].make({*client_, nullptr, {}});
  ASSERT_TRUE(old->reconcile(canary).ok());
  ASSERT_TRUE(old->setRoutes(canary, {50, 50, false}).ok());
  EXPECT_EQ(*old->getRoutes(canary), (Weights{50, 50, false}));
  json written = object(kTraefikContainousServices, "test", "podinfo");
  EXPECT_EQ(written["apiVersion"], "traefik.containo.us/v1alpha1");
  EXPECT_EQ(written["spec"], e2eTraefikService(50, 50)["spec"]);
  // Nothing in traefik.io.
  auto none = client_->get(kTraefikServices, {"test", "podinfo"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace canaryd::router
