// Git write-back against real Git: bare repositories on the local filesystem and one served by
// `git daemon` on 127.0.0.1. A rollback produces exactly one commit with the expected diff and
// message; a concurrent push is rebased onto, never overwritten; branch mode pushes a review
// branch; refused credentials give a clear error without the secret.
#include "canaryd/gitops/write_back.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "canaryd/api/codec.h"

#include "support/child_process.h"
#include "support/free_port.h"
#include "support/raw_http_server.h"
#include "support/source_files.h"

namespace canaryd::gitops {
namespace {

namespace fs = std::filesystem;

// Runs a shell command; its standard output (the test fails on a non-zero exit).
std::string sh(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  std::array<char, 512> buffer{};
  while (p != nullptr && fgets(buffer.data(), buffer.size(), p) != nullptr)
    out += buffer.data();
  const int rc = p == nullptr ? -1 : pclose(p);
  EXPECT_EQ(rc, 0) << command << "\n" << out;
  return out;
}

const char* kManifest = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: test
spec:
  template:
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.0.1  # the release
        - name: proxy
          image: envoyproxy/envoy:v1.28.0
)";

class WriteBackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("canaryd-wb-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    sh("git init -q --bare -b main " + (dir / "remote.git").string());
    sh("git clone -q " + (dir / "remote.git").string() + " " + seed().string());
    fs::create_directories(seed() / "apps");
    std::ofstream(seed() / "apps/podinfo.yaml") << kManifest;
    commitInSeed("podinfo 6.0.1");
  }
  void TearDown() override {
    testing::terminateChild(daemon);
    fs::remove_all(dir);
  }
  fs::path seed() const { return dir / "seed"; }
  std::string git(const std::string& args) { return sh("git -C " + seed().string() + " " + args); }
  void commitInSeed(const std::string& message) {
    git("add -A");
    git("-c user.name=dev -c user.email=dev@example.com commit -q -m '" + message + "'");
    git("push -q origin main");
  }
  Request request(const std::string& url, const std::string& mode = "commit") {
    Request r;
    r.config = {mode, url, "main", "apps/podinfo.yaml"};
    r.failedImages = {{"podinfo", "ghcr.io/stefanprodan/podinfo:6.0.1"},
                      {"proxy", "envoyproxy/envoy:v1.28.0"}};
    r.primaryImages = {{"podinfo", "ghcr.io/stefanprodan/podinfo:6.0.0"},
                       {"proxy", "envoyproxy/envoy:v1.28.0"}};
    r.message =
        "Revert test/podinfo to ghcr.io/stefanprodan/podinfo:6.0.0\n\n"
        "canaryd rolled back podinfo=ghcr.io/stefanprodan/podinfo:6.0.1: "
        "request-success-rate 91.3 < 99\n";
    r.reviewBranch = "canaryd/rollback-test-podinfo";
    r.allowInsecureTransport = true;  // local file://, git:// and http:// servers
    return r;
  }
  std::string fileUrl() const { return "file://" + (dir / "remote.git").string(); }

  fs::path dir;
  pid_t daemon = -1;
};

TEST_F(WriteBackTest, ARollbackIsExactlyOneCommitWithTheRevertedImage) {
  Result<Outcome> done = writeBack(request(fileUrl()), {});
  ASSERT_TRUE(done.ok()) << done.error().message();
  EXPECT_EQ(done->branch, "main");
  EXPECT_EQ(done->commit.size(), 40u);
  git("pull -q origin main");
  EXPECT_EQ(git("rev-list --count HEAD"), "2\n");
  EXPECT_EQ(git("log -1 --format=%H"), done->commit + "\n");
  EXPECT_EQ(git("log -1 --format=%s"),
            "Revert test/podinfo to ghcr.io/stefanprodan/podinfo:6.0.0\n");
  EXPECT_EQ(git("log -1 --format=%an"), "canaryd\n");
  // Exactly the image line, formatting and comment kept; the unchanged sidecar untouched.
  EXPECT_EQ(git("diff HEAD~1 --unified=0 --no-color -- apps/podinfo.yaml | grep '^[-+] '"),
            "-          image: ghcr.io/stefanprodan/podinfo:6.0.1  # the release\n"
            "+          image: ghcr.io/stefanprodan/podinfo:6.0.0  # the release\n");
  // Again: Git already names the primary's image, nothing to commit.
  Result<Outcome> again = writeBack(request(fileUrl()), {});
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->commit, "");
  git("pull -q origin main");
  EXPECT_EQ(git("rev-list --count HEAD"), "2\n");
}

