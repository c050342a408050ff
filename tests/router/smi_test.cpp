// The TrafficSplit the SMI router writes for each API version, and the router against kubesim
// serving the SMI TrafficSplit CRD.
#include "canaryd/router/smi.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/kube/kube_client.h"

#include "router/canary_fixture.h"
#include "support/source_files.h"

namespace canaryd::router {
namespace {

using canaryd::testing::yamlFile;
using nlohmann::json;

// The Canary of Flagger's Linkerd tutorial.
api::Canary linkerdCanary(const std::string& provider = "linkerd") {
  json c = json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test"},
    "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
      "service": {"port": 9898},
      "analysis": {"interval": "30s", "threshold": 5, "maxWeight": 50, "stepWeight": 5}}})");
  c["spec"]["provider"] = provider;
  auto decoded = api::canaryFromJson(c.dump());
  EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().message());
  api::Canary canary = api::withDefaults(decoded.ok() ? *decoded : api::Canary{});
  canary.metadata.uid = "uid-1";
  return canary;
}

const json kMetadata = json::parse(R"({"name": "podinfo", "namespace": "test",
  "annotations": {"helm.toolkit.fluxcd.io/driftDetection": "disabled",
                  "kustomize.toolkit.fluxcd.io/reconcile": "disabled"},
  "ownerReferences": [{"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "name": "podinfo",
                       "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}]})");

TEST(SmiRouterTest, V1alpha1WritesWeightsAsQuantityStrings) {
  json split = buildTrafficSplit(linkerdCanary(), {90, 10, false}, api::JsonValue(),
                                 "split.smi-spec.io/v1alpha1")
                   .get();
  json expected = json::parse(R"({"apiVersion": "split.smi-spec.io/v1alpha1",
    "kind": "TrafficSplit",
    "spec": {"service": "podinfo",
             "backends": [{"service": "podinfo-canary", "weight": "10"},
                          {"service": "podinfo-primary", "weight": "90"}]}})");
  expected["metadata"] = kMetadata;
  EXPECT_EQ(split, expected) << split.dump(2);
}

TEST(SmiRouterTest, V1alpha2WritesIntegerWeights) {
  json split = buildTrafficSplit(linkerdCanary("osm"), {100, 0, false}, api::JsonValue(),
                                 "split.smi-spec.io/v1alpha2")
                   .get();
  json expected = json::parse(R"({"apiVersion": "split.smi-spec.io/v1alpha2",
    "kind": "TrafficSplit",
    "spec": {"service": "podinfo",
             "backends": [{"service": "podinfo-canary", "weight": 0},
                          {"service": "podinfo-primary", "weight": 100}]}})");
  expected["metadata"] = kMetadata;
  EXPECT_EQ(split, expected) << split.dump(2);
}

TEST(SmiRouterTest, V1alpha3WritesIntegerWeightsAndNoMatches) {
  json split = buildTrafficSplit(linkerdCanary("smi:v1alpha3"), {60, 40, false}, api::JsonValue(),
                                 "split.smi-spec.io/v1alpha3")
                   .get();
  json expected = json::parse(R"({"apiVersion": "split.smi-spec.io/v1alpha3",
    "kind": "TrafficSplit",
    "spec": {"service": "podinfo",
             "backends": [{"service": "podinfo-canary", "weight": 40},
                          {"service": "podinfo-primary", "weight": 60}]}})");
  expected["metadata"] = kMetadata;
  EXPECT_EQ(split, expected) << split.dump(2);
}

TEST(SmiRouterTest, TheApexIsServiceNameAndTheSplitServiceTheFirstHost) {
  api::Canary canary = linkerdCanary();
  canary.spec.service->name = "frontend";
  canary.spec.service->hosts = {"frontend.test.svc.cluster.local", "frontend.example.com"};
  json split =
      buildTrafficSplit(canary, {100, 0, false}, api::JsonValue(), "split.smi-spec.io/v1alpha2")
          .get();
  EXPECT_EQ(split["metadata"]["name"], "frontend");
  EXPECT_EQ(split["spec"]["service"], "frontend.test.svc.cluster.local");
  EXPECT_EQ(split["spec"]["backends"][0]["service"], "frontend-canary");
  EXPECT_EQ(split["spec"]["backends"][1]["service"], "frontend-primary");
}

