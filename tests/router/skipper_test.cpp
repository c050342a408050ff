// The canary Ingress the Skipper router writes (as Flagger's Skipper router writes it), and the
// router against kubesim, whose API serves networking.k8s.io/v1 Ingresses.
#include "canaryd/router/skipper.h"

#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "router/canary_fixture.h"

namespace canaryd::router {
namespace skipper_test {

using nlohmann::json;

api::Canary decode(const json& manifest) {
  return testing::decodeCanary(manifest);
}

// The Canary of Flagger's test/skipper/test-canary.sh (metrics and webhooks left out).
json e2eManifest() {
  return json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test"},
    "spec": {"provider": "skipper",
      "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
      "ingressRef": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                     "name": "podinfo-ingress"},
      "service": {"name": "podinfo-service", "port": 80, "targetPort": "http"},
      "analysis": {"interval": "15s", "threshold": 5, "maxWeight": 100, "stepWeight": 10}}})");
}

json blueGreenManifest() {
  json manifest = e2eManifest();
  manifest["spec"]["analysis"] = json::parse(R"({"interval": "15s", "threshold": 5,
    "iterations": 3})");
  return manifest;
}

// The user's Ingress of the script.
json userIngress() {
  return json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "podinfo-ingress", "namespace": "test", "labels": {"app": "podinfo"},
                 "annotations": {"kubernetes.io/ingress.class": "skipper"}},
    "spec": {"rules": [{"host": "app.example.com", "http": {"paths": [
      {"pathType": "Prefix", "path": "/",
       "backend": {"service": {"name": "podinfo-service", "port": {"number": 80}}}}]}}]}})");
}

const json kOwner = json::parse(R"([{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
  "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}])");

const std::string kWeights = "zalando.org/backend-weights";
const std::string kPredicate = "zalando.org/skipper-predicate";

// What Flagger creates for the script's Canary and Ingress.
json e2eCanaryIngress() {
  return json::parse(R"json({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "podinfo-ingress-canary", "namespace": "test",
      "ownerReferences": [{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}],
      "labels": {"app": "podinfo"},
      "annotations": {"kubernetes.io/ingress.class": "skipper",
        "zalando.org/backend-weights":
          "{\"podinfo-service-canary\":0,\"podinfo-service-primary\":100}",
        "zalando.org/skipper-predicate": "Weight(100)",
        "helm.toolkit.fluxcd.io/driftDetection": "disabled",
        "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}},
    "spec": {"rules": [{"host": "app.example.com", "http": {"paths": [
      {"pathType": "Prefix", "path": "/",
       "backend": {"service": {"name": "podinfo-service-primary", "port": {"number": 80}}}},
      {"pathType": "Prefix", "path": "/",
       "backend": {"service": {"name": "podinfo-service-canary", "port": {"number": 80}}}}]}}]}})json");
}

// The canary Ingress at `weights` with the predicate `predicate`.
json e2eCanaryIngressAt(std::int64_t primary, std::int64_t canary, const std::string& predicate) {
  json out = e2eCanaryIngress();
  out["metadata"]["annotations"][kWeights] =
      "{\"podinfo-service-canary\":" + std::to_string(canary) +
      ",\"podinfo-service-primary\":" + std::to_string(primary) + "}";
  out["metadata"]["annotations"][kPredicate] = predicate;
  return out;
}

json build(const api::Canary& canary, const json& user, const json& existing = json()) {
  Result<api::JsonValue> built =
      buildSkipperCanaryIngress(canary, api::JsonValue(user),
                                existing.is_null() ? api::JsonValue() : api::JsonValue(existing));
  EXPECT_TRUE(built.ok()) << (built.ok() ? "" : built.error().message());
  return built.ok() ? built->get() : json();
}

json routed(const api::Canary& canary, const json& ingress, const Weights& weights) {
  return withSkipperRoutes(canary, api::JsonValue(ingress), weights).get();
}

TEST(SkipperRouterTest, TheCanaryIngressOfFlaggersE2eTest) {
  json ingress = build(decode(e2eManifest()), userIngress());
  EXPECT_EQ(ingress, e2eCanaryIngress()) << ingress.dump(2);
}

