// The DestinationRules and VirtualService the Istio router writes (as Flagger's Istio router
// writes them), and the router against kubesim serving Istio's networking CRDs.
#include "canaryd/router/istio.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/kube/kube_client.h"

#include "router/canary_fixture.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

api::Canary decode(const json& manifest) {
  return testing::decodeCanary(manifest);
}

// The Canary of Flagger's Istio tutorial: behind an ingress gateway, with a host, a traffic
// policy and retries.
json tutorialManifest() {
  return json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test"},
    "spec": {"provider": "istio",
      "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
      "service": {"port": 9898, "targetPort": 9898, "portDiscovery": true,
        "gateways": ["public-gateway.istio-system.svc.cluster.local"],
        "hosts": ["app.example.com"],
        "trafficPolicy": {"tls": {"mode": "DISABLE"}},
        "retries": {"attempts": 3, "perTryTimeout": "1s",
                    "retryOn": "gateway-error,connect-failure,refused-stream"}},
      "analysis": {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10}}})");
}

api::Canary tutorialCanary() {
  return decode(tutorialManifest());
}

// Inside the mesh only, with every HTTP option of spec.service.
json meshManifest() {
  return json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test"},
    "spec": {"provider": "istio",
      "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
      "service": {"port": 9898,
        "match": [{"uri": {"prefix": "/api"}}],
        "rewrite": {"uri": "/", "type": "ReplacePrefixMatch"},
        "timeout": "30s",
        "retries": {"perTryTimeout": "2s"},
        "headers": {"request": {"add": {"x-some-header": "value"}}},
        "corsPolicy": {"allowOrigins": [{"exact": "https://example.com"}],
                       "allowMethods": ["GET", "POST"], "maxAge": "24h"}},
      "analysis": {"interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10}}})");
}

const json kOwner = json::parse(R"([{"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
  "name": "podinfo", "uid": "uid-1", "controller": true, "blockOwnerDeletion": true}])");

const json kOptOut = json::parse(R"({"helm.toolkit.fluxcd.io/driftDetection": "disabled",
  "kustomize.toolkit.fluxcd.io/reconcile": "disabled"})");

TEST(IstioRouterTest, DestinationRulesCarryTheTrafficPolicy) {
  api::Canary canary = tutorialCanary();
  for (const std::string name : {"podinfo-primary", "podinfo-canary"}) {
    json rule = buildDestinationRule(canary, name, api::JsonValue()).get();
    json expected = {
        {"apiVersion", "networking.istio.io/v1beta1"},
        {"kind", "DestinationRule"},
        {"metadata", {{"name", name}, {"namespace", "test"}, {"ownerReferences", kOwner}}},
        {"spec", {{"host", name}, {"trafficPolicy", {{"tls", {{"mode", "DISABLE"}}}}}}}};
    EXPECT_EQ(rule, expected) << rule.dump(2);
  }
  // Without a traffic policy: the host alone.
  canary.spec.service->trafficPolicy = api::JsonValue();
  json rule = buildDestinationRule(canary, "podinfo-canary", api::JsonValue()).get();
  EXPECT_EQ(rule["spec"], json::parse(R"({"host": "podinfo-canary"})"));
}

TEST(IstioRouterTest, VirtualServiceForAProgressiveCanaryBehindAGateway) {
  json vs = buildVirtualService(tutorialCanary(), {90, 10, false}, api::JsonValue()).get();
  json expected = json::parse(R"({"apiVersion": "networking.istio.io/v1beta1",
    "kind": "VirtualService",
    "spec": {"hosts": ["app.example.com", "podinfo"],
      "gateways": ["public-gateway.istio-system.svc.cluster.local"],
      "http": [{
        "retries": {"attempts": 3, "perTryTimeout": "1s",
                    "retryOn": "gateway-error,connect-failure,refused-stream"},
        "route": [
          {"destination": {"host": "podinfo-primary", "port": {"number": 9898}}, "weight": 90},
          {"destination": {"host": "podinfo-canary", "port": {"number": 9898}}, "weight": 10}]}]}})");
  expected["metadata"] = {{"name", "podinfo"},
                          {"namespace", "test"},
                          {"annotations", kOptOut},
                          {"ownerReferences", kOwner}};
  EXPECT_EQ(vs, expected) << vs.dump(2);
}

