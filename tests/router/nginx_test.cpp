// The canary Ingress the NGINX router writes (as Flagger's ingress router writes it), and the
// router against kubesim, whose API serves networking.k8s.io/v1 Ingresses.
#include "canaryd/router/nginx.h"

#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "router/canary_fixture.h"

namespace canaryd::router {
namespace nginx_test {

using nlohmann::json;

api::Canary decode(const json& manifest) {
  return testing::decodeCanary(manifest);
}

// The first Canary of Flagger's test/nginx/test-canary.sh (metrics and webhooks left out).
json e2eManifest() {
  return json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test"},
    "spec": {
      "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
      "ingressRef": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "podinfo"},
      "progressDeadlineSeconds": 60,
      "service": {"port": 80, "targetPort": "http"},
      "analysis": {"interval": "15s", "threshold": 5, "maxWeight": 40, "stepWeight": 20}}})");
}

// Its A/B Canary: three iterations for the requests with `x-user: insider`.
json abManifest() {
  json manifest = e2eManifest();
  manifest["spec"]["analysis"] = json::parse(R"({"interval": "15s", "threshold": 5,
    "iterations": 3, "match": [{"headers": {"x-user": {"exact": "insider"}}}]})");
  return manifest;
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
    "metadata": {"name": "podinfo", "namespace": "test", "labels": {"app": "podinfo"},
                 "annotations": {"kubernetes.io/ingress.class": "nginx"}},
    "spec": {"rules": [{"host": "app.example.com", "http": {"paths": [
      {"pathType": "Prefix", "path": "/",
       "backend": {"service": {"name": "podinfo", "port": {"number": 80}}}}]}}]}})");
}

const json kOwner = json::parse(R"([{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
  "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}])");

// What Flagger creates for the script's Canary and Ingress.
json e2eCanaryIngress() {
  return json::parse(R"({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
    "metadata": {"name": "podinfo-canary", "namespace": "test",
      "ownerReferences": [{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}],
      "labels": {"app": "podinfo"},
      "annotations": {"kubernetes.io/ingress.class": "nginx",
                      "nginx.ingress.kubernetes.io/canary": "true",
                      "nginx.ingress.kubernetes.io/canary-weight": "0",
                      "helm.toolkit.fluxcd.io/driftDetection": "disabled",
                      "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}},
    "spec": {"rules": [{"host": "app.example.com", "http": {"paths": [
      {"pathType": "Prefix", "path": "/",
       "backend": {"service": {"name": "podinfo-canary", "port": {"number": 80}}}}]}}]}})");
}

json build(const api::Canary& canary, const json& user, const json& existing = json()) {
  Result<api::JsonValue> built =
      buildNginxCanaryIngress(canary, api::JsonValue(user),
                              existing.is_null() ? api::JsonValue() : api::JsonValue(existing));
  EXPECT_TRUE(built.ok()) << (built.ok() ? "" : built.error().message());
  return built.ok() ? built->get() : json();
}

json routed(const api::Canary& canary, const json& ingress, const Weights& weights) {
  return withNginxRoutes(canary, api::JsonValue(ingress), weights).get();
}

// The canary Ingress' annotations at `weight`, with `extra` ones.
json annotationsAt(const std::string& weight, const json& extra = json::object()) {
  json out = e2eCanaryIngress()["metadata"]["annotations"];
  out["nginx.ingress.kubernetes.io/canary-weight"] = weight;
  for (const auto& [key, value] : extra.items())
    out[key] = value;
  return out;
}

TEST(NginxRouterTest, TheCanaryIngressOfFlaggersE2eTest) {
  json ingress = build(decode(e2eManifest()), userIngress());
  EXPECT_EQ(ingress, e2eCanaryIngress()) << ingress.dump(2);
}

TEST(NginxRouterTest, ProgressiveWeightsPromotionAndRollback) {
  api::Canary canary = decode(e2eManifest());
  json ingress = e2eCanaryIngress();
  for (std::int64_t weight : {20, 40}) {
    ingress = routed(canary, ingress, {100 - weight, weight, false});
    json expected = e2eCanaryIngress();
    expected["metadata"]["annotations"] = annotationsAt(std::to_string(weight));
    EXPECT_EQ(ingress, expected) << ingress.dump(2);
  }
  // Promotion and rollback both end with all traffic on the primary.
  ingress = routed(canary, ingress, {100, 0, false});
  EXPECT_EQ(ingress, e2eCanaryIngress()) << ingress.dump(2);
}

TEST(NginxRouterTest, BlueGreenSendsEverythingToTheCanaryThenBack) {
  api::Canary canary = decode(blueGreenManifest());
  json ingress = routed(canary, e2eCanaryIngress(), {0, 100, false});
  EXPECT_EQ(ingress["metadata"]["annotations"], annotationsAt("100"));
  ingress = routed(canary, ingress, {100, 0, false});
  EXPECT_EQ(ingress, e2eCanaryIngress());
}

TEST(NginxRouterTest, AnABTestRoutesTheMatchedHeaderThenPromotionDropsIt) {
  api::Canary canary = decode(abManifest());
  json ingress = build(canary, userIngress());
  EXPECT_EQ(ingress, e2eCanaryIngress());
  ingress = routed(canary, ingress, {0, 100, false});
  json expected = e2eCanaryIngress();
  expected["metadata"]["annotations"] =
      annotationsAt("0", {{"nginx.ingress.kubernetes.io/canary-by-header", "x-user"},
                          {"nginx.ingress.kubernetes.io/canary-by-header-value", "insider"}});
  EXPECT_EQ(ingress, expected) << ingress.dump(2);
  ingress = routed(canary, ingress, {100, 0, false});
  EXPECT_EQ(ingress, e2eCanaryIngress()) << ingress.dump(2);
}

TEST(NginxRouterTest, ARegexHeaderAndACookie) {
  json manifest = abManifest();
  manifest["spec"]["analysis"]["match"] = json::parse(R"([
    {"headers": {"x-canary": {"regex": "^(insider|beta)$"}}},
    {"headers": {"cookie": {"exact": "canary"}}}])");
  json ingress = routed(decode(manifest), e2eCanaryIngress(), {0, 100, false});
  EXPECT_EQ(ingress["metadata"]["annotations"],
            annotationsAt(
                "0", {{"nginx.ingress.kubernetes.io/canary-by-header", "x-canary"},
                      {"nginx.ingress.kubernetes.io/canary-by-header-pattern", "^(insider|beta)$"},
                      {"nginx.ingress.kubernetes.io/canary-by-cookie", "canary"}}));
}

