// The Upstreams and the RouteTable the Gloo router writes (as Flagger's Gloo router writes them),
// and the router against kubesim serving stand-ins for Gloo's Upstream and RouteTable CRDs.
#include "canaryd/router/gloo.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/kube/kube_client.h"

#include "router/canary_fixture.h"

namespace canaryd::router {
namespace gloo_test {

using nlohmann::json;

api::Canary decode(const json& manifest) {
  return testing::decodeCanary(manifest);
}

// The first Canary of Flagger's e2e test (test/gloo/test-canary.sh), without its webhooks: its
// Upstreams take the settings of gloo-system/config-upstream.
json e2eManifest() {
  return json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test"},
    "spec": {
      "upstreamRef": {"apiVersion": "gloo.solo.io/v1", "kind": "Upstream",
                      "name": "config-upstream", "namespace": "gloo-system"},
      "provider": "gloo",
      "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
      "progressDeadlineSeconds": 60,
      "service": {"port": 80, "targetPort": 9898},
      "analysis": {"interval": "15s", "threshold": 15, "maxWeight": 50, "stepWeight": 10,
        "metrics": [{"name": "request-success-rate", "threshold": 99, "interval": "1m"}]}}})");
}

// Its A/B Canary: no upstreamRef, five iterations for the requests with `x-canary: insider`.
json abManifest() {
  json manifest = e2eManifest();
  manifest["spec"].erase("upstreamRef");
  manifest["spec"]["analysis"] = json::parse(R"({"interval": "10s", "threshold": 5,
    "iterations": 5, "match": [{"headers": {"x-canary": {"exact": "insider"}}}]})");
  return manifest;
}

// The e2e test's config-upstream (a static upstream that only lends its settings).
json configUpstream() {
  return json::parse(R"({"apiVersion": "gloo.solo.io/v1", "kind": "Upstream",
    "metadata": {"name": "config-upstream", "namespace": "gloo-system"},
    "spec": {"static": {"hosts": [{"addr": "example.com", "port": 80}]},
      "connectionConfig": {"connectTimeout": "2s", "maxRequestsPerConnection": 51},
      "loadBalancerConfig": {"roundRobin": {"slowStartConfig": {"slowStartWindow": "2m",
                                                                "minWeightPercent": 5}}}}})");
}

// The Service Flagger's Services step makes in front of the canary or the primary.
json serviceFor(const std::string& name, const std::string& selects) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "test"}}},
          {"spec",
           {{"selector", {{"app", selects}}},
            {"ports", json::array({{{"name", "http"}, {"port", 80}, {"targetPort", 9898}}})}}}};
}

const json kOwner = json::parse(R"([{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
  "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}])");

const json kOptOut = json::parse(R"({"helm.toolkit.fluxcd.io/driftDetection": "disabled",
  "kustomize.toolkit.fluxcd.io/reconcile": "disabled"})");

// What Flagger creates for the e2e Canary's canary Service.
json e2eCanaryUpstream() {
  return json::parse(R"({"apiVersion": "gloo.solo.io/v1", "kind": "Upstream",
    "metadata": {"name": "test-podinfo-canaryupstream-80", "namespace": "test",
      "ownerReferences": [{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}]},
    "spec": {
      "connectionConfig": {"connectTimeout": "2s", "maxRequestsPerConnection": 51},
      "loadBalancerConfig": {"roundRobin": {"slowStartConfig": {"slowStartWindow": "2m",
                                                                "minWeightPercent": 5}}},
      "kube": {"serviceName": "podinfo-canary", "serviceNamespace": "test", "servicePort": 80,
               "selector": {"app": "podinfo"}}}})");
}

json destination(const std::string& upstream, std::int64_t weight) {
  json out = {{"destination", {{"upstream", {{"name", upstream}, {"namespace", "test"}}}}}};
  if (weight != 0) out["weight"] = weight;
  return out;
}

// What Flagger writes for the e2e Canary, at these weights (no weight when 0: omitempty).
json e2eRouteTable(std::int64_t primary, std::int64_t canary) {
  return {
      {"apiVersion", "gateway.solo.io/v1"},
      {"kind", "RouteTable"},
      {"metadata",
       {{"name", "podinfo"},
        {"namespace", "test"},
        {"ownerReferences", kOwner},
        {"annotations", kOptOut}}},
      {"spec",
       {{"routes",
         json::array({{{"inheritablePathMatchers", true},
                       {"routeAction",
                        {{"multi",
                          {{"destinations",
                            json::array({destination("test-podinfo-primaryupstream-80", primary),
                                         destination("test-podinfo-canaryupstream-80",
                                                     canary)})}}}}}}})}}}};
}

