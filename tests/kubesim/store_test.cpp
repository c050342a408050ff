#include "kubesim/store.h"

#include <chrono>

#include <gtest/gtest.h>

#include "kubesim/api_error.h"
#include "kubesim/objects.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;
using testing::typeOf;

class KubesimStoreTest : public ::testing::Test {
 protected:
  ResourceType type(const std::string& group, const std::string& version,
                    const std::string& resource) {
    return typeOf(registry, group, version, resource);
  }
  // Creates the Widget CRD through the store, which registers its versions.
  void installWidgets() {
    store.create(type("apiextensions.k8s.io", "v1", "customresourcedefinitions"), "",
                 testing::widgetCrd());
  }

  ResourceRegistry registry;
  Store store{registry, 1000};
};

TEST_F(KubesimStoreTest, IngressesAreStoredAndListedLikeServices) {
  const ResourceType ingresses = type("networking.k8s.io", "v1", "ingresses");
  json created = store.create(ingresses, "default", testing::ingress("shop"));
  EXPECT_EQ(created["apiVersion"], "networking.k8s.io/v1");
  EXPECT_EQ(created["kind"], "Ingress");
  EXPECT_EQ(created["metadata"]["namespace"], "default");
  EXPECT_EQ(created["metadata"]["generation"], 1);

  json got = store.get(ingresses, "default", "shop");
  EXPECT_EQ(got["spec"]["rules"][0]["host"], "shop.example");
  json list = store.list(ingresses, "default", {});
  EXPECT_EQ(list["kind"], "IngressList");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "shop");
  EXPECT_THROW(store.get(ingresses, "default", "other"), ApiError);

  // Status is its own subresource: a main update keeps it, a status update changes only it.
  json withStatus = got;
  withStatus["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "10.0.0.7"}}}}}}};
  json updated = store.update(ingresses, "default", "shop", withStatus, /*status=*/true);
  EXPECT_EQ(updated["status"]["loadBalancer"]["ingress"][0]["ip"], "10.0.0.7");
  EXPECT_EQ(updated["metadata"]["generation"], 1);
}

TEST_F(KubesimStoreTest, IngressClassesAreClusterScoped) {
  const ResourceType classes = type("networking.k8s.io", "v1", "ingressclasses");
  json created = store.create(classes, "", testing::ingressClass("nginx"));
  EXPECT_FALSE(created["metadata"].contains("namespace"));
  EXPECT_EQ(store.get(classes, "", "nginx")["spec"]["controller"], "k8s.io/ingress-nginx");
  json list = store.list(classes, "", {});
  EXPECT_EQ(list["apiVersion"], "networking.k8s.io/v1");
  EXPECT_EQ(list["kind"], "IngressClassList");
  ASSERT_EQ(list["items"].size(), 1u);
}

TEST_F(KubesimStoreTest, DaemonSetGenerationCountsSpecChangesOnly) {
  const ResourceType daemonSets = type("apps", "v1", "daemonsets");
  json ds = store.create(daemonSets, "default", testing::daemonSet("agent"));
  EXPECT_EQ(ds["metadata"]["generation"], 1);
  ds["metadata"]["labels"] = {{"team", "a"}};
  ds = store.update(daemonSets, "default", "agent", ds, false);
  EXPECT_EQ(ds["metadata"]["generation"], 1);
  ds["spec"]["template"]["spec"]["nodeSelector"] = {{testing::kScaleToZeroLabel, "true"}};
  ds = store.update(daemonSets, "default", "agent", ds, false);
  EXPECT_EQ(ds["metadata"]["generation"], 2);
}

TEST_F(KubesimStoreTest, ACrdRecordsItsStorageVersion) {
  installWidgets();
  json crd = store.get(type("apiextensions.k8s.io", "v1", "customresourcedefinitions"), "",
                       "widgets.example.com");
  EXPECT_EQ(crd["status"]["storedVersions"], json({"v1beta1"}));
}

TEST_F(KubesimStoreTest, ACustomResourceIsStoredOnceAndServedAtTheVersionAskedFor) {
  installWidgets();
  const ResourceType v1 = type("example.com", "v1", "widgets");
  const ResourceType v1beta1 = type("example.com", "v1beta1", "widgets");

  json created = store.create(v1, "default", testing::widget("example.com/v1", "w", 3));
  EXPECT_EQ(created["apiVersion"], "example.com/v1");
  json asBeta = store.get(v1beta1, "default", "w");
  EXPECT_EQ(asBeta["apiVersion"], "example.com/v1beta1");
  EXPECT_EQ(asBeta["spec"]["size"], 3);  // no conversion otherwise
  EXPECT_EQ(asBeta["metadata"]["uid"], created["metadata"]["uid"]);
  EXPECT_EQ(store.get(v1, "default", "w")["apiVersion"], "example.com/v1");

  json list = store.list(v1beta1, "default", {});
  EXPECT_EQ(list["apiVersion"], "example.com/v1beta1");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["apiVersion"], "example.com/v1beta1");

  // One object, kept at the storage version.
  const json stored = store.snapshot()["objects"]["example.com/widgets"];
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0]["apiVersion"], "example.com/v1beta1");

  // Writes under either version change the same object.
  asBeta["spec"]["size"] = 4;
  json updated = store.update(v1beta1, "default", "w", asBeta, false);
  EXPECT_EQ(updated["apiVersion"], "example.com/v1beta1");
  EXPECT_EQ(updated["metadata"]["generation"], 2);
  json patched = store.patch(
      v1, "default", "w",
      [](const json& current) {
        EXPECT_EQ(current["apiVersion"], "example.com/v1");
        json next = current;
        next["spec"]["size"] = 5;
        return next;
      },
      false);
  EXPECT_EQ(patched["apiVersion"], "example.com/v1");
  EXPECT_EQ(store.get(v1beta1, "default", "w")["spec"]["size"], 5);
  json removed = store.remove(v1, "default", "w", {});
  EXPECT_EQ(removed["apiVersion"], "example.com/v1");
}

