// The operator's allow-list (canaryd run --allow-address) enforced where requests are made: a
// URL outside it is refused before any connection, with a message that names the flag, and
// counted; one inside it goes through. CIDR entries decide on the address a name resolves to.
#include <gtest/gtest.h>

#include "canaryd/core/http.h"
#include "canaryd/metrics/provider.h"
#include "canaryd/plugins/builtin.h"

#include "hostile/hostile.h"

namespace canaryd {
namespace {

using testing::RawHttpServer;

std::shared_ptr<AddressPolicy> allow(const std::vector<std::string>& entries,
                                     std::vector<std::string>* refusals) {
  Result<AddressPolicy> p = AddressPolicy::parse(entries);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message());
  auto policy = std::make_shared<AddressPolicy>(std::move(*p));
  policy->onRefusal([refusals](const std::string& purpose) { refusals->push_back(purpose); });
  return policy;
}

Result<HttpResponse> get(const std::shared_ptr<AddressPolicy>& policy, const std::string& url,
                         const std::string& proxy = "") {
  HttpClientOptions options;
  options.addresses = policy;
  options.purpose = "webhook";
  options.proxy = proxy;
  HttpClient http(options);
  HttpRequest request;
  request.url = url;
  request.timeout = std::chrono::milliseconds(2000);
  return http.send(request);
}

TEST(AllowListTest, OnlyListedAddressesAreReached) {
  int hits = 0;
  RawHttpServer server([&](const std::string&) {
    ++hits;
    return RawHttpServer::response(200, "ok");
  });
  const std::string port = server.url().substr(server.url().rfind(':') + 1);
  std::vector<std::string> refusals;

  // By URL prefix: that server's /allowed path, nothing else.
  auto byPrefix = allow({server.url("/allowed")}, &refusals);
  EXPECT_TRUE(get(byPrefix, server.url("/allowed/x")).ok());
  Result<HttpResponse> refused = get(byPrefix, server.url("/other"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(
      refused.error().message().find("is not an allowed address (canaryd run --allow-address"),
      std::string::npos)
      << refused.error().message();
  EXPECT_EQ(hits, 1);  // the refused request never reached the server

  // By CIDR: "localhost" resolves into 127.0.0.0/8 and is let through; a range that does not
  // hold it refuses it at the socket.
  auto loopback = allow({"127.0.0.0/8"}, &refusals);
  EXPECT_TRUE(get(loopback, "http://localhost:" + port + "/x").ok());
  auto elsewhere = allow({"10.0.0.0/8"}, &refusals);
  Result<HttpResponse> outside = get(elsewhere, "http://localhost:" + port + "/x");
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message().find("resolves outside the allowed ranges"),
            std::string::npos)
      << outside.error().message();
  EXPECT_FALSE(get(elsewhere, server.url("/x")).ok());  // a literal address: refused at once
  EXPECT_EQ(hits, 2);

  // By host: the cloud metadata address is not "localhost".
  auto byHost = allow({"localhost"}, &refusals);
  EXPECT_TRUE(get(byHost, "http://localhost:" + port + "/").ok());
  EXPECT_FALSE(get(byHost, "http://169.254.169.254/latest/meta-data/").ok());
  EXPECT_EQ(refusals, (std::vector<std::string>{"webhook", "webhook", "webhook", "webhook"}));
}

TEST(AllowListTest, ThroughAProxyTheTargetMustBeListedByNameAndTheProxyToo) {
  std::vector<std::string> refusals;
  RawHttpServer proxy([](const std::string&) { return RawHttpServer::response(200, "ok"); });
  // The target is allowed by CIDR only: through a proxy its address cannot be seen.
  auto cidr = allow({"10.0.0.0/8", "127.0.0.1"}, &refusals);
  EXPECT_FALSE(get(cidr, "http://prometheus.internal/", proxy.url()).ok());
  // The target allowed by name, the proxy not listed.
  auto named = allow({"hooks.example.com"}, &refusals);
  Result<HttpResponse> r = get(named, "http://hooks.example.com/x", proxy.url());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("the proxy http://127.0.0.1:"), std::string::npos)
      << r.error().message();
  // Both listed: the request goes to the proxy.
  auto both = allow({"hooks.example.com", proxy.url()}, &refusals);
  EXPECT_TRUE(get(both, "http://hooks.example.com/x", proxy.url()).ok());
  EXPECT_EQ(refusals.size(), 2u);
}

TEST(AllowListTest, AMetricProviderOutsideTheListIsAFailedQueryThatSaysWhy) {
  std::vector<std::string> refusals;
  metrics::ProviderConfig config;
  config.address = "http://169.254.169.254:80";
  config.addresses = allow({"prometheus.monitoring"}, &refusals);
  config.retries = 3;
  auto provider = plugins::builtin().makeMetricProvider(config);
  ASSERT_TRUE(provider.ok());
  Result<double> v = (*provider)->query("up");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(v.error().message().find("Prometheus http://169.254.169.254:80 not queried: "
                                     "http://169.254.169.254:80/... is not an allowed address"),
            std::string::npos)
      << v.error().message();
  EXPECT_EQ(refusals, std::vector<std::string>{"metric"});  // not retried
}

}  // namespace
}  // namespace canaryd
