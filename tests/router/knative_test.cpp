// The traffic split the Knative router writes on a Knative Service (as Flagger's KnativeRouter
// and KnativeController write it), and the router against kubesim serving a stand-in for
// Knative's Service CRD, with the test playing Knative's controller (revisions, status.traffic).
#include "canaryd/router/knative.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/catalog.h"
#include "canaryd/api/document.h"
#include "canaryd/kube/kube_client.h"

#include "router/canary_fixture.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

// The first document of tests/data/flagger-e2e/<file> as JSON.
json e2eData(const std::string& file) {
  const std::string path = std::string(CANARYD_SOURCE_DIR) + "/tests/data/flagger-e2e/" + file;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto documents = api::parseYamlDocuments(text.str(), path);
  EXPECT_TRUE(documents.ok()) << (documents.ok() ? "" : documents.error().message());
  if (!documents.ok() || documents->empty()) return json();
  return (*documents)[0].body.get();
}

// Flagger's e2e Canary (test/knative/test-canary.sh) and the Knative Service it targets
// (test/knative/init.sh).
json e2eManifest() {
  return e2eData("knative.yaml");
}
json e2eService() {
  return e2eData("knative-companions.yaml");
}

api::Canary e2eCanary() {
  return testing::decodeCanary(e2eManifest());
}

// spec.traffic as Flagger writes it: the latest Revision at the canary's weight, then the primary
// Revision by name.
json traffic(const std::string& primary, std::int64_t primaryWeight, std::int64_t canaryWeight) {
  return {{{"latestRevision", true}, {"percent", canaryWeight}},
          {{"revisionName", primary}, {"percent", primaryWeight}}};
}

TEST(KnativeRouterTest, TrafficAsFlaggerWritesIt) {
  // Initialization: all traffic on the primary Revision.
  EXPECT_EQ(buildKnativeTraffic("podinfo-00001", {100, 0, false}).get(), json::parse(R"([
    {"latestRevision": true, "percent": 0},
    {"revisionName": "podinfo-00001", "percent": 100}])"));
  // Progressive steps of the e2e Canary (stepWeight 10, maxWeight 50).
  for (std::int64_t canary = 10; canary <= 50; canary += 10) {
    EXPECT_EQ(buildKnativeTraffic("podinfo-00001", {100 - canary, canary, false}).get(),
              traffic("podinfo-00001", 100 - canary, canary));
  }
  EXPECT_EQ(buildKnativeTraffic("podinfo-00001", {60, 40, false}).get(), json::parse(R"([
    {"latestRevision": true, "percent": 40},
    {"revisionName": "podinfo-00001", "percent": 60}])"));
  // Blue/green: the iterations at 0, then everything on the canary before the promotion.
  EXPECT_EQ(buildKnativeTraffic("podinfo-00001", {0, 100, false}).get(), json::parse(R"([
    {"latestRevision": true, "percent": 100},
    {"revisionName": "podinfo-00001", "percent": 0}])"));
  // Promotion: the annotation names the new Revision, which takes everything.
  EXPECT_EQ(buildKnativeTraffic("podinfo-00002", {100, 0, false}).get(), json::parse(R"([
    {"latestRevision": true, "percent": 0},
    {"revisionName": "podinfo-00002", "percent": 100}])"));
  // Rollback: the annotation still names the old Revision, which takes everything.
  EXPECT_EQ(buildKnativeTraffic("podinfo-00001", {100, 0, false}).get(),
            traffic("podinfo-00001", 100, 0));
}

