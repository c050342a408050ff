#include "canaryd/core/address_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace canaryd {
namespace {

using Verdict = AddressPolicy::Verdict;

AddressPolicy policy(const std::vector<std::string>& entries) {
  Result<AddressPolicy> p = AddressPolicy::parse(entries);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message());
  return std::move(*p);
}

TEST(AddressPolicyTest, EmptyAllowsEverything) {
  AddressPolicy any;
  EXPECT_FALSE(any.restricts());
  EXPECT_EQ(any.checkUrl("http://169.254.169.254/latest/meta-data"), Verdict::kAllowed);
}

TEST(AddressPolicyTest, HostsMatchExactlyOrAsSubdomains) {
  AddressPolicy p = policy({"prometheus.monitoring", "*.example.com"});
  EXPECT_EQ(p.checkUrl("http://prometheus.monitoring:9090/api/v1/query"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("http://PROMETHEUS.monitoring/"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("https://hooks.example.com/x"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("https://example.com/x"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("https://evilexample.com/x"), Verdict::kRefused);
  EXPECT_EQ(p.checkUrl("http://prometheus.monitoring.evil.io/"), Verdict::kRefused);
  // Userinfo cannot disguise the host.
  EXPECT_EQ(p.checkUrl("http://prometheus.monitoring@10.0.0.1/"), Verdict::kRefused);
  EXPECT_EQ(p.checkUrl("not a url"), Verdict::kRefused);
}

TEST(AddressPolicyTest, UrlPrefixesCompareOriginAndPathSegments) {
  AddressPolicy p = policy({"https://hooks.slack.com/services/T123", "http://loadtester.test/"});
  EXPECT_EQ(p.checkUrl("https://hooks.slack.com/services/T123/B/X"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("https://hooks.slack.com/services/T123"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("https://hooks.slack.com/services/T1234"), Verdict::kRefused);
  EXPECT_EQ(p.checkUrl("http://hooks.slack.com/services/T123/B"), Verdict::kRefused);  // scheme
  EXPECT_EQ(p.checkUrl("https://hooks.slack.com:8443/services/T123"), Verdict::kRefused);
  EXPECT_EQ(p.checkUrl("http://loadtester.test/gate/check"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("http://loadtester.test:80/"),
            Verdict::kRefused);  // written as another port
}

TEST(AddressPolicyTest, CidrsDecideLiteralsAtOnceAndNamesBySocketAddress) {
  AddressPolicy p = policy({"10.0.0.0/8", "fd00::/8", "192.168.1.7"});
  EXPECT_EQ(p.checkUrl("http://10.1.2.3:9090/"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("http://11.1.2.3/"), Verdict::kRefused);
  EXPECT_EQ(p.checkUrl("http://192.168.1.7/"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("http://192.168.1.8/"), Verdict::kRefused);
  EXPECT_EQ(p.checkUrl("http://[fd00::1]:9090/"), Verdict::kAllowed);
  EXPECT_EQ(p.checkUrl("http://[fe80::1]/"), Verdict::kRefused);
  EXPECT_EQ(p.checkUrl("http://prometheus.monitoring/"), Verdict::kIfAddressFits);

  sockaddr_in in{};
  in.sin_family = AF_INET;
  inet_pton(AF_INET, "10.200.0.1", &in.sin_addr);
  EXPECT_TRUE(p.allowsSocketAddress(reinterpret_cast<sockaddr*>(&in)));
  inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
  EXPECT_FALSE(p.allowsSocketAddress(reinterpret_cast<sockaddr*>(&in)));
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.0.0.5", &in6.sin6_addr);  // v4-mapped
  EXPECT_TRUE(p.allowsSocketAddress(reinterpret_cast<sockaddr*>(&in6)));
  inet_pton(AF_INET6, "fd12::5", &in6.sin6_addr);
  EXPECT_TRUE(p.allowsSocketAddress(reinterpret_cast<sockaddr*>(&in6)));
  inet_pton(AF_INET6, "::1", &in6.sin6_addr);
  EXPECT_FALSE(p.allowsSocketAddress(reinterpret_cast<sockaddr*>(&in6)));
}

TEST(AddressPolicyTest, BadEntriesAreNamed) {
  for (const char* bad : {"10.0.0.0/33", "ftp://host/", "http://", "a b", "10.0.0.0/x"}) {
    Result<AddressPolicy> p = AddressPolicy::parse({bad});
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.error().message().find(bad), std::string::npos) << p.error().message();
  }
}

TEST(AddressPolicyTest, RefusalsAreCountedByPurpose) {
  AddressPolicy p = policy({"10.0.0.0/8"});
  std::vector<std::string> seen;
  p.onRefusal([&](const std::string& purpose) { seen.push_back(purpose); });
  p.refused("webhook");
  EXPECT_EQ(seen, std::vector<std::string>{"webhook"});
  EXPECT_EQ(AddressPolicy::refusal("http://user:pw@10.9.9.9:81/x?token=t"),
            "http://10.9.9.9:81/... is not an allowed address (canaryd run --allow-address lists "
            "the addresses that templates, webhooks, alert providers and runtime APIs may reach)");
}

TEST(RedactUrlTest, DropsUserinfoQueryAndOptionallyThePath) {
  EXPECT_EQ(redactUrl("https://user:secret@hooks.slack.com/services/T/B/X?token=1#f"),
            "https://hooks.slack.com/services/T/B/X");
  EXPECT_EQ(redactUrl("https://hooks.slack.com/services/T/B/X", false),
            "https://hooks.slack.com/...");
  EXPECT_EQ(redactUrl("http://prometheus:9090", false), "http://prometheus:9090");
  EXPECT_EQ(redactUrl("http://[::1]:8080/x"), "http://[::1]:8080/x");
  EXPECT_EQ(redactUrl("::::"), "(unparsable URL)");
}

}  // namespace
}  // namespace canaryd