TEST_F(WriteBackTest, AConcurrentPushIsBuiltOnNeverOverwritten) {
  Request r = request(fileUrl());
  int pushes = 0;
  r.beforePush = [&] {
    if (pushes++ > 0) return;
    // Someone else pushes between canaryd's clone and its push.
    std::ofstream(seed() / "README.md") << "deployed by the platform team\n";
    commitInSeed("docs: README");
  };
  Result<Outcome> done = writeBack(r, {});
  ASSERT_TRUE(done.ok()) << done.error().message();
  EXPECT_EQ(done->attempts, 2);
  git("pull -q origin main");
  EXPECT_EQ(git("log --format=%s"),
            "Revert test/podinfo to ghcr.io/stefanprodan/podinfo:6.0.0\ndocs: README\n"
            "podinfo 6.0.1\n");
  EXPECT_TRUE(fs::exists(seed() / "README.md"));

  // Someone pushes before every attempt: reported as a conflict, nothing forced.
  std::ofstream(seed() / "apps/podinfo.yaml") << kManifest;
  commitInSeed("podinfo 6.0.1 again");
  Request always = request(fileUrl());
  int n = 0;
  always.beforePush = [&] {
    std::ofstream(seed() / ("note-" + std::to_string(n++))) << "x\n";
    commitInSeed("note");
  };
  Result<Outcome> refused = writeBack(always, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kConflict);
  EXPECT_NE(refused.error().message().find("nothing was forced"), std::string::npos);
  git("pull -q origin main");
  EXPECT_EQ(git("log -1 --format=%s"), "note\n");
}

TEST_F(WriteBackTest, BranchModePushesAReviewBranchOverGitDaemon) {
  const int port = testing::freePort();
  daemon = fork();
  if (daemon == 0) {
    const std::string base = "--base-path=" + dir.string();
    const std::string portArg = "--port=" + std::to_string(port);
    execlp("git", "git", "daemon", base.c_str(), "--export-all", "--enable=receive-pack",
           "--listen=127.0.0.1", portArg.c_str(), "--reuseaddr", dir.c_str(),
           static_cast<char*>(nullptr));
    _exit(127);
  }
  // Ready once it accepts connections.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    up = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(up) << "git daemon did not start";
  const std::string url = "git://127.0.0.1:" + std::to_string(port) + "/remote.git";
  Result<Outcome> done = writeBack(request(url, "branch"), {});
  ASSERT_TRUE(done.ok()) << done.error().message();
  EXPECT_EQ(done->branch, "canaryd/rollback-test-podinfo");
  const std::string refs = git("ls-remote origin");
  EXPECT_NE(refs.find(done->commit + "\trefs/heads/canaryd/rollback-test-podinfo"),
            std::string::npos)
      << refs;
  git("pull -q origin main");
  EXPECT_EQ(git("rev-list --count HEAD"), "1\n");  // main untouched: the change awaits review
}

