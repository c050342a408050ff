// A Canary the daemon cannot act on gets a status that says why (kstatus: Ready=False,
// Stalled=True with a reason and message, observedGeneration), one Warning event and one alert
// per generation, and recovers by itself once fixed. Against the simulator's in-memory cluster.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/cluster/typed.h"
#include "canaryd/controller/reconciler.h"
#include "canaryd/notify/notifier.h"
#include "canaryd/sim/cluster.h"

#include "support/sim_reconciler.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

json deployment(const std::string& name) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", {{{"name", name}, {"image", name + ":1"}}}}}}}}}}};
}

class StalledTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_
                    .create(cluster::kNamespaces, "",
                            api::JsonValue(json{{"metadata", {{"name", "shop"}}}}))
                    .ok());
  }
  void createCanary(const std::string& provider, const std::string& target) {
    const json canary = {
        {"apiVersion", "flagger.app/v1beta1"},
        {"kind", "Canary"},
        {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
        {"spec",
         {{"provider", provider},
          {"targetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", target}}},
          {"service", {{"port", 80}}},
          {"analysis", {{"interval", "10s"}, {"threshold", 2}, {"iterations", 2}}}}}};
    ASSERT_TRUE(cluster_.create(cluster::kCanaries, "shop", api::JsonValue(canary)).ok());
  }
  api::Canary canary() { return *cluster::getCanary(cluster_, {"shop", "web"}); }
  const api::CanaryCondition* condition(const api::Canary& c, const std::string& type) {
    if (!c.status) return nullptr;
    for (const api::CanaryCondition& cond : c.status->conditions) {
      if (cond.type == type) return &cond;
    }
    return nullptr;
  }
  int warnings(const std::string& reason) {
    Result<cluster::ObjectList> events = cluster_.list(cluster::kEvents, "shop", {});
    int n = 0;
    for (const api::JsonValue& e : events->items) {
      if (e.get().value("reason", "") == reason) n += e.get().value("count", 1);
    }
    return n;
  }
  void reconcileTimes(int n) {
    for (int i = 0; i < n; ++i) {
      cluster_.settle();
      (void)reconciler_.reconcile({"shop", "web"});
      clock_.advance(std::chrono::seconds(1));
    }
  }

  testing::SimReconciler sim_;
  VirtualClock& clock_ = sim_.clock;
  sim::Cluster& cluster_ = sim_.cluster;
  testing::RecordingNotifier& notifier_ = sim_.notifier;
  Reconciler& reconciler_ = sim_.reconciler;
};

TEST_F(StalledTest, AnUnsupportedProviderIsStalledOncePerGenerationAndRecoversWhenFixed) {
  ASSERT_TRUE(
      cluster_.create(cluster::kDeployments, "shop", api::JsonValue(deployment("web"))).ok());
  createCanary("nonesuch", "web");
  reconcileTimes(3);
  api::Canary c = canary();
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.status->observedGeneration, c.metadata.generation);
  const api::CanaryCondition* stalled = condition(c, "Stalled");
  ASSERT_NE(stalled, nullptr);
  EXPECT_EQ(stalled->status, "True");
  EXPECT_EQ(stalled->reason, "UnsupportedProvider");
  EXPECT_NE(stalled->message->find("spec.provider: \"nonesuch\" is not allowed; must be one of:"),
            std::string::npos)
      << *stalled->message;
  ASSERT_NE(condition(c, "Ready"), nullptr);
  EXPECT_EQ(condition(c, "Ready")->status, "False");
  EXPECT_EQ(warnings("UnsupportedProvider"), 1);  // three reconciles, one event
  EXPECT_EQ(notifier_.messages.size(), 1u);       // and one alert

  // Fixed in Git (a new generation): the rollout starts, the conditions follow it.
  ASSERT_TRUE(cluster_
                  .patch(cluster::kCanaries, {"shop", "web"}, cluster::PatchType::kMerge,
                         R"({"spec":{"provider":"kubernetes"}})")
                  .ok());
  reconcileTimes(10);
  c = canary();
  EXPECT_EQ(c.status->phase, "Initialized");
  EXPECT_EQ(condition(c, "Stalled")->status, "False");
  EXPECT_EQ(condition(c, "Ready")->status, "True");
}

