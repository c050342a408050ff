// A Prometheus that a tenant named (a MetricTemplate's address) answering anything at all: every
// answer of the corpus, with every status, and answers too large, too deep, too many, too
// slow, or not HTTP. Each query returns a value or an error that names the server; nothing
// throws, and every message is fit for a status.
#include <chrono>
#include <map>

#include <gtest/gtest.h>

#include "canaryd/core/text.h"
#include "canaryd/metrics/provider.h"
#include "canaryd/plugins/builtin.h"

#include "hostile/hostile.h"
#include "support/raw_http_server.h"

namespace canaryd::metrics {
namespace {

using testing::RawHttpServer;

std::unique_ptr<Provider> provider(const std::string& address) {
  ProviderConfig config;
  config.address = address;
  config.retries = 0;
  config.timeout = std::chrono::milliseconds(1500);
  Result<std::unique_ptr<Provider>> p = plugins::builtin().makeMetricProvider(config);
  EXPECT_TRUE(p.ok());
  return std::move(*p);
}

// Both kinds of query against a server answering `raw`; the errors must name the server.
void expectHandled(const std::string& raw, const std::string& label) {
  RawHttpServer server([&](const std::string&) { return raw; });
  auto p = provider(server.url());
  const std::string host = server.url().substr(7);  // 127.0.0.1:PORT
  Result<double> instant = Error::internal("not run");
  ASSERT_NO_THROW(instant = p->query("sum(rate(http_requests_total[1m]))")) << label;
  if (!instant.ok()) {
    EXPECT_TRUE(testing::fitForStatus(instant.error().message())) << label;
    if (instant.error().kind() != ErrorKind::kNotFound) {
      EXPECT_NE(instant.error().message().find(host), std::string::npos)
          << label << ": " << instant.error().message();
    }
  }
  Result<std::vector<double>> range = Error::internal("not run");
  const auto now = std::chrono::system_clock::now();
  ASSERT_NO_THROW(
      range = p->queryRange("up", now - std::chrono::minutes(1), now, std::chrono::seconds(15)))
      << label;
  if (!range.ok()) {
    EXPECT_TRUE(testing::fitForStatus(range.error().message())) << label;
  }
  Result<std::map<std::string, double>> byLe = Error::internal("not run");
  ASSERT_NO_THROW(byLe = p->queryByLabel("sum by (le) (increase(x_bucket[1m]))", "le")) << label;
  if (!byLe.ok()) {
    EXPECT_TRUE(testing::fitForStatus(byLe.error().message())) << label;
  }
}

TEST(HostilePrometheusTest, EveryCorpusAnswerWithEveryStatusIsAValueOrAnError) {
  const auto answers = testing::corpus("prometheus");
  ASSERT_GE(answers.size(), 30u);
  for (const auto& [name, body] : answers) {
    for (int status : {200, 400, 422, 500, 503}) {
      expectHandled(RawHttpServer::response(status, body),
                    name + " as HTTP " + std::to_string(status));
    }
  }
}

TEST(HostilePrometheusTest, TheCrashOfTheIssueIsAnErrorNamingTheServer) {
  // A `result` holding arrays where Prometheus puts objects aborted canaryd before.
  RawHttpServer server([](const std::string&) {
    return RawHttpServer::response(
        200, R"({"status":"success","data":{"resultType":"vector","result":[["a","b"]]}})");
  });
  Result<double> v = provider(server.url())->query("up");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("Prometheus " + server.url() +
                                     " answered a series that is not an object: [\"a\",\"b\"]"),
            std::string::npos)
      << v.error().message();
}

TEST(HostilePrometheusTest, BucketsByLeRefuseWhatIsNotOneNumberPerLe) {
  auto vectorOf = [](const std::string& series) {
    return RawHttpServer::response(
        200, R"({"status":"success","data":{"resultType":"vector","result":[)" + series + "]}}");
  };
  const std::string one = R"({"metric":{"le":"0.1"},"value":[1,"5"]})";
  std::string many;
  for (std::size_t i = 0; i <= Provider::kMaxLabelledSeries; ++i) {
    many += (i > 0 ? "," : "") + std::string(R"({"metric":{"le":")") + std::to_string(i) +
            R"("},"value":[1,"1"]})";
  }
  const std::pair<std::string, std::string> cases[] = {
      {vectorOf(one + "," + one), "have le=\"0.1\""},
      {vectorOf(R"({"metric":{"le":0.1},"value":[1,"5"]})"), "has no label \"le\""},
      {vectorOf(R"({"metric":{},"value":[1,"5"]})"), "has no label \"le\""},
      {vectorOf(many), "more than the limit of 200"},
      {vectorOf(R"({"metric":{"le":"0.1"},"value":[1,"five"]})"), "non-numeric sample"},
  };
  for (const auto& [raw, want] : cases) {
    RawHttpServer server([&](const std::string&) { return raw; });
    Result<std::map<std::string, double>> v = provider(server.url())->queryByLabel("q", "le");
    ASSERT_FALSE(v.ok()) << want;
    EXPECT_NE(v.error().message().find(want), std::string::npos) << v.error().message();
  }
  RawHttpServer good([&](const std::string&) { return vectorOf(one); });
  Result<std::map<std::string, double>> v = provider(good.url())->queryByLabel("q", "le");
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ(*v, (std::map<std::string, double>{{"0.1", 5}}));
}

