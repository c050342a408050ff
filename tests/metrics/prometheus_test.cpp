// The Prometheus provider against scripted answers (the wire format of /api/v1/query) and
// against answers that are wrong in every way a broken proxy or server can make them.
#include <gtest/gtest.h>

#include "canaryd/metrics/provider.h"
#include "canaryd/plugins/builtin.h"

#include "support/raw_http_server.h"

namespace canaryd::metrics {
namespace {

using testing::RawHttpServer;

Result<double> ask(int status, const std::string& body, std::string* request = nullptr,
                   ProviderConfig config = {}) {
  RawHttpServer server([&](const std::string& r) {
    if (request != nullptr) *request = r;
    return RawHttpServer::response(status, body);
  });
  config.address = server.url("/");
  Result<std::unique_ptr<Provider>> provider = plugins::builtin().makeMetricProvider(config);
  EXPECT_TRUE(provider.ok());
  return (*provider)->query("sum(rate(x[1m]))");
}

TEST(PrometheusTest, ReadsVectorsAndScalars) {
  std::string request;
  Result<double> v = ask(200,
                         R"({"status":"success","data":{"resultType":"vector","result":[)"
                         R"({"metric":{"pod":"b"},"value":[1700000000.1,"99.5"]}]}})",
                         &request);
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_DOUBLE_EQ(*v, 99.5);
  EXPECT_NE(request.find("GET /api/v1/query?query=sum%28rate%28x%5B1m%5D%29%29 "),
            std::string::npos)
      << request;
  Result<double> s =
      ask(200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"3"]}})");
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(*s, 3);
}

TEST(PrometheusTest, SeveralSeriesAreAnErrorThatNamesThem) {
  Result<double> v = ask(200, R"({"status":"success","data":{"resultType":"vector","result":[)"
                              R"({"metric":{"pod":"a"},"value":[1700000000.1,"0.25"]},)"
                              R"({"metric":{"pod":"b"},"value":[1700000000.1,"99.5"]}]}})");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find(R"(returned 2 series where one was expected: {"pod":"a"}, )"
                                     R"({"pod":"b"}; aggregate it)"),
            std::string::npos)
      << v.error().message();
}

TEST(PrometheusTest, FiveHundredsAreRetriedThenReported) {
  int calls = 0;
  RawHttpServer server([&](const std::string&) {
    ++calls;
    return calls < 3 ? RawHttpServer::response(503, "overloaded")
                     : RawHttpServer::response(
                           200, R"({"status":"success","data":{"resultType":"scalar",)"
                                R"("result":[1,"7"]}})");
  });
  ProviderConfig config;
  config.address = server.url();
  config.retryBackoff = std::chrono::milliseconds(1);
  Result<double> v = (*plugins::builtin().makeMetricProvider(config))->query("up");
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ(*v, 7);
  EXPECT_EQ(calls, 3);
  config.retries = 1;
  calls = 0;
  Result<double> down = (*plugins::builtin().makeMetricProvider(config))->query("up");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(calls, 2);
}

TEST(PrometheusTest, NoDataIsNeverANumber) {
  Result<double> empty =
      ask(200, R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(empty.error().message().find("no values found"), std::string::npos);
  Result<double> nan = ask(200, R"({"status":"success","data":{"resultType":"vector",)"
                                R"("result":[{"metric":{},"value":[1,"NaN"]}]}})");
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().kind(), ErrorKind::kNotFound);
}

TEST(PrometheusTest, RefusalsAndGarbageAreErrorsThatSayWhat) {
  Result<double> bad =
      ask(400, R"({"status":"error","errorType":"bad_data","error":"parse error"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(bad.error().message().find("bad_data: parse error"), std::string::npos);
  Result<double> down = ask(503, "upstream connect error");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(down.error().message().find("not JSON"), std::string::npos);
  Result<double> matrix =
      ask(200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
  ASSERT_FALSE(matrix.ok());
  EXPECT_NE(matrix.error().message().find("returned a matrix"), std::string::npos);
  Result<double> text = ask(200, R"({"status":"success","data":{"resultType":"vector",)"
                                 R"("result":[{"metric":{},"value":[1,"many"]}]}})");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().message().find("non-numeric sample \"many\""), std::string::npos);
}

TEST(PrometheusTest, SendsCredentialsAndHeaders) {
  std::string request;
  ProviderConfig config;
  config.username = "user";
  config.password = "pa ss";
  config.headers = {{"X-Scope-OrgID", {"tenant-1"}}};
  ASSERT_TRUE(ask(200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"1"]}})",
                  &request, config)
                  .ok());
  EXPECT_NE(request.find("Authorization: Basic dXNlcjpwYSBzcw=="), std::string::npos) << request;
  EXPECT_NE(request.find("X-Scope-OrgID: tenant-1"), std::string::npos);
  config = {};
  config.bearerToken = "t0ken";
  ASSERT_TRUE(ask(200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"1"]}})",
                  &request, config)
                  .ok());
  EXPECT_NE(request.find("Authorization: Bearer t0ken"), std::string::npos);
}

TEST(PrometheusTest, UnknownProviderTypesAreRefusedByName) {
  ProviderConfig config;
  config.type = "datadog";
  Result<std::unique_ptr<Provider>> p = plugins::builtin().makeMetricProvider(config);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message(),
            "metric provider type \"datadog\" is not supported; supported: prometheus");
  config.type = "prometheus";
  config.address = "";
  EXPECT_NE((*plugins::builtin().makeMetricProvider(config))
                ->query("up")
                .error()
                .message()
                .find("address is empty"),
            std::string::npos);
}

}  // namespace
}  // namespace canaryd::metrics
