// `canaryd gitops-config --engine argocd|flux FILE...`: what a GitOps sync engine must be told
// so that it does not fight canaryd over the fields canaryd owns — the replicas of each
// Canary's target Deployment, and the weights of a routing object that is also in Git — and
// how it should wait for a rollout. Prints YAML to paste: Argo CD's `ignoreDifferences` (with
// `RespectIgnoreDifferences`), or a Flux Kustomization's `patches` and `healthChecks`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace canaryd::cli {

struct GitopsConfigOptions {
  std::string engine;              // argocd | flux
  std::vector<std::string> files;  // "-" reads standard input
};

// Exit codes: 0 printed, 1 no Canary in the input or an invalid one, 2 usage error.
int runGitopsConfig(const GitopsConfigOptions& options, std::istream& in, std::ostream& out,
                    std::ostream& err);

}  // namespace canaryd::cli