TEST(KnativeRouterTest, TheTargetIsAKnativeService) {
  EXPECT_TRUE(isKnativeTarget(e2eCanary()));
  json core = e2eManifest();
  core["spec"]["targetRef"]["apiVersion"] = "v1";
  EXPECT_FALSE(isKnativeTarget(testing::decodeCanary(core)));
  json deployment = e2eManifest();
  deployment["spec"]["targetRef"] = {
      {"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "podinfo"}};
  EXPECT_FALSE(isKnativeTarget(testing::decodeCanary(deployment)));
}

TEST(KnativeRouterTest, ProviderCapabilities) {
  std::vector<RouterPlugin> plugins = knativeRouters();
  ASSERT_EQ(plugins.size(), 1u);
  const api::RouterEntry& entry = plugins[0].entry;
  EXPECT_EQ(entry.name, "knative");
  EXPECT_TRUE(entry.can.weights);
  EXPECT_FALSE(entry.can.matching);
  EXPECT_FALSE(entry.can.mirroring);
  EXPECT_FALSE(entry.can.mirrorWeight);
  EXPECT_FALSE(entry.can.sessionAffinity);
  EXPECT_EQ(entry.can.targetKinds, std::vector<std::string>{"Service"});
  EXPECT_TRUE(entry.check);
}

// What validation says of a Canary with provider knative, from the router's capabilities and
// its check (api::routerProblems with a catalog holding only this router).
api::FieldProblems problemsOf(const json& manifest) {
  api::Catalog catalog;
  catalog.routers.push_back(knativeRouters()[0].entry);
  return api::routerProblems(catalog, testing::decodeCanary(manifest));
}

TEST(KnativeRouterTest, ItTakesKnativeServicesOnly) {
  EXPECT_TRUE(problemsOf(e2eManifest()).empty());

  json core = e2eManifest();
  core["spec"]["targetRef"]["apiVersion"] = "v1";
  api::FieldProblems problems = problemsOf(core);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.targetRef.apiVersion");
  EXPECT_EQ(problems[0].second,
            "\"v1\": provider knative splits traffic between the Revisions of a Knative Service "
            "(apiVersion serving.knative.dev/v1, kind Service); a core Service target takes a "
            "router that splits between Services");

  json deployment = e2eManifest();
  deployment["spec"]["targetRef"] = {
      {"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "podinfo"}};
  problems = problemsOf(deployment);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.targetRef.kind");

  json scaled = e2eManifest();
  scaled["spec"]["autoscalerRef"] = {
      {"apiVersion", "autoscaling/v2"}, {"kind", "HorizontalPodAutoscaler"}, {"name", "podinfo"}};
  problems = problemsOf(scaled);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "spec.autoscalerRef");

  json mirrored = e2eManifest();
  mirrored["spec"]["analysis"]["mirror"] = true;
  mirrored["spec"]["analysis"]["match"] = json::parse(R"([{"headers": {"x-canary":
    {"exact": "insider"}}}])");
  problems = problemsOf(mirrored);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].first, "spec.analysis.match");
  EXPECT_EQ(problems[1].first, "spec.analysis.mirror");
}

// A stand-in for Knative Serving's Service CRD: namespaced, with the status subresource.
json knativeServiceCrd() {
  json open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "services.serving.knative.dev"}}},
          {"spec",
           {{"group", "serving.knative.dev"},
            {"scope", "Namespaced"},
            {"names",
             {{"kind", "Service"},
              {"listKind", "ServiceList"},
              {"plural", "services"},
              {"singular", "service"},
              {"shortNames", {"kservice", "ksvc"}}}},
            {"versions",
             {{{"name", "v1"},
               {"served", true},
               {"storage", true},
               {"subresources", {{"status", json::object()}}},
               {"schema",
                {{"openAPIV3Schema",
                  {{"type", "object"}, {"properties", {{"spec", open}, {"status", open}}}}}}}}}}}}};
}

class KnativeKubesimTest : public testing::RouterKubesimTest {
 protected:
  void SetUp() override {
    installCrd(knativeServiceCrd());
    createTestNamespace();
    router_ = knativeRouters()[0].make({*client_, nullptr, {}, "Service"});
  }

  json service() { return object(kKnativeServices, "test", "podinfo"); }

  void createService() {
    ASSERT_TRUE(client_->create(kKnativeServices, "test", api::JsonValue(e2eService())).ok());
  }

  void update(const json& changed) {
    auto written = client_->update(kKnativeServices, api::JsonValue(changed));
    ASSERT_TRUE(written.ok()) << written.error().message();
  }

