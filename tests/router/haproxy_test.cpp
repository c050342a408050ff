// The HAProxy router against Debian's haproxy: weights set and read back through the Runtime
// API, HAProxy's textual errors as errors, server addresses from Endpoints, and validation of
// the annotations that configure it.
#include "canaryd/router/haproxy.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/validate.h"
#include "canaryd/cluster/null_client.h"

#include "support/haproxy_process.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

api::Canary canary(const std::string& annotations) {
  auto c = api::canaryFromJson(R"({"apiVersion":"flagger.app/v1beta1","kind":"Canary",
      "metadata":{"name":"podinfo","namespace":"test","annotations":)" +
                               annotations + R"(},
      "spec":{"provider":"haproxy",
              "targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
              "service":{"port":9898},
              "analysis":{"interval":"1m","threshold":5,"stepWeight":10,"maxWeight":50}}})");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return *c;
}

// Endpoints as kubesim's workload runner writes them.
class EndpointsCluster final : public cluster::NullClient {
 public:
  EndpointsCluster() : NullClient("not in this test") {}
  std::map<std::string, json> endpoints;  // name -> object
  Result<api::JsonValue> get(const cluster::Resource& r, const cluster::ObjectRef& ref) override {
    auto it = endpoints.find(ref.name);
    if (r.resource != "endpoints" || it == endpoints.end()) return NullClient::get(r, ref);
    return api::JsonValue(it->second);
  }
};

json endpointsAt(int port) {
  return {{"subsets", {{{"addresses", {{{"ip", "127.0.0.1"}}}}, {"ports", {{{"port", port}}}}}}}};
}

class HaproxyRouterTest : public ::testing::Test {
 protected:
  testing::HaproxyProcess haproxy{
      "backend podinfo\n  server primary 127.0.0.1:9 weight 256\n"
      "  server canary 127.0.0.1:9 weight 0\n"};
  EndpointsCluster cluster;
  HaproxyRouter router{cluster};
  std::string annotations() const {
    return R"({"haproxy.canaryd.dev/runtime-api":"unix:)" + haproxy.socket() + R"("})";
  }
  std::string weight(const std::string& server) {
    Result<std::string> answer = haproxyCommand(haproxy.socket(), "get weight podinfo/" + server);
    return answer ? answer->substr(0, answer->find(' ')) : answer.error().message();
  }
};

TEST_F(HaproxyRouterTest, SetsAndReadsBackWeightsOnHaproxysScale) {
  const api::Canary c = canary(annotations());
  ASSERT_TRUE(router.reconcile(c).ok());
  ASSERT_TRUE(router.setRoutes(c, {90, 10, false}).ok());
  EXPECT_EQ(weight("canary"), "26");  // 10 % of 256
  EXPECT_EQ(weight("primary"), "230");
  Result<Weights> read = router.getRoutes(c);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(*read, (Weights{90, 10, false}));
  ASSERT_TRUE(router.setRoutes(c, {50, 50, false}).ok());
  EXPECT_EQ(*router.getRoutes(c), (Weights{50, 50, false}));
  ASSERT_TRUE(router.setRoutes(c, {100, 0, false}).ok());
  EXPECT_EQ(weight("canary"), "0");
  EXPECT_EQ(weight("primary"), "256");
}

TEST_F(HaproxyRouterTest, HaproxysWordsAreErrorsThatNameTheAnnotation) {
  const api::Canary wrongServer =
      canary(R"({"haproxy.canaryd.dev/runtime-api":")" + haproxy.socket() +
             R"(","haproxy.canaryd.dev/canary-server":"green"})");
  Status s = router.setRoutes(wrongServer, {90, 10, false});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(s.error().message().find("No such server"), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("haproxy.canaryd.dev/canary-server"), std::string::npos);
  EXPECT_FALSE(router.reconcile(wrongServer).ok());

  const api::Canary wrongBackend =
      canary(R"({"haproxy.canaryd.dev/runtime-api":")" + haproxy.socket() +
             R"(","haproxy.canaryd.dev/backend":"shop"})");
  Result<Weights> read = router.getRoutes(wrongBackend);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message().find("No such"), std::string::npos) << read.error().message();

  Status mirror = router.setRoutes(canary(annotations()), {100, 0, true});
  ASSERT_FALSE(mirror.ok());
  EXPECT_NE(mirror.error().message().find("cannot mirror"), std::string::npos);

  // Nobody at the socket: unavailable, retried by the controller.
  Status down = router.setRoutes(
      canary(R"({"haproxy.canaryd.dev/runtime-api":"/nonexistent/admin.sock"})"), {90, 10, false});
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().kind(), ErrorKind::kUnavailable);
}

TEST_F(HaproxyRouterTest, SyncEndpointsPointsEachServerAtItsServicesAddress) {
  cluster.endpoints["podinfo-primary"] = endpointsAt(18081);
  cluster.endpoints["podinfo-canary"] = endpointsAt(18082);
  const api::Canary c = canary(R"({"haproxy.canaryd.dev/runtime-api":")" + haproxy.socket() +
                               R"(","haproxy.canaryd.dev/sync-endpoints":"true"})");
  ASSERT_TRUE(router.reconcile(c).ok());
  Result<std::string> state = haproxyCommand(haproxy.socket(), "show servers state podinfo");
  ASSERT_TRUE(state.ok());
  EXPECT_NE(state->find("primary 127.0.0.1 2 0 256 256"), std::string::npos) << *state;
  EXPECT_NE(state->find(" 18081 "), std::string::npos) << *state;
  EXPECT_NE(state->find(" 18082 "), std::string::npos) << *state;
  // A canary without endpoints (scaled to zero) keeps its old address; nothing fails.
  cluster.endpoints.erase("podinfo-canary");
  EXPECT_TRUE(router.reconcile(c).ok());
}

TEST(HaproxyValidationTest, TheRuntimeApiAnnotationIsRequiredAndChecked) {
  auto problems = haproxyProblems(canary("{}"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].first, "metadata.annotations[haproxy.canaryd.dev/runtime-api]");
  EXPECT_NE(problems[0].second.find("required with provider haproxy"), std::string::npos);
  problems = haproxyProblems(canary(R"({"haproxy.canaryd.dev/runtime-api":"localhost",
                 "haproxy.canaryd.dev/sync-endpoints":"yes"})"));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].second.find("neither a socket path"), std::string::npos);
  EXPECT_NE(problems[1].second.find("must be \"true\" or \"false\""), std::string::npos);
  EXPECT_TRUE(
      haproxyProblems(canary(R"({"haproxy.canaryd.dev/runtime-api":"127.0.0.1:9999"})")).empty());
  // And the router's catalog entry carries the same check, for validate().
  const std::vector<RouterPlugin> plugins = haproxyRouters();
  ASSERT_EQ(plugins.size(), 1u);
  ASSERT_TRUE(plugins[0].entry.check);
  EXPECT_EQ(plugins[0].entry.check(canary("{}")).size(), 1u);
}

}  // namespace
}  // namespace canaryd::router
