// The reconcile boundary: an exception that escapes one Canary's reconcile (a defect: every
// parser of outside bytes returns errors) is logged, counted as an error and retried with
// backoff, and every other Canary keeps its schedule. Driven in virtual time against the
// simulator's in-memory cluster, with reads of one namespace throwing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/cluster/typed.h"
#include "canaryd/controller/canary_controller.h"
#include "canaryd/controller/controller_metrics.h"
#include "canaryd/notify/notifier.h"
#include "canaryd/sim/cluster.h"

#include "support/forwarding_client.h"
#include "support/sim_reconciler.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

// The simulator's cluster, but every read in namespace `evil` throws what nlohmann::json throws
// on an answer of the wrong shape.
class ThrowingClient final : public testing::ForwardingClient {
 public:
  explicit ThrowingClient(sim::Cluster& base) : ForwardingClient(base) {}
  int thrown = 0;
  Status seen(const cluster::Resource&, const std::string& ns, const char* verb, bool) override {
    if (ns == "evil" && std::string(verb) == "get") {
      ++thrown;
      (void)json::array().value("name", "");  // throws type_error 306
    }
    return {};
  }
};

void install(sim::Cluster& cluster, const std::string& ns) {
  ASSERT_TRUE(
      cluster.create(cluster::kNamespaces, "", api::JsonValue(json{{"metadata", {{"name", ns}}}}))
          .ok());
  const json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "podinfo"}, {"namespace", ns}}},
      {"spec",
       {{"replicas", 2},
        {"selector", {{"matchLabels", {{"app", "podinfo"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "podinfo"}}}}},
          {"spec", {{"containers", {{{"name", "podinfo"}, {"image", "podinfo:1"}}}}}}}}}}};
  ASSERT_TRUE(cluster.create(cluster::kDeployments, ns, api::JsonValue(deployment)).ok());
  const json canary = {
      {"apiVersion", "flagger.app/v1beta1"},
      {"kind", "Canary"},
      {"metadata", {{"name", "podinfo"}, {"namespace", ns}}},
      {"spec",
       {{"provider", "kubernetes"},
        {"targetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "podinfo"}}},
        {"service", {{"port", 9898}}},
        {"analysis", {{"interval", "10s"}, {"threshold", 2}, {"iterations", 2}}}}}};
  ASSERT_TRUE(cluster.create(cluster::kCanaries, ns, api::JsonValue(canary)).ok());
}

TEST(ReconcileBoundaryTest, AThrowingCanaryIsAnErrorAndTheOthersKeepTheirSchedule) {
  VirtualClock clock;
  sim::ClusterOptions options;
  options.readinessDelay = std::chrono::seconds(1);
  sim::Cluster cluster(clock, options);
  install(cluster, "good");
  install(cluster, "evil");
  ThrowingClient client(cluster);
  testing::RecordingNotifier notifier;
  Reconciler reconciler(
      client, clock, notifier, testing::withBuiltinPlugins(),
      [](const metrics::ProviderConfig&) -> Result<std::unique_ptr<metrics::Provider>> {
        return Error::unavailable("no metrics in this test");
      });
  ControllerMetrics metrics("kubernetes");
  ControllerOptions controllerOptions;
  controllerOptions.metrics = &metrics;
  CanaryController controller(client, clock, reconciler, controllerOptions);
  controller.queue().add("evil/podinfo");
  controller.queue().add("good/podinfo");

  std::string phase;
  for (int tick = 0; tick < 120 && phase != "Initialized"; ++tick) {
    cluster.settle();
    while (controller.processNext()) {
    }
    Result<api::Canary> good = cluster::getCanary(cluster, {"good", "podinfo"});
    ASSERT_TRUE(good.ok());
    if (good->status) phase = good->status->phase.value_or("");
    clock.advance(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(phase, "Initialized");
  // The evil Canary was tried again (backoff), each time an error, never a status.
  EXPECT_GE(client.thrown, 3);
  EXPECT_GE(controller.failures(), 3u);
  Result<api::Canary> evil = cluster::getCanary(cluster, {"evil", "podinfo"});
  ASSERT_TRUE(evil.ok());
  EXPECT_FALSE(evil->status && evil->status->phase);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("canaryd_reconciles_total{result=\"error\"}"), std::string::npos) << text;
}

}  // namespace
}  // namespace canaryd::controller