TEST_F(WriteBackTest, RefusedCredentialsAreAClearErrorWithoutTheSecret) {
  testing::RawHttpServer server([](const std::string&) {
    return std::string(
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n");
  });
  Result<Outcome> done =
      writeBack(request(server.url("/shop/apps.git")), {"deployer", "s3cr3t-token", ""});
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(done.error().message().find("authentication refused by 127.0.0.1"), std::string::npos)
      << done.error().message();
  EXPECT_EQ(done.error().message().find("s3cr3t"), std::string::npos);
  // A repository that does not exist is unavailable (retried later), not a crash.
  Result<Outcome> missing = writeBack(request("file://" + (dir / "nope.git").string()), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("cloning branch main of"), std::string::npos);
}

TEST_F(WriteBackTest, OnlyHttpsAndSshCarryCredentialsUnlessTheOperatorAllows) {
  int requests = 0;
  testing::RawHttpServer server([&](const std::string&) {
    ++requests;
    return testing::RawHttpServer::response(404, "");
  });
  Request r = request(server.url("/shop/apps.git"));
  r.allowInsecureTransport = false;
  Result<Outcome> done = writeBack(r, {"deployer", "s3cr3t-token", ""});
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(done.error().message().find("a http remote is refused"), std::string::npos)
      << done.error().message();
  EXPECT_EQ(requests, 0);  // the token never left
  r.config.repository = fileUrl();
  EXPECT_FALSE(writeBack(r, {}).ok());
}

TEST_F(WriteBackTest, ASymbolicLinkInTheRepositoryIsNeverWrittenThrough) {
  // The tenant's repository makes its manifest, or a directory on its path, a link to a file
  // outside the clone.
  const fs::path outside = dir / "outside.yaml";
  std::ofstream(outside) << kManifest;
  fs::remove(seed() / "apps/podinfo.yaml");
  fs::create_symlink(outside, seed() / "apps/podinfo.yaml");
  fs::create_directories(dir / "elsewhere");
  std::ofstream(dir / "elsewhere/podinfo.yaml") << kManifest;
  fs::create_directory_symlink(dir / "elsewhere", seed() / "linked");
  commitInSeed("links");
  Result<Outcome> file = writeBack(request(fileUrl()), {});
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message().find("apps/podinfo.yaml is a symbolic link"), std::string::npos)
      << file.error().message();
  Request throughDir = request(fileUrl());
  throughDir.config.path = "linked/podinfo.yaml";
  Result<Outcome> viaDir = writeBack(throughDir, {});
  ASSERT_FALSE(viaDir.ok());
  EXPECT_NE(viaDir.error().message().find("linked is a symbolic link"), std::string::npos)
      << viaDir.error().message();
  EXPECT_EQ(testing::readFile(outside.string()), kManifest);
  EXPECT_EQ(testing::readFile((dir / "elsewhere/podinfo.yaml").string()), kManifest);
}

TEST(GitOpsConfigTest, AnnotationsConfigureItAndMistakesNameTheAnnotation) {
  auto canary = [](const std::string& annotations) {
    return api::canaryFromJson(R"({"metadata":{"name":"podinfo","namespace":"test",
        "annotations":)" + annotations +
                               R"(},"spec":{}})")
        .value();
  };
  EXPECT_FALSE(gitOpsConfigOf(canary("{}")).value().has_value());  // off by default
  Result<std::optional<Config>> c = gitOpsConfigOf(canary(R"({
      "gitops.canaryd.dev/write-back":"branch",
      "gitops.canaryd.dev/repository":"https://git.example.com/shop/apps.git",
      "gitops.canaryd.dev/path":"apps/podinfo.yaml"})"));
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->branch, "main");
  EXPECT_EQ((*c)->mode, "branch");
  Result<std::optional<Config>> bad =
      gitOpsConfigOf(canary(R"({"gitops.canaryd.dev/write-back":"push"})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("metadata.annotations[gitops.canaryd.dev/write-back]"),
            std::string::npos);
  bad = gitOpsConfigOf(canary(R"({"gitops.canaryd.dev/write-back":"commit",
      "gitops.canaryd.dev/repository":"https://git.example.com/a.git",
      "gitops.canaryd.dev/path":"../etc/passwd"})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("gitops.canaryd.dev/path"), std::string::npos);
  EXPECT_EQ(parseImages("podinfo=ghcr.io/x:1, proxy=envoy:2"),
            (std::map<std::string, std::string>{{"podinfo", "ghcr.io/x:1"}, {"proxy", "envoy:2"}}));
}

}  // namespace
}  // namespace canaryd::gitops