TEST(GlooRouterTest, UpstreamNamesAreNamespaceApexSideAndPort) {
  api::Canary canary = decode(e2eManifest());
  EXPECT_EQ(glooUpstreamName(canary, true), "test-podinfo-primaryupstream-80");
  EXPECT_EQ(glooUpstreamName(canary, false), "test-podinfo-canaryupstream-80");
  json manifest = e2eManifest();
  manifest["spec"]["service"] = {{"port", 9898}, {"name", "frontend"}};
  EXPECT_EQ(glooUpstreamName(decode(manifest), true), "test-frontend-primaryupstream-9898");
}

TEST(GlooRouterTest, UpstreamsTakeTheSettingsOfTheReferencedUpstream) {
  api::Canary canary = decode(e2eManifest());
  json upstream =
      buildGlooUpstream(canary, false, api::JsonValue(serviceFor("podinfo-canary", "podinfo")),
                        api::JsonValue(configUpstream()))
          .get();
  EXPECT_EQ(upstream, e2eCanaryUpstream()) << upstream.dump(2);

  // Without spec.upstreamRef: only the Service. The primary's selects the primary's pods.
  upstream = buildGlooUpstream(canary, true,
                               api::JsonValue(serviceFor("podinfo-primary", "podinfo-primary")),
                               api::JsonValue())
                 .get();
  EXPECT_EQ(upstream["metadata"]["name"], "test-podinfo-primaryupstream-80");
  EXPECT_EQ(upstream["spec"], json::parse(R"({"kube": {"serviceName": "podinfo-primary",
    "serviceNamespace": "test", "servicePort": 80, "selector": {"app": "podinfo-primary"}}})"));

  // Every field Flagger lends, as its Go types write them (false and 0 left out); the rest of
  // the lender's spec (its static hosts, its own kube) is not.
  json config = configUpstream();
  config["spec"].update(json::parse(R"({"labels": {"tier": "edge"},
    "sslConfig": {"sni": "podinfo"}, "circuitBreakers": {"maxConnections": 10},
    "useHttp2": false, "initialStreamWindowSize": 0, "initialConnectionWindowSize": 65536,
    "httpProxyHostname": "proxy.example.com",
    "kube": {"serviceName": "other", "servicePort": 8080}, "healthChecks": [{}]})"));
  upstream =
      buildGlooUpstream(canary, false, api::JsonValue(serviceFor("podinfo-canary", "podinfo")),
                        api::JsonValue(config))
          .get();
  json expected = e2eCanaryUpstream()["spec"];
  expected.update(json::parse(R"({"labels": {"tier": "edge"}, "sslConfig": {"sni": "podinfo"},
    "circuitBreakers": {"maxConnections": 10}, "initialConnectionWindowSize": 65536,
    "httpProxyHostname": "proxy.example.com"})"));
  EXPECT_EQ(upstream["spec"], expected) << upstream["spec"].dump(2);
  // Flagger's spelling of the proxy hostname is read too, and written as Gloo spells it.
  config["spec"].erase("httpProxyHostname");
  config["spec"]["httpProxyHostName"] = "other.example.com";
  config["spec"]["useHttp2"] = true;
  upstream = buildGlooUpstream(canary, false, api::JsonValue(serviceFor("podinfo-canary", "x")),
                               api::JsonValue(config))
                 .get();
  EXPECT_EQ(upstream["spec"]["httpProxyHostname"], "other.example.com");
  EXPECT_FALSE(upstream["spec"].contains("httpProxyHostName"));
  EXPECT_EQ(upstream["spec"]["useHttp2"], true);
}

TEST(GlooRouterTest, AProgressiveCanaryMovesTheWeightsOfTheDestinations) {
  api::Canary canary = decode(e2eManifest());
  for (const auto& [primary, weight] :
       {std::pair{100, 0}, std::pair{90, 10}, std::pair{50, 50}, std::pair{100, 0}}) {
    json table = buildRouteTable(canary, {primary, weight, false}, api::JsonValue()).get();
    EXPECT_EQ(table, e2eRouteTable(primary, weight)) << table.dump(2);
  }
  // Blue/green (iterations, no match): all to the canary, the primary's weight left out.
  json blueGreen = e2eManifest();
  blueGreen["spec"]["analysis"] = {{"interval", "15s"}, {"threshold", 5}, {"iterations", 10}};
  json table = buildRouteTable(decode(blueGreen), {0, 100, false}, api::JsonValue()).get();
  EXPECT_EQ(table, e2eRouteTable(0, 100)) << table.dump(2);
}