TEST(SkipperRouterTest, ProgressiveWeightsPromotionAndRollback) {
  api::Canary canary = decode(e2eManifest());
  json ingress = e2eCanaryIngress();
  for (std::int64_t weight : {10, 20, 100}) {
    ingress = routed(canary, ingress, {100 - weight, weight, false});
    EXPECT_EQ(ingress, e2eCanaryIngressAt(100 - weight, weight, "Weight(100)")) << ingress.dump(2);
  }
  // Promotion and rollback: all on the primary, and the canary Ingress' routes switched off.
  ingress = routed(canary, ingress, {100, 0, false});
  EXPECT_EQ(ingress, e2eCanaryIngressAt(100, 0, "False()")) << ingress.dump(2);
  // The next analysis switches them on again.
  ingress = routed(canary, ingress, {90, 10, false});
  EXPECT_EQ(ingress, e2eCanaryIngressAt(90, 10, "Weight(100)")) << ingress.dump(2);
}

TEST(SkipperRouterTest, BlueGreenSendsEverythingToTheCanaryThenBack) {
  api::Canary canary = decode(blueGreenManifest());
  json ingress = routed(canary, e2eCanaryIngress(), {0, 100, false});
  EXPECT_EQ(ingress, e2eCanaryIngressAt(0, 100, "Weight(100)")) << ingress.dump(2);
  ingress = routed(canary, ingress, {100, 0, false});
  EXPECT_EQ(ingress, e2eCanaryIngressAt(100, 0, "False()")) << ingress.dump(2);
}

TEST(SkipperRouterTest, PredicatesAsFlaggersInsertPredicate) {
  EXPECT_EQ(skipperPredicate("", "Weight(100)"), "Weight(100)");
  EXPECT_EQ(skipperPredicate("Header(\"X-Beta\", \"yes\")", "Weight(100)"),
            "Weight(100) && Header(\"X-Beta\", \"yes\")");
  EXPECT_EQ(skipperPredicate(" Weight(100) &&False()&&  Path(\"/x\") && ", "False()"),
            "False() && Path(\"/x\")");
}

TEST(SkipperRouterTest, WhatIsCopiedFromTheUsersIngress) {
  json user = userIngress();
  user["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] = "apps";  // Flux's tracking
  user["metadata"]["annotations"][kPredicate] = "Header(\"X-Beta\", \"yes\")";
  user["metadata"]["annotations"][kWeights] = "{\"podinfo-service\":100}";
  user["metadata"]["annotations"]["zalando.org/skipper-filter"] = "compress()";
  user["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}";
  // Two paths on another host, the first to another Service: each apex path gets its canary
  // copy at the end of its rule.
  user["spec"]["rules"].push_back(json::parse(R"({"host": "www.example.com", "http": {"paths": [
    {"pathType": "Exact", "path": "/api",
     "backend": {"service": {"name": "api", "port": {"number": 8080}}}},
    {"pathType": "Prefix", "path": "/",
     "backend": {"service": {"name": "podinfo-service", "port": {"name": "http"}}}}]}})"));
  user["spec"]["ingressClassName"] = "skipper";

  json ingress = build(decode(e2eManifest()), user);
  json expected = e2eCanaryIngressAt(100, 0, "Weight(100) && Header(\"X-Beta\", \"yes\")");
  expected["metadata"]["annotations"]["zalando.org/skipper-filter"] = "compress()";
  expected["spec"]["ingressClassName"] = "skipper";
  expected["spec"]["rules"].push_back(json::parse(R"({"host": "www.example.com", "http": {"paths": [
    {"pathType": "Exact", "path": "/api",
     "backend": {"service": {"name": "api", "port": {"number": 8080}}}},
    {"pathType": "Prefix", "path": "/",
     "backend": {"service": {"name": "podinfo-service-primary", "port": {"name": "http"}}}},
    {"pathType": "Prefix", "path": "/",
     "backend": {"service": {"name": "podinfo-service-canary", "port": {"name": "http"}}}}]}})"));
  EXPECT_EQ(ingress, expected) << ingress.dump(2);

  // setRoutes keeps the user's predicate behind its own.
  EXPECT_EQ(routed(decode(e2eManifest()), ingress,
                   {100, 0, false})["metadata"]["annotations"][kPredicate],
            "False() && Header(\"X-Beta\", \"yes\")");
}

