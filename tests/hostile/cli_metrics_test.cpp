// `canaryd metrics` (the real binary) against a Prometheus answering each answer of the corpus:
// it exits 0 or 1 with a message, never by a signal.
#include <fstream>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile/hostile.h"
#include "support/raw_http_server.h"

namespace canaryd {
namespace {

using testing::RawHttpServer;

constexpr const char* kManifests = R"(apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: error-rate, namespace: shop}
spec:
  provider: {type: prometheus, address: http://set-by-the-flag:9090}
  query: sum(rate(http_requests_total{namespace="{{ namespace }}"}[{{ interval }}]))
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: web, namespace: shop}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  service: {port: 80}
  analysis:
    interval: 1m
    threshold: 5
    stepWeight: 10
    metrics:
      - name: error-rate
        templateRef: {name: error-rate}
        thresholdRange: {max: 1}
)";

struct Exit {
  bool signalled = false;
  int code = -1;
  std::string err;
};

Exit runMetrics(const std::string& file, const std::string& prometheus, const std::string& dir) {
  const std::string errFile = dir + "/stderr";
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen(errFile.c_str(), "w", stderr);
    execl(CANARYD_PATH, CANARYD_PATH, "metrics", file.c_str(), "--prometheus", prometheus.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Exit e;
  e.signalled = WIFSIGNALED(status);
  e.code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  e.err = testing::readFile(errFile);
  return e;
}

// 0 (in range), 1 (out of range) or 3 (no data, a failed query): never a crash or a usage error.
TEST(HostileMetricsCommandTest, ExitsZeroOneOrThreeOnEveryAnswerNeverBySignal) {
  const std::string dir = ::testing::TempDir() + "canaryd-hostile-cli-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/canary.yaml";
  std::ofstream(file) << kManifests;
  auto answers = testing::corpus("prometheus");
  answers.emplace_back("nested", testing::nested(100000));
  answers.emplace_back("many-series", testing::manySeries(50000));
  answers.emplace_back("long-error", testing::longError(100 * 1024));
  for (const auto& [name, body] : answers) {
    RawHttpServer server([&](const std::string&) { return RawHttpServer::response(200, body); });
    const Exit e = runMetrics(file, server.url(), dir);
    EXPECT_FALSE(e.signalled) << name << ": signal " << -e.code << "\n" << e.err;
    EXPECT_TRUE(e.code == 0 || e.code == 1 || e.code == 3) << name << ": exit " << e.code << "\n"
                                                           << e.err;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace canaryd
