#include "cli/run_command.h"

#include <csignal>
#include <cstdlib>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "canaryd/cluster/typed.h"
#include "canaryd/controller/canary_controller.h"
#include "canaryd/controller/controller_metrics.h"
#include "canaryd/controller/reconciler.h"
#include "canaryd/core/base64.h"
#include "canaryd/core/digest.h"
#include "canaryd/core/duration.h"
#include "canaryd/core/text.h"
#include "canaryd/gitops/write_back_runner.h"
#include "canaryd/kube/config.h"
#include "canaryd/kube/kube_client.h"
#include "canaryd/notify/alert_providers.h"
#include "canaryd/notify/notifier.h"
#include "canaryd/plugins/builtin.h"
#include "canaryd/runtime/manager.h"

namespace canaryd::cli {
namespace {

// "app,name" -> {"app", "name"}; each a label key (optionally prefixed, as app.kubernetes.io/).
Result<std::vector<std::string>> labelList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string label = text.substr(start, comma - start);
    const auto b = label.find_first_not_of(' ');
    const auto e = label.find_last_not_of(' ');
    label = b == std::string::npos ? "" : label.substr(b, e - b + 1);
    const bool valid = !label.empty() && label.size() <= 316 &&
                       label.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789-_./") == std::string::npos;
    if (!valid) return Error::invalidInput(quote(label) + " is not a label key");
    out.push_back(label);
    start = comma + 1;
  }
  return out;
}

Result<kube::ConnectionConfig> connection(const std::string& kubeconfig) {
  if (!kubeconfig.empty()) return kube::loadKubeconfig(kubeconfig);
  if (std::getenv("KUBERNETES_SERVICE_HOST") != nullptr) return kube::inClusterConfig();
  return kube::loadKubeconfig();
}

std::string identity() {
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') return pod;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "_" + std::to_string(getpid());
}

// The install's key for status digests: the Secret's `key`, created with 32 random bytes when
// missing (a replica that loses the race reads the winner's). "" when neither works (no such
// namespace: a local try-out), with a warning: digests are then unkeyed.
std::string digestKey(cluster::Client& client, const std::string& where) {
  const auto slash = where.find('/');
  const cluster::ObjectRef ref{where.substr(0, slash), where.substr(slash + 1)};
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<std::map<std::string, std::string>> data = cluster::readSecret(client, ref, {"key"});
    if (data && !(*data)["key"].empty()) return (*data)["key"];
    if (!data && data.error().kind() != ErrorKind::kNotFound) {
      spdlog::warn("digest key Secret {}: {}; status digests are unkeyed", where,
                   data.error().message());
      return "";
    }
    const nlohmann::json secret = {
        {"apiVersion", "v1"},
        {"kind", "Secret"},
        {"metadata", {{"name", ref.name}, {"namespace", ref.namespace_}}},
        {"type", "Opaque"},
        {"data", {{"key", base64Encode(randomBytes(32))}}}};
    Result<api::JsonValue> created =
        client.create(cluster::kSecrets, ref.namespace_, api::JsonValue(secret));
    if (created) continue;  // read it back
    if (created.error().kind() != ErrorKind::kConflict) {
      spdlog::warn(
          "cannot create the digest key Secret {}: {}; status digests are unkeyed "
          "(create the namespace, or pass --digest-key-secret)",
          where, created.error().message());
      return "";
    }
  }
  return "";
}

}  // namespace

