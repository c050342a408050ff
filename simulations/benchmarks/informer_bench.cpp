// Informer benchmark: kubesim holding 10,000 Canaries and 20,000 Deployments; how long two
// informers (one per kind) take to list and start watching, how much memory this process
// holds afterwards, and how many watch events per second the informers apply.
//   build/simulations/informer_bench [--canaries N] [--deployments N] [--updates N]
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "canaryd/api/document.h"
#include "canaryd/kube/kube_client.h"
#include "canaryd/runtime/informer.h"

#include "bench_support.h"
#include "kube/kubesim_process.h"
#include "support/source_files.h"

namespace {

using namespace canaryd;
using bench::seconds;
using bench::Wall;
using nlohmann::json;

using testing::yamlFile;

// Creates objects from `count` names on `threads` threads.
void createAll(const std::string& server, const cluster::Resource& resource, int count,
               const std::function<json(int)>& make, int threads) {
  bench::parallel(server, count, threads, [&](kube::KubeClient& client, int i) {
    json o = make(i);
    auto r = client.create(resource, o["metadata"]["namespace"], api::JsonValue(o));
    if (!r) {
      std::cerr << r.error().message() << "\n";
      std::exit(1);
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  int canaries = 10000;
  int deployments = 20000;
  int updates = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::stoi(argv[i + 1]);
    if (flag == "--canaries") canaries = value;
    if (flag == "--deployments") deployments = value;
    if (flag == "--updates") updates = value;
  }
  testing::KubesimProcess sim({"--history", "200000"});
  kube::ConnectionConfig config;
  config.server = sim.url();
  kube::KubeClient client(config);
  const int namespaces = 10;
  for (int n = 0; n < namespaces; ++n) {
    (void)client.create(cluster::kNamespaces, "",
                        api::JsonValue(json{{"metadata", {{"name", "ns-" + std::to_string(n)}}}}));
  }
  (void)client.create(cluster::kCustomResourceDefinitions, "",
                      api::JsonValue(yamlFile("crds/flagger.app_canaries.yaml")));
  const json canary = yamlFile("examples/canary-gatewayapi.yaml");
  const json deployment = yamlFile("examples/deployment.yaml");

  auto start = Wall::now();
  createAll(
      sim.url(), cluster::kCanaries, canaries,
      [&](int i) {
        json o = canary;
        o["metadata"]["name"] = "canary-" + std::to_string(i);
        o["metadata"]["namespace"] = "ns-" + std::to_string(i % namespaces);
        return o;
      },
      4);
  createAll(
      sim.url(), cluster::kDeployments, deployments,
      [&](int i) {
        json o = deployment;
        o["metadata"]["name"] = "app-" + std::to_string(i);
        o["metadata"]["namespace"] = "ns-" + std::to_string(i % namespaces);
        return o;
      },
      4);
  const double createSeconds = seconds(Wall::now() - start);

  const long rssBefore = bench::procStatusKiB(0, "VmRSS");
  SystemClock clock;
  runtime::InformerOptions options;
  options.pageSize = 500;
  runtime::Informer canaryInformer(client, cluster::kCanaries, clock, options);
  kube::KubeClient client2(config);
  runtime::Informer deploymentInformer(client2, cluster::kDeployments, clock, options);
  start = Wall::now();
  canaryInformer.start();
  deploymentInformer.start();
  if (!canaryInformer.waitForSync(std::chrono::seconds(120)) ||
      !deploymentInformer.waitForSync(std::chrono::seconds(120))) {
    std::cerr << "informers did not sync\n";
    return 1;
  }
  const double syncSeconds = seconds(Wall::now() - start);
  const long rssAfter = bench::procStatusKiB(0, "VmRSS");
  const std::size_t held = canaryInformer.size() + deploymentInformer.size();

  // Watch throughput: with the canary informer stopped (its cache and resourceVersion kept),
  // write the updates, then time how fast one watch session replays and applies them.
  canaryInformer.stop();
  deploymentInformer.stop();
  auto writeStart = Wall::now();
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      kube::KubeClient writer(config);
      for (int i = t; i < updates; i += 4) {
        int c = i % canaries;
        std::string patch = R"({"metadata":{"labels":{"round":")" + std::to_string(i) + R"("}}})";
        (void)writer.patch(cluster::kCanaries,
                           {"ns-" + std::to_string(c % namespaces), "canary-" + std::to_string(c)},
                           cluster::PatchType::kMerge, patch, false);
      }
    });
  }
  for (auto& w : writers)
    w.join();
  const double writeSeconds = seconds(Wall::now() - writeStart);
  const std::uint64_t appliedBefore = canaryInformer.eventsApplied();
  // The session ends at its server-side timeout; the clock stops at the last event applied.
  Wall::time_point lastApplied{};
  canaryInformer.addHandlers(
      {nullptr, [&](const api::JsonValue&, const api::JsonValue&) { lastApplied = Wall::now(); },
       nullptr});
  start = Wall::now();
  while (canaryInformer.eventsApplied() - appliedBefore < static_cast<std::uint64_t>(updates) &&
         seconds(Wall::now() - start) < 120) {
    (void)canaryInformer.watchOnce(std::chrono::seconds(1));
  }
  const std::uint64_t applied = canaryInformer.eventsApplied() - appliedBefore;
  const double applySeconds = seconds(lastApplied - start);

  std::cout << "objects in kubesim:     " << canaries << " Canaries, " << deployments
            << " Deployments (created in " << createSeconds << " s, "
            << static_cast<int>((canaries + deployments) / createSeconds) << " creates/s)\n";
  std::cout << "list+watch sync:        " << syncSeconds << " s for " << held
            << " objects (two informers, pages of " << options.pageSize << ")\n";
  std::cout << "RSS of this process:    " << rssAfter / 1024 << " MiB after sync ("
            << (rssAfter - rssBefore) / 1024 << " MiB held by the informers)\n";
  std::cout << "watch events applied:   " << applied << " in " << applySeconds
            << " s = " << static_cast<int>(applied / applySeconds) << " events/s (" << updates
            << " updates written beforehand in " << writeSeconds << " s)\n";
  std::cout << "RSS of kubesim:         " << bench::procStatusKiB(sim.pid(), "VmRSS") / 1024
            << " MiB\n";
  return applied == static_cast<std::uint64_t>(updates) ? 0 : 1;
}
