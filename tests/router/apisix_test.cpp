// The canary ApisixRoute the APISIX router writes (as Flagger v1.44's APISIX router writes it)
// for Flagger's own e2e Canary and ApisixRoute, and the router against kubesim serving a
// stand-in for APISIX's ApisixRoute CRD.
#include "canaryd/router/apisix.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/kube/kube_client.h"

#include "router/canary_fixture.h"
#include "support/source_files.h"

namespace canaryd::router {
namespace apisix_test {

using nlohmann::json;

// The Canary and the ApisixRoute of Flagger's APISIX e2e test (test/apisix/test-canary.sh).
json e2eManifest() {
  return testing::yamlFile("tests/data/flagger-e2e/apisix.yaml");
}

json e2eUserRoute() {
  return testing::yamlFile("tests/data/flagger-e2e/apisix-companions.yaml");
}

api::Canary e2eCanary() {
  return testing::decodeCanary(e2eManifest());
}

const json kOwner = json::parse(R"([{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
  "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}])");

// What Flagger creates for the e2e Canary (with canaryd's Flux opt-out annotations).
json e2eCanaryRoute(std::int64_t primary, std::int64_t canary) {
  json route = json::parse(R"({"apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute",
    "metadata": {"name": "podinfo-podinfo-canary", "namespace": "test",
      "annotations": {"helm.toolkit.fluxcd.io/driftDetection": "disabled",
                      "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}},
    "spec": {"http": [{
      "name": "method",
      "priority": 10000,
      "match": {"hosts": ["app.example.com"], "methods": ["GET"], "paths": ["/*"]},
      "backends": [{"serviceName": "podinfo-primary", "servicePort": 80, "weight": 0},
                   {"serviceName": "podinfo-canary", "servicePort": 80, "weight": 0}],
      "websocket": false,
      "plugins": [{"name": "prometheus", "enable": true,
                   "config": {"disable": false, "prefer_name": true}}]}]}})");
  route["metadata"]["ownerReferences"] = kOwner;
  route["spec"]["http"][0]["backends"][0]["weight"] = primary;
  route["spec"]["http"][0]["backends"][1]["weight"] = canary;
  return route;
}

json build(const api::Canary& canary, const Weights& weights, const json& user,
           const api::JsonValue& existing = api::JsonValue()) {
  auto built = buildApisixCanaryRoute(canary, weights, api::JsonValue(user), existing);
  EXPECT_TRUE(built.ok()) << (built.ok() ? "" : built.error().message());
  return built.ok() ? built->get() : json();
}

TEST(ApisixRouterTest, TheE2eCanaryDecodesAndNamesTheCanaryRoute) {
  api::Canary canary = e2eCanary();
  EXPECT_EQ(canary.spec.provider.value_or(""), "apisix");
  EXPECT_EQ(apisixCanaryRouteName(canary), "podinfo-podinfo-canary");
  json manifest = e2eManifest();
  manifest["spec"]["routeRef"]["name"] = "shop";
  manifest["spec"]["service"]["name"] = "frontend";
  EXPECT_EQ(apisixCanaryRouteName(testing::decodeCanary(manifest)), "shop-frontend-canary");
}

TEST(ApisixRouterTest, ProgressiveStepsForFlaggersE2eRoute) {
  const api::Canary canary = e2eCanary();
  json route = build(canary, {}, e2eUserRoute());
  EXPECT_EQ(route, e2eCanaryRoute(100, 0)) << route.dump(2);
  // stepWeight 10 up to maxWeight 50.
  for (std::int64_t step = 10; step <= 50; step += 10) {
    route = build(canary, {100 - step, step, false}, e2eUserRoute(), api::JsonValue(route));
    EXPECT_EQ(route, e2eCanaryRoute(100 - step, step)) << route.dump(2);
  }
  // Promotion, and a rollback: the primary at 100, the canary's backend at 0.
  route = build(canary, {100, 0, false}, e2eUserRoute(), api::JsonValue(route));
  EXPECT_EQ(route, e2eCanaryRoute(100, 0)) << route.dump(2);
}

TEST(ApisixRouterTest, BlueGreenSendsEverythingToTheCanary) {
  json manifest = e2eManifest();
  manifest["spec"]["analysis"].erase("maxWeight");
  manifest["spec"]["analysis"].erase("stepWeight");
  manifest["spec"]["analysis"]["iterations"] = 10;
  json route = build(testing::decodeCanary(manifest), {0, 100, false}, e2eUserRoute());
  EXPECT_EQ(route, e2eCanaryRoute(0, 100)) << route.dump(2);
}

// A user's route with more than Flagger's e2e one: several http routes, stream routes, fields of
// newer APISIX versions, GitOps and kubectl metadata.
json richUserRoute() {
  return json::parse(R"({"apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute",
    "metadata": {"name": "shop", "namespace": "test", "resourceVersion": "7",
      "labels": {"team": "web", "kustomize.toolkit.fluxcd.io/name": "apps",
                 "app.kubernetes.io/instance": "shop"},
      "annotations": {"note": "mine", "kubectl.kubernetes.io/last-applied-configuration": "{}",
                      "argocd.argoproj.io/tracking-id": "shop:x"}},
    "spec": {
      "ingressClassName": "apisix",
      "http": [
        {"name": "static", "match": {"paths": ["/static/*"]},
         "backends": [{"serviceName": "cdn", "servicePort": 80}]},
        {"name": "api", "priority": 3, "websocket": true,
         "match": {"paths": ["/api/*"], "exprs": [{"subject": {"scope": "Header", "name": "x"},
                                                   "op": "Equal", "value": "1"}]},
         "timeout": {"read": "30s"},
         "plugin_config_name": "cors",
         "backends": [{"serviceName": "podinfo", "servicePort": "http",
                       "resolveGranularity": "service", "subset": "v1"}]},
        {"name": "api-again", "match": {"paths": ["/v2/*"]},
         "backends": [{"serviceName": "podinfo", "servicePort": 80}]}],
      "stream": [{"name": "tcp", "protocol": "TCP", "match": {"ingressPort": 9100},
                  "backend": {"serviceName": "podinfo", "servicePort": 9100}}]}})");
}

TEST(ApisixRouterTest, TheCanaryRouteIsTheFirstHttpRouteOfTheApexWithTheUsersOtherFields) {
  json manifest = e2eManifest();
  manifest["spec"]["routeRef"]["name"] = "shop";
  json route = build(testing::decodeCanary(manifest), {90, 10, false}, richUserRoute());
  EXPECT_EQ(route, json::parse(R"({"apiVersion": "apisix.apache.org/v2", "kind": "ApisixRoute",
    "metadata": {"name": "shop-podinfo-canary", "namespace": "test",
      "ownerReferences": [{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}],
      "labels": {"team": "web"},
      "annotations": {"note": "mine", "helm.toolkit.fluxcd.io/driftDetection": "disabled",
                      "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}},
    "spec": {
      "ingressClassName": "apisix",
      "http": [
        {"name": "api", "priority": 10000, "websocket": true,
         "match": {"paths": ["/api/*"], "exprs": [{"subject": {"scope": "Header", "name": "x"},
                                                   "op": "Equal", "value": "1"}]},
         "timeout": {"read": "30s"},
         "plugin_config_name": "cors",
         "backends": [{"serviceName": "podinfo-primary", "servicePort": "http",
                       "resolveGranularity": "service", "subset": "v1", "weight": 90},
                      {"serviceName": "podinfo-canary", "servicePort": "http",
                       "resolveGranularity": "service", "subset": "v1", "weight": 10}]}],
      "stream": [{"name": "tcp", "protocol": "TCP", "match": {"ingressPort": 9100},
                  "backend": {"serviceName": "podinfo", "servicePort": 9100}}]}})"))
      << route.dump(2);
}

TEST(ApisixRouterTest, RoutesItCannotDeriveFromAreRefused) {
  const api::Canary canary = e2eCanary();
  auto refused = [&](const json& user) {
    auto built = buildApisixCanaryRoute(canary, {}, api::JsonValue(user), api::JsonValue());
    EXPECT_FALSE(built.ok()) << user.dump();
    if (built.ok()) return std::string();
    EXPECT_EQ(built.error().kind(), ErrorKind::kInvalidInput);
    return built.error().message();
  };
  json user = e2eUserRoute();
  user["spec"]["http"] = json::array();
  EXPECT_EQ(refused(user), "ApisixRoute test/podinfo (spec.routeRef): spec.http is empty");
  user["spec"] = "none";
  EXPECT_EQ(refused(user), "ApisixRoute test/podinfo (spec.routeRef): spec.http is empty");
  EXPECT_EQ(refused(json()), "ApisixRoute test/podinfo (spec.routeRef): spec.http is empty");

  user = e2eUserRoute();
  user["spec"]["http"][0]["backends"][0]["serviceName"] = "other";
  EXPECT_EQ(refused(user),
            "ApisixRoute test/podinfo (spec.routeRef): no http route has the backend podinfo "
            "(the apex Service)");
  user["spec"]["http"][0]["backends"] = "podinfo";
  EXPECT_EQ(refused(user),
            "ApisixRoute test/podinfo (spec.routeRef): no http route has the backend podinfo "
            "(the apex Service)");

  user = e2eUserRoute();
  user["spec"]["http"][0]["backends"].push_back({{"serviceName", "podinfo-v2"}});
  EXPECT_EQ(refused(user),
            "ApisixRoute test/podinfo (spec.routeRef): http route method has 2 backends; only "
            "one backend (podinfo) is supported");
}

TEST(ApisixRouterTest, AnExistingCanaryRouteKeepsItsOtherMetadata) {
  const api::Canary canary = e2eCanary();
  json existing = e2eCanaryRoute(70, 30);
  existing["metadata"]["resourceVersion"] = "9";
  existing["metadata"]["labels"] = {{"team", "web"}};
  existing["spec"]["http"][0]["priority"] = 1;  // someone's edit: canaryd owns the spec
  json route = build(canary, {70, 30, false}, e2eUserRoute(), api::JsonValue(existing));
  json expected = e2eCanaryRoute(70, 30);
  expected["metadata"]["resourceVersion"] = "9";
  expected["metadata"]["labels"] = {{"team", "web"}};
  EXPECT_EQ(route, expected) << route.dump(2);
  EXPECT_EQ(build(canary, {70, 30, false}, e2eUserRoute(), api::JsonValue(route)), route);
}

TEST(ApisixRouterTest, ProviderCapabilitiesAndChecks) {
  std::vector<RouterPlugin> plugins = apisixRouters();
  ASSERT_EQ(plugins.size(), 1u);
  const api::RouterEntry& entry = plugins[0].entry;
  EXPECT_EQ(entry.name, "apisix");
  EXPECT_TRUE(entry.can.weights);
  EXPECT_FALSE(entry.can.matching);
  EXPECT_FALSE(entry.can.mirroring);
  EXPECT_FALSE(entry.can.mirrorWeight);
  EXPECT_FALSE(entry.can.sessionAffinity);
  EXPECT_EQ(entry.can.targetKinds,
            (std::vector<std::string>{"Deployment", "DaemonSet", "Service"}));
  ASSERT_TRUE(entry.check);
  EXPECT_TRUE(entry.check(e2eCanary()).empty());

  json manifest = e2eManifest();
  manifest["spec"].erase("routeRef");
  api::FieldProblems problems = entry.check(testing::decodeCanary(manifest));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.routeRef");

  manifest["spec"]["routeRef"] = {{"apiVersion", "gateway.networking.k8s.io/v1"},
                                  {"kind", "HTTPRoute"}};
  problems = entry.check(testing::decodeCanary(manifest));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].first, "spec.routeRef.name");
  EXPECT_EQ(problems[1].first, "spec.routeRef.kind");
  EXPECT_EQ(problems[1].second, "provider apisix routes through an ApisixRoute, not a HTTPRoute");
}

// A stand-in for APISIX's ApisixRoute CRD: namespaced, an open spec.
json apisixRouteCrd() {
  json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  return {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", "apisixroutes.apisix.apache.org"}}},
      {"spec",
       {{"group", "apisix.apache.org"},
        {"scope", "Namespaced"},
        {"names",
         {{"kind", "ApisixRoute"},
          {"listKind", "ApisixRouteList"},
          {"plural", "apisixroutes"},
          {"singular", "apisixroute"}}},
        {"versions",
         {{{"name", "v2"},
           {"served", true},
           {"storage", true},
           {"schema",
            {{"openAPIV3Schema", {{"type", "object"}, {"properties", {{"spec", open}}}}}}}}}}}}};
}

class ApisixKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    createTestNamespace();
    installCrd(apisixRouteCrd());
    router_ = apisixRouters()[0].make({*client_, nullptr, {}});
  }

