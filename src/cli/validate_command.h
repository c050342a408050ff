// `canaryd validate FILE... | -`: checks manifests before they reach a cluster.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace canaryd::cli {

struct ValidateOptions {
  std::vector<std::string> files;  // "-" reads standard input; a directory its manifests
  bool recursive = false;          // -R: and its subdirectories' (as kubectl apply -R)
  std::string output = "text";     // text | json
  bool explain = false;            // also describe what each valid Canary's rollout will do
  // The router of Canaries that name no spec.provider, as `canaryd run --provider`.
  std::string provider = "kubernetes";
};

// Exit codes: 0 all valid (warnings allowed), 1 any document invalid or no document at all,
// 2 usage error (unknown output format, unreadable file or directory).
int runValidate(const ValidateOptions& options, std::istream& in, std::ostream& out,
                std::ostream& err);

}  // namespace canaryd::cli
