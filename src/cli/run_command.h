// `canaryd run`: the daemon. Watches Canaries (and the Deployments they target) and drives
// their rollouts until SIGTERM or SIGINT, which let in-flight reconciles finish and release
// the leader Lease.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace canaryd::cli {

struct RunOptions {
  std::string kubeconfig;               // "" : $KUBECONFIG, ~/.kube/config, then in-cluster
  std::vector<std::string> namespaces;  // none: every namespace
  std::string metricsServer = "http://prometheus:9090";
  std::string provider = "kubernetes";
  std::string ingressClass;  // Flagger's -ingress-class (contour's ingressClassName)
  // Flagger's -selector-labels: the labels a target may select its pods by, comma-separated.
  std::string selectorLabels = "app,name,app.kubernetes.io/name";
  std::string listen = "127.0.0.1:8080";  // /healthz and /readyz
  bool leaderElect = false;
  std::string leaseName = "canaryd-leader";
  std::string leaseNamespace = "canaryd-system";
  std::string gitCredentialsSecret;  // refused: credentials come from each namespace's Secret
  std::string gitWriteBackConfig;    // the Fence file; "": write-back off
  // Where the key of status digests lives (created when missing).
  std::string digestKeySecret = "canaryd-system/canaryd-digest-key";
  int maxConcurrentCanaries = 4;
  std::string minInterval = "10s";
  // Addresses that tenants' templates, webhooks and alert providers may reach (empty: any);
  // --metrics-server is always allowed.
  std::vector<std::string> allowAddresses;
  // Flagger's -no-cross-namespace-refs: templateRef and providerRef stay in the Canary's
  // namespace.
  bool noCrossNamespaceRefs = false;
};

// Exit codes: 0 stopped by a signal, 1 lost leadership or could not start, 2 bad flags.
int runDaemon(const RunOptions& options, std::ostream& err);

}  // namespace canaryd::cli
