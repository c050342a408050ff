// A Knative Service target, as Flagger's KnativeController: canaryd generates nothing, records
// the primary Revision in the Service's annotation flagger.app/primary-revision, splits
// spec.traffic between it and the latest Revision, waits for the Revisions' readiness, and
// promotes by moving the annotation. Against the simulator's cluster, which plays Knative
// (kubesim/knative_serving.h: a Revision <name>-0000N per template, ready after a second).
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/cluster/knative.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/controller/metric_checks.h"
#include "canaryd/controller/reconciler.h"
#include "canaryd/sim/cluster.h"

#include "support/sim_canary_test.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

class KnativeTargetTest : public testing::SimCanaryTest {
 protected:
  void SetUp() override {
    SimCanaryTest::SetUp();
    const json service = {
        {"apiVersion", "serving.knative.dev/v1"},
        {"kind", "Service"},
        {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
        {"spec", {{"template", {{"spec", {{"containers", {{{"image", "web:1"}}}}}}}}}}};
    ASSERT_TRUE(cluster_.create(cluster::kKnativeServices, "shop", api::JsonValue(service)).ok());
  }
  void createCanary(const std::string& provider, bool revertOnDeletion = false) {
    const json canary = {
        {"apiVersion", "flagger.app/v1beta1"},
        {"kind", "Canary"},
        {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
        {"spec",
         {{"provider", provider},
          {"revertOnDeletion", revertOnDeletion},
          {"targetRef",
           {{"apiVersion", "serving.knative.dev/v1"}, {"kind", "Service"}, {"name", "web"}}},
          {"progressDeadlineSeconds", 30},
          {"analysis",
           {{"interval", "10s"}, {"threshold", 2}, {"stepWeight", 25}, {"maxWeight", 50}}}}}};
    ASSERT_TRUE(cluster_.create(cluster::kCanaries, "shop", api::JsonValue(canary)).ok());
  }
  json service() {
    Result<api::JsonValue> s = cluster_.get(cluster::kKnativeServices, {"shop", "web"});
    return s.ok() ? s->get() : json();
  }
  std::string primaryAnnotation() {
    return service()["metadata"]
        .value("annotations", json::object())
        .value("flagger.app/primary-revision", "");
  }
  static json traffic(const std::string& primary, int primaryPercent, int canaryPercent) {
    return {{{"latestRevision", true}, {"percent", canaryPercent}},
            {{"revisionName", primary}, {"percent", primaryPercent}}};
  }
  void release(const std::string& image, bool neverReady = false) {
    json s = service();
    s["spec"]["template"]["spec"]["containers"][0]["image"] = image;
    if (neverReady) {
      s["spec"]["template"]["metadata"]["annotations"]["kubesim.canaryd.dev/never-ready"] = "true";
    }
    ASSERT_TRUE(cluster_.update(cluster::kKnativeServices, api::JsonValue(s)).ok());
  }
  bool exists(const cluster::Resource& resource, const std::string& name) {
    return cluster_.get(resource, {"shop", name}).ok();
  }
};

TEST_F(KnativeTargetTest, InitializesOnTheServiceItselfAndPromotesTheNewRevision) {
  createCanary("knative");
  reconcileUntil("Initialized");
  ASSERT_EQ(phase(), "Initialized");
  EXPECT_EQ(primaryAnnotation(), "web-00001");
  EXPECT_EQ(service()["spec"]["traffic"], traffic("web-00001", 100, 0));
  // Nothing generated: no primary workload, no Services, no Knative Service of canaryd's.
  for (const char* name : {"web", "web-primary", "web-canary"}) {
    EXPECT_FALSE(exists(cluster::kServices, name)) << name;
    EXPECT_FALSE(exists(cluster::kDeployments, name)) << name;
  }
  EXPECT_FALSE(exists(cluster::kKnativeServices, "web-primary"));
  EXPECT_FALSE(service()["metadata"].contains("ownerReferences"));

  // A new template: Knative makes web-00002, which is analysed at 25 and 50 percent.
  release("web:2");
  std::set<int> weights;
  reconcileUntil("Succeeded", 300, [&] {
    const api::CanaryStatus s = status();
    if (s.phase.value_or("") != "Progressing") return;
    const int weight = static_cast<int>(s.canaryWeight.value_or(0));
    EXPECT_EQ(service()["spec"]["traffic"], traffic("web-00001", 100 - weight, weight));
    EXPECT_EQ(primaryAnnotation(), "web-00001");
    weights.insert(weight);
  });
  ASSERT_EQ(phase(), "Succeeded");
  EXPECT_EQ(weights, (std::set<int>{0, 25, 50}));
  EXPECT_EQ(primaryAnnotation(), "web-00002");
  EXPECT_EQ(service()["spec"]["traffic"], traffic("web-00002", 100, 0));
  EXPECT_EQ(service()["spec"]["template"]["spec"]["containers"][0]["image"], "web:2");
}

TEST_F(KnativeTargetTest, ARevisionThatNeverBecomesReadyIsRolledBackAtTheDeadline) {
  createCanary("knative");
  reconcileUntil("Initialized");
  release("web:broken", /*neverReady=*/true);
  reconcileUntil("Failed");
  ASSERT_EQ(phase(), "Failed");
  EXPECT_EQ(status().canaryWeight.value_or(-1), 0);
  EXPECT_EQ(primaryAnnotation(), "web-00001");
  EXPECT_EQ(service()["status"].value("latestCreatedRevisionName", ""), "web-00002");
  EXPECT_EQ(service()["spec"]["traffic"], traffic("web-00001", 100, 0));
}

TEST_F(KnativeTargetTest, ARecreatedCanaryAdoptsTheLatestRevisionAsItsPrimary) {
  // An annotation left by an earlier Canary names an old Revision: initialization replaces it
  // (Flagger's Initialize).
  createCanary("knative");
  reconcileUntil("Initialized");
  ASSERT_TRUE(cluster_.remove(cluster::kCanaries, {"shop", "web"}).ok());
  release("web:2");
  for (int i = 0; i < 3; ++i) {
    cluster_.settle();
    clock_.advance(std::chrono::seconds(1));
  }
  ASSERT_EQ(primaryAnnotation(), "web-00001");
  createCanary("knative");
  reconcileUntil("Initialized");
  ASSERT_EQ(phase(), "Initialized");
  EXPECT_EQ(primaryAnnotation(), "web-00002");
  EXPECT_EQ(service()["spec"]["traffic"], traffic("web-00002", 100, 0));
}

TEST_F(KnativeTargetTest, RevertOnDeletionGivesTheServiceBackToKnative) {
  createCanary("knative", /*revertOnDeletion=*/true);
  reconcileUntil("Initialized");
  ASSERT_EQ(phase(), "Initialized");
  ASSERT_TRUE(cluster_.remove(cluster::kCanaries, {"shop", "web"}).ok());
  for (int i = 0; i < 20 && cluster_.get(cluster::kCanaries, {"shop", "web"}).ok(); ++i) {
    cluster_.settle();
    (void)reconciler_.reconcile({"shop", "web"});
    clock_.advance(std::chrono::seconds(1));
  }
  EXPECT_FALSE(cluster_.get(cluster::kCanaries, {"shop", "web"}).ok()) << "never finalized";
  // All traffic on the latest Revision, and no primary Revision any more.
  EXPECT_EQ(service()["spec"]["traffic"], traffic("web-00001", 0, 100));
  EXPECT_EQ(primaryAnnotation(), "");
  EXPECT_TRUE(exists(cluster::kKnativeServices, "web"));
}

TEST_F(KnativeTargetTest, AnotherProviderIsRefusedAndTheServiceLeftAlone) {
  createCanary("istio");
  reconcileUntil("never", 3);
  const std::optional<api::CanaryCondition> stalled = condition("Stalled");
  ASSERT_TRUE(stalled.has_value());
  EXPECT_EQ(stalled->reason, "UnsupportedProvider");
  EXPECT_NE(stalled->message->find(
                "spec.provider: \"istio\": a Knative Service target takes provider knative"),
            std::string::npos)
      << *stalled->message;
  EXPECT_EQ(primaryAnnotation(), "");
  EXPECT_FALSE(service()["spec"].contains("traffic"));
  EXPECT_FALSE(exists(cluster::kServices, "web-primary"));
}

// A metrics server that records the queries it is asked.
class RecordingProvider final : public metrics::Provider {
 public:
  explicit RecordingProvider(std::vector<std::string>& queries) : queries_(queries) {}
  Result<double> query(const std::string& text) override {
    queries_.push_back(text);
    return 99.9;
  }
  Result<std::vector<double>> queryRange(const std::string&, TimePoint, TimePoint,
                                         Duration) override {
    return Error::invalidInput("instant queries only");
  }

 private:
  std::vector<std::string>& queries_;
};

TEST_F(KnativeTargetTest, QueriesNameTheLatestRevisionAsTheirRoute) {
  std::vector<std::string> queries;
  ProviderFactory factory =
      [&](const metrics::ProviderConfig&) -> Result<std::unique_ptr<metrics::Provider>> {
    return std::unique_ptr<metrics::Provider>(new RecordingProvider(queries));
  };
  api::Canary canary;
  canary.metadata.name = "web";
  canary.metadata.namespace_ = "shop";
  canary.spec.provider = "knative";
  api::CanaryMetric metric;
  metric.name = "request-success-rate";
  const MetricCheckContext context{cluster_,  factory, "http://prometheus:9090",
                                   "knative", false,   "web-00002"};
  const MetricCheck check = checkMetric(canary, metric, context);
  ASSERT_TRUE(check.passed) << check.failure;
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_NE(queries[0].find(R"(envoy_cluster_name=~"shop/web-00002")"), std::string::npos)
      << queries[0];
}

}  // namespace
}  // namespace canaryd::controller