  // The user's route of Flagger's e2e test, as the script applies it.
  void createUserRoute() {
    ASSERT_TRUE(client_->create(kApisixRoutes, "test", api::JsonValue(e2eUserRoute())).ok());
  }

  json get(const std::string& name) { return object(kApisixRoutes, "test", name); }

  std::unique_ptr<Router> router_;
};

TEST_F(ApisixKubesimTest, ReconcileCreatesTheCanaryRouteAndLeavesTheUsersRouteAlone) {
  createUserRoute();
  const json user = get("podinfo");
  api::Canary canary = e2eCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  json route = get("podinfo-podinfo-canary");
  const json expected = e2eCanaryRoute(100, 0);
  EXPECT_EQ(route["spec"], expected["spec"]);
  EXPECT_EQ(route["metadata"]["annotations"], expected["metadata"]["annotations"]);
  EXPECT_EQ(route["metadata"]["ownerReferences"], kOwner);
  EXPECT_EQ(get("podinfo"), user);

  // A second reconcile writes nothing.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo-podinfo-canary")["metadata"]["resourceVersion"],
            route["metadata"]["resourceVersion"]);
}

TEST_F(ApisixKubesimTest, SetsAndReadsTheWeights) {
  createUserRoute();
  api::Canary canary = e2eCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  for (const Weights& w : {Weights{90, 10, false}, Weights{50, 50, false}, Weights{0, 100, false},
                           Weights{100, 0, false}}) {
    ASSERT_TRUE(router_->setRoutes(canary, w).ok());
    EXPECT_EQ(*router_->getRoutes(canary), w);
    EXPECT_EQ(get("podinfo-podinfo-canary")["spec"], e2eCanaryRoute(w.primary, w.canary)["spec"]);
  }
  auto mirror = router_->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);
  auto none = router_->setRoutes(canary, {0, 0, false});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::kInvalidInput);
}