TEST(SmiRouterTest, AnExistingSplitKeepsWhatCanarydDoesNotOwn) {
  json existing = json::parse(R"({"apiVersion": "split.smi-spec.io/v1alpha3",
    "kind": "TrafficSplit",
    "metadata": {"name": "podinfo", "namespace": "test", "resourceVersion": "42",
                 "labels": {"team": "web"}, "annotations": {"note": "mine"}},
    "spec": {"service": "old-host",
             "matches": [{"kind": "HTTPRouteGroup", "name": "ab-test"}],
             "backends": [{"service": "podinfo-canary", "weight": 0},
                          {"service": "podinfo-primary", "weight": 100},
                          {"service": "legacy", "weight": 5}]}})");
  json split = buildTrafficSplit(linkerdCanary("smi:v1alpha3"), {80, 20, false},
                                 api::JsonValue(existing), "split.smi-spec.io/v1alpha3")
                   .get();
  json expected = existing;
  expected["spec"]["service"] = "podinfo";
  // The backends are canaryd's: Flagger writes exactly these two.
  expected["spec"]["backends"] = json::parse(R"([{"service": "podinfo-canary", "weight": 20},
                                                 {"service": "podinfo-primary", "weight": 80}])");
  EXPECT_EQ(split, expected) << split.dump(2);
}

TEST(SmiRouterTest, ProvidersAndTheirApiVersionsAsFlaggersFactoryMapsThem) {
  std::vector<std::string> names;
  for (const RouterPlugin& plugin : smiRouters()) {
    names.push_back(plugin.entry.name);
    EXPECT_TRUE(plugin.entry.can.weights) << plugin.entry.name;
    EXPECT_FALSE(plugin.entry.can.matching) << plugin.entry.name;
    EXPECT_FALSE(plugin.entry.can.mirroring) << plugin.entry.name;
    EXPECT_FALSE(plugin.entry.can.mirrorWeight) << plugin.entry.name;
    EXPECT_FALSE(plugin.entry.can.sessionAffinity) << plugin.entry.name;
    EXPECT_EQ(plugin.entry.can.targetKinds,
              (std::vector<std::string>{"Deployment", "DaemonSet", "Service"}));
    EXPECT_FALSE(plugin.entry.check) << plugin.entry.name;
    EXPECT_TRUE(plugin.make) << plugin.entry.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"linkerd", "osm", "smi:v1alpha1", "smi:v1alpha2",
                                             "smi:v1alpha3"}));
}

class SmiKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    createTestNamespace();
    json crd = yamlFile("tests/data/smi-trafficsplit-crd.yaml");
    ASSERT_TRUE(crd.is_object());
    installCrd(crd);
  }

  // The router registered for `provider`, made as the registry makes it.
  std::unique_ptr<Router> routerFor(const std::string& provider) {
    for (const RouterPlugin& plugin : smiRouters()) {
      if (plugin.entry.name == provider) return plugin.make({*client_, nullptr, {}});
    }
    ADD_FAILURE() << "no router for " << provider;
    return nullptr;
  }

  json splitAt(const std::string& version, const std::string& name = "podinfo") {
    const cluster::Resource resource{"split.smi-spec.io", version, "trafficsplits", true,
                                     "TrafficSplit"};
    return object(resource, "test", name);
  }
};

