// The HTTPProxy the Contour router writes (as Flagger's Contour router writes it), and the router
// against kubesim serving a stand-in for Contour's HTTPProxy CRD.
#include "canaryd/router/contour.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/kube/kube_client.h"

#include "router/canary_fixture.h"

namespace canaryd::router {
namespace contour_test {

using nlohmann::json;

api::Canary decode(const json& manifest) {
  return testing::decodeCanary(manifest);
}

// The first Canary of Flagger's e2e test (test/contour/test-canary.sh), without its webhooks.
json e2eManifest() {
  return json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test"},
    "spec": {"provider": "contour",
      "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
      "progressDeadlineSeconds": 60,
      "service": {"port": 80, "targetPort": 9898},
      "analysis": {"interval": "15s", "threshold": 15, "maxWeight": 50, "stepWeight": 10,
        "metrics": [{"name": "request-success-rate", "threshold": 99, "interval": "1m"},
                    {"name": "request-duration", "threshold": 500, "interval": "1m"}]}}})");
}

// Its A/B Canary: five iterations for the requests with `x-canary: insider`.
json abManifest() {
  json manifest = e2eManifest();
  manifest["spec"]["analysis"] = json::parse(R"({"interval": "10s", "threshold": 5,
    "iterations": 5, "match": [{"headers": {"x-canary": {"exact": "insider"}}}]})");
  return manifest;
}

const json kOwner = json::parse(R"([{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
  "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}])");

const json kOptOut = json::parse(R"({"helm.toolkit.fluxcd.io/driftDetection": "disabled",
  "kustomize.toolkit.fluxcd.io/reconcile": "disabled"})");

// A weighted service of the e2e Canary, as Flagger writes it (no weight when 0: omitempty).
json service(const std::string& name, std::int64_t weight) {
  json out = {{"name", name},
              {"port", 80},
              {"requestHeadersPolicy",
               {{"set", json::array({{{"name", "l5d-dst-override"},
                                      {"value", name + ".test.svc.cluster.local:80"}}})}}}};
  if (weight != 0) out["weight"] = weight;
  return out;
}

json services(std::int64_t primary, std::int64_t canary) {
  return json::array({service("podinfo-primary", primary), service("podinfo-canary", canary)});
}

// What Flagger creates for the e2e Canary, at these weights.
json e2eProxy(std::int64_t primary, std::int64_t canary) {
  return {{"apiVersion", "projectcontour.io/v1"},
          {"kind", "HTTPProxy"},
          {"metadata",
           {{"name", "podinfo"},
            {"namespace", "test"},
            {"ownerReferences", kOwner},
            {"annotations", kOptOut}}},
          {"spec",
           {{"routes", json::array({{{"conditions", json::parse(R"([{"prefix": "/"}])")},
                                     {"services", services(primary, canary)}}})}}}};
}

TEST(ContourRouterTest, AProgressiveCanaryMovesTheWeightsOfOneRoute) {
  api::Canary canary = decode(e2eManifest());
  // Created all on the primary; the steps; promotion and rollback put it back.
  for (const auto& [primary, weight] :
       {std::pair{100, 0}, std::pair{90, 10}, std::pair{50, 50}, std::pair{100, 0}}) {
    json proxy = buildHttpProxy(canary, {primary, weight, false}, "", api::JsonValue()).get();
    EXPECT_EQ(proxy, e2eProxy(primary, weight)) << proxy.dump(2);
  }
  // Blue/green (iterations, no match): all to the canary, the primary's weight left out.
  json blueGreen = e2eManifest();
  blueGreen["spec"]["analysis"] = {{"interval", "15s"}, {"threshold", 5}, {"iterations", 10}};
  json proxy = buildHttpProxy(decode(blueGreen), {0, 100, false}, "", api::JsonValue()).get();
  EXPECT_EQ(proxy, e2eProxy(0, 100)) << proxy.dump(2);
  EXPECT_FALSE(proxy["spec"]["routes"][0]["services"][0].contains("weight"));
}

