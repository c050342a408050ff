// Controller benchmark: one `canaryd run` driving N Canaries (default 1,000) through a rollout
// at once against kubesim. Creates the Deployments and Canaries (Gateway API routing, interval
// 5s, steps of 25 up to 50), waits until every Canary is Initialized, changes every image,
// and waits until every Canary has Succeeded. Prints the time each phase took, the daemon's
// reconciles per second, its CPU seconds and its peak RSS, and kubesim's CPU seconds.
//   build/simulations/controller_bench [--canaries N] [--workers N] [--interval 5s]
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "canaryd/kube/kube_client.h"

#include "bench_support.h"
#include "kube/kubesim_process.h"
#include "support/source_files.h"

namespace {

using namespace canaryd;
using bench::cpuSeconds;
using bench::parallel;
using bench::seconds;
using bench::Wall;
using nlohmann::json;

void check(const Result<api::JsonValue>& r) {
  if (!r) {
    std::cerr << "controller_bench: " << r.error().message() << "\n";
    std::exit(1);
  }
}

// How many Canaries are in each phase.
std::map<std::string, int> phases(kube::KubeClient& client) {
  std::map<std::string, int> out;
  auto list = client.list(cluster::kCanaries, "", {});
  if (!list) return out;
  for (const api::JsonValue& c : list->items) {
    out[c.get().value("status", json::object()).value("phase", "")]++;
  }
  return out;
}

std::string describe(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [phase, n] : counts) {
    out += (out.empty() ? "" : ", ") + (phase.empty() ? std::string("(none)") : phase) + " " +
           std::to_string(n);
  }
  return out;
}