TEST(IstioRouterTest, InsideTheMeshEveryHttpOptionIsOnTheRoute) {
  json vs = buildVirtualService(decode(meshManifest()), {100, 0, false}, api::JsonValue()).get();
  json expected = json::parse(R"({"hosts": ["podinfo"], "gateways": ["mesh"],
    "http": [{
      "match": [{"uri": {"prefix": "/api"}}],
      "rewrite": {"uri": "/"},
      "timeout": "30s",
      "retries": {"attempts": 0, "perTryTimeout": "2s"},
      "headers": {"request": {"add": {"x-some-header": "value"}}},
      "corsPolicy": {"allowOrigins": [{"exact": "https://example.com"}],
                     "allowMethods": ["GET", "POST"], "maxAge": "24h"},
      "route": [{"destination": {"host": "podinfo-primary"}, "weight": 100},
                {"destination": {"host": "podinfo-canary"}, "weight": 0}]}]})");
  EXPECT_EQ(vs["spec"], expected) << vs["spec"].dump(2);
}

TEST(IstioRouterTest, ApexMetadataAndAWildcardHost) {
  json manifest = tutorialManifest();
  manifest["spec"]["service"]["hosts"] = {"*"};
  manifest["spec"]["service"]["apex"] = {{"labels", {{"team", "web"}}},
                                         {"annotations", {{"note", "generated"}}}};
  json vs = buildVirtualService(decode(manifest), {100, 0, false}, api::JsonValue()).get();
  EXPECT_EQ(vs["spec"]["hosts"], json::parse(R"(["*"])"));
  EXPECT_EQ(vs["metadata"]["labels"], json::parse(R"({"team": "web"})"));
  json annotations = kOptOut;
  annotations["note"] = "generated";
  EXPECT_EQ(vs["metadata"]["annotations"], annotations);
}

TEST(IstioRouterTest, ABTestingPutsTheMatchedRouteFirstAndTheDefaultOnThePrimary) {
  json manifest = meshManifest();
  manifest["spec"]["service"] = {{"port", 9898}, {"match", {{{"uri", {{"prefix", "/api"}}}}}}};
  manifest["spec"]["analysis"] = json::parse(R"({"interval": "1m", "threshold": 5,
    "iterations": 10,
    "match": [{"headers": {"x-canary": {"exact": "insider"}}},
              {"headers": {"cookie": {"regex": "^(.*?;)?(canary=always)(;.*)?$"}}}]})");
  json vs = buildVirtualService(decode(manifest), {0, 100, false}, api::JsonValue()).get();
  // Each A/B condition within the service's own; the rest of the requests to the primary.
  json expected = json::parse(R"([
    {"match": [
       {"uri": {"prefix": "/api"}, "headers": {"x-canary": {"exact": "insider"}}},
       {"uri": {"prefix": "/api"},
        "headers": {"cookie": {"regex": "^(.*?;)?(canary=always)(;.*)?$"}}}],
     "route": [{"destination": {"host": "podinfo-primary"}, "weight": 0},
               {"destination": {"host": "podinfo-canary"}, "weight": 100}]},
    {"match": [{"uri": {"prefix": "/api"}}],
     "route": [{"destination": {"host": "podinfo-primary"}, "weight": 0}]}])");
  EXPECT_EQ(vs["spec"]["http"], expected) << vs["spec"]["http"].dump(2);

  // A new VirtualService starts on the primary, in both routes.
  json fresh = buildVirtualService(decode(manifest), {}, api::JsonValue()).get();
  EXPECT_EQ(fresh["spec"]["http"][0]["route"][1]["weight"], 0);
  EXPECT_EQ(fresh["spec"]["http"][1]["route"],
            json::parse(R"([{"destination": {"host": "podinfo-primary"}, "weight": 100}])"));
}