TEST(NginxRouterTest, WhatIsCopiedFromTheUsersIngress) {
  json user = userIngress();
  user["metadata"]["labels"]["app.kubernetes.io/instance"] = "shop";  // Argo CD's tracking
  user["metadata"]["annotations"] = json::parse(R"({
    "kubernetes.io/ingress.class": "nginx",
    "nginx.ingress.kubernetes.io/rewrite-target": "/",
    "nginx.ingress.kubernetes.io/canary": "false",
    "nginx.ingress.kubernetes.io/canary-weight": "50",
    "kubectl.kubernetes.io/last-applied-configuration": "{}",
    "argocd.argoproj.io/tracking-id": "shop:networking.k8s.io/Ingress:test/podinfo"})");
  // A second host and a path to another Service: only the apex Service's backends change.
  user["spec"]["rules"].push_back(json::parse(R"({"host": "www.example.com", "http": {"paths": [
    {"pathType": "Exact", "path": "/api",
     "backend": {"service": {"name": "api", "port": {"name": "http"}}}},
    {"pathType": "Prefix", "path": "/",
     "backend": {"service": {"name": "podinfo", "port": {"name": "http"}}}}]}})"));
  user["spec"]["ingressClassName"] = "nginx";
  user["spec"]["tls"] = json::parse(R"([{"hosts": ["app.example.com"], "secretName": "tls"}])");

  json ingress = build(decode(e2eManifest()), user);
  json expected = e2eCanaryIngress();
  expected["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"] = "/";
  expected["spec"] = user["spec"];
  expected["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "podinfo-canary";
  expected["spec"]["rules"][1]["http"]["paths"][1]["backend"]["service"]["name"] = "podinfo-canary";
  EXPECT_EQ(ingress, expected) << ingress.dump(2);
}

