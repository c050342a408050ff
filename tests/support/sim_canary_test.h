// A fixture for the controller against the simulator's cluster: namespace `shop` exists, and
// the Canary under test is shop/web. Reconciles a virtual second apart, and reads the Canary's
// phase and conditions.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/cluster/typed.h"

#include "support/sim_reconciler.h"

namespace canaryd::testing {

class SimCanaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_
                    .create(cluster::kNamespaces, "",
                            api::JsonValue(nlohmann::json{{"metadata", {{"name", "shop"}}}}))
                    .ok());
  }
  api::CanaryStatus status() {
    Result<api::Canary> c = cluster::getCanary(cluster_, {"shop", "web"});
    return c.ok() && c->status ? *c->status : api::CanaryStatus{};
  }
  std::string phase() { return status().phase.value_or(""); }
  std::optional<api::CanaryCondition> condition(const std::string& type) {
    for (const api::CanaryCondition& c : status().conditions) {
      if (c.type == type) return c;
    }
    return std::nullopt;
  }
  // Reconciles, a virtual second apart, until the phase is `wanted` (at most `limit` times);
  // `each` sees every reconcile. The phases seen, in order.
  std::vector<std::string> reconcileUntil(const std::string& wanted, int limit = 200,
                                          const std::function<void()>& each = nullptr) {
    std::vector<std::string> seen;
    for (int i = 0; i < limit && phase() != wanted; ++i) {
      cluster_.settle();
      (void)reconciler_.reconcile({"shop", "web"});
      if (each) each();
      if (seen.empty() || seen.back() != phase()) seen.push_back(phase());
      clock_.advance(std::chrono::seconds(1));
    }
    return seen;
  }

  SimReconciler sim_;
  VirtualClock& clock_ = sim_.clock;
  sim::Cluster& cluster_ = sim_.cluster;
  controller::Reconciler& reconciler_ = sim_.reconciler;
};

}  // namespace canaryd::testing