bool waitFor(kube::KubeClient& client, pid_t daemon, const std::string& phase, int count,
             Wall::duration limit) {
  const auto deadline = Wall::now() + limit;
  std::map<std::string, int> last;
  while (Wall::now() < deadline) {
    int status = 0;
    if (waitpid(daemon, &status, WNOHANG) == daemon) {
      std::cerr << "controller_bench: canaryd exited (status " << status << ")\n";
      return false;
    }
    last = phases(client);
    if (last[phase] == count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::cerr << "controller_bench: not all " << phase << " in time: " << describe(last) << "\n";
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  int canaries = 1000;
  int workers = 8;
  std::string interval = "5s";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--canaries") canaries = std::stoi(argv[i + 1]);
    if (flag == "--workers") workers = std::stoi(argv[i + 1]);
    if (flag == "--interval") interval = argv[i + 1];
  }
  const int namespaces = 10;
  testing::KubesimProcess kubesim({"--history", "200000"});
  kube::ConnectionConfig config;
  config.server = kubesim.url();
  kube::KubeClient client(config);
  for (const char* crd : {"crds/flagger.app_canaries.yaml",
                          "crds/kubesim/gateway.networking.k8s.io_httproutes.yaml"}) {
    check(client.create(cluster::kCustomResourceDefinitions, "",
                        api::JsonValue(testing::yamlFile(crd))));
  }
  for (int n = 0; n < namespaces; ++n) {
    check(client.create(
        cluster::kNamespaces, "",
        api::JsonValue(json{{"apiVersion", "v1"},
                            {"kind", "Namespace"},
                            {"metadata", {{"name", "bench-" + std::to_string(n)}}}})));
  }
  auto nsOf = [&](int i) { return "bench-" + std::to_string(i % namespaces); };
  auto nameOf = [](int i) { return "app-" + std::to_string(i); };
  auto deployment = [&](int i, const std::string& image) {
    return json{{"apiVersion", "apps/v1"},
                {"kind", "Deployment"},
                {"metadata", {{"name", nameOf(i)}, {"namespace", nsOf(i)}}},
                {"spec",
                 {{"replicas", 2},
                  {"selector", {{"matchLabels", {{"app", nameOf(i)}}}}},
                  {"template",
                   {{"metadata", {{"labels", {{"app", nameOf(i)}}}}},
                    {"spec", {{"containers", {{{"name", "app"}, {"image", image}}}}}}}}}}};
  };
  const auto created = Wall::now();
  parallel(kubesim.url(), canaries, 8, [&](kube::KubeClient& c, int i) {
    check(c.create(cluster::kDeployments, nsOf(i), api::JsonValue(deployment(i, "app:1"))));
    json canary = {
        {"apiVersion", "flagger.app/v1beta1"},
        {"kind", "Canary"},
        {"metadata", {{"name", nameOf(i)}, {"namespace", nsOf(i)}}},
        {"spec",
         {{"provider", "gatewayapi:v1"},
          {"targetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", nameOf(i)}}},
          {"service", {{"port", 80}, {"gatewayRefs", {{{"name", "gw"}, {"namespace", "gw"}}}}}},
          {"analysis",
           {{"interval", interval}, {"threshold", 2}, {"maxWeight", 50}, {"stepWeight", 25}}}}}};
    check(c.create(cluster::kCanaries, nsOf(i), api::JsonValue(canary)));
  });
  std::cout << "created " << canaries << " Deployments and Canaries in "
            << seconds(Wall::now() - created) << " s\n";

  const std::string kubeconfigPath = "/tmp/controller_bench_kubeconfig_" + std::to_string(getpid());
  std::ofstream(kubeconfigPath) << "apiVersion: v1\nkind: Config\nclusters: [{name: s, cluster: "
                                   "{server: \""
                                << kubesim.url()
                                << "\"}}]\ncontexts: [{name: s, context: {cluster: s, user: "
                                   "s}}]\nusers: [{name: s, user: {}}]\ncurrent-context: s\n";
  const std::string logPath = "/tmp/controller_bench_log_" + std::to_string(getpid());
  const double kubesimCpuBefore = cpuSeconds(kubesim.pid());
  const pid_t daemon = fork();
  if (daemon == 0) {
    const int fd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    const std::string workersText = std::to_string(workers);
    execl(CANARYD_PATH, CANARYD_PATH, "--log-level", "info", "run", "--kubeconfig",
          kubeconfigPath.c_str(), "--listen", "127.0.0.1:0", "--min-interval", "1s",
          "--max-concurrent-canaries", workersText.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto started = Wall::now();
  if (!waitFor(client, daemon, "Initialized", canaries, std::chrono::minutes(10))) {
    kill(daemon, SIGKILL);
    std::cerr << std::ifstream(logPath).rdbuf();
    return 1;
  }
  const auto initialized = Wall::now();
  std::cout << "all Initialized " << seconds(initialized - started)
            << " s after the daemon started\n";

  parallel(kubesim.url(), canaries, 8, [&](kube::KubeClient& c, int i) {
    json patch = {
        {"spec",
         {{"template", {{"spec", {{"containers", {{{"name", "app"}, {"image", "app:2"}}}}}}}}}}};
    check(c.patch(cluster::kDeployments, cluster::ObjectRef{nsOf(i), nameOf(i)},
                  cluster::PatchType::kStrategicMerge, patch.dump(), false));
  });
  const auto changed = Wall::now();
  const bool done = waitFor(client, daemon, "Succeeded", canaries, std::chrono::minutes(20));
  const auto succeeded = Wall::now();
  const double cpu = cpuSeconds(daemon);
  const long rss = bench::procStatusKiB(daemon, "VmHWM");
  const double kubesimCpu = cpuSeconds(kubesim.pid()) - kubesimCpuBefore;
  kill(daemon, SIGTERM);
  int status = 0;
  waitpid(daemon, &status, 0);
  std::ifstream log(logPath);
  std::string line;
  std::string last;
  long reconciles = -1;
  while (std::getline(log, line)) {
    const auto at = line.find("stopped after ");
    if (at != std::string::npos) reconciles = std::stol(line.substr(at + 14));
    last = line;
  }
  std::remove(kubeconfigPath.c_str());
  std::remove(logPath.c_str());
  if (!done) return 1;
  const double wall = seconds(succeeded - started);
  std::cout << "all Succeeded " << seconds(succeeded - changed)
            << " s after the image change (ideal with a " << interval
            << " interval: 5 intervals)\n";
  std::cout << "canaryd: " << reconciles << " reconciles in " << wall
            << " s = " << static_cast<double>(reconciles) / wall << " reconciles/s; " << cpu
            << " CPU s; peak RSS " << rss / 1024 << " MiB\n";
  std::cout << "kubesim: " << kubesimCpu << " CPU s over the same time\n";
  return 0;
}