TEST(NginxRouterTest, AnUsersIngressWithoutTheApexServiceIsRefused) {
  json user = userIngress();
  user["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "frontend";
  user["spec"]["rules"].push_back({{"host", "no-http.example.com"}});
  Result<api::JsonValue> built =
      buildNginxCanaryIngress(decode(e2eManifest()), api::JsonValue(user), api::JsonValue());
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(built.error().message(),
            "Ingress podinfo has no path whose backend is Service podinfo (the apex Service), "
            "so no traffic to send to podinfo-canary");
}

TEST(NginxRouterTest, AnExistingCanaryIngressKeepsItsRoutesAndWhatCanarydDoesNotOwn) {
  api::Canary canary = decode(abManifest());
  json existing = routed(canary, e2eCanaryIngress(), {0, 100, false});
  existing["metadata"]["resourceVersion"] = "42";
  existing["metadata"]["labels"]["team"] = "web";
  existing["metadata"]["annotations"]["note"] = "mine";
  existing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight-total"] = "1000";
  existing["status"] = json::parse(R"({"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}})");
  json user = userIngress();
  user["spec"]["rules"][0]["host"] = "podinfo.example.com";

  json ingress = build(canary, user, existing);
  json expected = existing;
  expected["metadata"]["annotations"].erase(
      "nginx.ingress.kubernetes.io/canary-weight-total");  // not canaryd's: it would skew
  expected["spec"]["rules"][0]["host"] = "podinfo.example.com";
  EXPECT_EQ(ingress, expected) << ingress.dump(2);
  // Built again on what it wrote: the same object.
  EXPECT_EQ(build(canary, user, ingress), ingress);

  // A weight someone broke is reset to the primary.
  existing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] = "ten";
  existing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"] = "false";
  ingress = build(canary, user, existing);
  EXPECT_EQ(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"], "0");
  EXPECT_EQ(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary"], "true");
}

TEST(NginxRouterTest, ProviderCapabilities) {
  std::vector<RouterPlugin> plugins = nginxRouters();
  ASSERT_EQ(plugins.size(), 1u);
  const api::RouterEntry& entry = plugins[0].entry;
  EXPECT_EQ(entry.name, "nginx");
  EXPECT_TRUE(entry.can.weights);
  EXPECT_TRUE(entry.can.matching);
  EXPECT_FALSE(entry.can.mirroring);
  EXPECT_FALSE(entry.can.mirrorWeight);
  EXPECT_FALSE(entry.can.sessionAffinity);
  EXPECT_EQ(entry.can.targetKinds, (std::vector<std::string>{"Deployment", "DaemonSet"}));
  ASSERT_TRUE(entry.check);
  EXPECT_TRUE(entry.check(decode(e2eManifest())).empty());
  EXPECT_TRUE(entry.check(decode(abManifest())).empty());
}

TEST(NginxRouterTest, TheCheckRefusesWhatIngressNginxCannotDo) {
  json manifest = e2eManifest();
  manifest["spec"].erase("ingressRef");
  api::FieldProblems problems = nginxRouters()[0].entry.check(decode(manifest));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.ingressRef");
  EXPECT_NE(problems[0].second.find("required field is missing"), std::string::npos);

  manifest = abManifest();
  manifest["spec"]["analysis"]["match"] = json::parse(R"([
    {"headers": {"x-user": {"exact": "insider"}, "x-beta": {"prefix": "yes"}}},
    {"queryParams": {"canary": {"exact": "1"}}},
    {"headers": {"cookie": {"regex": "can.*"}}},
    {"headers": {"x-both": {"exact": "a", "regex": "b"}}}])");
  problems = nginxRouters()[0].entry.check(decode(manifest));
  std::vector<std::string> fields;
  for (const auto& [field, message] : problems)
    fields.push_back(field);
  EXPECT_EQ(fields, (std::vector<std::string>{
                        "spec.analysis.match[0].headers",
                        "spec.analysis.match[0].headers.x-beta",
                        "spec.analysis.match[1].queryParams",
                        "spec.analysis.match[2].headers.cookie",
                        "spec.analysis.match[3].headers.x-both",
                        "spec.analysis.match",
                    }));
  EXPECT_NE(problems.back().second.find("one header (canary-by-header)"), std::string::npos)
      << problems.back().second;
}

class NginxKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    createTestNamespace();
    router_ = nginxRouters()[0].make({*client_, nullptr, {}});
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

TEST_F(NginxKubesimTest, ReconcileCreatesTheCanaryIngressAndLeavesTheUsersAlone) {
  createUserIngress(userIngress());
  const json user = get("podinfo");
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  json ingress = get("podinfo-canary");
  const json expected = e2eCanaryIngress();
  EXPECT_EQ(ingress["metadata"]["annotations"], expected["metadata"]["annotations"]);
  EXPECT_EQ(ingress["metadata"]["labels"], expected["metadata"]["labels"]);
  EXPECT_EQ(ingress["metadata"]["ownerReferences"], kOwner);
  EXPECT_EQ(ingress["spec"], expected["spec"]);
  EXPECT_EQ(get("podinfo"), user);

  // A second reconcile writes nothing.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo-canary")["metadata"]["resourceVersion"],
            ingress["metadata"]["resourceVersion"]);
}

