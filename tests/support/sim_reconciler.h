// A Reconciler with the built-in plugins against the simulator's in-memory cluster on a virtual
// clock, for controller tests: no metrics server (every query is unavailable), alerts recorded.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "canaryd/controller/reconciler.h"
#include "canaryd/notify/notifier.h"
#include "canaryd/sim/cluster.h"

#include "support/plugins.h"

namespace canaryd::testing {

// Keeps the alerts' messages.
class RecordingNotifier final : public notify::Notifier {
 public:
  std::vector<std::string> messages;
  Status notify(const api::Canary&, const notify::Alert& alert) override {
    messages.push_back(alert.message);
    return {};
  }
};

struct SimReconciler {
  VirtualClock clock;
  sim::Cluster cluster{clock, [] {
                         sim::ClusterOptions o;
                         o.readinessDelay = std::chrono::seconds(1);
                         return o;
                       }()};
  RecordingNotifier notifier;
  controller::Reconciler reconciler{
      cluster, clock, notifier, withBuiltinPlugins(),
      [](const metrics::ProviderConfig&) -> Result<std::unique_ptr<metrics::Provider>> {
        return Error::unavailable("no metrics server in this test");
      }};
};

}  // namespace canaryd::testing
