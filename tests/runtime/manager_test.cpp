// Two managers sharing a Lease in kubesim: only the leader runs controllers; stopping it hands
// over; the health endpoints answer on both.
#include "canaryd/runtime/manager.h"

#include <thread>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "canaryd/core/http.h"
#include "canaryd/kube/kube_client.h"

#include "kube/kubesim_process.h"

namespace canaryd::runtime {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

bool eventually(const std::function<bool()>& condition,
                milliseconds timeout = milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return condition();
}

int status(std::uint16_t port, const std::string& path) {
  HttpClient http;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + path;
  auto r = http.send(req);
  return r.ok() ? r->status : 0;
}

TEST(ManagerTest, OnlyTheLeaderRunsControllersAndLeadershipHandsOver) {
  testing::KubesimProcess sim;
  kube::ConnectionConfig config;
  config.server = sim.url();
  kube::KubeClient client(config);
  ASSERT_TRUE(client
                  .create(cluster::kNamespaces, "",
                          api::JsonValue(json{{"metadata", {{"name", "canaryd-system"}}}}))
                  .ok());
  SystemClock clock;

  auto makeOptions = [](const std::string& identity) {
    ManagerOptions o;
    LeaderElectionConfig le;
    le.identity = identity;
    le.leaseDuration = milliseconds(1500);
    le.renewDeadline = milliseconds(1000);
    le.retryPeriod = milliseconds(100);
    o.leaderElection = le;
    return o;
  };
  std::atomic<int> runningA{0};
  std::atomic<int> runningB{0};
  auto controller = [](std::atomic<int>& running) {
    return [&running](const std::atomic<bool>& stop) {
      ++running;
      while (!stop)
        std::this_thread::sleep_for(milliseconds(5));
      --running;
    };
  };

  Informer informerA(client, cluster::kConfigMaps, clock);
  Manager a(client, clock, makeOptions("a"));
  a.addInformer(informerA);
  a.addController("canary", controller(runningA));
  auto portA = a.startHealth();
  ASSERT_TRUE(portA.ok()) << portA.error().message();
  std::thread runA([&] { EXPECT_TRUE(a.run().ok()); });
  ASSERT_TRUE(eventually([&] { return runningA == 1; }));
  EXPECT_EQ(status(*portA, "/healthz"), 200);
  EXPECT_TRUE(eventually([&] { return status(*portA, "/readyz") == 200; }));
  EXPECT_EQ(status(*portA, "/nothing"), 404);

  Manager b(client, clock, makeOptions("b"));
  b.addController("canary", controller(runningB));
  std::thread runB([&] { EXPECT_TRUE(b.run().ok()); });
  // B stays a standby while A renews: watch A renew three times after B started.
  auto renewTime = [&] {
    auto lease = client.get(cluster::kLeases, {"canaryd-system", "canaryd-leader"});
    return lease.ok() ? lease->get()["spec"].value("renewTime", "") : std::string();
  };
  for (int renewals = 0; renewals < 3; ++renewals) {
    const std::string seen = renewTime();
    ASSERT_TRUE(eventually([&] { return renewTime() != seen; }));
    EXPECT_EQ(runningB, 0);
  }
  EXPECT_FALSE(b.isLeader());
  EXPECT_TRUE(a.isLeader());

  // A stops cleanly and releases the Lease: B takes over without waiting for expiry.
  const auto stoppedAt = std::chrono::steady_clock::now();
  a.stop();
  runA.join();
  EXPECT_EQ(runningA, 0);
  ASSERT_TRUE(eventually([&] { return runningB == 1; }));
  const auto handover = std::chrono::steady_clock::now() - stoppedAt;
  EXPECT_LT(handover, milliseconds(1500));
  EXPECT_TRUE(b.isLeader());
  b.stop();
  runB.join();
  EXPECT_EQ(runningB, 0);
}

// A Lease that cannot be taken (its namespace does not exist) keeps the controllers stopped and
// /readyz failing, with the reason logged; once the namespace exists the replica leads.
TEST(ManagerTest, ALeaseThatCannotBeTakenIsNotReady) {
  testing::KubesimProcess sim;
  kube::ConnectionConfig config;
  config.server = sim.url();
  kube::KubeClient client(config);
  SystemClock clock;
  ManagerOptions options;
  LeaderElectionConfig le;
  le.identity = "a";
  le.namespace_ = "not-there-yet";
  le.retryPeriod = milliseconds(100);
  options.leaderElection = le;
  std::atomic<int> running{0};
  Manager m(client, clock, options);
  m.addController("canary", [&running](const std::atomic<bool>& stop) {
    ++running;
    while (!stop)
      std::this_thread::sleep_for(milliseconds(5));
    --running;
  });
  auto port = m.startHealth();
  ASSERT_TRUE(port.ok()) << port.error().message();
  std::thread run([&] { EXPECT_TRUE(m.run().ok()); });
  // Several election rounds fail: alive, not ready, no controller.
  EXPECT_TRUE(eventually([&] { return status(*port, "/readyz") == 503; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(status(*port, "/readyz"), 503);
  EXPECT_EQ(status(*port, "/healthz"), 200);
  EXPECT_EQ(running, 0);
  EXPECT_FALSE(m.isLeader());
  ASSERT_TRUE(client
                  .create(cluster::kNamespaces, "",
                          api::JsonValue(json{{"metadata", {{"name", "not-there-yet"}}}}))
                  .ok());
  EXPECT_TRUE(eventually([&] { return running == 1; }));
  EXPECT_TRUE(eventually([&] { return status(*port, "/readyz") == 200; }));
  m.stop();
  run.join();
}

// Clients that connect and send nothing (or half a request) do not stall the health endpoints:
// each connection has its own deadline and the server never waits on one of them.
TEST(ManagerTest, IdleConnectionsDoNotStallHealth) {
  testing::KubesimProcess sim;
  kube::ConnectionConfig config;
  config.server = sim.url();
  kube::KubeClient client(config);
  SystemClock clock;
  ManagerOptions options;
  Manager manager(client, clock, options);
  auto port = manager.startHealth();
  ASSERT_TRUE(port.ok()) << port.error().message();
  std::vector<int> idle;
  for (int i = 0; i < 10; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(*port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    if (i % 2 == 1) (void)!write(fd, "GET /heal", 9);  // half a request
    idle.push_back(fd);
  }
  HttpClient http;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(*port) + "/healthz";
  req.timeout = milliseconds(1000);  // a kubelet probe's default timeout is 1 s
  for (int probe = 0; probe < 3; ++probe) {
    auto r = http.send(req);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->status, 200);
  }
  for (int fd : idle)
    close(fd);
}

}  // namespace
}  // namespace canaryd::runtime
