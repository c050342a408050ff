// Fence: which namespaces may write back to which Git repositories and paths — the operator's
// file, `canaryd run --git-write-back-config FILE` (mounted from a ConfigMap). Git write-back is
// the one thing a Canary makes canaryd do with credentials; without the file it is off for
// every namespace.
//
//   credentialsSecret: canaryd-git     # the Secret, in the Canary's own namespace (default)
//   namespaces:
//     shop:
//       - repository: https://git.example.com/shop/apps.git
//         paths: [apps/shop/]          # path prefixes the namespace may write (required)
//         commit: false                # true: may also push to the branch itself (mode
//                                      # commit); otherwise only review branches (mode branch)
//         insecure: false              # true: allow a remote that is neither https nor ssh
//                                      # (http, git, file: a lab, a test)
//
// A Canary's annotations must name a listed repository exactly (compared without a trailing
// "/" or ".git") and a path under one of its prefixes. Its credentials come only from the
// Secret in its own namespace, so one namespace's token never reaches another's repository,
// and a repository not in the file gets none at all. Immutable after load; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "canaryd/core/result.h"
#include "canaryd/gitops/write_back.h"

namespace canaryd::gitops {

struct Grant {
  std::string repository;
  std::vector<std::string> paths;
  bool commit = false;
  bool insecure = false;
};

class Fence {
 public:
  // Parses the file's text; `source` names it in errors.
  static Result<Fence> parse(const std::string& text, const std::string& source);
  static Result<Fence> load(const std::string& path);

  // The grant that lets namespace `ns` do what `config` asks; an error that names the
  // annotation and says what is allowed otherwise.
  Result<Grant> check(const std::string& ns, const Config& config) const;
  const std::string& credentialsSecret() const { return credentialsSecret_; }

 private:
  std::string credentialsSecret_ = "canaryd-git";
  std::map<std::string, std::vector<Grant>> byNamespace_;
};

// "https", "ssh" (also scp-like "git@host:path"), "http", "git", "file", ... of a remote URL.
std::string remoteScheme(const std::string& url);
// A remote URL for messages, events and alerts: without userinfo (a token written into the URL)
// and query; scp-like and local remotes as written.
std::string shownRemote(const std::string& url);

}  // namespace canaryd::gitops