TEST(ContourRouterTest, ABTestingPutsTheHeaderRouteFirstAndTheRestOnThePrimary) {
  api::Canary canary = decode(abManifest());
  auto expected = [](std::int64_t primary, std::int64_t canaryWeight) {
    json proxy = e2eProxy(100, 0);
    proxy["spec"]["routes"] = json::array(
        {{{"conditions", json::parse(R"([{"prefix": "/",
            "header": {"name": "x-canary", "exact": "insider"}}])")},
          {"services", services(primary, canaryWeight)}},
         {{"conditions", json::parse(R"([{"prefix": "/"}])")}, {"services", services(100, 0)}}});
    return proxy;
  };
  // Initialized; the A/B iterations (all matched requests to the canary); promoted.
  for (const auto& [primary, weight] : {std::pair{100, 0}, std::pair{0, 100}, std::pair{100, 0}}) {
    json proxy = buildHttpProxy(canary, {primary, weight, false}, "", api::JsonValue()).get();
    EXPECT_EQ(proxy, expected(primary, weight)) << proxy.dump(2);
  }
}

TEST(ContourRouterTest, HeaderConditionsAsFlaggerWritesThemWithOnePrefixPerRoute) {
  json manifest = abManifest();
  manifest["spec"]["service"]["match"] = json::parse(R"([{"uri": {"prefix": "/api"}}])");
  manifest["spec"]["analysis"]["match"] = json::parse(R"([{"headers": {
    "cookie": {"suffix": "insider"}, "user-agent": {"prefix": "Mobile"},
    "x-canary": {"exact": "insider"}}}])");
  json proxy = buildHttpProxy(decode(manifest), {0, 100, false}, "", api::JsonValue()).get();
  // A prefix or a suffix is matched as contains; Contour allows one prefix per route.
  EXPECT_EQ(proxy["spec"]["routes"][0]["conditions"], json::parse(R"([
    {"prefix": "/api", "header": {"name": "cookie", "contains": "insider"}},
    {"header": {"name": "user-agent", "contains": "Mobile"}},
    {"header": {"name": "x-canary", "exact": "insider"}}])"));
  EXPECT_EQ(proxy["spec"]["routes"][1]["conditions"], json::parse(R"([{"prefix": "/api"}])"));
}

TEST(ContourRouterTest, TimeoutRetriesAndTheIngressClass) {
  json manifest = e2eManifest();
  manifest["spec"]["service"]["timeout"] = "15s";
  manifest["spec"]["service"]["retries"] = {
      {"attempts", 3}, {"perTryTimeout", "5s"}, {"retryOn", "5xx,gateway-error"}};
  json proxy = buildHttpProxy(decode(manifest), {90, 10, false}, "contour", api::JsonValue()).get();
  json expected = e2eProxy(90, 10);
  expected["spec"]["ingressClassName"] = "contour";
  expected["spec"]["routes"][0]["timeoutPolicy"] = {{"response", "15s"}, {"idle", "5m"}};
  expected["spec"]["routes"][0]["retryPolicy"] = json::parse(R"({"count": 3,
    "perTryTimeout": "5s", "retryOn": ["5xx", "gateway-error"]})");
  EXPECT_EQ(proxy, expected) << proxy.dump(2);

  // Retries without retryOn: no retryOn (Flagger's [""] is refused by Contour's CRD); the count
  // is attempts, 0 without it.
  manifest["spec"]["service"]["retries"] = {{"perTryTimeout", "1s"}};
  proxy = buildHttpProxy(decode(manifest), {}, "", api::JsonValue()).get();
  EXPECT_EQ(proxy["spec"]["routes"][0]["retryPolicy"],
            json::parse(R"({"count": 0, "perTryTimeout": "1s"})"));
  EXPECT_FALSE(proxy["spec"].contains("ingressClassName"));
}

TEST(ContourRouterTest, AnExistingHttpProxyKeepsWhatCanarydDoesNotOwn) {
  json manifest = e2eManifest();
  manifest["spec"]["service"]["apex"] = {{"labels", {{"team", "web"}}}};
  json existing = json::parse(R"({"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
    "metadata": {"name": "podinfo", "namespace": "test", "resourceVersion": "42",
                 "annotations": {"note": "mine"}},
    "spec": {"virtualhost": {"fqdn": "app.example.com"}, "ingressClassName": "internal",
             "routes": [{"conditions": [{"prefix": "/"}], "enableWebsockets": true,
                         "services": [{"name": "elsewhere", "port": 80}]}]},
    "status": {"currentStatus": "valid"}})");
  json proxy =
      buildHttpProxy(decode(manifest), {80, 20, false}, "", api::JsonValue(existing)).get();
  json expected = existing;
  expected["metadata"]["labels"] = {{"team", "web"}};
  expected["metadata"]["annotations"].update(kOptOut);
  expected["spec"]["routes"] = e2eProxy(80, 20)["spec"]["routes"];
  EXPECT_EQ(proxy, expected) << proxy.dump(2);
  // Built again on what it wrote: the same object. The router's ingress class replaces theirs.
  EXPECT_EQ(buildHttpProxy(decode(manifest), {80, 20, false}, "", api::JsonValue(proxy)).get(),
            proxy);
  EXPECT_EQ(buildHttpProxy(decode(manifest), {80, 20, false}, "contour", api::JsonValue(proxy))
                .get()["spec"]["ingressClassName"],
            "contour");
}