TEST(SkipperRouterTest, AnUsersIngressWithoutTheApexServiceIsRefused) {
  json user = userIngress();
  user["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "podinfo";
  Result<api::JsonValue> built =
      buildSkipperCanaryIngress(decode(e2eManifest()), api::JsonValue(user), api::JsonValue());
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(built.error().message(),
            "Ingress podinfo-ingress has no path whose backend is Service podinfo-service (the "
            "apex Service), so no traffic to split between podinfo-service-primary and "
            "podinfo-service-canary");
}

TEST(SkipperRouterTest, AnExistingCanaryIngressKeepsItsRoutesAndWhatCanarydDoesNotOwn) {
  api::Canary canary = decode(e2eManifest());
  json existing = e2eCanaryIngressAt(100, 0, "False()");
  existing["metadata"]["resourceVersion"] = "42";
  existing["metadata"]["labels"]["team"] = "web";
  existing["metadata"]["annotations"]["note"] = "mine";
  existing["status"] = json::parse(R"({"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}})");
  json user = userIngress();
  user["spec"]["rules"][0]["host"] = "podinfo.example.com";

  json ingress = build(canary, user, existing);
  json expected = existing;
  expected["spec"]["rules"][0]["host"] = "podinfo.example.com";
  EXPECT_EQ(ingress, expected) << ingress.dump(2);
  EXPECT_EQ(build(canary, user, ingress), ingress);

  // Mid-analysis the weights and the Weight(100) stay.
  existing = e2eCanaryIngressAt(60, 40, "Weight(100)");
  EXPECT_EQ(build(canary, userIngress(), existing), existing);

  // Weights someone broke are reset to the primary.
  existing["metadata"]["annotations"][kWeights] = "{\"podinfo-service-canary\":\"40\"}";
  EXPECT_EQ(build(canary, userIngress(), existing), e2eCanaryIngressAt(100, 0, "Weight(100)"));
}

TEST(SkipperRouterTest, ProviderCapabilities) {
  std::vector<RouterPlugin> plugins = skipperRouters();
  ASSERT_EQ(plugins.size(), 1u);
  const api::RouterEntry& entry = plugins[0].entry;
  EXPECT_EQ(entry.name, "skipper");
  EXPECT_TRUE(entry.can.weights);
  EXPECT_FALSE(entry.can.matching);
  EXPECT_FALSE(entry.can.mirroring);
  EXPECT_FALSE(entry.can.mirrorWeight);
  EXPECT_FALSE(entry.can.sessionAffinity);
  EXPECT_EQ(entry.can.targetKinds, (std::vector<std::string>{"Deployment", "DaemonSet"}));
  ASSERT_TRUE(entry.check);
  EXPECT_TRUE(entry.check(decode(e2eManifest())).empty());
  json manifest = e2eManifest();
  manifest["spec"]["ingressRef"].erase("name");
  api::FieldProblems problems = entry.check(decode(manifest));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.ingressRef");
}

class SkipperKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    createTestNamespace();
    router_ = skipperRouters()[0].make({*client_, nullptr, {}});
  }

  void createUserIngress(const json& ingress) {
    ASSERT_TRUE(client_->create(kIngresses, "test", api::JsonValue(ingress)).ok());
  }

  json get(const std::string& name) { return object(kIngresses, "test", name); }

  void edit(const std::string& name, const std::function<void(json&)>& change) {
    json ingress = get(name);
    change(ingress);
    ASSERT_TRUE(client_->update(kIngresses, api::JsonValue(ingress)).ok());
  }

  std::unique_ptr<Router> router_;
};

TEST_F(SkipperKubesimTest, ReconcileCreatesTheCanaryIngressAndLeavesTheUsersAlone) {
  createUserIngress(userIngress());
  const json user = get("podinfo-ingress");
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  json ingress = get("podinfo-ingress-canary");
  const json expected = e2eCanaryIngress();
  EXPECT_EQ(ingress["metadata"]["annotations"], expected["metadata"]["annotations"]);
  EXPECT_EQ(ingress["metadata"]["labels"], expected["metadata"]["labels"]);
  EXPECT_EQ(ingress["metadata"]["ownerReferences"], kOwner);
  EXPECT_EQ(ingress["spec"], expected["spec"]);
  EXPECT_EQ(get("podinfo-ingress"), user);

  // A second reconcile writes nothing.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo-ingress-canary")["metadata"]["resourceVersion"],
            ingress["metadata"]["resourceVersion"]);
}

TEST_F(SkipperKubesimTest, SetsAndReadsTheWeights) {
  createUserIngress(userIngress());
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  for (const Weights& weights :
       {Weights{90, 10, false}, Weights{0, 100, false}, Weights{100, 0, false}}) {
    ASSERT_TRUE(router_->setRoutes(canary, weights).ok());
    EXPECT_EQ(*router_->getRoutes(canary), weights);
  }
  EXPECT_EQ(get("podinfo-ingress-canary")["metadata"]["annotations"][kPredicate], "False()");

  // Mirroring is refused: Skipper's backend weights cannot mirror.
  auto mirror = router_->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);
}