TEST(IstioRouterTest, MirroringAddsTheCanaryAsMirrorWithItsPercentage) {
  json manifest = meshManifest();
  manifest["spec"]["service"] = {{"port", 9898}};
  manifest["spec"]["analysis"] = json::parse(R"({"interval": "1m", "threshold": 5,
    "iterations": 10, "mirror": true, "mirrorWeight": 50})");
  json vs = buildVirtualService(decode(manifest), {100, 0, true}, api::JsonValue()).get();
  json expected = json::parse(R"([{
    "route": [{"destination": {"host": "podinfo-primary"}, "weight": 100},
              {"destination": {"host": "podinfo-canary"}, "weight": 0}],
    "mirror": {"host": "podinfo-canary"},
    "mirrorPercentage": {"value": 50}}])");
  EXPECT_EQ(vs["spec"]["http"], expected) << vs["spec"]["http"].dump(2);

  // Without a mirror weight, all of it; without the mirror flag, no mirror.
  manifest["spec"]["analysis"].erase("mirrorWeight");
  vs = buildVirtualService(decode(manifest), {100, 0, true}, api::JsonValue()).get();
  EXPECT_EQ(vs["spec"]["http"][0]["mirror"], json::parse(R"({"host": "podinfo-canary"})"));
  EXPECT_FALSE(vs["spec"]["http"][0].contains("mirrorPercentage"));
  vs = buildVirtualService(decode(manifest), {100, 0, false}, api::JsonValue()).get();
  EXPECT_FALSE(vs["spec"]["http"][0].contains("mirror"));
}

// Session affinity, as Flagger's getSessionAffinityRouteRules: the cookie routes first, the
// weighted route last, its destinations setting the cookies.
TEST(IstioRouterTest, SessionAffinityPinsUsersWithTheStatusCookies) {
  json manifest = meshManifest();
  manifest["spec"]["service"] = {{"port", 9898}};
  manifest["spec"]["analysis"] = json::parse(R"({"interval": "1m", "threshold": 5,
    "stepWeight": 10, "maxWeight": 50,
    "sessionAffinity": {"cookieName": "flagger-cookie", "primaryCookieName": "primary-cookie",
                        "maxAge": 300, "path": "/", "secure": true}})");
  manifest["status"] = {{"sessionAffinityCookie", "flagger-cookie=abcdefghij"},
                        {"primarySessionAffinityCookie", "primary-cookie=klmnopqrst"}};
  json vs = buildVirtualService(decode(manifest), {90, 10, false}, api::JsonValue()).get();
  json expected = json::parse(R"([
    {"match": [{"headers": {"Cookie": {"regex": ".*flagger-cookie.*abcdefghij.*"}}}],
     "route": [{"destination": {"host": "podinfo-primary"}, "weight": 0},
               {"destination": {"host": "podinfo-canary"}, "weight": 100}]},
    {"match": [{"headers": {"Cookie": {"regex": ".*primary-cookie.*klmnopqrst.*"}}}],
     "route": [{"destination": {"host": "podinfo-primary"}, "weight": 100},
               {"destination": {"host": "podinfo-canary"}, "weight": 0}]},
    {"route": [
      {"destination": {"host": "podinfo-primary"}, "weight": 90,
       "headers": {"response": {"add": {"Set-Cookie": "primary-cookie=klmnopqrst; Max-Age=60; Path=/; Secure"}}}},
      {"destination": {"host": "podinfo-canary"}, "weight": 10,
       "headers": {"response": {"add": {"Set-Cookie": "flagger-cookie=abcdefghij; Max-Age=300; Path=/; Secure"}}}}]}])");
  EXPECT_EQ(vs["spec"]["http"], expected) << vs["spec"]["http"].dump(2);

  // At weight 0 (promoted or rolled back) the previous run's cookie is expired.
  manifest["status"] = {{"previousSessionAffinityCookie", "flagger-cookie=abcdefghij"},
                        {"primarySessionAffinityCookie", "primary-cookie=klmnopqrst"}};
  vs = buildVirtualService(decode(manifest), {100, 0, false}, api::JsonValue()).get();
  expected = json::parse(R"([
    {"match": [{"headers": {"Cookie": {"regex": ".*flagger-cookie.*abcdefghij.*"}}}],
     "headers": {"response": {"add": {"Set-Cookie": "flagger-cookie=abcdefghij; Max-Age=-1"}}},
     "route": [{"destination": {"host": "podinfo-primary"}, "weight": 100},
               {"destination": {"host": "podinfo-canary"}, "weight": 0}]},
    {"route": [{"destination": {"host": "podinfo-primary"}, "weight": 100},
               {"destination": {"host": "podinfo-canary"}, "weight": 0}]}])");
  EXPECT_EQ(vs["spec"]["http"], expected) << vs["spec"]["http"].dump(2);

  // Before any run, only the weighted route (Flagger repeats it; see the README).
  manifest.erase("status");
  vs = buildVirtualService(decode(manifest), {100, 0, false}, api::JsonValue()).get();
  EXPECT_EQ(vs["spec"]["http"].size(), 1u);
}

