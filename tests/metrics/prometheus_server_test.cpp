// The Prometheus provider and the built-in queries against Debian's Prometheus, scraping two
// test workloads (tests/support/workload_exporter.h) labelled as Kubernetes service discovery
// would label a primary pod and a canary pod:
//   primary: 200 requests/s, 0.5 % errors, 20 ms each
//   canary:  100 requests/s, 4 % errors, 200 ms each
// Expected values follow from Prometheus' definitions; tolerances are stated per assertion.
#include <cmath>
#include <memory>

#include <gtest/gtest.h>

#include "canaryd/core/http.h"
#include "canaryd/metrics/builtin_queries.h"
#include "canaryd/metrics/provider.h"
#include "canaryd/metrics/query_template.h"
#include "canaryd/plugins/builtin.h"

#include "support/raw_http_server.h"
#include "support/workloads_in_prometheus.h"

namespace canaryd::metrics {
namespace {

class PrometheusServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { workloads_ = std::make_unique<testing::WorkloadsInPrometheus>(); }
  static void TearDownTestSuite() { workloads_.reset(); }

  static std::string rendered(const std::string& query, const std::string& target) {
    QueryContext context{
        {{"namespace", "test"}, {"target", target}, {"interval", "5s"}, {"name", "podinfo"}}, {}};
    Result<std::string> q = renderQuery(query, context);
    EXPECT_TRUE(q.ok()) << q.error().message();
    return q.ok() ? *q : "";
  }

  static inline std::unique_ptr<testing::WorkloadsInPrometheus> workloads_;
};

TEST_F(PrometheusServerTest, BuiltinSuccessRateAndDurationForGatewayApiAndKubernetes) {
  for (const char* provider : {"gatewayapi:v1", "kubernetes"}) {
    Result<BuiltinQueries> q = builtinQueries(provider);
    ASSERT_TRUE(q.ok());
    // Success rate: 100 x non-5xx / all; the exporters' error rates are exact per second,
    // so over 5s the rate is within 0.5 points.
    Result<double> canary =
        workloads_->provider().query(rendered(q->requestSuccessRate, "podinfo"));
    ASSERT_TRUE(canary.ok()) << canary.error().message();
    EXPECT_NEAR(*canary, 96.0, 0.5) << provider;
    Result<double> primary =
        workloads_->provider().query(rendered(q->requestSuccessRate, "podinfo-primary"));
    ASSERT_TRUE(primary.ok()) << primary.error().message();
    EXPECT_NEAR(*primary, 99.5, 0.5);
    // p99 in ms from the histogram: every request in (0.1, 0.25] -> 100 + 150 x 0.99 = 248.5;
    // in (0.01, 0.025] -> 10 + 15 x 0.99 = 24.85 (histogram_quantile interpolates linearly).
    Result<double> slow = workloads_->provider().query(rendered(q->requestDuration, "podinfo"));
    ASSERT_TRUE(slow.ok()) << slow.error().message();
    EXPECT_NEAR(*slow, 248.5, 0.5);
    Result<double> fast =
        workloads_->provider().query(rendered(q->requestDuration, "podinfo-primary"));
    ASSERT_TRUE(fast.ok());
    EXPECT_NEAR(*fast, 24.85, 0.05);
  }
}

TEST_F(PrometheusServerTest, EveryProvidersBuiltinQueriesAreValidPromQL) {
  // Prometheus parses each rendered query: no data here (other metric names), never bad_data.
  const std::vector<std::string> providers = builtinProviders();
  EXPECT_GE(providers.size(), 13u);
  for (const std::string& provider : providers) {
    Result<BuiltinQueries> q = builtinQueries(provider);
    ASSERT_TRUE(q.ok());
    for (const std::string* text :
         {&q->requestSuccessRate, &q->requestDuration, &q->requests, &q->errors, &q->latencyBuckets,
          &q->requestsTotal, &q->errorsTotal, &q->requestsResets}) {
      if (text->empty()) continue;
      QueryContext context{{{"namespace", "test"},
                            {"target", "podinfo"},
                            {"backend", "podinfo-canary"},
                            {"interval", "5s"},
                            {"ingress", "podinfo"},
                            {"route", "podinfo"},
                            {"service", "podinfo"}},
                           {}};
      Result<std::string> rendered = renderQuery(*text, context);
      ASSERT_TRUE(rendered.ok()) << provider << ": " << rendered.error().message();
      // The buckets are a vector by `le`; every other query one number.
      std::optional<Error> error;
      if (text == &q->latencyBuckets) {
        Result<std::map<std::string, double>> v =
            workloads_->provider().queryByLabel(*rendered, "le");
        if (!v) error = v.error();
      } else {
        Result<double> v = workloads_->provider().query(*rendered);
        if (!v) error = v.error();
      }
      if (error) {
        EXPECT_NE(error->kind(), ErrorKind::kInvalidInput) << provider << ": " << error->message();
      }
    }
  }
}

TEST_F(PrometheusServerTest, CounterIncrementsCountRequestsAndErrors) {
  Result<BuiltinQueries> q = builtinQueries("gatewayapi");
  ASSERT_TRUE(q.ok());
  // increase() over 5s extrapolates to the window: 100 x 5 = 500 canary requests, 4 % = 20
  // errors; primary 1,000 and 5. Tolerance 10 % (scrape alignment).
  Result<double> requests = workloads_->provider().query(rendered(q->requests, "podinfo"));
  Result<double> errors = workloads_->provider().query(rendered(q->errors, "podinfo"));
  Result<double> primaryRequests =
      workloads_->provider().query(rendered(q->requests, "podinfo-primary"));
  ASSERT_TRUE(requests.ok() && errors.ok() && primaryRequests.ok());
  EXPECT_NEAR(*requests, 500, 50);
  EXPECT_NEAR(*errors, 20, 3);
  EXPECT_NEAR(*primaryRequests, 1000, 100);
  EXPECT_NEAR(*errors / *requests, 0.04, 0.004);
  // The counters' totals: at least what 5 s served, and the errors a share of the requests.
  Result<double> total = workloads_->provider().query(rendered(q->requestsTotal, "podinfo"));
  Result<double> totalErrors = workloads_->provider().query(rendered(q->errorsTotal, "podinfo"));
  ASSERT_TRUE(total.ok() && totalErrors.ok());
  EXPECT_GE(*total, 450);
  EXPECT_NEAR(*totalErrors / *total, 0.04, 0.004);
  // No pod restarted: no resets.
  ASSERT_FALSE(q->requestsResets.empty());
  Result<double> resets = workloads_->provider().query(rendered(q->requestsResets, "podinfo"));
  ASSERT_TRUE(resets.ok()) << resets.error().message();
  EXPECT_EQ(*resets, 0);
}

TEST_F(PrometheusServerTest, LatencyBucketsComeBackByLe) {
  Result<BuiltinQueries> q = builtinQueries("kubernetes");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->latencyBucketMs, 1000);
  // Every canary request takes 200 ms: the buckets below 0.25 s stay at zero and the rest
  // count all of them (cumulative), about 500 over 5s; the primary's 20 ms requests are all
  // at or below 0.025 s.
  Result<std::map<std::string, double>> canary =
      workloads_->provider().queryByLabel(rendered(q->latencyBuckets, "podinfo"), "le");
  ASSERT_TRUE(canary.ok()) << canary.error().message();
  ASSERT_TRUE(canary->count("0.1") && canary->count("0.25") && canary->count("+Inf"));
  EXPECT_EQ(canary->at("0.1"), 0);
  EXPECT_NEAR(canary->at("0.25"), 500, 50);
  EXPECT_EQ(canary->at("0.25"), canary->at("+Inf"));
  Result<std::map<std::string, double>> primary =
      workloads_->provider().queryByLabel(rendered(q->latencyBuckets, "podinfo-primary"), "le");
  ASSERT_TRUE(primary.ok()) << primary.error().message();
  EXPECT_EQ(primary->at("0.01"), 0);
  EXPECT_NEAR(primary->at("0.025"), 1000, 100);
  // A query whose series lack the label, and one without series, are errors.
  Result<std::map<std::string, double>> unlabelled =
      workloads_->provider().queryByLabel("sum(up)", "le");
  ASSERT_FALSE(unlabelled.ok());
  EXPECT_NE(unlabelled.error().message().find("has no label \"le\""), std::string::npos)
      << unlabelled.error().message();
  Result<std::map<std::string, double>> none =
      workloads_->provider().queryByLabel("sum by (le) (nonexistent_bucket)", "le");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::kNotFound);
}

