#include "canaryd/gitops/write_back.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include <git2.h>

#include "canaryd/gitops/fence.h"

namespace canaryd::gitops {
namespace {

namespace fs = std::filesystem;

void initOnce() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });  // kept for the process' lifetime
}

template <class T, void (*Free)(T*)>
struct Freer {
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};
using Repository = std::unique_ptr<git_repository, Freer<git_repository, git_repository_free>>;
using Index = std::unique_ptr<git_index, Freer<git_index, git_index_free>>;
using Tree = std::unique_ptr<git_tree, Freer<git_tree, git_tree_free>>;
using Commit = std::unique_ptr<git_commit, Freer<git_commit, git_commit_free>>;
using Signature = std::unique_ptr<git_signature, Freer<git_signature, git_signature_free>>;
using Remote = std::unique_ptr<git_remote, Freer<git_remote, git_remote_free>>;

// The host of a repository URL, for messages (never the credentials).
std::string siteOf(const std::string& url) {
  const auto scheme = url.find("://");
  std::string rest = scheme == std::string::npos ? url : url.substr(scheme + 3);
  const auto at = rest.find('@');
  if (at != std::string::npos && at < rest.find('/')) rest = rest.substr(at + 1);
  return rest.substr(0, rest.find_first_of("/:"));
}

Error gitError(int code, const std::string& what, const Config& config) {
  const git_error* e = git_error_last();
  const std::string detail = e != nullptr && e->message != nullptr ? e->message : "unknown error";
  std::string message = what + " " + shownRemote(config.repository) + ": " + detail;
  if (code == GIT_EAUTH || detail.find("authentication") != std::string::npos ||
      detail.find("credentials") != std::string::npos) {
    return Error::invalidInput(what + " " + shownRemote(config.repository) +
                               ": authentication refused by " + siteOf(config.repository) +
                               " (check the username, token or identity in canaryd's Git "
                               "credentials Secret)");
  }
  return Error::unavailable(message);
}

struct CallbackState {
  const Credentials* credentials;
  int credentialCalls = 0;
  std::string rejected;  // a push's refused reference and why
};

int credentialsCallback(git_credential** out, const char* /*url*/, const char* usernameFromUrl,
                        unsigned int allowed, void* payload) {
  auto* state = static_cast<CallbackState*>(payload);
  const Credentials& c = *state->credentials;
  // libgit2 asks again after a refusal: answer once, then give up (GIT_EAUTH).
  if (++state->credentialCalls > 1) return GIT_EAUTH;
  if ((allowed & GIT_CREDENTIAL_SSH_MEMORY) != 0 && !c.identity.empty()) {
    const char* user = usernameFromUrl != nullptr ? usernameFromUrl : "git";
    return git_credential_ssh_key_memory_new(out, user, nullptr, c.identity.c_str(), nullptr);
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !c.token.empty()) {
    const std::string user = c.username.empty() ? "git" : c.username;
    return git_credential_userpass_plaintext_new(out, user.c_str(), c.token.c_str());
  }
  return GIT_PASSTHROUGH;  // no credentials of a kind the server takes
}

int pushUpdateCallback(const char* refname, const char* status, void* payload) {
  if (status != nullptr) {
    static_cast<CallbackState*>(payload)->rejected = std::string(refname) + ": " + status;
  }
  return 0;
}