TEST(IstioRouterTest, SessionAffinityKeepsTheServiceMatchOnTheCookieRoutes) {
  json manifest = meshManifest();
  manifest["spec"]["service"] = json::parse(R"({"port": 9898,
    "match": [{"uri": {"prefix": "/api"}}]})");
  manifest["spec"]["analysis"] = json::parse(R"({"interval": "30s", "threshold": 5,
    "stepWeight": 10, "maxWeight": 50, "sessionAffinity": {"cookieName": "c"}})");
  manifest["status"] = {{"sessionAffinityCookie", "c=xyz"}};
  json vs = buildVirtualService(decode(manifest), {80, 20, false}, api::JsonValue()).get();
  ASSERT_EQ(vs["spec"]["http"].size(), 2u) << vs["spec"]["http"].dump(2);
  EXPECT_EQ(vs["spec"]["http"][0]["match"], json::parse(R"([{"uri": {"prefix": "/api"},
    "headers": {"Cookie": {"regex": ".*c.*xyz.*"}}}])"));
  // The default max age is a day; no primary cookie without primaryCookieName.
  EXPECT_EQ(vs["spec"]["http"][1]["route"][1]["headers"]["response"]["add"]["Set-Cookie"],
            "c=xyz; Max-Age=86400");
  EXPECT_FALSE(vs["spec"]["http"][1]["route"][0].contains("headers"));
  EXPECT_EQ(vs["spec"]["http"][1]["match"], json::parse(R"([{"uri": {"prefix": "/api"}}])"));
}

TEST(IstioRouterTest, DelegationWritesNoHostsAndNoGateways) {
  json manifest = meshManifest();
  manifest["spec"]["service"] = {{"port", 9898}, {"portDiscovery", true}, {"delegation", true}};
  json vs = buildVirtualService(decode(manifest), {100, 0, false}, api::JsonValue()).get();
  json expected = json::parse(R"({"hosts": [],
    "http": [{"route": [
      {"destination": {"host": "podinfo-primary", "port": {"number": 9898}}, "weight": 100},
      {"destination": {"host": "podinfo-canary", "port": {"number": 9898}}, "weight": 0}]}]})");
  EXPECT_EQ(vs["spec"], expected) << vs["spec"].dump(2);
}

TEST(IstioRouterTest, ATcpServiceGetsATcpRouteMatchedOnPorts) {
  json manifest = meshManifest();
  manifest["spec"]["service"] = {
      {"port", 9898}, {"appProtocol", "TCP"}, {"match", {{{"port", 9898}}}}};
  json vs = buildVirtualService(decode(manifest), {80, 20, false}, api::JsonValue()).get();
  json expected = json::parse(R"({"hosts": ["podinfo"], "gateways": ["mesh"],
    "tcp": [{"match": [{"port": 9898}],
             "route": [{"destination": {"host": "podinfo-primary"}, "weight": 80},
                       {"destination": {"host": "podinfo-canary"}, "weight": 20}]}]})");
  EXPECT_EQ(vs["spec"], expected) << vs["spec"].dump(2);
}