TEST_F(StalledTest, ABMatchingOnTheKubernetesProviderIsRefusedNotRunAsAFullSwitch) {
  ASSERT_TRUE(
      cluster_.create(cluster::kDeployments, "shop", api::JsonValue(deployment("web"))).ok());
  createCanary("kubernetes", "web");
  ASSERT_TRUE(
      cluster_
          .patch(cluster::kCanaries, {"shop", "web"}, cluster::PatchType::kMerge,
                 R"({"spec":{"analysis":{"match":[{"headers":{"x-canary":{"exact":"1"}}}]}}})")
          .ok());
  reconcileTimes(3);
  api::Canary c = canary();
  ASSERT_NE(condition(c, "Stalled"), nullptr);
  EXPECT_EQ(condition(c, "Stalled")->reason, "UnsupportedFeature");
  EXPECT_NE(
      condition(c, "Stalled")
          ->message->find(
              "spec.analysis.match: provider kubernetes cannot route by header, cookie or query"),
      std::string::npos)
      << *condition(c, "Stalled")->message;
  // Nothing was generated: no primary took over, no Service was pointed anywhere.
  EXPECT_FALSE(cluster_.get(cluster::kDeployments, {"shop", "web-primary"}).ok());
}

TEST_F(StalledTest, AMissingTargetIsStalledUntilItAppears) {
  createCanary("kubernetes", "web");
  reconcileTimes(2);
  api::Canary c = canary();
  ASSERT_NE(condition(c, "Stalled"), nullptr);
  EXPECT_EQ(condition(c, "Stalled")->reason, "TargetNotFound");
  EXPECT_EQ(*condition(c, "Stalled")->message,
            "Halt advancement: target deployment shop/web not found");
  ASSERT_TRUE(
      cluster_.create(cluster::kDeployments, "shop", api::JsonValue(deployment("web"))).ok());
  reconcileTimes(10);
  EXPECT_EQ(canary().status->phase, "Initialized");
}

TEST_F(StalledTest, AMissingMetricTemplateOrAlertProviderIsStalledUntilItExists) {
  ASSERT_TRUE(
      cluster_.create(cluster::kDeployments, "shop", api::JsonValue(deployment("web"))).ok());
  createCanary("kubernetes", "web");
  ASSERT_TRUE(cluster_
                  .patch(cluster::kCanaries, {"shop", "web"}, cluster::PatchType::kMerge,
                         R"({"spec":{"analysis":{
                           "metrics":[{"name":"errors","templateRef":{"name":"error-rate"},
                                       "thresholdRange":{"max":1}}],
                           "alerts":[{"name":"on-call","providerRef":{"name":"slack"}}]}}})")
                  .ok());
  reconcileTimes(3);
  api::Canary c = canary();
  ASSERT_NE(condition(c, "Stalled"), nullptr);
  EXPECT_EQ(condition(c, "Stalled")->reason, "ReferenceNotFound");
  EXPECT_EQ(
      *condition(c, "Stalled")->message,
      "canary shop/web: MetricTemplate shop/error-rate (spec.analysis.metrics[0].templateRef) "
      "not found");
  EXPECT_EQ(warnings("ReferenceNotFound"), 1);
  EXPECT_FALSE(cluster_.get(cluster::kDeployments, {"shop", "web-primary"}).ok());

  const json metricTemplate = {
      {"apiVersion", "flagger.app/v1beta1"},
      {"kind", "MetricTemplate"},
      {"metadata", {{"name", "error-rate"}, {"namespace", "shop"}}},
      {"spec", {{"provider", {{"type", "prometheus"}}}, {"query", "vector(0)"}}}};
  ASSERT_TRUE(
      cluster_.create(cluster::kMetricTemplates, "shop", api::JsonValue(metricTemplate)).ok());
  reconcileTimes(2);
  c = canary();
  EXPECT_EQ(*condition(c, "Stalled")->message,
            "canary shop/web: AlertProvider shop/slack (spec.analysis.alerts[0].providerRef) "
            "not found");

  const json alertProvider = {{"apiVersion", "flagger.app/v1beta1"},
                              {"kind", "AlertProvider"},
                              {"metadata", {{"name", "slack"}, {"namespace", "shop"}}},
                              {"spec", {{"type", "slack"}, {"address", "https://example.com/x"}}}};
  ASSERT_TRUE(
      cluster_.create(cluster::kAlertProviders, "shop", api::JsonValue(alertProvider)).ok());
  reconcileTimes(10);
  c = canary();
  EXPECT_EQ(c.status->phase, "Initialized");
  EXPECT_EQ(condition(c, "Stalled")->status, "False");
}

}  // namespace
}  // namespace canaryd::controller
