// The simulator's cluster: the API server's semantics without HTTP (resourceVersion, 409,
// generation, the status subresource, patches) and the cluster's controllers in virtual time.
#include "canaryd/sim/cluster.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/cluster/knative.h"

namespace canaryd::sim {
namespace {

using nlohmann::json;
using std::chrono::seconds;

api::JsonValue deployment(const std::string& image) {
  const json labels = {{"app", "shop"}};
  return api::JsonValue(
      json{{"apiVersion", "apps/v1"},
           {"kind", "Deployment"},
           {"metadata", {{"name", "shop"}, {"namespace", "sim"}}},
           {"spec",
            {{"replicas", 2},
             {"selector", {{"matchLabels", labels}}},
             {"template",
              {{"metadata", {{"labels", labels}}},
               {"spec", {{"containers", {{{"name", "shop"}, {"image", image}}}}}}}}}}});
}

void createNamespace(Cluster& cluster) {
  ASSERT_TRUE(cluster
                  .create(cluster::kNamespaces, "",
                          api::JsonValue(json{{"apiVersion", "v1"},
                                              {"kind", "Namespace"},
                                              {"metadata", {{"name", "sim"}}}}))
                  .ok());
}

std::int64_t readyReplicas(Cluster& cluster) {
  Result<api::JsonValue> d = cluster.get(cluster::kDeployments, {"sim", "shop"});
  return d ? d->get().value("status", json::object()).value("readyReplicas", std::int64_t{-1}) : -2;
}

TEST(SimClusterTest, ADeploymentBecomesReadyAfterTheDelayInVirtualTime) {
  VirtualClock clock;
  Cluster cluster(clock, {seconds(10), nullptr, nullptr});
  createNamespace(cluster);
  ASSERT_TRUE(cluster.create(cluster::kDeployments, "sim", deployment("shop:1")).ok());
  EXPECT_EQ(readyReplicas(cluster), -1);  // no status yet
  std::optional<TimePoint> due = cluster.settle();
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(*due, clock.now() + seconds(10));
  clock.advance(seconds(9));
  cluster.settle();
  EXPECT_EQ(readyReplicas(cluster), -1);
  clock.advance(seconds(1));
  EXPECT_FALSE(cluster.settle().has_value());
  EXPECT_EQ(readyReplicas(cluster), 2);
  Result<api::JsonValue> d = cluster.get(cluster::kDeployments, {"sim", "shop"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->get()["status"]["observedGeneration"], 1);
  // Defaults as the API server sets them.
  EXPECT_EQ(d->get()["spec"]["progressDeadlineSeconds"], 600);
}

TEST(SimClusterTest, ReadinessCanBeHeldBack) {
  VirtualClock clock;
  const TimePoint until = clock.now() + seconds(300);
  Cluster cluster(clock, {seconds(10), [&](TimePoint) { return until; }, nullptr});
  createNamespace(cluster);
  ASSERT_TRUE(cluster.create(cluster::kDeployments, "sim", deployment("shop:1")).ok());
  clock.advance(seconds(60));
  cluster.settle();
  EXPECT_EQ(readyReplicas(cluster), -1);
  clock.set(until);
  cluster.settle();
  EXPECT_EQ(readyReplicas(cluster), 2);
}

TEST(SimClusterTest, StaleWritesConflictAndSpecChangesBumpTheGeneration) {
  VirtualClock clock;
  Cluster cluster(clock);
  createNamespace(cluster);
  Result<api::JsonValue> created = cluster.create(cluster::kDeployments, "sim", deployment("a"));
  ASSERT_TRUE(created.ok());
  Result<api::JsonValue> patched = cluster.patch(
      cluster::kDeployments, {"sim", "shop"}, cluster::PatchType::kStrategicMerge,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"shop","image":"b"}]}}}})");
  ASSERT_TRUE(patched.ok()) << patched.error().message();
  EXPECT_EQ(patched->get()["metadata"]["generation"], 2);
  EXPECT_EQ(patched->get()["spec"]["template"]["spec"]["containers"][0]["image"], "b");
  // An update carrying the first resourceVersion is stale.
  Result<api::JsonValue> stale = cluster.update(cluster::kDeployments, *created);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind(), ErrorKind::kConflict);
  EXPECT_EQ(cluster.get(cluster::kDeployments, {"sim", "nothing"}).error().kind(),
            ErrorKind::kNotFound);
  EXPECT_EQ(cluster.create(cluster::kDeployments, "sim", deployment("a")).error().kind(),
            ErrorKind::kConflict);  // AlreadyExists
  EXPECT_EQ(cluster.patch(cluster::kDeployments, {"sim", "shop"}, cluster::PatchType::kMerge, "{")
                .error()
                .kind(),
            ErrorKind::kInvalidInput);
}

