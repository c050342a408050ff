// A Kubernetes API that answers garbage: every body of the corpus with the statuses the client
// treats differently, and watch streams of malformed events. Each call is a value or an error;
// nothing throws, and messages are fit for a status.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/kube/kube_client.h"

#include "hostile/hostile.h"
#include "support/raw_http_server.h"

namespace canaryd::kube {
namespace {

using testing::RawHttpServer;

std::unique_ptr<KubeClient> clientOf(const std::string& url) {
  ConnectionConfig config;
  config.server = url;
  ClientOptions options;
  options.requestTimeout = std::chrono::milliseconds(2000);
  options.maxRetries = 0;
  return std::make_unique<KubeClient>(config, options);
}

template <typename T>
void expectFit(const Result<T>& r, const std::string& label) {
  if (!r.ok()) {
    EXPECT_TRUE(testing::fitForStatus(r.error().message())) << label;
  }
}

TEST(HostileKubeApiTest, EveryCorpusBodyWithEveryStatusIsAValueOrAnError) {
  const auto bodies = testing::corpus("kube");
  ASSERT_GE(bodies.size(), 8u);
  const api::JsonValue deployment(nlohmann::json{
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "podinfo"}, {"namespace", "test"}, {"resourceVersion", "1"}}}});
  for (const auto& [name, body] : bodies) {
    for (int status : {200, 201, 404, 409, 410, 422, 500}) {
      RawHttpServer server(
          [&](const std::string&) { return RawHttpServer::response(status, body); });
      auto client = clientOf(server.url());
      const std::string label = name + " as HTTP " + std::to_string(status);
      ASSERT_NO_THROW({
        expectFit(client->get(cluster::kDeployments, {"test", "podinfo"}), label);
        expectFit(client->list(cluster::kDeployments, "test", {}), label);
        expectFit(client->create(cluster::kDeployments, "test", deployment), label);
        expectFit(client->updateStatus(cluster::kDeployments, deployment), label);
        Status removed = client->remove(cluster::kDeployments, {"test", "podinfo"}, {});
        if (!removed.ok()) {
          EXPECT_TRUE(testing::fitForStatus(removed.error().message())) << label;
        }
      }) << label;
    }
  }
}

TEST(HostileKubeApiTest, MalformedWatchEventsEndTheWatchWithAnError) {
  for (const auto& [name, stream] : testing::corpus("watch")) {
    RawHttpServer server([&](const std::string&) { return RawHttpServer::response(200, stream); });
    auto client = clientOf(server.url());
    std::vector<cluster::WatchEvent> seen;
    Status s;
    ASSERT_NO_THROW(s = client->watch(cluster::kDeployments, "test", {},
                                      [&](const cluster::WatchEvent& e) {
                                        seen.push_back(e);
                                        return true;
                                      }))
        << name;
    if (!s.ok()) {
      EXPECT_TRUE(testing::fitForStatus(s.error().message())) << name;
    }
    // An event whose resourceVersion is not a string is delivered without one, not thrown on.
    if (name == "rv-number.ndjson") {
      ASSERT_EQ(seen.size(), 1u);
      EXPECT_EQ(seen[0].resourceVersion, "");
    }
  }
}

TEST(HostileKubeApiTest, AnEndlessWatchLineIsCutAtTheLimit) {
  // 17 MiB without a newline: the client stops reading at its 16 MiB limit of one event.
  RawHttpServer server([](const std::string&) {
    return RawHttpServer::response(
        200, "{\"type\":\"ADDED\",\"object\":{\"x\":\"" + std::string(17u << 20, 'a'));
  });
  Status s = clientOf(server.url())
                 ->watch(cluster::kDeployments, "test", {},
                         [](const cluster::WatchEvent&) { return true; });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("longer than the limit of 16777216 bytes"), std::string::npos)
      << s.error().message().substr(0, 300);
}

}  // namespace
}  // namespace canaryd::kube