  void updateStatus(const json& status) {
    json s = service();
    s["status"] = status;
    auto written = client_->updateStatus(kKnativeServices, api::JsonValue(s));
    ASSERT_TRUE(written.ok()) << written.error().message();
  }

  // Knative's controller: the Service's current generation is Revision `latest`, created and
  // ready, and its Route serves spec.traffic (the latest Revision resolved by name, as Knative
  // writes status.traffic).
  void knativeServes(const std::string& latest) {
    json s = service();
    json served = json::array();
    for (json entry : s["spec"].value("traffic", json::array())) {
      if (entry.value("latestRevision", false)) {
        entry["revisionName"] = latest;
      } else {
        entry["latestRevision"] = false;
      }
      served.push_back(entry);
    }
    updateStatus({{"observedGeneration", s["metadata"]["generation"]},
                  {"latestCreatedRevisionName", latest},
                  {"latestReadyRevisionName", latest},
                  {"traffic", served}});
  }

  // The user's change of the template: Knative makes Revision `revision` of it.
  void newRevision(const std::string& image, const std::string& revision) {
    json s = service();
    s["spec"]["template"]["spec"]["containers"][0]["image"] = image;
    update(s);
    knativeServes(revision);
  }

  std::unique_ptr<Router> router_;
};

TEST_F(KnativeKubesimTest, ReconcileRecordsThePrimaryRevisionWithAllTrafficOnIt) {
  createService();
  knativeServes("podinfo-00001");
  const json before = service();
  api::Canary canary = e2eCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());

  json after = service();
  EXPECT_EQ(after["metadata"]["annotations"],
            json::parse(R"({"flagger.app/primary-revision": "podinfo-00001"})"));
  EXPECT_EQ(after["spec"]["traffic"], traffic("podinfo-00001", 100, 0));
  EXPECT_EQ(after["spec"]["template"], before["spec"]["template"]);
  EXPECT_FALSE(after["metadata"].contains("ownerReferences"));
  EXPECT_FALSE(after["metadata"].contains("labels"));

  // Knative has not applied it yet: status.traffic has no such split.
  auto pending = router_->getRoutes(canary);
  ASSERT_FALSE(pending.ok());
  EXPECT_EQ(pending.error().kind(), ErrorKind::kUnavailable);
  knativeServes("podinfo-00001");
  // The latest Revision is the primary Revision here: both entries name it in status.traffic.
  EXPECT_EQ(service()["status"]["traffic"], json::parse(R"([
    {"latestRevision": true, "percent": 0, "revisionName": "podinfo-00001"},
    {"latestRevision": false, "percent": 100, "revisionName": "podinfo-00001"}])"));
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  // A second reconcile writes nothing.
  const json served = service();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(service()["metadata"]["resourceVersion"], served["metadata"]["resourceVersion"]);
}