TEST(SimClusterTest, AnUpdateThatChangesNothingMakesNoNewVersion) {
  VirtualClock clock;
  Cluster cluster(clock);
  createNamespace(cluster);
  Result<api::JsonValue> created = cluster.create(cluster::kDeployments, "sim", deployment("a"));
  ASSERT_TRUE(created.ok());
  const json version = created->get()["metadata"]["resourceVersion"];
  // The same object again: the same version, as the API server answers a no-op.
  Result<api::JsonValue> same = cluster.update(cluster::kDeployments, *created);
  ASSERT_TRUE(same.ok()) << same.error().message();
  EXPECT_EQ(same->get()["metadata"]["resourceVersion"], version);
  // Only managedFields differ: still no new version.
  json managed = created->get();
  managed["metadata"]["managedFields"] = json::array({{{"manager", "kubectl"}}});
  Result<api::JsonValue> fields = cluster.update(cluster::kDeployments, api::JsonValue(managed));
  ASSERT_TRUE(fields.ok()) << fields.error().message();
  EXPECT_EQ(fields->get()["metadata"]["resourceVersion"], version);
  // A label changes: a new version, and the stored object is the one written.
  json labelled = created->get();
  labelled["metadata"]["labels"] = {{"team", "shop"}};
  Result<api::JsonValue> changed = cluster.update(cluster::kDeployments, api::JsonValue(labelled));
  ASSERT_TRUE(changed.ok()) << changed.error().message();
  EXPECT_NE(changed->get()["metadata"]["resourceVersion"], version);
  Result<api::JsonValue> stored = cluster.get(cluster::kDeployments, {"sim", "shop"});
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->get()["metadata"]["labels"]["team"], "shop");
  EXPECT_EQ(stored->get()["metadata"]["resourceVersion"],
            changed->get()["metadata"]["resourceVersion"]);
}