TEST(IstioRouterTest, AnExistingVirtualServiceKeepsWhatCanarydDoesNotOwn) {
  json existing = json::parse(R"({"apiVersion": "networking.istio.io/v1beta1",
    "kind": "VirtualService",
    "metadata": {"name": "podinfo", "namespace": "test", "resourceVersion": "42",
                 "labels": {"team": "web"}, "annotations": {"note": "mine"}},
    "spec": {"hosts": ["old.example.com"], "exportTo": ["."],
             "http": [{"route": [{"destination": {"host": "podinfo"}}]}]},
    "status": {"observedGeneration": 1}})");
  json vs = buildVirtualService(tutorialCanary(), {100, 0, false}, api::JsonValue(existing)).get();
  json expected = existing;
  expected["metadata"]["annotations"].update(kOptOut);
  // The spec it replaced, for whoever restores it (Flagger's Finalize).
  expected["metadata"]["annotations"]["flagger.kubernetes.io/original-configuration"] =
      R"({"hosts":["old.example.com"],"http":[{"route":[{"destination":{"host":"podinfo"}}]}]})";
  expected["spec"]["hosts"] = {"app.example.com", "podinfo"};
  expected["spec"]["gateways"] = {"public-gateway.istio-system.svc.cluster.local"};
  expected["spec"]["http"] =
      buildVirtualService(tutorialCanary(), {100, 0, false}, api::JsonValue())
          .get()["spec"]["http"];
  EXPECT_EQ(vs, expected) << vs.dump(2);

  // Built again on what it wrote: the same object (no new original-configuration).
  EXPECT_EQ(buildVirtualService(tutorialCanary(), {100, 0, false}, api::JsonValue(vs)).get(), vs);
  // Applied with kubectl: its annotation already holds the original; none is added.
  existing["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}";
  vs = buildVirtualService(tutorialCanary(), {100, 0, false}, api::JsonValue(existing)).get();
  EXPECT_FALSE(
      vs["metadata"]["annotations"].contains("flagger.kubernetes.io/original-configuration"));
}

TEST(IstioRouterTest, ProviderCapabilitiesAndChecks) {
  std::vector<RouterPlugin> plugins = istioRouters();
  ASSERT_EQ(plugins.size(), 1u);
  const api::RouterEntry& entry = plugins[0].entry;
  EXPECT_EQ(entry.name, "istio");
  EXPECT_TRUE(entry.can.weights);
  EXPECT_TRUE(entry.can.matching);
  EXPECT_TRUE(entry.can.mirroring);
  EXPECT_TRUE(entry.can.mirrorWeight);
  EXPECT_TRUE(entry.can.sessionAffinity);
  EXPECT_EQ(entry.can.targetKinds,
            (std::vector<std::string>{"Deployment", "DaemonSet", "Service"}));
  ASSERT_TRUE(entry.check);
  EXPECT_TRUE(entry.check(tutorialCanary()).empty());

  json delegate = tutorialManifest();
  delegate["spec"]["service"]["delegation"] = true;
  api::FieldProblems problems = entry.check(decode(delegate));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.service.delegation");

  json tcp = meshManifest();
  tcp["spec"]["service"] = {{"port", 9898}, {"appProtocol", "tcp"}};
  tcp["spec"]["analysis"]["match"] = {{{"headers", {{"x-canary", {{"exact", "1"}}}}}}};
  tcp["spec"]["analysis"]["mirror"] = true;
  problems = entry.check(decode(tcp));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].first, "spec.analysis.match");
  EXPECT_EQ(problems[1].first, "spec.analysis.mirror");

  // Session affinity with routes that would replace the cookie routes is refused.
  json sticky = meshManifest();
  sticky["spec"]["analysis"]["sessionAffinity"] = {{"cookieName", "c"}};
  EXPECT_TRUE(entry.check(decode(sticky)).empty());
  sticky["spec"]["analysis"]["iterations"] = 10;
  sticky["spec"]["analysis"]["match"] = {{{"headers", {{"x-canary", {{"exact", "1"}}}}}}};
  problems = entry.check(decode(sticky));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.analysis.sessionAffinity");
}

