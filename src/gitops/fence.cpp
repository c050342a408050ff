#include "canaryd/gitops/fence.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "canaryd/core/address_policy.h"

namespace canaryd::gitops {
namespace {

// A repository URL as compared: without trailing "/" or ".git", scheme and host lower-cased.
std::string canonical(std::string url) {
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  if (url.ends_with(".git")) url.resize(url.size() - 4);
  const auto scheme = url.find("://");
  const auto hostEnd = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  std::transform(url.begin(), hostEnd == std::string::npos ? url.end() : url.begin() + hostEnd,
                 url.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return url;
}

std::string annotationField(const char* key) {
  return std::string("metadata.annotations[") + key + "]";
}

}  // namespace

std::string remoteScheme(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme != std::string::npos) {
    std::string s = url.substr(0, scheme);
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s == "git+ssh" || s == "ssh+git" ? "ssh" : s;
  }
  // scp-like: [user@]host:path, with no "/" before the ":".
  const auto colon = url.find(':');
  if (colon != std::string::npos && colon > 0 && url.find('/') > colon) return "ssh";
  return "file";  // a local path
}

std::string shownRemote(const std::string& url) {
  if (url.find("://") == std::string::npos || remoteScheme(url) == "file") return url;
  const std::string shown = redactUrl(url);
  return shown == "(unparsable URL)" ? url.substr(0, url.find("://") + 3) + "..." : shown;
}

Result<Fence> Fence::parse(const std::string& text, const std::string& source) {
  Fence fence;
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return Error::invalidInput(source + ": expected a mapping");
    if (root["credentialsSecret"]) {
      fence.credentialsSecret_ = root["credentialsSecret"].as<std::string>();
    }
    const YAML::Node namespaces = root["namespaces"];
    if (namespaces && !namespaces.IsMap()) {
      return Error::invalidInput(source + ": namespaces must map each namespace to a list");
    }
    for (const auto& entry : namespaces) {
      const std::string ns = entry.first.as<std::string>();
      if (!entry.second.IsSequence()) {
        return Error::invalidInput(source + ": namespaces." + ns + " must be a list");
      }
      for (const YAML::Node& g : entry.second) {
        Grant grant;
        if (!g["repository"] || !g["paths"] || !g["paths"].IsSequence() || g["paths"].size() == 0) {
          return Error::invalidInput(source + ": namespaces." + ns +
                                     ": each entry needs repository and a list of paths");
        }
        grant.repository = g["repository"].as<std::string>();
        for (const YAML::Node& p : g["paths"]) {
          std::string prefix = p.as<std::string>();
          if (prefix.empty() || prefix.front() == '/' || prefix.find("..") != std::string::npos) {
            return Error::invalidInput(source + ": namespaces." + ns + ": path " + prefix +
                                       " must be relative and without \"..\"");
          }
          grant.paths.push_back(prefix);
        }
        grant.commit = g["commit"] && g["commit"].as<bool>();
        grant.insecure = g["insecure"] && g["insecure"].as<bool>();
        const std::string scheme = remoteScheme(grant.repository);
        if (scheme != "https" && scheme != "ssh" && !grant.insecure) {
          return Error::invalidInput(source + ": namespaces." + ns + ": " + grant.repository +
                                     " is a " + scheme +
                                     " remote; only https and ssh carry credentials safely "
                                     "(set insecure: true to allow it anyway)");
        }
        fence.byNamespace_[ns].push_back(std::move(grant));
      }
    }
  } catch (const YAML::Exception& e) {
    return Error::invalidInput(source + ": " + e.what());
  }
  return fence;
}

Result<Fence> Fence::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::invalidInput("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Result<Grant> Fence::check(const std::string& ns, const Config& config) const {
  auto listed = byNamespace_.find(ns);
  if (listed == byNamespace_.end()) {
    return Error::invalidInput("Git write-back is not enabled for namespace " + ns +
                               " (the operator lists each namespace's repositories in canaryd "
                               "run --git-write-back-config)");
  }
  const std::string wanted = canonical(config.repository);
  for (const Grant& grant : listed->second) {
    if (canonical(grant.repository) != wanted) continue;
    const std::string scheme = remoteScheme(config.repository);
    if (scheme != "https" && scheme != "ssh" && !grant.insecure) {
      return Error::invalidInput(annotationField(kRepositoryAnnotation) + ": a " + scheme +
                                 " remote is refused; only https and ssh");
    }
    const bool underPrefix =
        std::any_of(grant.paths.begin(), grant.paths.end(), [&](const std::string& prefix) {
          if (!config.path.starts_with(prefix)) return false;
          // "apps/shop" allows "apps/shop/x.yaml", not "apps/shopping/x.yaml".
          return prefix.back() == '/' || config.path.size() == prefix.size() ||
                 config.path[prefix.size()] == '/';
        });
    if (!underPrefix) {
      std::string allowed;
      for (const std::string& p : grant.paths)
        allowed += (allowed.empty() ? "" : ", ") + p;
      return Error::invalidInput(annotationField(kPathAnnotation) + ": " + config.path +
                                 " is outside the paths namespace " + ns + " may write in " +
                                 shownRemote(config.repository) + " (" + allowed + ")");
    }
    if (config.mode == "commit" && !grant.commit) {
      return Error::invalidInput(annotationField(kWriteBackAnnotation) + ": commit (a push to " +
                                 config.branch + ") is not allowed for namespace " + ns +
                                 "; use branch, which pushes a branch for review");
    }
    return grant;
  }
  std::string allowed;
  for (const Grant& g : listed->second)
    allowed += (allowed.empty() ? "" : ", ") + g.repository;
  return Error::invalidInput(annotationField(kRepositoryAnnotation) + ": " +
                             shownRemote(config.repository) + " is not a repository namespace " +
                             ns + " may write (" + allowed + ")");
}

}  // namespace canaryd::gitops
