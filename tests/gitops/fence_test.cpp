// The operator's fence around Git write-back: a namespace writes only the repositories and
// paths listed for it, over https or ssh unless the operator says otherwise, and pushes to
// the branch itself only when allowed.
#include "canaryd/gitops/fence.h"

#include <gtest/gtest.h>

namespace canaryd::gitops {
namespace {

constexpr const char* kFile = R"(
credentialsSecret: git-creds
namespaces:
  shop:
    - repository: https://git.example.com/shop/apps.git
      paths: [apps/shop/, clusters/prod/shop.yaml]
    - repository: git@git.example.com:platform/fleet.git
      paths: [shop]
      commit: true
  lab:
    - {repository: "http://gitea.lab:3000/lab/apps", paths: [apps/], insecure: true}
)";

Fence fence() {
  Result<Fence> f = Fence::parse(kFile, "write-back.yaml");
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message());
  return *f;
}

std::string refusal(const std::string& ns, const Config& c) {
  Result<Grant> g = fence().check(ns, c);
  return g.ok() ? "" : g.error().message();
}

TEST(FenceTest, AListedRepositoryAndPathAreGranted) {
  EXPECT_EQ(fence().credentialsSecret(), "git-creds");
  // The same repository written with or without ".git" and a trailing "/", host in any case.
  for (const std::string repo :
       {"https://git.example.com/shop/apps.git", "https://GIT.example.com/shop/apps/",
        "https://git.example.com/shop/apps"}) {
    EXPECT_EQ(refusal("shop", {"branch", repo, "main", "apps/shop/web.yaml"}), "") << repo;
  }
  EXPECT_EQ(refusal("shop", {"branch", "https://git.example.com/shop/apps", "main",
                             "clusters/prod/shop.yaml"}),
            "");
  EXPECT_EQ(refusal("shop",
                    {"commit", "git@git.example.com:platform/fleet.git", "main", "shop/web.yaml"}),
            "");
  Result<Grant> lab =
      fence().check("lab", {"branch", "http://gitea.lab:3000/lab/apps.git", "main", "apps/x.yaml"});
  ASSERT_TRUE(lab.ok());
  EXPECT_TRUE(lab->insecure);
}

TEST(FenceTest, AnotherNamespacesRepositoryOrPathIsRefused) {
  // The attacks of the review: a namespace not listed, another team's file in a shared
  // repository, a repository of the attacker's, a path that only starts like an allowed one.
  EXPECT_NE(refusal("thief", {"branch", "https://git.example.com/shop/apps.git", "main",
                              "apps/shop/web.yaml"})
                .find("not enabled for namespace thief"),
            std::string::npos);
  EXPECT_NE(refusal("shop", {"branch", "https://git.example.com/shop/apps.git", "main",
                             "apps/payments/api.yaml"})
                .find("apps/payments/api.yaml is outside the paths namespace shop may write"),
            std::string::npos);
  EXPECT_NE(refusal("shop", {"branch", "http://their-host/x.git", "main", "apps/shop/web.yaml"})
                .find("http://their-host/x.git is not a repository namespace shop may write"),
            std::string::npos);
  EXPECT_NE(refusal("shop",
                    {"branch", "git@git.example.com:platform/fleet.git", "main", "shopping/x.yaml"})
                .find("is outside the paths"),
            std::string::npos);
  // The listed https repository asked for over http: a different remote, refused.
  EXPECT_NE(refusal("shop", {"branch", "http://git.example.com/shop/apps.git", "main",
                             "apps/shop/web.yaml"}),
            "");
}

TEST(FenceTest, CommitModeNeedsTheOperatorsLeave) {
  EXPECT_NE(refusal("shop", {"commit", "https://git.example.com/shop/apps.git", "main",
                             "apps/shop/web.yaml"})
                .find("commit (a push to main) is not allowed for namespace shop; use branch"),
            std::string::npos);
}

TEST(FenceTest, TheFileItselfIsChecked) {
  Result<Fence> insecure = Fence::parse(
      "namespaces:\n  a:\n    - {repository: 'git://host/x.git', paths: [x/]}\n", "f.yaml");
  ASSERT_FALSE(insecure.ok());
  EXPECT_NE(insecure.error().message().find("is a git remote; only https and ssh"),
            std::string::npos)
      << insecure.error().message();
  EXPECT_FALSE(Fence::parse("namespaces:\n  a:\n    - {repository: 'https://h/x'}\n", "f").ok());
  EXPECT_FALSE(
      Fence::parse("namespaces:\n  a:\n    - {repository: 'https://h/x', paths: [../x]}\n", "f")
          .ok());
  EXPECT_FALSE(Fence::parse("[1, 2", "f").ok());
  EXPECT_EQ(remoteScheme("git@github.com:org/repo.git"), "ssh");
  EXPECT_EQ(remoteScheme("ssh://git@github.com/org/repo.git"), "ssh");
  EXPECT_EQ(remoteScheme("/srv/git/repo.git"), "file");
  EXPECT_EQ(shownRemote("https://deployer:ghp_token@github.com/org/repo.git?x=1"),
            "https://github.com/org/repo.git");
  EXPECT_EQ(shownRemote("file:///srv/git/repo.git"), "file:///srv/git/repo.git");
  EXPECT_EQ(shownRemote("git@github.com:org/repo.git"), "git@github.com:org/repo.git");
}

}  // namespace
}  // namespace canaryd::gitops