int runDaemon(const RunOptions& options, std::ostream& err) {
  const auto colon = options.listen.rfind(':');
  if (colon == std::string::npos) {
    err << "canaryd run: --listen must be HOST:PORT, got " << options.listen << "\n";
    return 2;
  }
  int port = 0;
  try {
    port = std::stoi(options.listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    err << "canaryd run: --listen port must be 0-65535, got " << options.listen << "\n";
    return 2;
  }
  Result<Duration> minInterval = parseDuration(options.minInterval);
  if (!minInterval || *minInterval < std::chrono::seconds(1)) {
    err << "canaryd run: --min-interval must be a duration of at least 1s, got "
        << options.minInterval << "\n";
    return 2;
  }
  std::vector<std::string> allowed = options.allowAddresses;
  if (!allowed.empty()) allowed.push_back(options.metricsServer);  // the operator's own
  Result<AddressPolicy> parsedPolicy = AddressPolicy::parse(allowed);
  if (!parsedPolicy) {
    err << "canaryd run: " << parsedPolicy.error().message() << "\n";
    return 2;
  }
  auto addresses = std::make_shared<AddressPolicy>(std::move(*parsedPolicy));
  if (!options.gitCredentialsSecret.empty()) {
    err << "canaryd run: --git-credentials-secret is no longer taken: one Secret for every "
           "namespace let any namespace use it. Git credentials now come from a Secret in each "
           "Canary's own namespace, and --git-write-back-config FILE lists the repositories and "
           "paths each namespace may write (see the README)\n";
    return 2;
  }
  if (options.digestKeySecret.find('/') == std::string::npos) {
    err << "canaryd run: --digest-key-secret must be NAMESPACE/NAME, got "
        << options.digestKeySecret << "\n";
    return 2;
  }
  Result<std::vector<std::string>> selectorLabels = labelList(options.selectorLabels);
  if (!selectorLabels) {
    err << "canaryd run: --selector-labels: " << selectorLabels.error().message() << "\n";
    return 2;
  }
  std::shared_ptr<const gitops::Fence> fence;
  if (!options.gitWriteBackConfig.empty()) {
    Result<gitops::Fence> loaded = gitops::Fence::load(options.gitWriteBackConfig);
    if (!loaded) {
      err << "canaryd run: --git-write-back-config: " << loaded.error().message() << "\n";
      return 2;
    }
    fence = std::make_shared<const gitops::Fence>(std::move(*loaded));
  }
  Result<kube::ConnectionConfig> config = connection(options.kubeconfig);
  if (!config) {
    err << "canaryd run: " << config.error().message() << "\n";
    return 1;
  }

  // SIGTERM and SIGINT are taken by one thread (sigwait), never by the workers.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  controller::ControllerMetrics metrics(options.provider);
  addresses->onRefusal(
      [&metrics](const std::string& purpose) { metrics.recordAddressRefusal(purpose); });
  kube::ClientOptions clientOptions;
  clientOptions.observer = metrics.kubeApiObserver();
  kube::KubeClient client(*config, clientOptions);
  SystemClock clock;
  notify::LogNotifier log;
  const plugins::Registry& registry = plugins::builtin();
  notify::AlertProviderNotifier providers(client, registry.notifiers());
  providers.onDelivery([&metrics](const std::string& type, bool delivered) {
    metrics.recordNotification(type, delivered);
  });
  providers.restrictAddresses(addresses);
  providers.refuseCrossNamespaceRefs(options.noCrossNamespaceRefs);
  notify::FanOutNotifier notifier(log, providers);
  controller::ReconcilerOptions reconcilerOptions;
  reconcilerOptions.digestKey = digestKey(client, options.digestKeySecret);
  reconcilerOptions.provider = options.provider;
  reconcilerOptions.selectorLabels = *selectorLabels;
  reconcilerOptions.metricsServer = options.metricsServer;
  reconcilerOptions.minInterval = *minInterval;
  reconcilerOptions.routers = registry.routerFactory(addresses, options.ingressClass);
  reconcilerOptions.catalog = registry.catalog(options.provider);
  gitops::WriteBackRunner writeBack(client, clock, notifier, fence);
  reconcilerOptions.rollbacks = &writeBack;
  reconcilerOptions.addresses = addresses;
  reconcilerOptions.noCrossNamespaceRefs = options.noCrossNamespaceRefs;
  controller::ProviderFactory providerFactory = [observer = metrics.prometheusObserver(), addresses,
                                                 &registry](metrics::ProviderConfig provider) {
    provider.observer = observer;
    provider.addresses = addresses;
    return registry.makeMetricProvider(provider);
  };
  controller::Reconciler reconciler(client, clock, notifier, reconcilerOptions, providerFactory);
  controller::ControllerOptions controllerOptions;
  controllerOptions.metrics = &metrics;
  controllerOptions.namespaces = options.namespaces;
  controllerOptions.workers = options.maxConcurrentCanaries;
  controller::CanaryController canaries(client, clock, reconciler, controllerOptions);

  runtime::ManagerOptions managerOptions;
  managerOptions.healthHost = options.listen.substr(0, colon);
  managerOptions.healthPort = static_cast<std::uint16_t>(port);
  runtime::Manager* running = nullptr;  // set below; the scrape reports its leadership
  managerOptions.metrics = [&metrics, &running] {
    metrics.setLeader(running != nullptr && running->isLeader());
    return metrics.render();
  };
  if (options.leaderElect) {
    runtime::LeaderElectionConfig lease;
    lease.name = options.leaseName;
    lease.namespace_ = options.leaseNamespace;
    lease.identity = identity();
    managerOptions.leaderElection = lease;
  }
  runtime::Manager manager(client, clock, managerOptions);
  running = &manager;
  for (runtime::Informer* informer : canaries.informers())
    manager.addInformer(*informer);
  manager.addController("canary", [&](const std::atomic<bool>& stop) { canaries.run(stop); });
  Result<std::uint16_t> health = manager.startHealth();
  if (!health) {
    err << "canaryd run: cannot listen on " << options.listen << ": " << health.error().message()
        << "\n";
    return 1;
  }
  if (addresses->restricts()) {
    std::string list;
    for (const std::string& a : allowed)
      list += (list.empty() ? "" : ", ") + a;
    spdlog::info("templates, webhooks and alert providers may reach only: {}", list);
  }
  spdlog::info(
      "canaryd running against {}; health on {}:{}; namespaces: {}", config->server,
      managerOptions.healthHost, *health, options.namespaces.empty() ? std::string("all") : [&] {
        std::string all;
        for (const std::string& ns : options.namespaces)
          all += (all.empty() ? "" : ",") + ns;
        return all;
      }());

  std::atomic<bool> finished{false};
  std::thread signalThread([&] {
    const timespec tick{0, 200'000'000};
    while (!finished) {
      const int got = sigtimedwait(&signals, nullptr, &tick);
      if (got == SIGTERM || got == SIGINT) {
        spdlog::info("received {}; finishing in-flight reconciles",
                     got == SIGTERM ? "SIGTERM" : "SIGINT");
        manager.stop();
        return;
      }
    }
  });
  Status result = manager.run();
  finished = true;
  signalThread.join();
  spdlog::info("canaryd stopped after {} reconciles", canaries.reconciles());
  if (!result) {
    err << "canaryd run: " << result.error().message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace canaryd::cli