TEST(GlooRouterTest, ABTestingPutsOneMatcherOnTheRoute) {
  api::Canary canary = decode(abManifest());
  for (const auto& [primary, weight] : {std::pair{100, 0}, std::pair{0, 100}, std::pair{100, 0}}) {
    json table = buildRouteTable(canary, {primary, weight, false}, api::JsonValue()).get();
    json expected = e2eRouteTable(primary, weight);
    expected["spec"]["routes"][0]["matchers"] =
        json::parse(R"([{"headers": [{"name": "x-canary", "value": "insider"}]}])");
    EXPECT_EQ(table, expected) << table.dump(2);
  }
  // A regex header and a method.
  json manifest = abManifest();
  manifest["spec"]["analysis"]["match"] = json::parse(R"([{"method": {"exact": "POST"},
    "headers": {"cookie": {"regex": "^(.*?;)?(canary=always)(;.*)?$"},
                "x-canary": {"exact": "insider"}}}])");
  json table = buildRouteTable(decode(manifest), {0, 100, false}, api::JsonValue()).get();
  EXPECT_EQ(table["spec"]["routes"][0]["matchers"], json::parse(R"([{"headers": [
    {"name": "cookie", "value": "^(.*?;)?(canary=always)(;.*)?$", "regex": true},
    {"name": "x-canary", "value": "insider"}], "methods": ["POST"]}])"));
}

TEST(GlooRouterTest, AnExistingRouteTableKeepsWhatCanarydDoesNotOwn) {
  json manifest = e2eManifest();
  manifest["spec"]["service"]["apex"] = {{"labels", {{"team", "web"}}}};
  json existing = json::parse(R"({"apiVersion": "gateway.solo.io/v1", "kind": "RouteTable",
    "metadata": {"name": "podinfo", "namespace": "test", "resourceVersion": "42",
                 "annotations": {"note": "mine"}},
    "spec": {"weight": 10, "routes": [{"matchers": [{"prefix": "/"}],
             "routeAction": {"single": {"upstream": {"name": "x"}}}}]},
    "status": {"statuses": {}}})");
  json table = buildRouteTable(decode(manifest), {80, 20, false}, api::JsonValue(existing)).get();
  json expected = existing;
  expected["metadata"]["labels"] = {{"team", "web"}};
  expected["metadata"]["annotations"].update(kOptOut);
  expected["spec"]["routes"] = e2eRouteTable(80, 20)["spec"]["routes"];
  EXPECT_EQ(table, expected) << table.dump(2);
  EXPECT_EQ(buildRouteTable(decode(manifest), {80, 20, false}, api::JsonValue(table)).get(), table);
}

TEST(GlooRouterTest, ProviderCapabilitiesAndChecks) {
  std::vector<RouterPlugin> plugins = glooRouters();
  ASSERT_EQ(plugins.size(), 1u);
  const api::RouterEntry& entry = plugins[0].entry;
  EXPECT_EQ(entry.name, "gloo");
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
  // The validator checks the reference's kind and name; the router its group.
  manifest["spec"]["upstreamRef"] = {{"kind", "Upstream"}, {"apiVersion", "v1"}, {"name", "x"}};
  manifest["spec"]["analysis"]["match"] = json::parse(R"([
    {"headers": {"user-agent": {"prefix": "Mobile"}, "x-a": {}},
     "method": {"regex": "P.*"}, "uri": {"prefix": "/beta"}},
    {"headers": {"x-canary": {"exact": "insider"}}}])");
  api::FieldProblems problems = entry.check(decode(manifest));
  std::vector<std::string> paths;
  for (const auto& [path, message] : problems)
    paths.push_back(path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{
                "spec.upstreamRef.apiVersion", "spec.analysis.match[0].uri",
                "spec.analysis.match[0].method", "spec.analysis.match[0].headers.user-agent.prefix",
                "spec.analysis.match[0].headers.x-a", "spec.analysis.match[1]"}));

  manifest["spec"].erase("upstreamRef");
  manifest["spec"]["analysis"]["match"] = json::parse(R"([{"name": "beta"}])");
  problems = entry.check(decode(manifest));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.analysis.match[0].headers");
}

