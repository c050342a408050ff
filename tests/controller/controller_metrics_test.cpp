// ControllerMetrics: Flagger's series with Flagger's labels and values, canaryd's own, and the
// dashboard and alert rules in deploy/monitoring/ using only series canaryd exports.
#include "canaryd/controller/controller_metrics.h"

#include <regex>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/source_files.h"

namespace canaryd::controller {
namespace {

ReconcileOutcome outcomeAt(const std::string& phase, std::int64_t weight,
                           std::string finished = "") {
  ReconcileOutcome o;
  o.phase = phase;
  o.target = "podinfo";
  o.canaryWeight = weight;
  o.metricValues = {{"request-success-rate", 99.5}};
  o.finished = std::move(finished);
  return o;
}

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(ControllerMetricsTest, FlaggerSeriesFollowTheRollout) {
  ControllerMetrics m("gatewayapi");
  const cluster::ObjectRef ref{"test", "podinfo-canary"};  // a Canary named unlike its target
  m.recordReconcile(ref, outcomeAt("Progressing", 20), 0.02);
  std::string text = m.render();
  EXPECT_TRUE(has(text, R"(flagger_info{mesh_provider="gatewayapi",version="0.1.0"} 1)"));
  EXPECT_TRUE(has(text, R"(flagger_canary_status{name="podinfo",namespace="test"} 0)")) << text;
  EXPECT_TRUE(has(text, R"(flagger_canary_weight{namespace="test",workload="podinfo"} 20)"));
  EXPECT_TRUE(
      has(text, R"(flagger_canary_weight{namespace="test",workload="podinfo-primary"} 80)"));
  EXPECT_TRUE(has(
      text,
      R"(flagger_canary_metric_analysis{metric="request-success-rate",name="podinfo",namespace="test"} 99.5)"));
  EXPECT_TRUE(
      has(text, R"(flagger_canary_duration_seconds_count{name="podinfo",namespace="test"} 1)"));
  EXPECT_TRUE(has(text, R"(flagger_canary_total{namespace="test"} 1)"));

  m.recordReconcile(ref, outcomeAt("Succeeded", 0, "succeeded"), 0.01);
  ReconcileOutcome failed = outcomeAt("Failed", 0, "failed");
  failed.strategy = "blue-green";
  m.recordReconcile(ref, failed, 0.01);
  text = m.render();
  EXPECT_TRUE(has(text, R"(flagger_canary_status{name="podinfo",namespace="test"} 2)"));
  EXPECT_TRUE(has(
      text,
      R"(flagger_canary_successes_total{analysis_status="completed",deployment_strategy="canary",name="podinfo",namespace="test"} 1)"));
  EXPECT_TRUE(has(
      text,
      R"(flagger_canary_failures_total{analysis_status="completed",deployment_strategy="blue-green",name="podinfo",namespace="test"} 1)"));

  ReconcileOutcome gone;
  gone.exists = false;
  m.recordReconcile(ref, gone, 0.001);
  text = m.render();
  EXPECT_EQ(text.find(R"(flagger_canary_status{name="podinfo")"), std::string::npos);
  EXPECT_TRUE(has(text, R"(flagger_canary_total{namespace="test"} 0)"));
  m.recordReconcile(ref, Error::conflict("changed"), 0.001);
  EXPECT_TRUE(has(m.render(), R"(canaryd_reconciles_total{result="conflict"} 1)"));
}

TEST(ControllerMetricsTest, RequestsQueueNotificationsAndLeadership) {
  ControllerMetrics m;
  HttpObserver kube = m.kubeApiObserver();
  HttpRequest get;
  kube(get, 200, 0.004);
  kube(get, 200, 0.006);
  HttpRequest patch;
  patch.method = "PATCH";
  kube(patch, 409, 0.01);
  m.prometheusObserver()(get, 0, 5.0);
  m.recordNotification("slack", true);
  m.recordNotification("pagerduty", false);
  m.observeQueue(std::chrono::milliseconds(30), 3);
  m.setLeader(true);
  const std::string text = m.render();
  EXPECT_TRUE(has(text, R"(canaryd_kube_api_requests_total{code="200",method="GET"} 2)"));
  EXPECT_TRUE(has(text, R"(canaryd_kube_api_requests_total{code="409",method="PATCH"} 1)"));
  EXPECT_TRUE(has(text, R"(canaryd_kube_api_request_duration_seconds_count{method="GET"} 2)"));
  EXPECT_TRUE(has(text, R"(canaryd_prometheus_requests_total{code="none"} 1)"));
  EXPECT_TRUE(has(text, R"(canaryd_notifications_total{provider="slack",result="sent"} 1)"));
  EXPECT_TRUE(has(text, R"(canaryd_notifications_total{provider="pagerduty",result="failed"} 1)"));
  EXPECT_TRUE(has(text, "canaryd_workqueue_depth 3"));
  EXPECT_TRUE(has(text, "canaryd_workqueue_wait_seconds_count 1"));
  EXPECT_TRUE(has(text, "canaryd_leader 1"));
}

// Every flagger_/canaryd_ series the dashboard and the rules read must be one canaryd exports.
TEST(ControllerMetricsTest, DashboardAndRulesUseOnlyExportedSeries) {
  const std::string exported = ControllerMetrics().render();
  std::set<std::string> names;
  const std::regex typeLine(R"(# TYPE (\w+) (\w+))");
  for (auto it = std::sregex_iterator(exported.begin(), exported.end(), typeLine);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1]);
  }
  // Families appear once they have a series: the daemon's full set.
  for (const char* name :
       {"flagger_canary_status", "flagger_canary_weight", "flagger_canary_duration_seconds",
        "flagger_canary_metric_analysis", "flagger_canary_successes_total",
        "flagger_canary_failures_total", "flagger_canary_total", "canaryd_reconciles_total",
        "canaryd_kube_api_requests_total", "canaryd_kube_api_request_duration_seconds",
        "canaryd_prometheus_requests_total", "canaryd_notifications_total"}) {
    names.insert(name);  // families with labels, which render only once used
  }
  const std::string dashboard =
      testing::readFile(testing::sourcePath("deploy/monitoring/grafana-dashboard.json"));
  const nlohmann::json parsed = nlohmann::json::parse(dashboard);
  std::string exprs;
  int targets = 0;
  for (const auto& panel : parsed.at("panels")) {
    for (const auto& target : panel.at("targets")) {
      exprs += target.at("expr").get<std::string>() + "\n";
      ++targets;
    }
  }
  EXPECT_GE(targets, 10);
  exprs += testing::readFile(testing::sourcePath("deploy/monitoring/prometheus-rule.yaml"));
  const std::regex used(R"(\b((flagger|canaryd)_[a-z_]+?)(_bucket|_sum|_count)?\b)");
  int checked = 0;
  for (auto it = std::sregex_iterator(exprs.begin(), exprs.end(), used);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(names.contains((*it)[1])) << "not exported by canaryd: " << (*it)[0];
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

}  // namespace
}  // namespace canaryd::controller