TEST_F(KnativeKubesimTest, AProgressiveRolloutThenPromotionThenRollback) {
  createService();
  knativeServes("podinfo-00001");
  api::Canary canary = e2eCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  newRevision("ghcr.io/stefanprodan/podinfo:6.0.1", "podinfo-00002");

  for (std::int64_t weight = 10; weight <= 50; weight += 10) {
    ASSERT_TRUE(router_->setRoutes(canary, {100 - weight, weight, false}).ok());
    EXPECT_EQ(service()["spec"]["traffic"], traffic("podinfo-00001", 100 - weight, weight));
    knativeServes("podinfo-00002");
    EXPECT_EQ(*router_->getRoutes(canary), (Weights{100 - weight, weight, false}));
  }
  // The annotation is unchanged by the steps.
  EXPECT_EQ(service()["metadata"]["annotations"]["flagger.app/primary-revision"], "podinfo-00001");

  // Promotion (the controller's part, as Flagger's KnativeController.Promote): the annotation
  // names the latest created Revision; then all traffic goes to it.
  json promoted = service();
  promoted["metadata"]["annotations"]["flagger.app/primary-revision"] =
      promoted["status"]["latestCreatedRevisionName"];
  update(promoted);
  ASSERT_TRUE(router_->setRoutes(canary, {100, 0, false}).ok());
  EXPECT_EQ(service()["spec"]["traffic"], traffic("podinfo-00002", 100, 0));
  knativeServes("podinfo-00002");
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));

  // The next Revision fails its analysis: rolled back, everything on the primary Revision.
  newRevision("ghcr.io/stefanprodan/podinfo:6.0.2", "podinfo-00003");
  ASSERT_TRUE(router_->setRoutes(canary, {80, 20, false}).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {100, 0, false}).ok());
  EXPECT_EQ(service()["spec"]["traffic"], traffic("podinfo-00002", 100, 0));
  knativeServes("podinfo-00003");
  EXPECT_EQ(*router_->getRoutes(canary), (Weights{100, 0, false}));
  EXPECT_EQ(service()["spec"]["template"]["spec"]["containers"][0]["image"],
            "ghcr.io/stefanprodan/podinfo:6.0.2");

  // Blue/green's last step: everything on the latest Revision.
  ASSERT_TRUE(router_->setRoutes(canary, {0, 100, false}).ok());
  EXPECT_EQ(service()["spec"]["traffic"], traffic("podinfo-00002", 0, 100));

  // Mirroring is refused: Knative cannot mirror.
  auto mirror = router_->setRoutes(canary, {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_EQ(mirror.error().kind(), ErrorKind::kInvalidInput);
}

TEST_F(KnativeKubesimTest, AReconcileKeepsTheWeightsAndWhatTheUserOwns) {
  createService();
  knativeServes("podinfo-00001");
  api::Canary canary = e2eCanary();
  ASSERT_TRUE(router_->reconcile(canary).ok());
  newRevision("ghcr.io/stefanprodan/podinfo:6.0.1", "podinfo-00002");
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());

  // The user labels and annotates it, and Knative's defaulting marks the named entry.
  json s = service();
  s["metadata"]["labels"] = {{"team", "web"}};
  s["metadata"]["annotations"]["note"] = "mine";
  s["spec"]["traffic"][1]["latestRevision"] = false;
  update(s);
  const json written = service();

  // Nothing canaryd owns changed: nothing is written.
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(service(), written);
  // setRoutes at the same weights writes nothing either.
  ASSERT_TRUE(router_->setRoutes(canary, {70, 30, false}).ok());
  EXPECT_EQ(service(), written);

  // Someone re-applies the Service with Knative's default traffic: a reconcile routes
  // everything to the primary Revision again, keeping the rest.
  s = service();
  s["spec"]["traffic"] = json::parse(R"([{"latestRevision": true, "percent": 100}])");
  update(s);
  ASSERT_TRUE(router_->reconcile(canary).ok());
  json after = service();
  EXPECT_EQ(after["spec"]["traffic"], traffic("podinfo-00001", 100, 0));
  EXPECT_EQ(after["metadata"]["labels"], json::parse(R"({"team": "web"})"));
  EXPECT_EQ(after["metadata"]["annotations"],
            json::parse(R"({"flagger.app/primary-revision": "podinfo-00001", "note": "mine"})"));
  EXPECT_EQ(after["spec"]["template"]["spec"]["containers"][0]["image"],
            "ghcr.io/stefanprodan/podinfo:6.0.1");

  // The same split in the other order is rewritten in Flagger's order at the same weights.
  ASSERT_TRUE(router_->setRoutes(canary, {60, 40, false}).ok());
  s = service();
  s["spec"]["traffic"] = json::array({s["spec"]["traffic"][1], s["spec"]["traffic"][0]});
  update(s);
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(service()["spec"]["traffic"], traffic("podinfo-00001", 60, 40));
}