TEST(HostilePrometheusTest, NoDataIsNeverAValue) {
  for (const char* value : {"NaN", "1e999", "+Inf", "-Inf"}) {
    RawHttpServer server([&](const std::string&) {
      return RawHttpServer::response(
          200, std::string(R"({"status":"success","data":{"resultType":"vector","result":[)") +
                   R"({"metric":{},"value":[1,")" + value + R"("]}]}})");
    });
    Result<double> v = provider(server.url())->query("up");
    ASSERT_FALSE(v.ok()) << value;
    EXPECT_EQ(v.error().kind(), ErrorKind::kNotFound) << value;
  }
}

TEST(HostilePrometheusTest, LimitsOnSizeDepthAndSeriesNameTheLimit) {
  struct Case {
    std::string body;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {testing::nested(100000), "nested deeper than the limit of 64 levels"},
      {std::string(11u << 20, ' '), "larger than the limit of 10485760 bytes"},
      {testing::longError(100 * 1024), "refused the query"},
      {testing::manySeries(50000), "returned 50000 series where one was expected"},
  };
  for (const Case& c : cases) {
    RawHttpServer server([&](const std::string&) { return RawHttpServer::response(200, c.body); });
    Result<double> v = provider(server.url())->query("up");
    ASSERT_FALSE(v.ok()) << c.expected;
    EXPECT_NE(v.error().message().find(c.expected), std::string::npos) << v.error().message();
    // The 100 KB error message and the 50,000 series are cut to what a person reads.
    EXPECT_TRUE(testing::fitForStatus(v.error().message(), 2048)) << c.expected;
  }
}

TEST(HostilePrometheusTest, ARangeAnswerOfTooManyPointsIsRefused) {
  std::string values;
  for (int i = 0; i < 11001; ++i)
    values += (i == 0 ? "" : ",") + std::string("[1,\"1\"]");
  RawHttpServer server([&](const std::string&) {
    return RawHttpServer::response(
        200,
        R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[)" +
            values + "]}]}}");
  });
  const auto now = std::chrono::system_clock::now();
  Result<std::vector<double>> r =
      provider(server.url())
          ->queryRange("up", now - std::chrono::hours(1), now, std::chrono::seconds(1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("11001 points, more than the limit of 11000"),
            std::string::npos)
      << r.error().message();
}

TEST(HostilePrometheusTest, NotHttpSilenceAndHangingUpAreErrors) {
  for (const std::string& raw :
       {std::string("\x16\x03\x01 not http at all\r\n\r\n"), std::string(""),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"status\""),
        std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    expectHandled(raw, "raw " + quote(raw));
  }
  testing::SilentListener silent;
  const auto started = std::chrono::steady_clock::now();
  Result<double> v = provider(silent.url())->query("up");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(v.error().message().find("did not answer"), std::string::npos) << v.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

}  // namespace
}  // namespace canaryd::metrics
