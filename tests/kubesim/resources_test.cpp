#include "kubesim/resources.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kubesim/objects.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;
using testing::widgetCrd;

json resourceNamed(const json& list, const std::string& name) {
  for (const json& r : list["resources"]) {
    if (r["name"] == name) return r;
  }
  return nullptr;
}

json groupNamed(const json& groups, const std::string& name) {
  for (const json& g : groups["groups"]) {
    if (g["name"] == name) return g;
  }
  return nullptr;
}

TEST(KubesimVersionOrder, GaBeforeBetaBeforeAlphaHigherNumbersFirstThenOthersByName) {
  std::vector<std::string> versions = {"v1alpha1", "foo10",   "v1",        "v11alpha2",
                                       "v1beta1",  "v2",      "foo1",      "v10beta3",
                                       "v10",      "v1beta2", "v12alpha1", "v3beta1"};
  std::stable_sort(versions.begin(), versions.end(), kubeVersionPrecedes);
  EXPECT_EQ(versions, (std::vector<std::string>{"v10", "v2", "v1", "v10beta3", "v3beta1", "v1beta2",
                                                "v1beta1", "v12alpha1", "v11alpha2", "v1alpha1",
                                                "foo1", "foo10"}));
}

TEST(KubesimResources, DaemonSetsAreServedWithStatusButNoScale) {
  ResourceRegistry registry;
  auto apps = registry.discoveryResources("apps", "v1");
  ASSERT_TRUE(apps.has_value());
  const json ds = resourceNamed(*apps, "daemonsets");
  ASSERT_TRUE(ds.is_object()) << apps->dump();
  EXPECT_EQ(ds["kind"], "DaemonSet");
  EXPECT_EQ(ds["namespaced"], true);
  EXPECT_EQ(ds["shortNames"], json({"ds"}));
  EXPECT_EQ(ds["categories"], json({"all"}));
  EXPECT_TRUE(resourceNamed(*apps, "daemonsets/status").is_object());
  EXPECT_TRUE(resourceNamed(*apps, "daemonsets/scale").is_null());
}

TEST(KubesimResources, IngressesAndIngressClassesAreServedInNetworkingV1) {
  ResourceRegistry registry;
  const json group = groupNamed(registry.discoveryGroups(), "networking.k8s.io");
  ASSERT_TRUE(group.is_object());
  EXPECT_EQ(group["preferredVersion"]["groupVersion"], "networking.k8s.io/v1");

  auto networking = registry.discoveryResources("networking.k8s.io", "v1");
  ASSERT_TRUE(networking.has_value());
  const json ingresses = resourceNamed(*networking, "ingresses");
  ASSERT_TRUE(ingresses.is_object());
  EXPECT_EQ(ingresses["kind"], "Ingress");
  EXPECT_EQ(ingresses["namespaced"], true);
  EXPECT_EQ(ingresses["shortNames"], json({"ing"}));
  EXPECT_TRUE(resourceNamed(*networking, "ingresses/status").is_object());
  const json classes = resourceNamed(*networking, "ingressclasses");
  ASSERT_TRUE(classes.is_object());
  EXPECT_EQ(classes["kind"], "IngressClass");
  EXPECT_EQ(classes["namespaced"], false);
  EXPECT_TRUE(resourceNamed(*networking, "ingressclasses/status").is_null());
}

TEST(KubesimResources, EveryServedVersionOfACrdIsATypeStoredAtTheStorageVersion) {
  ResourceRegistry registry;
  registry.addCrd(widgetCrd());
  for (const char* version : {"v1", "v1beta1"}) {
    auto type = registry.find("example.com", version, "widgets");
    ASSERT_TRUE(type.has_value()) << version;
    EXPECT_EQ(type->groupVersion(), std::string("example.com/") + version);
    EXPECT_EQ(type->storageGroupVersion(), "example.com/v1beta1");
    EXPECT_EQ(type->storageKey(), "example.com/widgets");
  }
  EXPECT_FALSE(registry.find("example.com", "v1alpha1", "widgets").has_value());
  EXPECT_FALSE(registry.discoveryResources("example.com", "v1alpha1").has_value());
  EXPECT_EQ(registry.findKind("example.com", "Widget")->version, "v1beta1");
}

TEST(KubesimResources, DiscoveryListsServedVersionsInPriorityOrderAndPrefersTheFirst) {
  ResourceRegistry registry;
  registry.addCrd(widgetCrd());
  const json group = groupNamed(registry.discoveryGroups(), "example.com");
  ASSERT_TRUE(group.is_object());
  EXPECT_EQ(group["versions"], json::parse(R"([
    {"groupVersion": "example.com/v1", "version": "v1"},
    {"groupVersion": "example.com/v1beta1", "version": "v1beta1"}])"));
  EXPECT_EQ(group["preferredVersion"]["version"], "v1");
  auto v1 = registry.discoveryResources("example.com", "v1");
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->at("groupVersion"), "example.com/v1");
  EXPECT_TRUE(resourceNamed(*v1, "widgets").is_object());
  EXPECT_TRUE(resourceNamed(*v1, "widgets/status").is_object());
}

TEST(KubesimResources, ACrdWithoutAStorageFlagStoresAtItsFirstVersion) {
  json crd = widgetCrd();
  for (json& v : crd["spec"]["versions"])
    v.erase("storage");
  ResourceRegistry registry;
  registry.addCrd(crd);
  EXPECT_EQ(registry.find("example.com", "v1", "widgets")->storageGroupVersion(),
            "example.com/v1beta1");
}

}  // namespace
}  // namespace canaryd::kubesim
