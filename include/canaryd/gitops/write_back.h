// Git write-back on rollback (opt-in): after canaryd rolls a revision back, Git still names the
// failed version while the primary runs the previous one. writeBack() tells Git: it clones the
// configured repository and branch (libgit2), sets every `image:` of the failed revision in the
// manifest at `path` back to the primary's, commits with a message that names the Canary, the
// failed revision and the evidence, and pushes — to the branch itself (mode commit), or to a new
// branch for review (mode branch). It never force-pushes: when someone else pushed meanwhile,
// it fetches, re-applies the change on the new tip and pushes again (up to `attempts` times);
// when the file already names the primary's images, there is nothing to commit.
//
// Configured per Canary by annotations (see gitOpsConfigOf), fenced by the operator's file
// (gitops/fence.h), credentials from a Secret in the Canary's namespace: HTTPS `username` +
// `token`, or an SSH private key `identity`. Redirects are not followed (credentials would go
// with them), and the manifest is written only when no component of its path is a symbolic
// link (a link in a tenant's repository could point outside the clone).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "canaryd/api/canary.h"
#include "canaryd/core/result.h"

namespace canaryd::gitops {

inline constexpr const char* kWriteBackAnnotation =
    "gitops.canaryd.dev/write-back";  // commit|branch
inline constexpr const char* kRepositoryAnnotation = "gitops.canaryd.dev/repository";
inline constexpr const char* kBranchAnnotation = "gitops.canaryd.dev/branch";  // default main
inline constexpr const char* kPathAnnotation = "gitops.canaryd.dev/path";

struct Config {
  std::string mode;  // commit | branch
  std::string repository;
  std::string branch = "main";
  std::string path;
};

// The Canary's write-back configuration; nothing when it has none (the default: off); an
// error naming the annotation when it is incomplete or malformed.
Result<std::optional<Config>> gitOpsConfigOf(const api::Canary& canary);

struct Credentials {
  std::string username;  // HTTPS; "git" when empty and a token is given
  std::string token;     // HTTPS password or token
  std::string identity;  // SSH private key (PEM/OpenSSH), for ssh:// and scp-like URLs
};

struct Request {
  Config config;
  // container name -> image: the failed revision's, and the primary's to restore.
  std::map<std::string, std::string> failedImages;
  std::map<std::string, std::string> primaryImages;
  std::string message;       // the commit message
  std::string reviewBranch;  // mode branch: the branch to push
  int attempts = 3;
  // Called after each commit and before its push (tests use it to race a concurrent push).
  std::function<void()> beforePush;
  // Remotes other than https and ssh (http, git, file) are refused unless the operator allowed
  // them for this repository (Fence: insecure).
  bool allowInsecureTransport = false;
};

struct Outcome {
  std::string commit;  // the pushed commit's id; "" when nothing had to change
  std::string branch;  // where it was pushed
  int attempts = 0;
};

Result<Outcome> writeBack(const Request& request, const Credentials& credentials);

// "name=image, name=image" (status.lastAppliedRevision) as a map.
std::map<std::string, std::string> parseImages(const std::string& revision);

}  // namespace canaryd::gitops