json crdFor(const std::string& plural, const std::string& kind) {
  json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  json singular = plural.substr(0, plural.size() - 1);
  return {
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata", {{"name", plural + ".networking.istio.io"}}},
      {"spec",
       {{"group", "networking.istio.io"},
        {"scope", "Namespaced"},
        {"names",
         {{"kind", kind}, {"listKind", kind + "List"}, {"plural", plural}, {"singular", singular}}},
        {"versions",
         {{{"name", "v1beta1"},
           {"served", true},
           {"storage", true},
           {"subresources", {{"status", json::object()}}},
           {"schema",
            {{"openAPIV3Schema",
              {{"type", "object"}, {"properties", {{"spec", open}, {"status", open}}}}}}}}}}}}};
}

class IstioKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    createTestNamespace();
    // Istio's CRDs keep their specs' unknown fields, as these stand-ins do.
    for (const auto& [plural, kind] : {std::pair{"virtualservices", "VirtualService"},
                                       std::pair{"destinationrules", "DestinationRule"}}) {
      installCrd(crdFor(plural, kind));
    }
    router_ = istioRouters()[0].make({*client_, nullptr, {}});
  }

  json get(const cluster::Resource& resource, const std::string& name) {
    return object(resource, "test", name);
  }

  std::unique_ptr<Router> router_;
};

TEST_F(IstioKubesimTest, ReconcileCreatesTheObjectsOnThePrimaryOwnedByTheCanary) {
  api::Canary canary = tutorialCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  for (const std::string name : {"podinfo-primary", "podinfo-canary"}) {
    json rule = get(kIstioDestinationRules, name);
    json spec = {{"host", name}, {"trafficPolicy", {{"tls", {{"mode", "DISABLE"}}}}}};
    EXPECT_EQ(rule["spec"], spec);
    EXPECT_EQ(rule["metadata"]["ownerReferences"], kOwner);
  }
  json vs = get(kIstioVirtualServices, "podinfo");
  EXPECT_EQ(vs["spec"],
            buildVirtualService(canary, {100, 0, false}, api::JsonValue()).get()["spec"]);
  EXPECT_EQ(vs["metadata"]["ownerReferences"], kOwner);
  EXPECT_EQ(vs["metadata"]["annotations"], kOptOut);

  // A second reconcile writes nothing.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get(kIstioVirtualServices, "podinfo")["metadata"]["resourceVersion"],
            vs["metadata"]["resourceVersion"]);
}

TEST_F(IstioKubesimTest, SetsAndReadsTheWeightsAndTheMirror) {
  api::Canary canary = tutorialCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {90, 10, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{90, 10, false}));
  json http = get(kIstioVirtualServices, "podinfo")["spec"]["http"];
  ASSERT_EQ(http.size(), 1u);
  EXPECT_EQ(http[0]["route"][0]["weight"], 90);
  EXPECT_EQ(http[0]["route"][1]["weight"], 10);

  ASSERT_TRUE(router_->setRoutes(canary, {100, 0, true}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, true}));
  EXPECT_EQ(get(kIstioVirtualServices, "podinfo")["spec"]["http"][0]["mirror"],
            json::parse(R"({"host": "podinfo-canary"})"));

  ASSERT_TRUE(router_->setRoutes(canary, {0, 100, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{0, 100, false}));
}

TEST_F(IstioKubesimTest, SessionAffinityWeightsAreReadFromTheWeightedRoute) {
  json manifest = tutorialManifest();
  manifest["spec"]["analysis"]["sessionAffinity"] = {{"cookieName", "c"},
                                                     {"primaryCookieName", "p"}};
  manifest["status"] = {{"sessionAffinityCookie", "c=one"},
                        {"primarySessionAffinityCookie", "p=two"}};
  api::Canary canary = decode(manifest);
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{70, 30, false}));
  EXPECT_EQ(get(kIstioVirtualServices, "podinfo")["spec"]["http"].size(), 3u);
  // A reconcile keeps the sticky routes (it writes what setRoutes wrote at these weights).
  const json before = get(kIstioVirtualServices, "podinfo");
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get(kIstioVirtualServices, "podinfo")["spec"], before["spec"]);
}

