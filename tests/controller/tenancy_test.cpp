// What a namespace owner's objects cannot reach: a MetricTemplate or AlertProvider in another
// namespace under --no-cross-namespace-refs, and a template's credentials sent anywhere but the
// address the template names.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/controller/metric_checks.h"
#include "canaryd/core/base64.h"
#include "canaryd/notify/alert_providers.h"
#include "canaryd/plugins/builtin.h"

#include "support/objects_client.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

api::Canary canaryIn(const std::string& ns, const std::string& templateNs) {
  auto c = api::canaryFromJson(
      R"({"apiVersion":"flagger.app/v1beta1","kind":"Canary",
          "metadata":{"name":"web","namespace":")" +
      ns + R"("},
          "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
                  "service":{"port":80}, "metricsServer":"http://attacker.a:9090",
                  "analysis":{"interval":"1m","threshold":5,"stepWeight":10,
                    "alerts":[{"name":"chat","providerRef":{"name":"chat","namespace":")" +
      templateNs + R"("}}],
                    "metrics":[{"name":"errors","templateRef":{"name":"errors","namespace":")" +
      templateNs + R"("},"thresholdRange":{"max":1}}]}}})");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return *c;
}

json metricTemplate(const std::string& ns, const std::string& address) {
  json provider = {{"type", "prometheus"}, {"secretRef", {{"name", "prom-token"}}}};
  if (!address.empty()) provider["address"] = address;
  return {{"apiVersion", "flagger.app/v1beta1"},
          {"kind", "MetricTemplate"},
          {"metadata", {{"name", "errors"}, {"namespace", ns}}},
          {"spec", {{"provider", provider}, {"query", "vector(0)"}}}};
}

json tokenSecret(const std::string& ns) {
  return {{"metadata", {{"name", "prom-token"}, {"namespace", ns}}},
          {"data", {{"token", base64Encode("team-b-token")}}}};
}

struct Recorded {
  std::vector<metrics::ProviderConfig> configs;
  ProviderFactory factory() {
    return [this](const metrics::ProviderConfig& c) -> Result<std::unique_ptr<metrics::Provider>> {
      configs.push_back(c);
      return Error::unavailable("recorded only");
    };
  }
};

TEST(TenancyTest, CrossNamespaceTemplateRefsAreRefusedUnderTheFlag) {
  testing::ObjectsClient cluster;
  cluster.objects["MetricTemplate/b/errors"] = metricTemplate("b", "http://prometheus.b:9090");
  cluster.objects["Secret/b/prom-token"] = tokenSecret("b");
  Recorded recorded;
  const ProviderFactory factory = recorded.factory();
  const api::Canary canary = canaryIn("a", "b");
  const api::CanaryMetric& metric = canary.spec.analysis->metrics[0];

  MetricCheckContext strict{cluster, factory, "http://prometheus:9090", "kubernetes", true};
  MetricCheck refused = checkMetric(canary, metric, strict);
  EXPECT_FALSE(refused.passed);
  EXPECT_EQ(refused.failure,
            "errors: templateRef b/errors is in another namespace than the Canary (a), which "
            "canaryd run --no-cross-namespace-refs refuses");
  EXPECT_TRUE(recorded.configs.empty());

  // Without the flag (Flagger's default) the reference is followed, and B's token goes only to
  // B's template's own address.
  MetricCheckContext open{cluster, factory, "http://prometheus:9090", "kubernetes", false};
  (void)checkMetric(canary, metric, open);
  ASSERT_EQ(recorded.configs.size(), 1u);
  EXPECT_EQ(recorded.configs[0].address, "http://prometheus.b:9090");
  EXPECT_EQ(recorded.configs[0].bearerToken, "team-b-token");
}

TEST(TenancyTest, ATemplatesCredentialsNeverGoToAnAddressItDoesNotName) {
  testing::ObjectsClient cluster;
  cluster.objects["MetricTemplate/b/errors"] = metricTemplate("b", "");  // no address
  cluster.objects["Secret/b/prom-token"] = tokenSecret("b");
  Recorded recorded;
  const ProviderFactory factory = recorded.factory();
  const api::Canary canary = canaryIn("a", "b");  // spec.metricsServer: the attacker's
  MetricCheckContext context{cluster, factory, "http://prometheus:9090", "kubernetes", false};
  MetricCheck check = checkMetric(canary, canary.spec.analysis->metrics[0], context);
  EXPECT_FALSE(check.passed);
  EXPECT_NE(check.failure.find("MetricTemplate b/errors has a secretRef but no provider.address"),
            std::string::npos)
      << check.failure;
  EXPECT_TRUE(recorded.configs.empty());  // nothing was sent anywhere
}

TEST(TenancyTest, CrossNamespaceAlertProvidersAreRefusedUnderTheFlag) {
  testing::ObjectsClient cluster;
  cluster.objects["AlertProvider/b/chat"] = {
      {"metadata", {{"name", "chat"}, {"namespace", "b"}}},
      {"spec", {{"type", "slack"}, {"address", "http://127.0.0.1:1/hook"}}}};
  notify::AlertProviderNotifier notifier(cluster, plugins::builtin().notifiers(),
                                         std::chrono::milliseconds(500), 0);
  notifier.refuseCrossNamespaceRefs(true);
  notify::Alert alert;
  alert.severity = "error";
  alert.phase = "Failed";
  Status s = notifier.notify(canaryIn("a", "b"), alert);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("providerRef b/chat is in another namespace than the Canary "
                                     "(a), which canaryd run --no-cross-namespace-refs refuses"),
            std::string::npos)
      << s.error().message();
}

}  // namespace
}  // namespace canaryd::controller