TEST_F(ApisixKubesimTest, AReconcileFollowsTheUsersRouteAtTheCurrentWeights) {
  createUserRoute();
  api::Canary canary = e2eCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());

  // Someone labels the canary route: kept, and nothing canaryd owns changed.
  json route = get("podinfo-podinfo-canary");
  route["metadata"]["labels"] = {{"team", "web"}};
  ASSERT_TRUE(client_->update(kApisixRoutes, api::JsonValue(route)).ok());
  const json written = get("podinfo-podinfo-canary");
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo-podinfo-canary"), written);

  // The user adds a host and a label to their route: the canary route follows, same weights.
  json user = get("podinfo");
  user["spec"]["http"][0]["match"]["hosts"].push_back("www.example.com");
  user["metadata"]["labels"] = {{"tier", "front"}};
  ASSERT_TRUE(client_->update(kApisixRoutes, api::JsonValue(user)).ok());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json after = get("podinfo-podinfo-canary");
  json expected = e2eCanaryRoute(70, 30)["spec"];
  expected["http"][0]["match"]["hosts"].push_back("www.example.com");
  EXPECT_EQ(after["spec"], expected);
  EXPECT_EQ(after["metadata"]["labels"], json::parse(R"({"team": "web", "tier": "front"})"));
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{70, 30, false}));
}