json crdFor(const std::string& group, const std::string& plural, const std::string& kind) {
  json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", plural + "." + group}}},
          {"spec",
           {{"group", group},
            {"scope", "Namespaced"},
            {"names",
             {{"kind", kind},
              {"listKind", kind + "List"},
              {"plural", plural},
              {"singular", plural.substr(0, plural.size() - 1)}}},
            {"versions",
             {{{"name", "v1"},
               {"served", true},
               {"storage", true},
               {"subresources", {{"status", json::object()}}},
               {"schema",
                {{"openAPIV3Schema",
                  {{"type", "object"}, {"properties", {{"spec", open}, {"status", open}}}}}}}}}}}}};
}

class GlooKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    createTestNamespace();
    ASSERT_TRUE(client_
                    ->create(cluster::kNamespaces, "",
                             api::JsonValue(json{{"metadata", {{"name", "gloo-system"}}}}))
                    .ok());
    // Gloo's CRDs keep their specs' unknown fields, as these stand-ins do.
    installCrd(crdFor("gloo.solo.io", "upstreams", "Upstream"));
    installCrd(crdFor("gateway.solo.io", "routetables", "RouteTable"));
    ASSERT_TRUE(
        client_->create(kGlooUpstreams, "gloo-system", api::JsonValue(configUpstream())).ok());
    router_ = glooRouters()[0].make({*client_, nullptr, {}});
  }

  void createServices() {
    for (const auto& [name, selects] : {std::pair{"podinfo-primary", "podinfo-primary"},
                                        std::pair{"podinfo-canary", "podinfo"}}) {
      ASSERT_TRUE(
          client_->create(cluster::kServices, "test", api::JsonValue(serviceFor(name, selects)))
              .ok());
    }
  }

  json upstream(const std::string& name) { return object(kGlooUpstreams, "test", name); }
  json table() { return object(kGlooRouteTables, "test", "podinfo"); }

  void put(const cluster::Resource& resource, const json& value) {
    ASSERT_TRUE(client_->update(resource, api::JsonValue(value)).ok());
  }

  std::unique_ptr<Router> router_;
};

// The object without what the API server adds.
json written(json object) {
  for (const char* key :
       {"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"})
    object["metadata"].erase(key);
  object.erase("status");
  return object;
}

TEST_F(GlooKubesimTest, ReconcileCreatesTheUpstreamsAndTheTableOnThePrimary) {
  createServices();
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  EXPECT_EQ(written(upstream("test-podinfo-canaryupstream-80")), e2eCanaryUpstream());
  json primary = upstream("test-podinfo-primaryupstream-80");
  EXPECT_EQ(primary["spec"]["kube"], json::parse(R"({"serviceName": "podinfo-primary",
    "serviceNamespace": "test", "servicePort": 80, "selector": {"app": "podinfo-primary"}})"));
  EXPECT_EQ(primary["metadata"]["ownerReferences"], kOwner);
  EXPECT_FALSE(primary["metadata"].contains("annotations"));
  EXPECT_FALSE(primary["metadata"].contains("labels"));
  json routes = table();
  EXPECT_EQ(written(routes), e2eRouteTable(100, 0));

  // A second reconcile writes nothing.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(table()["metadata"]["resourceVersion"], routes["metadata"]["resourceVersion"]);
  EXPECT_EQ(upstream("test-podinfo-primaryupstream-80")["metadata"]["resourceVersion"],
            primary["metadata"]["resourceVersion"]);
}

TEST_F(GlooKubesimTest, TheUpstreamsFollowTheReferencedLoadBalancerOnly) {
  createServices();
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());

  // As Flagger's e2e test: the slow start changes, and the generated Upstreams follow.
  json config = object(kGlooUpstreams, "gloo-system", "config-upstream");
  config["spec"]["loadBalancerConfig"]["roundRobin"]["slowStartConfig"]["minWeightPercent"] = 20;
  config["spec"]["connectionConfig"]["maxRequestsPerConnection"] = 7;
  put(kGlooUpstreams, config);
  // Someone else's field on a generated Upstream stays.
  json mine = upstream("test-podinfo-canaryupstream-80");
  mine["spec"]["healthChecks"] = json::array({{{"timeout", "1s"}}});
  put(kGlooUpstreams, mine);

  ASSERT_TRUE(router_->reconcile(canary).ok());
  for (const std::string name :
       {"test-podinfo-primaryupstream-80", "test-podinfo-canaryupstream-80"}) {
    json after = upstream(name);
    EXPECT_EQ(after["spec"]["loadBalancerConfig"], config["spec"]["loadBalancerConfig"]) << name;
    EXPECT_EQ(after["spec"]["connectionConfig"]["maxRequestsPerConnection"], 51) << name;
  }
  EXPECT_EQ(upstream("test-podinfo-canaryupstream-80")["spec"]["healthChecks"],
            mine["spec"]["healthChecks"]);

  // Without spec.upstreamRef the Upstreams are left alone.
  json before = upstream("test-podinfo-canaryupstream-80");
  ASSERT_TRUE(router_->reconcile(decode(abManifest())).ok());
  EXPECT_EQ(upstream("test-podinfo-canaryupstream-80"), before);
}