TEST_F(NginxKubesimTest, SetsAndReadsTheWeightsAndTheABTest) {
  createUserIngress(userIngress());
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  for (const Weights& weights :
       {Weights{80, 20, false}, Weights{0, 100, false}, Weights{100, 0, false}}) {
    ASSERT_TRUE(router_->setRoutes(canary, weights).ok());
    EXPECT_EQ(*router_->getRoutes(canary), weights);
  }
  EXPECT_EQ(get("podinfo-canary")["metadata"]["annotations"], annotationsAt("0"));

  api::Canary ab = decode(abManifest());
  ASSERT_TRUE(router_->setRoutes(ab, {0, 100, false}).ok());
  EXPECT_EQ(*router_->getRoutes(ab), (Weights{0, 100, false}));
  EXPECT_EQ(get("podinfo-canary")["metadata"]["annotations"]
                                 ["nginx.ingress.kubernetes.io/canary-by-header"],
            "x-user");
  ASSERT_TRUE(router_->setRoutes(ab, {100, 0, false}).ok());
  EXPECT_EQ(*router_->getRoutes(ab), (Weights{100, 0, false}));
  EXPECT_EQ(get("podinfo-canary")["metadata"]["annotations"], annotationsAt("0"));

  // Mirroring is refused: ingress-nginx does not mirror to a canary Ingress.
  auto mirror = router_->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);
}

TEST_F(NginxKubesimTest, AReconcileKeepsTheWeightAndWhatOthersSetAndFollowsTheUsersIngress) {
  createUserIngress(userIngress());
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());
  edit("podinfo-canary", [](json& ingress) {
    ingress["metadata"]["labels"]["team"] = "web";
    ingress["metadata"]["annotations"]["note"] = "mine";
  });
  const json written = get("podinfo-canary");

  // Nothing canaryd owns changed: nothing is written.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get("podinfo-canary"), written);

  // The user moves the host and adds an annotation: the copy follows, at the same weight.
  edit("podinfo", [](json& ingress) {
    ingress["spec"]["rules"][0]["host"] = "podinfo.example.com";
    ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] = "8m";
  });
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json after = get("podinfo-canary");
  EXPECT_EQ(after["spec"]["rules"][0]["host"], "podinfo.example.com");
  EXPECT_EQ(after["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            "podinfo-canary");
  EXPECT_EQ(after["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"], "8m");
  EXPECT_EQ(after["metadata"]["annotations"]["note"], "mine");
  EXPECT_EQ(after["metadata"]["labels"]["team"], "web");
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{70, 30, false}));
  EXPECT_EQ(get("podinfo")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
            "podinfo");
}

TEST_F(NginxKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = decode(e2eManifest());
  // No user's Ingress yet.
  auto noUser = router_->reconcile(canary);
  ASSERT_FALSE(noUser.ok());
  EXPECT_EQ(noUser.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(noUser.error().message().find("Ingress podinfo"), std::string::npos)
      << noUser.error().message();
  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("Ingress podinfo-canary"), std::string::npos)
      << missing.error().message();
  auto notSet = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(notSet.ok());
  EXPECT_EQ(notSet.error().kind(), ErrorKind::kNotFound);

  // No spec.ingressRef.
  json manifest = e2eManifest();
  manifest["spec"].erase("ingressRef");
  auto noRef = router_->reconcile(decode(manifest));
  ASSERT_FALSE(noRef.ok());
  EXPECT_EQ(noRef.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(noRef.error().message().find("spec.ingressRef"), std::string::npos);

  // A user's Ingress that does not route the apex Service.
  json other = userIngress();
  other["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "frontend";
  createUserIngress(other);
  auto noBackend = router_->reconcile(canary);
  ASSERT_FALSE(noBackend.ok());
  EXPECT_EQ(noBackend.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(noBackend.error().message().find("no path whose backend is Service podinfo"),
            std::string::npos)
      << noBackend.error().message();
  edit("podinfo", [](json& ingress) {
    ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "podinfo";
  });
  ASSERT_TRUE(router_->reconcile(canary).ok());

  // Someone breaks the canary Ingress' annotations: errors, no crash, until a reconcile.
  const std::string weightKey = "nginx.ingress.kubernetes.io/canary-weight";
  edit("podinfo-canary",
       [&](json& ingress) { ingress["metadata"]["annotations"][weightKey] = "ten"; });
  auto notANumber = router_->getRoutes(canary);
  ASSERT_FALSE(notANumber.ok());
  EXPECT_EQ(notANumber.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(notANumber.error().message().find("\"ten\""), std::string::npos)
      << notANumber.error().message();
  edit("podinfo-canary",
       [&](json& ingress) { ingress["metadata"]["annotations"].erase(weightKey); });
  auto noWeight = router_->getRoutes(canary);
  ASSERT_FALSE(noWeight.ok());
  EXPECT_EQ(noWeight.error().kind(), ErrorKind::kUnavailable);
  edit("podinfo-canary", [](json& ingress) { ingress["metadata"].erase("annotations"); });
  auto unmarked = router_->getRoutes(canary);
  ASSERT_FALSE(unmarked.ok());
  EXPECT_EQ(unmarked.error().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(unmarked.error().message().find("is not marked"), std::string::npos)
      << unmarked.error().message();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
  EXPECT_EQ(get("podinfo-canary")["metadata"]["annotations"], annotationsAt("0"));
}

}  // namespace nginx_test
}  // namespace canaryd::router
