// The HAProxy Runtime API address and names come from a tenant's Canary annotations: a silent
// or chatty peer costs one command its deadline, names cannot carry extra commands, and the
// allow-list covers the address.
#include "canaryd/router/haproxy.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "canaryd/api/codec.h"
#include "canaryd/api/validate.h"

#include "hostile/hostile.h"

namespace canaryd::router {
namespace {

TEST(HostileRuntimeApiTest, ASilentPeerCostsOneDeadline) {
  testing::SilentListener silent;
  const std::string address = silent.url().substr(7);  // 127.0.0.1:PORT
  const auto started = std::chrono::steady_clock::now();
  Result<std::string> r =
      haproxyCommand(address, "get weight web/canary", nullptr, std::chrono::milliseconds(300));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(r.error().message().find("did not answer within 300 ms"), std::string::npos)
      << r.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST(HostileRuntimeApiTest, AnEndlessAnswerIsCutAtTheLimit) {
  int port = 0;
  const int fd = testing::listenOnLoopback(port);
  std::thread peer([fd] {
    const int c = accept(fd, nullptr, nullptr);
    char buf[256];
    (void)!read(c, buf, sizeof buf);
    const std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 4; ++i) {
      if (send(c, chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;
    }
    close(c);
  });
  Result<std::string> r = haproxyCommand("127.0.0.1:" + std::to_string(port), "show stat");
  peer.join();
  close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("answered more than 65536 bytes"), std::string::npos)
      << r.error().message();
}

TEST(HostileRuntimeApiTest, CommandsWithLineBreaksOrSemicolonsAreNeverSent) {
  for (const std::string command :
       {"get weight a/b\nshutdown sessions server a/b", "get weight a/b; disable server a/b"}) {
    Result<std::string> r = haproxyCommand("127.0.0.1:1", command);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind(), ErrorKind::kInvalidInput);
  }
}

TEST(HostileRuntimeApiTest, NamesWithCommandCharactersAreRefusedByValidation) {
  auto canary = api::canaryFromJson(R"({"apiVersion":"flagger.app/v1beta1","kind":"Canary",
      "metadata":{"name":"web","namespace":"shop","annotations":{
        "haproxy.canaryd.dev/runtime-api":"127.0.0.1:9999",
        "haproxy.canaryd.dev/backend":"web\nset server web/primary addr 10.0.0.1",
        "haproxy.canaryd.dev/canary-server":"canary;disable"}},
      "spec":{"provider":"haproxy",
              "targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
              "service":{"port":80},"analysis":{"interval":"1m","threshold":5,"iterations":2}}})");
  ASSERT_TRUE(canary.ok()) << canary.error().message();
  const auto problems = router::haproxyProblems(*canary);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].first, "metadata.annotations[haproxy.canaryd.dev/backend]");
  EXPECT_EQ(problems[1].first, "metadata.annotations[haproxy.canaryd.dev/canary-server]");
  EXPECT_NE(problems[0].second.find("is not an HAProxy name"), std::string::npos);
}

TEST(HostileRuntimeApiTest, TheAllowListCoversTheRuntimeApi) {
  Result<AddressPolicy> policy =
      AddressPolicy::parse({"10.0.0.0/8", "unix:/run/haproxy/admin.sock"});
  ASSERT_TRUE(policy.ok());
  std::vector<std::string> refused;
  policy->onRefusal([&](const std::string& purpose) { refused.push_back(purpose); });
  Result<std::string> tcp = haproxyCommand("127.0.0.1:9999", "show info", &*policy);
  ASSERT_FALSE(tcp.ok());
  EXPECT_NE(tcp.error().message().find("is not an allowed address"), std::string::npos);
  Result<std::string> sock = haproxyCommand("unix:/var/run/docker.sock", "show info", &*policy);
  ASSERT_FALSE(sock.ok());
  EXPECT_NE(sock.error().message().find("unix:/var/run/docker.sock is not an allowed address"),
            std::string::npos)
      << sock.error().message();
  EXPECT_EQ(refused, (std::vector<std::string>{"runtime-api", "runtime-api"}));
  // The listed socket is let through (and fails only because nothing listens there).
  Result<std::string> listed =
      haproxyCommand("unix:/run/haproxy/admin.sock", "show info", &*policy);
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().kind(), ErrorKind::kUnavailable);
}

}  // namespace
}  // namespace canaryd::router