TEST_F(GlooKubesimTest, SetsAndReadsTheWeights) {
  createServices();
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {90, 10, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{90, 10, false}));
  EXPECT_EQ(table()["spec"], e2eRouteTable(90, 10)["spec"]);
  ASSERT_TRUE(router_->setRoutes(canary, {0, 100, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{0, 100, false}));

  // A/B: the matcher is written with the weights.
  api::Canary ab = decode(abManifest());
  ASSERT_TRUE(router_->setRoutes(ab, {0, 100, false}).ok());
  EXPECT_EQ(*router_->getRoutes(ab), (Weights{0, 100, false}));
  EXPECT_EQ(table()["spec"]["routes"][0]["matchers"],
            json::parse(R"([{"headers": [{"name": "x-canary", "value": "insider"}]}])"));

  auto mirror = router_->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);
  auto none = router_->setRoutes(canary, {0, 0, false});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::kInvalidInput);
}

TEST_F(GlooKubesimTest, AReconcileKeepsTheWeightsAndTheFieldsCanarydDoesNotOwn) {
  createServices();
  api::Canary canary = decode(e2eManifest());
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());

  json routes = table();
  routes["metadata"]["labels"] = {{"team", "web"}};
  routes["spec"]["weight"] = 5;
  put(kGlooRouteTables, routes);
  const json before = table();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(table(), before);

  // Turned into an A/B test: the matcher is added at the current weights.
  ASSERT_TRUE(router_->reconcile(decode(abManifest())).ok());
  json after = table();
  EXPECT_EQ(after["spec"]["weight"], 5);
  EXPECT_EQ(after["metadata"]["labels"]["team"], "web");
  EXPECT_TRUE(after["spec"]["routes"][0].contains("matchers"));
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{70, 30, false}));
}

TEST_F(GlooKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = decode(e2eManifest());
  // No Services yet: nothing is created.
  auto noService = router_->reconcile(canary);
  ASSERT_FALSE(noService.ok());
  EXPECT_EQ(noService.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(noService.error().message().find("Service podinfo-primary"), std::string::npos)
      << noService.error().message();
  createServices();

  // A missing referenced Upstream.
  json manifest = e2eManifest();
  manifest["spec"]["upstreamRef"]["name"] = "ghost";
  auto noConfig = router_->reconcile(decode(manifest));
  ASSERT_FALSE(noConfig.ok());
  EXPECT_EQ(noConfig.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(noConfig.error().message().find("gloo-system/ghost (spec.upstreamRef)"),
            std::string::npos)
      << noConfig.error().message();

  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("RouteTable podinfo"), std::string::npos)
      << missing.error().message();
  auto notSet = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(notSet.ok());
  EXPECT_EQ(notSet.error().kind(), ErrorKind::kNotFound);

  // Broken shapes are errors, never crashes; a reconcile restores the route.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  for (const json& broken :
       {json("oops"), json::parse(R"([1])"), json::parse(R"([{"routeAction": []}])"),
        json::parse(R"([{"routeAction": {"multi": {"destinations": [3, {"destination": 1},
          {"destination": {"upstream": {"name": "elsewhere"}}, "weight": 100}]}}}])")}) {
    json routes = table();
    routes["spec"]["routes"] = broken;
    put(kGlooRouteTables, routes);
    auto read = router_->getRoutes(canary);
    ASSERT_FALSE(read.ok()) << broken.dump();
    EXPECT_EQ(read.error().kind(), ErrorKind::kUnavailable) << broken.dump();
    ASSERT_TRUE(router_->reconcile(canary).ok()) << broken.dump();
    EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false})) << broken.dump();
  }
  json routes = table();
  routes["spec"]["routes"][0]["routeAction"]["multi"]["destinations"][0]["weight"] = 12.5;
  put(kGlooRouteTables, routes);
  auto weird = router_->getRoutes(canary);
  ASSERT_FALSE(weird.ok());
  EXPECT_EQ(weird.error().kind(), ErrorKind::kInvalidInput);
}

}  // namespace gloo_test
}  // namespace canaryd::router