TEST_F(KnativeKubesimTest, ErrorsSayWhatIsWrong) {
  api::Canary canary = e2eCanary();
  auto missing = router_->getRoutes(canary);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message().find("Knative Service test/podinfo"), std::string::npos)
      << missing.error().message();
  auto notSet = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(notSet.ok());
  EXPECT_EQ(notSet.error().kind(), ErrorKind::kNotFound);
  auto notReconciled = router_->reconcile(canary);
  ASSERT_FALSE(notReconciled.ok());
  EXPECT_EQ(notReconciled.error().kind(), ErrorKind::kNotFound);

  // Knative has made no Revision yet: nothing to record, try again later.
  createService();
  auto noRevision = router_->reconcile(canary);
  ASSERT_FALSE(noRevision.ok());
  EXPECT_EQ(noRevision.error().kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(noRevision.error().message(),
            "Knative Service test/podinfo: Knative has not created a Revision of it yet "
            "(status.latestCreatedRevisionName is empty); its primary Revision is recorded when "
            "it has");
  // No annotation: no split to set or read.
  auto noAnnotation = router_->setRoutes(canary, {90, 10, false});
  ASSERT_FALSE(noAnnotation.ok());
  EXPECT_EQ(noAnnotation.error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(noAnnotation.error().message(),
            "Knative Service test/podinfo: no annotation flagger.app/primary-revision names its "
            "primary Revision yet (the router's reconcile sets it)");
  auto unread = router_->getRoutes(canary);
  ASSERT_FALSE(unread.ok());
  EXPECT_EQ(unread.error().kind(), ErrorKind::kNotFound);

  knativeServes("podinfo-00001");
  ASSERT_TRUE(router_->reconcile(canary).ok());
  ASSERT_TRUE(router_->setRoutes(canary, {90, 10, false}).ok());
  knativeServes("podinfo-00001");
  ASSERT_TRUE(router_->getRoutes(canary).ok());

  // Broken status.traffic: errors, never a crash.
  const json good = service()["status"];
  for (const char* broken : {
           R"("everything")",
           R"([1, "two", null])",
           R"([{"latestRevision": "yes", "percent": 10},
               {"revisionName": "podinfo-00001", "percent": 90}])",
           R"([{"latestRevision": true, "percent": 10}])",
           R"([{"latestRevision": true, "percent": 0},
               {"revisionName": "podinfo-00001", "percent": 0}])",
           R"([{"latestRevision": true, "percent": 10},
               {"revisionName": ["podinfo-00001"], "percent": 90}])",
       }) {
    json status = good;
    status["traffic"] = json::parse(broken);
    updateStatus(status);
    auto lost = router_->getRoutes(canary);
    ASSERT_FALSE(lost.ok()) << broken;
    EXPECT_EQ(lost.error().kind(), ErrorKind::kUnavailable) << broken;
  }
  json status = good;
  status["traffic"] = json::parse(R"([{"latestRevision": true, "percent": "ten"},
    {"revisionName": "podinfo-00001", "percent": 90}])");
  updateStatus(status);
  auto notANumber = router_->getRoutes(canary);
  ASSERT_FALSE(notANumber.ok());
  EXPECT_EQ(notANumber.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(notANumber.error().message(),
            "Knative Service test/podinfo: status.traffic: a traffic entry's percent is "
            "\"ten\", not a whole number");
  status["traffic"][0]["percent"] = 10.5;
  updateStatus(status);
  EXPECT_EQ(router_->getRoutes(canary).error().kind(), ErrorKind::kInvalidInput);
  status.erase("traffic");
  updateStatus(status);
  EXPECT_EQ(router_->getRoutes(canary).error().kind(), ErrorKind::kUnavailable);

  // A broken spec.traffic is rewritten by a reconcile, with all traffic on the primary.
  json s = service();
  s["spec"]["traffic"] = json::parse(R"([{"latestRevision": true, "percent": "x"}, 7])");
  update(s);
  ASSERT_TRUE(router_->reconcile(canary).ok());
  EXPECT_EQ(service()["spec"]["traffic"], traffic("podinfo-00001", 100, 0));
}

}  // namespace
}  // namespace canaryd::router