TEST_F(SmiKubesimTest, ReconcileCreatesTheSplitOnThePrimaryOwnedByTheCanary) {
  api::Canary canary = linkerdCanary();
  std::unique_ptr<Router> router = routerFor("linkerd");
  ASSERT_TRUE(router->reconcile(canary).ok());
  EXPECT_EQ(*router->getRoutes(canary), (Weights{100, 0, false}));

  json split = splitAt("v1alpha1");
  EXPECT_EQ(split["spec"]["service"], "podinfo");
  EXPECT_EQ(split["spec"]["backends"], json::parse(R"([{"service": "podinfo-canary", "weight": "0"},
                            {"service": "podinfo-primary", "weight": "100"}])"));
  ASSERT_EQ(split["metadata"]["ownerReferences"].size(), 1u);
  const json& owner = split["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "Canary");
  EXPECT_EQ(owner["name"], "podinfo");
  EXPECT_EQ(owner["uid"], "uid-1");
  EXPECT_EQ(owner["controller"], true);

  // A second reconcile writes nothing.
  ASSERT_TRUE(router->reconcile(canary).ok());
  EXPECT_EQ(splitAt("v1alpha1")["metadata"]["resourceVersion"],
            split["metadata"]["resourceVersion"]);
}

TEST_F(SmiKubesimTest, EveryProviderSetsAndReadsTheWeights) {
  const std::vector<std::pair<std::string, std::string>> providers = {{"linkerd", "v1alpha1"},
                                                                      {"osm", "v1alpha2"},
                                                                      {"smi:v1alpha1", "v1alpha1"},
                                                                      {"smi:v1alpha2", "v1alpha2"},
                                                                      {"smi:v1alpha3", "v1alpha3"}};
  int i = 0;
  for (const auto& [provider, version] : providers) {
    SCOPED_TRACE(provider);
    api::Canary canary = linkerdCanary(provider);
    const std::string apex = "app" + std::to_string(i++);
    canary.spec.service->name = apex;
    std::unique_ptr<Router> router = routerFor(provider);
    ASSERT_TRUE(router->reconcile(canary).ok());
    EXPECT_EQ(*router->getRoutes(canary), (Weights{100, 0, false}));
    ASSERT_TRUE(router->setRoutes(canary, {90, 10, false}).ok());
    EXPECT_EQ(*router->getRoutes(canary), (Weights{90, 10, false}));
    // Written in the provider's API version: quantity strings in v1alpha1, integers after.
    json split = splitAt(version, apex);
    EXPECT_EQ(split["apiVersion"], "split.smi-spec.io/" + version);
    const json& canaryWeight = split["spec"]["backends"][0]["weight"];
    EXPECT_EQ(canaryWeight, version == "v1alpha1" ? json("10") : json(10)) << split.dump();
    ASSERT_TRUE(router->setRoutes(canary, {0, 100, false}).ok());
    EXPECT_EQ(*router->getRoutes(canary), (Weights{0, 100, false}));
  }
}

TEST_F(SmiKubesimTest, AReconcileKeepsTheWeightsAndTheFieldsCanarydDoesNotOwn) {
  api::Canary canary = linkerdCanary("smi:v1alpha3");
  std::unique_ptr<Router> router = routerFor("smi:v1alpha3");
  ASSERT_TRUE(router->reconcile(canary).ok());
  ASSERT_TRUE(router->setRoutes(canary, {70, 30, false}).ok());

  // Someone labels the split and points it at an HTTPRouteGroup.
  json split = splitAt("v1alpha3");
  split["metadata"]["labels"] = {{"team", "web"}};
  split["spec"]["matches"] = json::parse(R"([{"kind": "HTTPRouteGroup", "name": "ab-test"}])");
  const cluster::Resource v1alpha3{"split.smi-spec.io", "v1alpha3", "trafficsplits", true,
                                   "TrafficSplit"};
  ASSERT_TRUE(client_->update(v1alpha3, api::JsonValue(split)).ok());

  ASSERT_TRUE(router->reconcile(canary).ok());
  json after = splitAt("v1alpha3");
  EXPECT_EQ(after["metadata"]["labels"]["team"], "web");
  EXPECT_EQ(after["spec"]["matches"][0]["name"], "ab-test");
  EXPECT_EQ(*router->getRoutes(canary), (Weights{70, 30, false}));

  // The hosts change: the reconcile rewrites spec.service, and keeps the rest and the weights.
  canary.spec.service->hosts = {"podinfo.test.svc.cluster.local"};
  ASSERT_TRUE(router->reconcile(canary).ok());
  after = splitAt("v1alpha3");
  EXPECT_EQ(after["spec"]["service"], "podinfo.test.svc.cluster.local");
  EXPECT_EQ(after["metadata"]["labels"]["team"], "web");
  EXPECT_EQ(after["spec"]["matches"][0]["name"], "ab-test");
  EXPECT_EQ(after["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(*router->getRoutes(canary), (Weights{70, 30, false}));
}

TEST_F(SmiKubesimTest, AReconcileRestoresBackendsSomeoneRemoved) {
  api::Canary canary = linkerdCanary("osm");
  std::unique_ptr<Router> router = routerFor("osm");
  ASSERT_TRUE(router->reconcile(canary).ok());
  json split = splitAt("v1alpha2");
  split["spec"]["backends"] = json::parse(R"([{"service": "elsewhere", "weight": 100}])");
  const cluster::Resource v1alpha2{"split.smi-spec.io", "v1alpha2", "trafficsplits", true,
                                   "TrafficSplit"};
  ASSERT_TRUE(client_->update(v1alpha2, api::JsonValue(split)).ok());

  auto lost = router->getRoutes(canary);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind(), ErrorKind::kUnavailable);
  ASSERT_TRUE(router->reconcile(canary).ok());
  EXPECT_EQ(*router->getRoutes(canary), (Weights{100, 0, false}));
}

TEST_F(SmiKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = linkerdCanary();
  std::unique_ptr<Router> router = routerFor("linkerd");
  auto missing = router->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);

  ASSERT_TRUE(router->reconcile(canary).ok());
  auto mirror = router->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(mirror.error().message().find("cannot mirror"), std::string::npos);

  // A fractional quantity (Linkerd's own examples write "500m") is not a percentage.
  json split = splitAt("v1alpha1");
  split["spec"]["backends"][0]["weight"] = "500m";
  const cluster::Resource v1alpha1{"split.smi-spec.io", "v1alpha1", "trafficsplits", true,
                                   "TrafficSplit"};
  ASSERT_TRUE(client_->update(v1alpha1, api::JsonValue(split)).ok());
  auto fractional = router->getRoutes(canary);
  ASSERT_FALSE(fractional.ok());
  EXPECT_EQ(fractional.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(fractional.error().message().find("\"500m\", not a whole number"), std::string::npos)
      << fractional.error().message();
}

}  // namespace
}  // namespace canaryd::router
