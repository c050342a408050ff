#include "canaryd/kube/config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <stdlib.h>

namespace canaryd::kube {
namespace {

namespace fs = std::filesystem;

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("canaryd-kubeconfig-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

constexpr const char* kConfig = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example.com:6443
    certificate-authority-data: aGVsbG8gY2E=
- name: local
  cluster:
    server: http://127.0.0.1:8080
    insecure-skip-tls-verify: true
    certificate-authority: certs/ca.pem
contexts:
- name: dev
  context: {cluster: dev-cluster, user: alice, namespace: shop}
- name: local
  context: {cluster: local, user: bot}
users:
- name: alice
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
- name: bot
  user:
    tokenFile: token
)";

TEST_F(KubeconfigTest, ReadsTheCurrentContext) {
  std::string path = write("config", kConfig);
  auto config = loadKubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://dev.example.com:6443");
  EXPECT_EQ(config->tls.caData, "hello ca");
  EXPECT_EQ(config->tls.certData, "cert");
  EXPECT_EQ(config->tls.keyData, "key");
  EXPECT_EQ(config->namespace_, "shop");
  EXPECT_FALSE(config->tls.insecureSkipVerify);
}

TEST_F(KubeconfigTest, ReadsANamedContextAndResolvesRelativeFiles) {
  std::string path = write("config", kConfig);
  auto config = loadKubeconfig(path, "local");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "http://127.0.0.1:8080");
  EXPECT_TRUE(config->tls.insecureSkipVerify);
  EXPECT_EQ(config->tls.caFile, (dir_ / "certs/ca.pem").string());
  EXPECT_EQ(config->tokenFile, (dir_ / "token").string());
  EXPECT_EQ(config->namespace_, "default");
}

TEST_F(KubeconfigTest, KubeconfigEnvironmentVariableIsUsed) {
  std::string path = write("config", kConfig);
  ::setenv("KUBECONFIG", ("/nonexistent:" + path).c_str(), 1);
  auto config = loadKubeconfig();
  ::unsetenv("KUBECONFIG");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://dev.example.com:6443");
}

TEST_F(KubeconfigTest, ErrorsNameTheFileAndWhatIsMissing) {
  EXPECT_EQ(loadKubeconfig((dir_ / "missing").string()).error().kind(), ErrorKind::kNotFound);
  std::string path = write("config", kConfig);
  auto noContext = loadKubeconfig(path, "prod");
  ASSERT_FALSE(noContext.ok());
  EXPECT_NE(noContext.error().message().find("context \"prod\" not found"), std::string::npos);
  std::string broken = write("broken", "clusters: [\n");
  auto malformed = loadKubeconfig(broken);
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.error().message().find("malformed YAML"), std::string::npos);
  std::string badData = write("bad", R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://x", certificate-authority-data: "%%%"}}]
)");
  auto notBase64 = loadKubeconfig(badData);
  ASSERT_FALSE(notBase64.ok());
  EXPECT_NE(notBase64.error().message().find("not valid base64"), std::string::npos);
}

TEST_F(KubeconfigTest, InClusterConfigReadsTheServiceAccount) {
  write("token", "abc\n");
  write("ca.crt", "CA");
  write("namespace", "canaryd-system");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = inClusterConfig(dir_.string());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  EXPECT_EQ(config->tokenFile, (dir_ / "token").string());
  EXPECT_EQ(config->namespace_, "canaryd-system");
  EXPECT_EQ(inClusterConfig(dir_.string()).error().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace canaryd::kube
