#include "canaryd/kube/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "canaryd/core/base64.h"

namespace canaryd::kube {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const YAML::Node findNamed(const YAML::Node& list, const std::string& name) {
  if (list && list.IsSequence()) {
    for (const YAML::Node& item : list) {
      if (item["name"] && item["name"].as<std::string>() == name) return item;
    }
  }
  return YAML::Node();
}

std::string resolve(const fs::path& base, const std::string& file) {
  if (file.empty() || fs::path(file).is_absolute()) return file;
  return (base / file).string();
}

}  // namespace

Result<ConnectionConfig> loadKubeconfig(const std::string& pathIn, const std::string& contextIn) {
  std::string path = pathIn;
  if (path.empty()) {
    if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != 0) {
      std::stringstream paths(env);
      std::string candidate;
      while (std::getline(paths, candidate, ':')) {
        if (!candidate.empty() && fs::exists(candidate)) {
          path = candidate;
          break;
        }
      }
    }
    if (path.empty()) {
      const char* home = std::getenv("HOME");
      path = std::string(home != nullptr ? home : "") + "/.kube/config";
    }
  }
  if (!fs::exists(path)) return Error::notFound("kubeconfig " + path + " does not exist");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Error::invalidInput(path + ": malformed YAML at line " +
                               std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  try {
    std::string contextName = contextIn;
    if (contextName.empty() && root["current-context"]) {
      contextName = root["current-context"].as<std::string>();
    }
    if (contextName.empty())
      return Error::invalidInput(path + ": no current-context and none given");
    YAML::Node context = findNamed(root["contexts"], contextName);
    if (!context || !context["context"]) {
      return Error::invalidInput(path + ": context \"" + contextName + "\" not found in contexts");
    }
    const YAML::Node ctx = context["context"];
    const std::string clusterName = ctx["cluster"] ? ctx["cluster"].as<std::string>() : "";
    const std::string userName = ctx["user"] ? ctx["user"].as<std::string>() : "";
    YAML::Node cluster = findNamed(root["clusters"], clusterName);
    if (!cluster || !cluster["cluster"] || !cluster["cluster"]["server"]) {
      return Error::invalidInput(path + ": cluster \"" + clusterName + "\" of context \"" +
                                 contextName + "\" has no server");
    }
    const fs::path base = fs::path(path).parent_path();
    ConnectionConfig config;
    const YAML::Node c = cluster["cluster"];
    config.server = c["server"].as<std::string>();
    if (c["certificate-authority"]) {
      config.tls.caFile = resolve(base, c["certificate-authority"].as<std::string>());
    }
    if (c["certificate-authority-data"]) {
      auto data = base64Decode(c["certificate-authority-data"].as<std::string>(),
                               "certificate-authority-data");
      if (!data) return data.error().withContext(path);
      config.tls.caData = *data;
    }
    if (c["insecure-skip-tls-verify"])
      config.tls.insecureSkipVerify = c["insecure-skip-tls-verify"].as<bool>();
    if (ctx["namespace"]) config.namespace_ = ctx["namespace"].as<std::string>();
    YAML::Node user = findNamed(root["users"], userName);
    if (user && user["user"]) {
      const YAML::Node u = user["user"];
      if (u["token"]) config.token = u["token"].as<std::string>();
      if (u["tokenFile"]) config.tokenFile = resolve(base, u["tokenFile"].as<std::string>());
      if (u["client-certificate"])
        config.tls.certFile = resolve(base, u["client-certificate"].as<std::string>());
      if (u["client-key"]) config.tls.keyFile = resolve(base, u["client-key"].as<std::string>());
      if (u["client-certificate-data"]) {
        auto data =
            base64Decode(u["client-certificate-data"].as<std::string>(), "client-certificate-data");
        if (!data) return data.error().withContext(path);
        config.tls.certData = *data;
      }
      if (u["client-key-data"]) {
        auto data = base64Decode(u["client-key-data"].as<std::string>(), "client-key-data");
        if (!data) return data.error().withContext(path);
        config.tls.keyData = *data;
      }
    }
    return config;
  } catch (const YAML::Exception& e) {
    return Error::invalidInput(path + ": unexpected structure at line " +
                               std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<ConnectionConfig> inClusterConfig(const std::string& serviceAccountDir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr) {
    return Error::notFound("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  const fs::path dir(serviceAccountDir);
  if (!fs::exists(dir / "token")) {
    return Error::notFound("no service-account token at " + (dir / "token").string());
  }
  ConnectionConfig config;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  config.server = "https://" + h + ":" + port;
  config.tokenFile = (dir / "token").string();
  config.tls.caFile = (dir / "ca.crt").string();
  if (fs::exists(dir / "namespace")) config.namespace_ = readFile(dir / "namespace");
  return config;
}

}  // namespace canaryd::kube