git_remote_callbacks callbacks(CallbackState& state) {
  git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
  cb.credentials = credentialsCallback;
  cb.push_update_reference = pushUpdateCallback;
  cb.payload = &state;
  return cb;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaces the failed images on `image:` lines; how many lines changed, or -1 when the file
// already names every primary image (nothing to do).
int revertImages(std::string& text, const Request& request) {
  std::stringstream in(text);
  std::string line;
  int changed = 0;
  std::string out;
  while (std::getline(in, line)) {
    const auto key = line.find("image:");
    if (key != std::string::npos) {
      for (const auto& [container, failed] : request.failedImages) {
        auto restore = request.primaryImages.find(container);
        if (restore == request.primaryImages.end() || restore->second == failed) continue;
        const auto at = line.find(failed, key);
        if (at == std::string::npos) continue;
        const auto end = at + failed.size();
        // The whole value, not a prefix of a longer image name.
        if (end < line.size() && line[end] != ' ' && line[end] != '"' && line[end] != '\'' &&
            line[end] != '\r' && line[end] != '#') {
          continue;
        }
        line.replace(at, failed.size(), restore->second);
        ++changed;
        break;
      }
    }
    out += line;
    if (!in.eof()) out += '\n';
  }
  text = out;
  return changed;
}

bool namesEveryPrimaryImage(const std::string& text, const Request& request) {
  for (const auto& [container, image] : request.primaryImages) {
    if (request.failedImages.contains(container) && text.find(image) == std::string::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::map<std::string, std::string> parseImages(const std::string& revision) {
  std::map<std::string, std::string> out;
  std::stringstream in(revision);
  std::string item;
  while (std::getline(in, item, ',')) {
    while (!item.empty() && item.front() == ' ')
      item.erase(item.begin());
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

Result<std::optional<Config>> gitOpsConfigOf(const api::Canary& canary) {
  auto annotation = [&](const char* key) -> std::string {
    auto it = canary.metadata.annotations.find(key);
    return it == canary.metadata.annotations.end() ? "" : it->second;
  };
  const std::string mode = annotation(kWriteBackAnnotation);
  if (mode.empty() || mode == "off") return std::optional<Config>();
  auto field = [](const char* key) { return std::string("metadata.annotations[") + key + "]"; };
  if (mode != "commit" && mode != "branch") {
    return Error::invalidInput(field(kWriteBackAnnotation) + ": \"" + mode +
                               "\" must be commit, branch or off");
  }
  Config c;
  c.mode = mode;
  c.repository = annotation(kRepositoryAnnotation);
  c.path = annotation(kPathAnnotation);
  if (!annotation(kBranchAnnotation).empty()) c.branch = annotation(kBranchAnnotation);
  if (c.repository.empty()) {
    return Error::invalidInput(field(kRepositoryAnnotation) +
                               ": required with write-back: the repository's URL");
  }
  if (c.path.empty() || c.path.front() == '/' || c.path.find("..") != std::string::npos) {
    return Error::invalidInput(field(kPathAnnotation) +
                               ": required with write-back: the manifest's path in the "
                               "repository, relative and without \"..\"");
  }
  return std::optional<Config>(c);
}

Result<Outcome> writeBack(const Request& request, const Credentials& credentials) {
  initOnce();
  const Config& config = request.config;
  char pattern[] = "/tmp/canaryd-git-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return Error::internal("cannot create a temporary directory");
  const fs::path work(pattern);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{work};

  const std::string scheme = remoteScheme(config.repository);
  if (scheme != "https" && scheme != "ssh" && !request.allowInsecureTransport) {
    return Error::invalidInput(shownRemote(config.repository) + ": a " + scheme +
                               " remote is refused; Git credentials go only over https or ssh");
  }
  Outcome outcome;
  std::string lastRejection;
  for (int attempt = 1; attempt <= request.attempts; ++attempt) {
    outcome.attempts = attempt;
    const fs::path dir = work / std::to_string(attempt);
    CallbackState state{&credentials, 0, {}};
    git_clone_options clone = GIT_CLONE_OPTIONS_INIT;
    clone.checkout_branch = config.branch.c_str();
    clone.fetch_opts.callbacks = callbacks(state);
    clone.fetch_opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
    git_repository* raw = nullptr;
    if (int rc = git_clone(&raw, config.repository.c_str(), dir.c_str(), &clone); rc != 0) {
      return gitError(rc, "cloning branch " + config.branch + " of", config);
    }
    Repository repo(raw);

    const fs::path file = dir / config.path;
    // No component may be a symbolic link: the repository is the tenant's, and a link would
    // make canaryd write wherever it points.
    fs::path walked;
    for (const fs::path& part : fs::path(config.path)) {
      walked /= part;
      std::error_code ec;
      if (fs::is_symlink(fs::symlink_status(dir / walked, ec))) {
        return Error::invalidInput(config.path + " in " + shownRemote(config.repository) +
                                   ": refused, " + walked.string() + " is a symbolic link");
      }
    }
    if (!fs::is_regular_file(file)) {
      return Error::invalidInput(config.path + " is not in branch " + config.branch + " of " +
                                 shownRemote(config.repository));
    }
    std::string text = readFile(file);
    if (revertImages(text, request) == 0) {
      if (namesEveryPrimaryImage(text, request)) return outcome;  // already reverted
      return Error::invalidInput(config.path + " in " + shownRemote(config.repository) +
                                 " names neither the failed nor the primary's images");
    }
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;

    git_index* rawIndex = nullptr;
    git_repository_index(&rawIndex, repo.get());
    Index index(rawIndex);
    git_oid treeId;
    git_oid parentId;
    git_oid commitId;
    git_tree* rawTree = nullptr;
    git_commit* rawParent = nullptr;
    git_signature* rawSig = nullptr;
    if (git_index_add_bypath(index.get(), config.path.c_str()) != 0 ||
        git_index_write(index.get()) != 0 || git_index_write_tree(&treeId, index.get()) != 0 ||
        git_tree_lookup(&rawTree, repo.get(), &treeId) != 0 ||
        git_reference_name_to_id(&parentId, repo.get(), "HEAD") != 0 ||
        git_commit_lookup(&rawParent, repo.get(), &parentId) != 0 ||
        git_signature_now(&rawSig, "canaryd", "canaryd@localhost") != 0) {
      return gitError(-1, "committing to", config);
    }
    Tree tree(rawTree);
    Commit parent(rawParent);
    Signature signature(rawSig);
    const git_commit* parents[] = {parent.get()};
    if (git_commit_create(&commitId, repo.get(), "HEAD", signature.get(), signature.get(), nullptr,
                          request.message.c_str(), tree.get(), 1, parents) != 0) {
      return gitError(-1, "committing to", config);
    }
    if (request.beforePush) request.beforePush();

    git_remote* rawRemote = nullptr;
    if (git_remote_lookup(&rawRemote, repo.get(), "origin") != 0) {
      return gitError(-1, "pushing to", config);
    }
    Remote remote(rawRemote);
    outcome.branch = config.mode == "branch" ? request.reviewBranch : config.branch;
    // Never "+": a push that is not a fast-forward is refused, not forced.
    const std::string refspec = "refs/heads/" + config.branch + ":refs/heads/" + outcome.branch;
    char* specs[] = {const_cast<char*>(refspec.c_str())};
    git_strarray refspecs{specs, 1};
    git_push_options push = GIT_PUSH_OPTIONS_INIT;
    state.credentialCalls = 0;
    push.callbacks = callbacks(state);
    push.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
    const int rc = git_remote_push(remote.get(), &refspecs, &push);
    if (rc == 0 && state.rejected.empty()) {
      char id[GIT_OID_HEXSZ + 1];
      git_oid_tostr(id, sizeof id, &commitId);
      outcome.commit = id;
      return outcome;
    }
    const git_error* e = git_error_last();
    const std::string detail = !state.rejected.empty()                 ? state.rejected
                               : e != nullptr && e->message != nullptr ? e->message
                                                                       : "refused";
    const bool raced = detail.find("fast-forward") != std::string::npos ||
                       detail.find("fetch first") != std::string::npos ||
                       detail.find("not present locally") != std::string::npos ||
                       detail.find("rejected") != std::string::npos ||
                       detail.find("stale") != std::string::npos;
    if (!raced || config.mode == "branch") {
      if (rc != 0 && state.rejected.empty()) return gitError(rc, "pushing to", config);
      return Error::unavailable("pushing to " + shownRemote(config.repository) + ": " + detail);
    }
    lastRejection = detail;  // someone pushed meanwhile: start again from the new tip
  }
  return Error::conflict("pushing to " + shownRemote(config.repository) + ": still refused after " +
                         std::to_string(request.attempts) + " attempts (" + lastRejection +
                         "); nothing was forced");
}

}  // namespace canaryd::gitops