TEST(SimClusterTest, AcceptsHttpRoutesAndReportsEvents) {
  VirtualClock clock;
  std::vector<std::string> events;
  Cluster cluster(clock, {seconds(10), nullptr, [&](const api::JsonValue& e) {
                            events.push_back(e.get().value("message", ""));
                          }});
  createNamespace(cluster);
  const json route = {{"apiVersion", "gateway.networking.k8s.io/v1"},
                      {"kind", "HTTPRoute"},
                      {"metadata", {{"name", "shop"}, {"namespace", "sim"}}},
                      {"spec", {{"parentRefs", {{{"name", "public"}}}}}}};
  ASSERT_TRUE(cluster.create(cluster::kHttpRoutes, "sim", api::JsonValue(route)).ok());
  cluster.settle();  // accepted at once
  Result<api::JsonValue> accepted = cluster.get(cluster::kHttpRoutes, {"sim", "shop"});
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(accepted->get()["status"]["parents"][0]["conditions"][0]["type"], "Accepted");
  const json event = {{"apiVersion", "v1"},
                      {"kind", "Event"},
                      {"metadata", {{"name", "shop.1"}, {"namespace", "sim"}}},
                      {"message", "Advance shop.sim canary weight 10"}};
  ASSERT_TRUE(cluster.create(cluster::kEvents, "sim", api::JsonValue(event)).ok());
  EXPECT_EQ(events, std::vector<std::string>{"Advance shop.sim canary weight 10"});
  // A watch delivers what is there and ends: nothing waits in virtual time.
  int seen = 0;
  ASSERT_TRUE(cluster
                  .watch(cluster::kHttpRoutes, "sim", {},
                         [&](const cluster::WatchEvent& e) {
                           seen += e.type == cluster::WatchEvent::Type::kAdded ? 1 : 0;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, 1);
}

// Knative Serving, played: a Revision per template, the Service's status names the latest
// created and ready ones, and the Route serves spec.traffic with latestRevision resolved.
TEST(SimClusterTest, PlaysKnativeServingForAKnativeService) {
  VirtualClock clock;
  Cluster cluster(clock, {seconds(2), nullptr, nullptr});
  createNamespace(cluster);
  ASSERT_TRUE(
      cluster
          .create(
              cluster::kKnativeServices, "sim",
              api::JsonValue(json{
                  {"apiVersion", "serving.knative.dev/v1"},
                  {"kind", "Service"},
                  {"metadata", {{"name", "shop"}, {"namespace", "sim"}}},
                  {"spec", {{"template", {{"spec", {{"containers", {{{"image", "shop:1"}}}}}}}}}}}))
          .ok());
  auto service = [&] { return cluster.get(cluster::kKnativeServices, {"sim", "shop"})->get(); };
  auto settleAfter = [&](int s) {
    clock.advance(seconds(s));
    cluster.settle();
  };
  cluster.settle();
  EXPECT_FALSE(service().contains("status"));
  settleAfter(2);
  json status = service()["status"];
  EXPECT_EQ(status["latestCreatedRevisionName"], "shop-00001");
  EXPECT_EQ(status["latestReadyRevisionName"], "shop-00001");
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_EQ(status["traffic"], json::parse(R"([{"latestRevision": true, "percent": 100,
                                                "revisionName": "shop-00001"}])"));
  Result<api::JsonValue> revision = cluster.get(cluster::kKnativeRevisions, {"sim", "shop-00001"});
  ASSERT_TRUE(revision.ok());
  EXPECT_EQ(revision->get()["spec"]["containers"][0]["image"], "shop:1");
  EXPECT_EQ(revision->get()["metadata"]["labels"]["serving.knative.dev/service"], "shop");
  EXPECT_EQ(revision->get()["status"]["conditions"][0]["status"], "True");

  // A split (no new template: no new Revision), then a new template that never becomes ready.
  json split = service();
  split["spec"]["traffic"] = json::parse(R"([{"latestRevision": true, "percent": 10},
                                             {"revisionName": "shop-00001", "percent": 90}])");
  ASSERT_TRUE(cluster.update(cluster::kKnativeServices, api::JsonValue(split)).ok());
  settleAfter(2);
  EXPECT_FALSE(cluster.get(cluster::kKnativeRevisions, {"sim", "shop-00002"}).ok());
  EXPECT_EQ(service()["status"]["traffic"], json::parse(R"([
    {"latestRevision": true, "percent": 10, "revisionName": "shop-00001"},
    {"latestRevision": false, "percent": 90, "revisionName": "shop-00001"}])"));
  json broken = service();
  broken["spec"]["template"]["spec"]["containers"][0]["image"] = "shop:2";
  broken["spec"]["template"]["metadata"]["annotations"]["kubesim.canaryd.dev/never-ready"] = "true";
  ASSERT_TRUE(cluster.update(cluster::kKnativeServices, api::JsonValue(broken)).ok());
  settleAfter(2);
  status = service()["status"];
  EXPECT_EQ(status["latestCreatedRevisionName"], "shop-00002");
  EXPECT_EQ(status["latestReadyRevisionName"], "shop-00001");
  EXPECT_EQ(status["conditions"][1]["type"], "Ready");
  EXPECT_EQ(status["conditions"][1]["status"], "Unknown");
  revision = cluster.get(cluster::kKnativeRevisions, {"sim", "shop-00002"});
  ASSERT_TRUE(revision.ok());
  EXPECT_EQ(revision->get()["status"]["conditions"][0]["status"], "Unknown");

  // A fixed template: the third Revision serves the latest share.
  json fixed = service();
  fixed["spec"]["template"]["metadata"].erase("annotations");
  fixed["spec"]["template"]["spec"]["containers"][0]["image"] = "shop:3";
  ASSERT_TRUE(cluster.update(cluster::kKnativeServices, api::JsonValue(fixed)).ok());
  settleAfter(2);
  status = service()["status"];
  EXPECT_EQ(status["latestCreatedRevisionName"], "shop-00003");
  EXPECT_EQ(status["latestReadyRevisionName"], "shop-00003");
  EXPECT_EQ(status["traffic"][0]["revisionName"], "shop-00003");
}

}  // namespace
}  // namespace canaryd::sim