TEST_F(ApisixKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = e2eCanary();
  // No user route yet.
  auto noUser = router_->reconcile(canary);
  ASSERT_FALSE(noUser.ok());
  EXPECT_EQ(noUser.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(noUser.error().message().find("ApisixRoute test/podinfo (spec.routeRef)"),
            std::string::npos)
      << noUser.error().message();
  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("ApisixRoute test/podinfo-podinfo-canary"),
            std::string::npos)
      << missing.error().message();
  auto notSet = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(notSet.ok());
  EXPECT_EQ(notSet.error().kind(), ErrorKind::kNotFound);

  // No routeRef: refused before any request.
  api::Canary noRef = canary;
  noRef.spec.routeRef.reset();
  auto refused = router_->reconcile(noRef);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kInvalidInput);

  createUserRoute();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  // Someone breaks the canary route: errors, never a crash; a reconcile restores it.
  for (const json& broken :
       {json::parse(R"({"http": [{"name": "method", "backends": [{"serviceName": "x"}]}]})"),
        json::parse(R"({"http": "method"})"), json::parse(R"({"http": [7, {"backends": 3}]})"),
        json::parse(R"({"http": [{"backends": [{"serviceName": "podinfo-primary",
                                                "weight": "all"}, null]}]})")}) {
    json route = get("podinfo-podinfo-canary");
    route["spec"] = broken;
    ASSERT_TRUE(client_->update(kApisixRoutes, api::JsonValue(route)).ok());
    auto lost = router_->getRoutes(canary);
    ASSERT_FALSE(lost.ok()) << broken.dump();
    EXPECT_NE(lost.error().message().find("ApisixRoute test/podinfo-podinfo-canary"),
              std::string::npos)
        << lost.error().message();
    auto set = router_->setRoutes(canary, {80, 20, false});
    if (!set.ok()) {
      EXPECT_EQ(set.error().kind(), ErrorKind::kUnavailable) << broken.dump();
    }
    ASSERT_TRUE(router_->reconcile(canary).ok());
    EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
  }

  // The user's route loses the apex backend: the reconcile says so.
  json user = get("podinfo");
  user["spec"]["http"][0]["backends"][0]["serviceName"] = "elsewhere";
  ASSERT_TRUE(client_->update(kApisixRoutes, api::JsonValue(user)).ok());
  auto lostApex = router_->reconcile(canary);
  ASSERT_FALSE(lostApex.ok());
  EXPECT_EQ(lostApex.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(lostApex.error().message().find("no http route has the backend podinfo"),
            std::string::npos)
      << lostApex.error().message();
  // The canary route stays as it was.
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
}

}  // namespace apisix_test
}  // namespace canaryd::router