TEST_F(PrometheusServerTest, RangeQueriesGiveOneValuePerStep) {
  // Points 3, 2 and 1 s ago, each a rate over the 2 s before it: inside the 5 s of data the
  // suite waited for, and clear of the newest, still-arriving scrape.
  const auto now = std::chrono::system_clock::now();
  Result<std::vector<double>> values = workloads_->provider().queryRange(
      R"(sum(rate(http_request_duration_seconds_count{kubernetes_pod_name=~"podinfo-7.*"}[2s])))",
      now - std::chrono::seconds(3), now - std::chrono::seconds(1), std::chrono::seconds(1));
  ASSERT_TRUE(values.ok()) << values.error().message();
  EXPECT_EQ(values->size(), 3u);
  for (double v : *values)
    EXPECT_NEAR(v, 100, 15);
  Result<std::vector<double>> several = workloads_->provider().queryRange(
      "up", now - std::chrono::seconds(2), now, std::chrono::seconds(1));
  ASSERT_FALSE(several.ok());
  EXPECT_NE(several.error().message().find("2 series where one was expected"), std::string::npos);
}

TEST_F(PrometheusServerTest, NoDataAndBadQueriesAreReportedAsSuch) {
  Result<double> empty = workloads_->provider().query(R"(sum(rate(nonexistent_total[1m])))");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind(), ErrorKind::kNotFound);
  Result<double> nan = workloads_->provider().query("0/0");
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().kind(), ErrorKind::kNotFound);
  Result<double> bad = workloads_->provider().query("sum(rate(x[1m]");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::kInvalidInput);
  // Prometheus' own words reach the user.
  EXPECT_NE(
      bad.error().message().find(
          "bad_data: invalid parameter \"query\": 1:15: parse error: unclosed left parenthesis"),
      std::string::npos)
      << bad.error().message();
  Result<double> several = workloads_->provider().query("up");
  ASSERT_FALSE(several.ok());
  EXPECT_NE(several.error().message().find(R"("job":"canary")"), std::string::npos);
}

TEST(PrometheusTimeoutTest, ASlowServerTimesOutAfterTheConfiguredTime) {
  std::atomic<bool> release{false};
  testing::RawHttpServer slow([&](const std::string&) {
    for (int i = 0; i < 100 && !release; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return testing::RawHttpServer::response(200, "{}");
  });
  ProviderConfig config;
  config.address = slow.url();
  config.timeout = std::chrono::milliseconds(200);
  config.retries = 0;
  const auto started = std::chrono::steady_clock::now();
  Result<double> v = (*plugins::builtin().makeMetricProvider(config))->query("up");
  const auto took = std::chrono::steady_clock::now() - started;
  release = true;
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().kind(), ErrorKind::kUnavailable);
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace canaryd::metrics