TEST_F(KubesimStoreTest, AWatchShowsTheVersionItWatches) {
  installWidgets();
  const ResourceType v1 = type("example.com", "v1", "widgets");
  const ResourceType v1beta1 = type("example.com", "v1beta1", "widgets");
  store.create(v1beta1, "default", testing::widget("example.com/v1beta1", "w", 1));

  auto watcher = store.watch(v1, "default", "", {});
  json w = store.get(v1beta1, "default", "w");
  w["spec"]["size"] = 2;
  store.update(v1beta1, "default", "w", w, false);

  Event e;
  ASSERT_TRUE(watcher->next(e, std::chrono::seconds(5)));
  EXPECT_EQ(e.type, "ADDED");
  EXPECT_EQ(e.object["apiVersion"], "example.com/v1");
  ASSERT_TRUE(watcher->next(e, std::chrono::seconds(5)));
  EXPECT_EQ(e.type, "MODIFIED");
  EXPECT_EQ(e.object["apiVersion"], "example.com/v1");
  EXPECT_EQ(e.object["spec"]["size"], 2);
  store.unwatch(watcher);
}

TEST_F(KubesimStoreTest, DeletingANamespaceDeletesCustomResourcesOfEveryVersionOnce) {
  installWidgets();
  const ResourceType namespaces = type("", "v1", "namespaces");
  store.create(namespaces, "", {{"metadata", {{"name", "shop"}}}});
  const ResourceType v1 = type("example.com", "v1", "widgets");
  store.create(v1, "shop", testing::widget("example.com/v1", "w", 1));
  auto watcher = store.watch(v1, "shop", std::to_string(store.resourceVersion()), {});
  store.remove(namespaces, "", "shop", {});
  Event e;
  ASSERT_TRUE(watcher->next(e, std::chrono::seconds(5)));
  EXPECT_EQ(e.type, "DELETED");
  EXPECT_EQ(e.object["apiVersion"], "example.com/v1");
  EXPECT_FALSE(watcher->next(e, std::chrono::milliseconds(0)));
  store.unwatch(watcher);
}

TEST_F(KubesimStoreTest, EventsAreSelectedByTheirInvolvedObjectAsKubectlDescribeAsks) {
  const ResourceType events = type("", "v1", "events");
  auto event = [](const std::string& name, const std::string& kind, const std::string& object,
                  const std::string& reason) {
    return json{{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}}},
                {"involvedObject", {{"kind", kind}, {"name", object}, {"namespace", "tour"}}},
                {"reason", reason},
                {"type", "Normal"},
                {"source", {{"component", "canaryd"}}}};
  };
  store.create(type("", "v1", "namespaces"), "", {{"metadata", {{"name", "tour"}}}});
  store.create(events, "tour", event("a", "Canary", "hello", "Synced"));
  store.create(events, "tour", event("b", "Deployment", "hello", "ScalingReplicaSet"));
  store.create(events, "tour", event("c", "Canary", "other", "Synced"));

  auto names = [&](const std::string& selector) {
    std::vector<std::string> out;
    const json list = store.list(events, "tour", {"", selector, 0, ""});
    for (const json& item : list["items"]) {
      out.push_back(item["metadata"]["name"]);
    }
    return out;
  };
  // What `kubectl describe canary hello` sends.
  EXPECT_EQ(names("involvedObject.name=hello,involvedObject.namespace=tour,"
                  "involvedObject.kind=Canary"),
            std::vector<std::string>{"a"});
  EXPECT_EQ(names("involvedObject.name=hello"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names("reason!=Synced"), std::vector<std::string>{"b"});
  EXPECT_EQ(names("source=canaryd,involvedObject.uid="), (std::vector<std::string>{"a", "b", "c"}));

  // The labels are the events' own: another resource refuses them, as the API server does.
  const ResourceType services = type("", "v1", "services");
  try {
    store.list(services, "tour", {"", "involvedObject.name=hello", 0, ""});
    FAIL() << "a Service has no involvedObject field label";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code, 400);
    EXPECT_EQ(e.message, "field label not supported: involvedObject.name");
  }
}

}  // namespace
}  // namespace canaryd::kubesim