TEST_F(SkipperKubesimTest, AReconcileKeepsTheWeightsAndWhatOthersSetAndFollowsTheUsersIngress) {
  createUserIngress(userIngress());
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());
  edit("podinfo-ingress-canary", [](json& ingress) {
    ingress["metadata"]["labels"]["team"] = "web";
    ingress["metadata"]["annotations"]["note"] = "mine";
  });
  const json written = get("podinfo-ingress-canary");

  // Nothing canaryd owns changed: nothing is written.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo-ingress-canary"), written);

  // The user moves the host and adds a predicate: the copy follows, at the same weights.
  edit("podinfo-ingress", [&](json& ingress) {
    ingress["spec"]["rules"][0]["host"] = "podinfo.example.com";
    ingress["metadata"]["annotations"][kPredicate] = "Method(\"GET\")";
  });
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json after = get("podinfo-ingress-canary");
  EXPECT_EQ(after["spec"]["rules"][0]["host"], "podinfo.example.com");
  EXPECT_EQ(after["spec"]["rules"][0]["http"]["paths"].size(), 2u);
  EXPECT_EQ(after["metadata"]["annotations"][kPredicate], "Weight(100) && Method(\"GET\")");
  EXPECT_EQ(after["metadata"]["annotations"]["note"], "mine");
  EXPECT_EQ(after["metadata"]["labels"]["team"], "web");
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{70, 30, false}));
  EXPECT_EQ(get("podinfo-ingress")["spec"]["rules"][0]["http"]["paths"].size(), 1u);
}

TEST_F(SkipperKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = decode(e2eManifest());
  auto noUser = router_->reconcile(canary);
  ASSERT_FALSE(noUser.ok());
  EXPECT_EQ(noUser.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(noUser.error().message().find("Ingress podinfo-ingress"), std::string::npos)
      << noUser.error().message();
  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("Ingress podinfo-ingress-canary"), std::string::npos)
      << missing.error().message();
  auto notSet = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(notSet.ok());
  EXPECT_EQ(notSet.error().kind(), ErrorKind::kNotFound);

  json manifest = e2eManifest();
  manifest["spec"].erase("ingressRef");
  auto noRef = router_->reconcile(decode(manifest));
  ASSERT_FALSE(noRef.ok());
  EXPECT_EQ(noRef.error().kind(), ErrorKind::kInvalidInput);

  createUserIngress(userIngress());
  ASSERT_TRUE(router_->reconcile(canary).ok());

  // Someone breaks the weights: errors, no crash, until a reconcile.
  for (const char* broken : {"not json", "[1, 2]",
                             "{\"podinfo-service-canary\": 1.5, "
                             "\"podinfo-service-primary\": 98.5}"}) {
    edit("podinfo-ingress-canary",
         [&](json& ingress) { ingress["metadata"]["annotations"][kWeights] = broken; });
    auto invalid = router_->getRoutes(canary);
    ASSERT_FALSE(invalid.ok()) << broken;
    EXPECT_EQ(invalid.error().kind(), ErrorKind::kInvalidInput) << invalid.error().message();
    EXPECT_NE(invalid.error().message().find("Ingress podinfo-ingress-canary"), std::string::npos)
        << invalid.error().message();
  }
  for (const char* lost : {"{\"podinfo-service-primary\": 100}",
                           "{\"podinfo-service-canary\": 0, \"podinfo-service-primary\": 0}"}) {
    edit("podinfo-ingress-canary",
         [&](json& ingress) { ingress["metadata"]["annotations"][kWeights] = lost; });
    auto unavailable = router_->getRoutes(canary);
    ASSERT_FALSE(unavailable.ok()) << lost;
    EXPECT_EQ(unavailable.error().kind(), ErrorKind::kUnavailable) << unavailable.error().message();
  }
  edit("podinfo-ingress-canary", [](json& ingress) { ingress["metadata"].erase("annotations"); });
  auto none = router_->getRoutes(canary);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::kUnavailable);
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
  EXPECT_EQ(get("podinfo-ingress-canary")["metadata"]["annotations"],
            e2eCanaryIngress()["metadata"]["annotations"]);
}

}  // namespace skipper_test
}  // namespace canaryd::router
