// The simulator's Prometheus: the built-in queries answered from the traffic ledger as
// Prometheus would answer them, never a number without requests, errors during an outage.
#include "canaryd/sim/metrics.h"

#include <cmath>

#include <gtest/gtest.h>

#include "canaryd/metrics/builtin_queries.h"
#include "canaryd/metrics/query_template.h"

namespace canaryd::sim {
namespace {

using std::chrono::seconds;

Side side(std::int64_t requests, std::int64_t errors) {
  Side s;
  s.requests = requests;
  s.errors = errors;
  s.latency[3] = requests;  // all in (25 ms, 50 ms]
  return s;
}

std::string render(const std::string& query, const std::string& target,
                   const std::string& interval) {
  metrics::QueryContext keys;
  keys.values = {{"namespace", "sim"}, {"target", target}, {"interval", interval}};
  return *metrics::renderQuery(query, keys);
}

class SimMetricsTest : public ::testing::Test {
 protected:
  SimMetricsTest() : ledger(clock.now(), seconds(5)) {
    // One minute: the canary serves 100 requests a tick with 2 errors, the primary 300 with 1.
    for (int i = 0; i < 12; ++i)
      ledger.append({side(300, 1), side(100, 2)});
    clock.advance(seconds(60));
    queries = *metrics::builtinQueries("gatewayapi:v1");
  }
  VirtualClock clock;
  TrafficLedger ledger;
  bool outage = false;
  metrics::BuiltinQueries queries;
  std::unique_ptr<metrics::Provider> provider = makeProvider(
      clock, ledger, {"gatewayapi:v1", "sim", "shop", [this](TimePoint) { return outage; }});
};

TEST_F(SimMetricsTest, AnswersTheBuiltInQueriesForCanaryAndPrimary) {
  EXPECT_DOUBLE_EQ(*provider->query(render(queries.requestSuccessRate, "shop", "1m")), 98.0);
  EXPECT_NEAR(*provider->query(render(queries.requestSuccessRate, "shop-primary", "1m")),
              100.0 * (3600 - 12) / 3600, 1e-9);
  EXPECT_DOUBLE_EQ(*provider->query(render(queries.requests, "shop", "60s")), 1200);
  EXPECT_DOUBLE_EQ(*provider->query(render(queries.errors, "shop-primary", "60s")), 12);
  // The window is the query's: the last 30 seconds are six ticks.
  EXPECT_DOUBLE_EQ(*provider->query(render(queries.requests, "shop", "30s")), 600);
  // p99 of requests all in (25, 50] ms: interpolated within the bucket, as Prometheus does.
  EXPECT_NEAR(*provider->query(render(queries.requestDuration, "shop", "1m")), 25 + 25 * 0.99,
              1e-9);
}

TEST_F(SimMetricsTest, LatencyBucketsAreCumulativeByLeInTheHistogramsUnit) {
  // All 1,200 canary requests of the minute in (25 ms, 50 ms]: the seconds histogram's le.
  Result<std::map<std::string, double>> byLe =
      provider->queryByLabel(render(queries.latencyBuckets, "shop", "1m"), "le");
  ASSERT_TRUE(byLe.ok()) << byLe.error().message();
  EXPECT_EQ(byLe->size(), kLatencyBuckets.size() + 1);
  EXPECT_EQ(byLe->at("0.025"), 0);
  EXPECT_EQ(byLe->at("0.05"), 1200);
  EXPECT_EQ(byLe->at("+Inf"), 1200);
  // Istio's histogram is in milliseconds.
  std::unique_ptr<metrics::Provider> istio =
      makeProvider(clock, ledger, {"istio", "sim", "shop", nullptr});
  Result<std::map<std::string, double>> ms = istio->queryByLabel(
      render(metrics::builtinQueries("istio")->latencyBuckets, "shop-primary", "1m"), "le");
  ASSERT_TRUE(ms.ok()) << ms.error().message();
  EXPECT_EQ(ms->at("50"), 3600);
  // Other queries by label are refused.
  EXPECT_FALSE(provider->queryByLabel(render(queries.requests, "shop", "1m"), "le").ok());
}

TEST_F(SimMetricsTest, NoRequestsIsNoDataAndAnOutageIsAnError) {
  // Two minutes on: the window holds no ticks.
  clock.advance(seconds(120));
  Result<double> none = provider->query(render(queries.requestSuccessRate, "shop", "1m"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::kNotFound);
  outage = true;
  Result<double> down = provider->query(render(queries.requests, "shop", "1m"));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().kind(), ErrorKind::kUnavailable);
}

TEST_F(SimMetricsTest, OtherQueriesAreRefusedByName) {
  Result<double> other = provider->query("sum(rate(istio_requests_total[1m]))");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(other.error().message().find("built-in queries"), std::string::npos);
}

TEST_F(SimMetricsTest, RangeQueriesSlideTheWindowAndKeepNaN) {
  const TimePoint end = clock.now();
  Result<std::vector<double>> points = provider->queryRange(render(queries.requests, "shop", "30s"),
                                                            end - seconds(60), end, seconds(15));
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 5u);
  EXPECT_TRUE(std::isnan((*points)[0]));  // nothing before the ledger's origin
  EXPECT_DOUBLE_EQ((*points)[1], 300);    // 15 s of ticks
  EXPECT_DOUBLE_EQ((*points)[4], 600);
}

TEST(PrometheusIncreaseTest, ExtrapolatesAsPrometheusDoes) {
  // Scrapes at 5, 20, 35, 50 s of a counter going 10, 25, 40, 55 in the window (0, 60]: 45
  // between the first and last samples over 45 s; 5 s to the start (within 1.1 x 15 s, and
  // short of where the counter would have been 0, 10 s earlier) and 10 s to the end are
  // extrapolated in full: 45 x 60 / 45 = 60.
  EXPECT_DOUBLE_EQ(prometheusIncrease({5, 20, 35, 50}, {10, 25, 40, 55}, 0, 60), 60);
  // A counter that started at 2 a second before its first sample: extrapolated to zero only.
  EXPECT_DOUBLE_EQ(prometheusIncrease({5, 20, 35, 50}, {2, 17, 32, 47}, 0, 60),
                   45.0 * (45 + 45.0 * 2 / 45 + 10) / 45);
  // Two samples in a 30 s window, 15 s apart: the gaps (7 and 8 s) are extrapolated: twice the
  // increase seen.
  EXPECT_DOUBLE_EQ(prometheusIncrease({7, 22}, {100, 110}, 0, 30), 20);
  // Far from the edges: half an average interval each side.
  EXPECT_DOUBLE_EQ(prometheusIncrease({30, 40}, {100, 110}, 0, 100), 10.0 * 20 / 10);
  EXPECT_TRUE(std::isnan(prometheusIncrease({5}, {10}, 0, 60)));
}

TEST(LatencyQuantileTest, InterpolatesLikeHistogramQuantile) {
  Side s;
  s.requests = 100;
  s.latency[0] = 50;                      // (0, 5 ms]
  s.latency[4] = 49;                      // (50, 100 ms]
  s.latency[kLatencyBuckets.size()] = 1;  // +Inf
  EXPECT_DOUBLE_EQ(latencyQuantileMs(s, 0.5), 5.0);
  EXPECT_DOUBLE_EQ(latencyQuantileMs(s, 0.99), 100.0);
  EXPECT_DOUBLE_EQ(latencyQuantileMs(s, 0.995), 10000.0);  // in +Inf: the highest bound
  EXPECT_TRUE(std::isnan(latencyQuantileMs(Side{}, 0.99)));
}

}  // namespace
}  // namespace canaryd::sim