TEST(ContourRouterTest, ProviderCapabilitiesAndChecks) {
  std::vector<RouterPlugin> plugins = contourRouters();
  ASSERT_EQ(plugins.size(), 1u);
  const api::RouterEntry& entry = plugins[0].entry;
  EXPECT_EQ(entry.name, "contour");
  EXPECT_TRUE(entry.can.weights);
  EXPECT_TRUE(entry.can.matching);
  EXPECT_FALSE(entry.can.mirroring);
  EXPECT_FALSE(entry.can.mirrorWeight);
  EXPECT_FALSE(entry.can.sessionAffinity);
  EXPECT_EQ(entry.can.targetKinds,
            (std::vector<std::string>{"Deployment", "DaemonSet", "Service"}));
  ASSERT_TRUE(entry.check);
  EXPECT_TRUE(entry.check(decode(e2eManifest())).empty());
  EXPECT_TRUE(entry.check(decode(abManifest())).empty());

  json manifest = abManifest();
  manifest["spec"]["analysis"]["match"] = json::parse(R"([
    {"headers": {"cookie": {"regex": "^(.*?;)?(canary=always)(;.*)?$"}, "x-a": {}},
     "queryParams": {"canary": {"exact": "1"}}},
    {"headers": {"x-canary": {"exact": "insider"}}}])");
  api::FieldProblems problems = entry.check(decode(manifest));
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].first, "spec.analysis.match[0].queryParams");
  EXPECT_EQ(problems[1].first, "spec.analysis.match[0].headers.cookie.regex");
  EXPECT_EQ(problems[2].first, "spec.analysis.match[0].headers.x-a");
  EXPECT_EQ(problems[3].first, "spec.analysis.match[1]");

  manifest["spec"]["analysis"]["match"] = json::parse(R"([{"uri": {"prefix": "/beta"}}])");
  problems = entry.check(decode(manifest));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].first, "spec.analysis.match[0].uri");
  EXPECT_EQ(problems[1].first, "spec.analysis.match[0].headers");
}

// A stand-in for Contour's HTTPProxy CRD: namespaced, a status subresource, open spec.
json httpProxyCrd() {
  json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "httpproxies.projectcontour.io"}}},
          {"spec",
           {{"group", "projectcontour.io"},
            {"scope", "Namespaced"},
            {"names",
             {{"kind", "HTTPProxy"},
              {"listKind", "HTTPProxyList"},
              {"plural", "httpproxies"},
              {"singular", "httpproxy"}}},
            {"versions",
             {{{"name", "v1"},
               {"served", true},
               {"storage", true},
               {"subresources", {{"status", json::object()}}},
               {"schema",
                {{"openAPIV3Schema",
                  {{"type", "object"}, {"properties", {{"spec", open}, {"status", open}}}}}}}}}}}}};
}

class ContourKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    createTestNamespace();
    installCrd(httpProxyCrd());
    router_ = contourRouters()[0].make({*client_, nullptr, {}});
  }

  json get() { return object(kContourHttpProxies, "test", "podinfo"); }

  void put(const json& proxy) {
    ASSERT_TRUE(client_->update(kContourHttpProxies, api::JsonValue(proxy)).ok());
  }

  std::unique_ptr<Router> router_;
};

TEST_F(ContourKubesimTest, ReconcileCreatesTheProxyOnThePrimaryOwnedByTheCanary) {
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  json proxy = get();
  const json expected = e2eProxy(100, 0);
  EXPECT_EQ(proxy["spec"], expected["spec"]);
  EXPECT_EQ(proxy["metadata"]["ownerReferences"], kOwner);
  EXPECT_EQ(proxy["metadata"]["annotations"], kOptOut);

  // A second reconcile writes nothing.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get()["metadata"]["resourceVersion"], proxy["metadata"]["resourceVersion"]);
}

