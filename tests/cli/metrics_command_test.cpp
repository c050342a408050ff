// `canaryd metrics` on the example Canary (examples/canary-gatewayapi.yaml) and its
// MetricTemplate (examples/metric-template.yaml), against Debian's Prometheus scraping a primary
// and a canary workload (tests/support/workloads_in_prometheus.h): the canary serves 4 % errors
// at 200 ms.
#include "cli/metrics_command.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/core/text.h"

#include "support/source_files.h"
#include "support/workloads_in_prometheus.h"

namespace canaryd::cli {
namespace {

class MetricsCommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { workloads_ = std::make_unique<testing::WorkloadsInPrometheus>(); }
  static void TearDownTestSuite() { workloads_.reset(); }

  int run(MetricsOptions options, const std::string& stdinText = "") {
    options.prometheus = workloads_->url();
    std::istringstream in(stdinText);
    out.str("");
    err.str("");
    return runMetrics(options, in, out, err);
  }

  std::ostringstream out;
  std::ostringstream err;
  static inline std::unique_ptr<testing::WorkloadsInPrometheus> workloads_;
};

TEST_F(MetricsCommandTest, RunsEveryMetricOfTheExampleCanary) {
  MetricsOptions options;
  options.files = {testing::sourcePath("examples/canary-gatewayapi.yaml"),
                   testing::sourcePath("examples/metric-template.yaml")};
  options.output = "json";
  // Every query returned a value, two outside their ranges.
  ASSERT_EQ(run(options), kMetricsOutOfRange) << err.str() << out.str();
  const nlohmann::json rows = nlohmann::json::parse(out.str());
  ASSERT_EQ(rows.size(), 3u) << rows.dump(2);
  // request-success-rate: 96 % < 99 -> fail; request-duration: p99 248.5 ms <= 500 -> pass;
  // error-rate (the MetricTemplate): 4 % > 1 -> fail.
  EXPECT_EQ(rows[0]["metric"], "request-success-rate");
  EXPECT_EQ(rows[0]["verdict"], "fail");
  EXPECT_NEAR(rows[0]["value"].get<double>(), 96, 0.5);
  EXPECT_EQ(rows[0]["range"], ">= 99");
  EXPECT_EQ(rows[1]["metric"], "request-duration");
  EXPECT_EQ(rows[1]["verdict"], "pass");
  EXPECT_NEAR(rows[1]["value"].get<double>(), 248.5, 0.5);
  EXPECT_EQ(rows[2]["metric"], "error-rate");
  EXPECT_EQ(rows[2]["verdict"], "fail");
  EXPECT_NEAR(rows[2]["value"].get<double>(), 4, 0.4);
  EXPECT_NE(rows[2]["query"].get<std::string>().find(R"(namespace="test")"), std::string::npos);
  EXPECT_EQ(rows[2]["message"],
            "error-rate " + formatNumber(rows[2]["value"].get<double>()) + " > 1");
}

TEST_F(MetricsCommandTest, NoDataOrAMissingTemplateExitsThree) {
  // The same Canary in a namespace without traffic, and without its MetricTemplate.
  std::string canary = testing::readFile(testing::sourcePath("examples/canary-gatewayapi.yaml"));
  ASSERT_NE(canary.find("namespace: test"), std::string::npos);
  canary.replace(canary.find("namespace: test"), 15, "namespace: quiet");
  MetricsOptions options;
  options.files = {"-"};
  EXPECT_EQ(run(options, canary), kMetricsNoData);
  EXPECT_NE(out.str().find("nodata  request-success-rate = (none)"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("no values found for the query"), std::string::npos);
  EXPECT_NE(out.str().find("MetricTemplate test/error-rate: not in the input files"),
            std::string::npos)
      << out.str();
}

// Exit codes tell the three outcomes apart: every check in range 0, a value out of range 1
// (above), no data 3 (above).
TEST_F(MetricsCommandTest, EveryCheckInItsRangeExitsZero) {
  std::string canary = testing::readFile(testing::sourcePath("examples/canary-gatewayapi.yaml"));
  // Ranges wide enough for what the synthetic workloads serve (96% success, 4% errors).
  for (const auto& [from, to] : {std::pair{std::string("min: 99"), std::string("min: 90")},
                                 std::pair{std::string("max: 1\n"), std::string("max: 10\n")}}) {
    ASSERT_NE(canary.find(from), std::string::npos) << from;
    canary.replace(canary.find(from), from.size(), to);
  }
  MetricsOptions options;
  options.files = {"-", testing::sourcePath("examples/metric-template.yaml")};
  EXPECT_EQ(run(options, canary), 0) << out.str() << err.str();
  EXPECT_EQ(out.str().find("fail "), std::string::npos) << out.str();
}

TEST_F(MetricsCommandTest, UsageErrors) {
  MetricsOptions options;
  options.files = {testing::sourcePath("examples/metric-template.yaml")};
  EXPECT_EQ(run(options), 2);
  EXPECT_EQ(err.str(), "canaryd metrics: no Canary in the input\n");
  options.files = {"/nonexistent.yaml"};
  EXPECT_EQ(run(options), 2);
  EXPECT_NE(err.str().find("cannot read /nonexistent.yaml"), std::string::npos);
}

}  // namespace
}  // namespace canaryd::cli
