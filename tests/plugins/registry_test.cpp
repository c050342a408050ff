// The composition root's registry: what it makes, what it refuses, and that the catalog the
// validator reads is the registry's own.
#include "canaryd/plugins/registry.h"

#include <gtest/gtest.h>

#include "canaryd/kube/config.h"
#include "canaryd/kube/kube_client.h"
#include "canaryd/plugins/builtin.h"

namespace canaryd::plugins {
namespace {

class NullRouter final : public router::Router {
 public:
  Status reconcile(const api::Canary&) override { return {}; }
  Status setRoutes(const api::Canary&, const router::Weights&) override { return {}; }
  Result<router::Weights> getRoutes(const api::Canary&) override { return router::Weights{}; }
};

router::RouterPlugin fake(const std::string& name, int* made) {
  return {{name, {}, nullptr}, [made](const router::RouterContext&) {
            ++*made;
            return std::unique_ptr<router::Router>(std::make_unique<NullRouter>());
          }};
}

kube::KubeClient& unreachableClient() {
  static kube::KubeClient client([] {
    kube::ConnectionConfig config;
    config.server = "http://127.0.0.1:1";
    return config;
  }());
  return client;
}

TEST(RegistryTest, UnknownProvidersAreErrorsNamingTheRegisteredOnes) {
  const Registry& registry = builtin();
  router::RouterContext context{unreachableClient(), nullptr, {}};
  EXPECT_TRUE(registry.makeRouter("kubernetes", context).ok());
  EXPECT_TRUE(registry.makeRouter("gatewayapi:v1beta1", context).ok());
  EXPECT_TRUE(registry.makeRouter("istio", context).ok());
  auto unknown = registry.makeRouter("nonesuch", context);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message(),
            "provider \"nonesuch\" has no router in canaryd yet; supported: kubernetes, "
            "gatewayapi:v1, gatewayapi:v1beta1, haproxy, linkerd, osm, smi:v1alpha1, "
            "smi:v1alpha2, smi:v1alpha3, istio, kuma, appmesh, appmesh:v1beta2, contour, gloo, "
            "knative, traefik, traefik:containo.us, apisix, nginx, skipper");
  metrics::ProviderConfig config;
  config.type = "datadog";
  auto datadog = registry.makeMetricProvider(config);
  ASSERT_FALSE(datadog.ok());
  EXPECT_EQ(datadog.error().message(),
            "metric provider type \"datadog\" is not supported; supported: prometheus");
}

TEST(RegistryTest, EveryProviderButKubernetesGetsTheServicesFirst) {
  int services = 0;
  int mesh = 0;
  Registry registry;
  EXPECT_TRUE(registry.add({fake("kubernetes", &services)}));
  EXPECT_TRUE(registry.add({fake("mesh", &mesh)}));
  router::RouterContext context{unreachableClient(), nullptr, {}};
  ASSERT_TRUE(registry.makeRouter("kubernetes", context).ok());
  EXPECT_EQ(services, 1);
  ASSERT_TRUE(registry.makeRouter("mesh", context).ok());
  EXPECT_EQ(services, 2);  // the Services' router, composed with the mesh's
  EXPECT_EQ(mesh, 1);
  // A Service target brings its own `-primary` and `-canary` copies: the mesh's router alone.
  context.targetKind = "Service";
  ASSERT_TRUE(registry.makeRouter("mesh", context).ok());
  EXPECT_EQ(services, 2);
  EXPECT_EQ(mesh, 2);
}

TEST(RegistryTest, ANameRegisteredTwiceKeepsTheFirst) {
  int first = 0;
  int second = 0;
  Registry registry;
  EXPECT_TRUE(registry.add({fake("kubernetes", &first)}));
  EXPECT_FALSE(registry.add({fake("kubernetes", &second)}));
  ASSERT_TRUE(registry.makeRouter("kubernetes", {unreachableClient(), nullptr, {}}).ok());
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);
  EXPECT_EQ(registry.catalog().routerNames(), std::vector<std::string>{"kubernetes"});
}

TEST(RegistryTest, TheCatalogIsWhatWasRegistered) {
  const api::Catalog catalog = builtin().catalog("haproxy");
  EXPECT_EQ(catalog.defaultProvider, "haproxy");
  EXPECT_EQ(catalog.routerNames(),
            (std::vector<std::string>{
                "kubernetes", "gatewayapi:v1", "gatewayapi:v1beta1",  "haproxy",      "linkerd",
                "osm",        "smi:v1alpha1",  "smi:v1alpha2",        "smi:v1alpha3", "istio",
                "kuma",       "appmesh",       "appmesh:v1beta2",     "contour",      "gloo",
                "knative",    "traefik",       "traefik:containo.us", "apisix",       "nginx",
                "skipper"}));
  EXPECT_EQ(
      catalog.routersFor("DaemonSet"),
      (std::vector<std::string>{"kubernetes", "gatewayapi:v1", "gatewayapi:v1beta1", "linkerd",
                                "osm", "smi:v1alpha1", "smi:v1alpha2", "smi:v1alpha3", "istio",
                                "kuma", "appmesh", "appmesh:v1beta2", "contour", "gloo", "traefik",
                                "traefik:containo.us", "apisix", "nginx", "skipper"}));
  // Flagger's ServiceController: routers that split between `<target>-primary` and -canary
  // (knative's Service is a Knative Service, which the validator refuses until it is driven).
  EXPECT_EQ(catalog.routersFor("Service"),
            (std::vector<std::string>{"gatewayapi:v1", "gatewayapi:v1beta1", "linkerd", "osm",
                                      "smi:v1alpha1", "smi:v1alpha2", "smi:v1alpha3", "istio",
                                      "kuma", "contour", "gloo", "knative", "traefik",
                                      "traefik:containo.us", "apisix"}));
  EXPECT_EQ(catalog.metricProviderTypes(), std::vector<std::string>{"prometheus"});
  EXPECT_EQ(catalog.routersThat(&api::RouterCapabilities::matching),
            (std::vector<std::string>{"gatewayapi:v1", "gatewayapi:v1beta1", "istio", "appmesh",
                                      "appmesh:v1beta2", "contour", "gloo", "nginx"}));
  EXPECT_EQ(catalog.routersThat(&api::RouterCapabilities::sessionAffinity),
            (std::vector<std::string>{"gatewayapi:v1", "gatewayapi:v1beta1", "istio"}));
  EXPECT_EQ(catalog.routersThat(&api::RouterCapabilities::weights),
            (std::vector<std::string>{
                "gatewayapi:v1", "gatewayapi:v1beta1",  "haproxy",      "linkerd", "osm",
                "smi:v1alpha1",  "smi:v1alpha2",        "smi:v1alpha3", "istio",   "kuma",
                "appmesh",       "appmesh:v1beta2",     "contour",      "gloo",    "knative",
                "traefik",       "traefik:containo.us", "apisix",       "nginx",   "skipper"}));
  EXPECT_TRUE(catalog.hasNotifier("slack"));
  EXPECT_TRUE(catalog.hasNotifier("pagerduty"));
  // The providers whose built-in queries count canary and primary apart (the sequential judge).
  EXPECT_EQ(catalog.judgeCountProviders,
            (std::vector<std::string>{"kubernetes", "gatewayapi", "gatewayapi:v1",
                                      "gatewayapi:v1beta1", "haproxy", "appmesh", "appmesh:v1beta2",
                                      "contour", "gloo", "istio", "kuma", "linkerd", "nginx",
                                      "skipper", "traefik", "traefik:containo.us"}));
}

}  // namespace
}  // namespace canaryd::plugins