TEST_F(ContourKubesimTest, SetsAndReadsTheWeights) {
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {90, 10, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{90, 10, false}));
  EXPECT_EQ(get()["spec"], e2eProxy(90, 10)["spec"]);
  ASSERT_TRUE(router_->setRoutes(canary, {0, 100, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{0, 100, false}));
  ASSERT_TRUE(router_->setRoutes(canary, {100, 0, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  // Mirroring and no weight at all are refused.
  auto mirror = router_->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);
  auto none = router_->setRoutes(canary, {0, 0, false});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::kInvalidInput);
}

TEST_F(ContourKubesimTest, ABTestingWeightsAreReadFromTheHeaderRoute) {
  api::Canary canary = decode(abManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {0, 100, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{0, 100, false}));
  json routes = get()["spec"]["routes"];
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0]["services"], services(0, 100));
  EXPECT_EQ(routes[1]["services"], services(100, 0));
}

TEST_F(ContourKubesimTest, AReconcileKeepsTheWeightsAndTheFieldsCanarydDoesNotOwn) {
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());

  // Someone labels it and makes it a root proxy.
  json proxy = get();
  proxy["metadata"]["labels"] = {{"team", "web"}};
  proxy["spec"]["virtualhost"] = {{"fqdn", "app.example.com"}};
  put(proxy);
  const json written = get();

  // Nothing canaryd owns changed: nothing is written.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get(), written);

  // The timeout changes: the route is rewritten at the same weights, the rest kept.
  canary.spec.service->timeout = "30s";
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json after = get();
  EXPECT_EQ(after["spec"]["routes"][0]["timeoutPolicy"],
            json::parse(R"({"response": "30s", "idle": "5m"})"));
  EXPECT_EQ(after["spec"]["virtualhost"], json::parse(R"({"fqdn": "app.example.com"})"));
  EXPECT_EQ(after["metadata"]["labels"]["team"], "web");
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{70, 30, false}));

  // Turned into an A/B test mid-way: the header route takes the current weights.
  json ab = abManifest();
  ab["spec"]["service"]["timeout"] = "30s";
  ASSERT_TRUE(router_->reconcile(decode(ab)).ok());
  EXPECT_EQ(get()["spec"]["routes"][0]["services"], services(70, 30));
  EXPECT_EQ(*router_->getRoutes(decode(ab)), (Weights{70, 30, false}));
}

TEST_F(ContourKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = decode(e2eManifest());
  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("HTTPProxy podinfo"), std::string::npos)
      << missing.error().message();
  auto notSet = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(notSet.ok());
  EXPECT_EQ(notSet.error().kind(), ErrorKind::kNotFound);

  // Someone points the route elsewhere: no weights until a reconcile restores it.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json proxy = get();
  proxy["spec"]["routes"][0]["services"] = json::parse(R"([{"name": "elsewhere", "port": 80}])");
  put(proxy);
  auto lost = router_->getRoutes(canary);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind(), ErrorKind::kUnavailable);
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  // Broken shapes are errors, never crashes.
  for (const json& broken :
       {json("oops"), json::parse(R"([1, "two"])"), json::parse(R"([{"services": "none"}])"),
        json::parse(R"([{"services": [7, {"name": 3}]}])")}) {
    proxy = get();
    proxy["spec"]["routes"] = broken;
    put(proxy);
    auto read = router_->getRoutes(canary);
    ASSERT_FALSE(read.ok()) << broken.dump();
    EXPECT_EQ(read.error().kind(), ErrorKind::kUnavailable) << broken.dump();
    ASSERT_TRUE(router_->reconcile(canary).ok()) << broken.dump();
    EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false})) << broken.dump();
  }
  proxy = get();
  proxy["spec"]["routes"][0]["services"][0]["weight"] = "ten";
  put(proxy);
  auto weird = router_->getRoutes(canary);
  ASSERT_FALSE(weird.ok());
  EXPECT_EQ(weird.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(weird.error().message().find("not a whole number"), std::string::npos)
      << weird.error().message();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get()["spec"], e2eProxy(100, 0)["spec"]);

  // A spec that is not an object (the API server's schema refuses it; a build does not rely on
  // that) is replaced.
  json gone = get();
  gone["spec"] = "gone";
  EXPECT_EQ(buildHttpProxy(canary, {}, "", api::JsonValue(gone)).get()["spec"],
            e2eProxy(100, 0)["spec"]);
}

}  // namespace contour_test
}  // namespace canaryd::router