TEST_F(IstioKubesimTest, ABTestingWeightsAreReadFromTheMatchedRoute) {
  json manifest = tutorialManifest();
  manifest["spec"]["analysis"] = json::parse(R"({"interval": "1m", "threshold": 5,
    "iterations": 10, "match": [{"headers": {"x-canary": {"exact": "insider"}}}]})");
  api::Canary canary = decode(manifest);
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
  ASSERT_TRUE(router_->setRoutes(canary, {0, 100, false}).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{0, 100, false}));
  json http = get(kIstioVirtualServices, "podinfo")["spec"]["http"];
  ASSERT_EQ(http.size(), 2u);
  EXPECT_EQ(http[0]["match"][0]["headers"]["x-canary"]["exact"], "insider");
  EXPECT_EQ(http[1]["route"].size(), 1u);
}

TEST_F(IstioKubesimTest, AReconcileKeepsTheWeightsAndTheFieldsCanarydDoesNotOwn) {
  api::Canary canary = tutorialCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());

  // Someone labels the VirtualService, exports it, and gives a DestinationRule subsets.
  json vs = get(kIstioVirtualServices, "podinfo");
  vs["metadata"]["labels"] = {{"team", "web"}};
  vs["spec"]["exportTo"] = {"."};
  ASSERT_TRUE(client_->update(kIstioVirtualServices, api::JsonValue(vs)).ok());
  json rule = get(kIstioDestinationRules, "podinfo-primary");
  rule["spec"]["subsets"] = json::parse(R"([{"name": "v1", "labels": {"version": "v1"}}])");
  ASSERT_TRUE(client_->update(kIstioDestinationRules, api::JsonValue(rule)).ok());
  const json written = get(kIstioVirtualServices, "podinfo");

  // Nothing canaryd owns changed: nothing is written.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(get(kIstioVirtualServices, "podinfo"), written);

  // The Canary's hosts and timeout change: the routes are rewritten at the same weights.
  canary.spec.service->hosts = {"www.example.com"};
  canary.spec.service->timeout = "5s";
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json after = get(kIstioVirtualServices, "podinfo");
  EXPECT_EQ(after["spec"]["hosts"], json::parse(R"(["www.example.com", "podinfo"])"));
  EXPECT_EQ(after["spec"]["http"][0]["timeout"], "5s");
  EXPECT_EQ(after["spec"]["exportTo"], json::parse(R"(["."])"));
  EXPECT_EQ(after["metadata"]["labels"]["team"], "web");
  EXPECT_TRUE(
      after["metadata"]["annotations"].contains("flagger.kubernetes.io/original-configuration"));
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{70, 30, false}));
  EXPECT_EQ(get(kIstioDestinationRules, "podinfo-primary")["spec"]["subsets"][0]["name"], "v1");

  // A traffic policy removed from the Canary goes from both DestinationRules.
  canary.spec.service->trafficPolicy = api::JsonValue();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_FALSE(get(kIstioDestinationRules, "podinfo-canary")["spec"].contains("trafficPolicy"));
  EXPECT_FALSE(get(kIstioDestinationRules, "podinfo-primary")["spec"].contains("trafficPolicy"));
}

TEST_F(IstioKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = tutorialCanary();
  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("VirtualService test/podinfo"), std::string::npos)
      << missing.error().message();
  auto notSet = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(notSet.ok());
  EXPECT_EQ(notSet.error().kind(), ErrorKind::kNotFound);

  // Someone points the route elsewhere: no split to read until a reconcile restores it.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json vs = get(kIstioVirtualServices, "podinfo");
  vs["spec"]["http"] = json::parse(R"([{"route": [{"destination": {"host": "elsewhere"}}]}])");
  ASSERT_TRUE(client_->update(kIstioVirtualServices, api::JsonValue(vs)).ok());
  auto lost = router_->getRoutes(canary);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().kind(), ErrorKind::kUnavailable);
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  // Delegation with hosts is refused, as Flagger refuses it.
  canary.spec.service->delegation = true;
  auto delegate = router_->reconcile(canary);
  ASSERT_FALSE(delegate.ok());
  EXPECT_EQ(delegate.error().kind(), ErrorKind::kInvalidInput);
}

}  // namespace
}  // namespace canaryd::router
