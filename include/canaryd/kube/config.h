// Where the Kubernetes API is and how to authenticate to it: from a kubeconfig file or from
// inside a pod. Plain value types; the loaders read files and the environment only.
#pragma once

#include <string>

#include "canaryd/core/http.h"
#include "canaryd/core/result.h"

namespace canaryd::kube {

struct ConnectionConfig {
  std::string server;     // https://10.0.0.1:443 or http://127.0.0.1:PORT (kubesim)
  TlsOptions tls;         // CA, client certificate and key, insecure-skip-tls-verify
  std::string token;      // bearer token given inline
  std::string tokenFile;  // or a file re-read when it changes (projected service-account token)
  std::string namespace_ = "default";  // the context's namespace
};

// Loads the current context (or `context`) from `path`; an empty path means $KUBECONFIG (the
// first of its files that exists) or ~/.kube/config. Relative file references are resolved
// against the kubeconfig's directory. Errors name the file and what is missing.
Result<ConnectionConfig> loadKubeconfig(const std::string& path = "",
                                        const std::string& context = "");

// The in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT, the service account's token
// (re-read as it rotates), CA certificate and namespace under `serviceAccountDir`.
Result<ConnectionConfig> inClusterConfig(
    const std::string& serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace canaryd::kube
