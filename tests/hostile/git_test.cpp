// A Git server (a write-back repository a tenant named) that answers garbage to libgit2's smart
// HTTP protocol: each write-back ends in an error that says so, never a crash or a hang.
#include <gtest/gtest.h>

#include "canaryd/core/text.h"
#include "canaryd/gitops/write_back.h"

#include "hostile/hostile.h"
#include "support/raw_http_server.h"

namespace canaryd::gitops {
namespace {

using testing::RawHttpServer;

std::string advertisement(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

TEST(HostileGitServerTest, GarbageAnswersAreErrors) {
  const std::vector<std::string> answers = {
      RawHttpServer::response(200, "not git"),
      RawHttpServer::response(200, ""),
      advertisement("zzzz"),
      advertisement("001e# service=git-upload-pack\n0000ffff"),
      advertisement("001e# service=git-upload-pack\n0000"
                    "003f0123456789012345678901234567890123456789 refs/heads/main\0\n0000"),
      advertisement(std::string(70000, '0')),
      "HTTP/1.1 301 Moved\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n",
      "\x16\x03\x01garbage\r\n\r\n",
  };
  for (const std::string& answer : answers) {
    RawHttpServer server([&](const std::string&) { return answer; });
    Request request;
    request.config = {"commit", server.url("/shop/apps.git"), "main", "apps/podinfo.yaml"};
    request.failedImages = {{"podinfo", "podinfo:2"}};
    request.primaryImages = {{"podinfo", "podinfo:1"}};
    request.message = "Revert";
    Result<Outcome> done = Error::internal("not run");
    ASSERT_NO_THROW(done = writeBack(request, {"deployer", "s3cr3t", ""}));
    ASSERT_FALSE(done.ok()) << quote(answer);
    EXPECT_TRUE(testing::fitForStatus(done.error().message())) << done.error().message();
    EXPECT_EQ(done.error().message().find("s3cr3t"), std::string::npos);
  }
}

}  // namespace
}  // namespace canaryd::gitops
