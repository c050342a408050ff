#include "kubesim/controller_simulator.h"

#include <chrono>
#include <functional>

#include <gtest/gtest.h>

#include "kubesim/objects.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;
using testing::daemonSet;
using testing::kScaleToZeroLabel;

json converged(std::int64_t generation, std::int64_t desired, std::int64_t ready) {
  return {{"observedGeneration", generation},
          {"desiredNumberScheduled", desired},
          {"currentNumberScheduled", desired},
          {"updatedNumberScheduled", desired},
          {"numberReady", ready},
          {"numberAvailable", ready},
          {"numberUnavailable", desired - ready},
          {"numberMisscheduled", 0}};
}

class KubesimDaemonSetStatusTest : public ::testing::Test {
 protected:
  json statusOn(std::int64_t nodes, const json& ds) { return convergedStatus(type, ds, 4, nodes); }
  ResourceRegistry registry;
  ResourceType type = testing::typeOf(registry, "apps", "v1", "daemonsets");
};

TEST_F(KubesimDaemonSetStatusTest, APodOnEveryNode) {
  EXPECT_TRUE(isDaemonSet(type));
  EXPECT_EQ(statusOn(3, daemonSet("agent")), converged(4, 3, 3));
  EXPECT_EQ(statusOn(1, daemonSet("agent")), converged(4, 1, 1));
}

TEST_F(KubesimDaemonSetStatusTest, ASelectorNoNodeMatchesSchedulesNothing) {
  EXPECT_EQ(statusOn(3, daemonSet("agent", {{kScaleToZeroLabel, "true"}})), converged(4, 0, 0));
  EXPECT_EQ(statusOn(3, daemonSet("agent", {{"kubernetes.io/os", "windows"}})), converged(4, 0, 0));
}

TEST_F(KubesimDaemonSetStatusTest, TheNodesLabelsSelectAllOrOne) {
  EXPECT_EQ(statusOn(3, daemonSet("agent", {{"kubernetes.io/os", "linux"}})), converged(4, 3, 3));
  EXPECT_EQ(statusOn(3, daemonSet("agent", {{"kubernetes.io/hostname", "kubesim-node-2"}})),
            converged(4, 1, 1));
  EXPECT_EQ(statusOn(2, daemonSet("agent", {{"kubernetes.io/hostname", "kubesim-node-2"}})),
            converged(4, 0, 0));
}

TEST_F(KubesimDaemonSetStatusTest, ANeverReadyTemplateIsScheduledButUnavailable) {
  json ds = daemonSet("agent");
  ds["spec"]["template"]["metadata"]["annotations"] = {{kNeverReadyAnnotation, "true"}};
  EXPECT_EQ(statusOn(2, ds), converged(4, 2, 0));
}

TEST_F(KubesimDaemonSetStatusTest, ObservedGenerationIsReadFromTheStatus) {
  json ds = daemonSet("agent");
  ds["metadata"]["generation"] = 3;
  EXPECT_EQ(observedGeneration(type, ds), 0);
  ds["status"] = converged(2, 1, 1);
  EXPECT_EQ(observedGeneration(type, ds), 2);
}

// The simulator on its own thread, converging at once; the test waits on a watch.
class KubesimControllerSimulatorTest : public ::testing::Test {
 protected:
  KubesimControllerSimulatorTest() {
    store.setObserver([this](const ResourceType& t, const Event& e) { simulator.observe(t, e); });
  }

  // The first version of the DaemonSet `name` (from now on) for which `done` holds, or null
  // when none comes within 5 seconds.
  json awaitDaemonSet(const std::string& name, const std::function<bool(const json&)>& done) {
    auto watcher = store.watch(daemonSets, "default", "", {});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    json found;
    Event e;
    while (found.is_null() && std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (!watcher->next(e, left)) break;
      if (e.object["metadata"]["name"] == name && done(e.object)) found = e.object;
    }
    store.unwatch(watcher);
    return found;
  }
  static std::function<bool(const json&)> observed(std::int64_t generation) {
    return [generation](const json& ds) {
      return ds.contains("status") && ds["status"].value("observedGeneration", 0) == generation;
    };
  }

  ResourceRegistry registry;
  Store store{registry, 1000};
  ResourceType daemonSets = testing::typeOf(registry, "apps", "v1", "daemonsets");
  ControllerSimulator simulator{store, std::chrono::milliseconds(0), nullptr, /*nodes=*/2};
};

TEST_F(KubesimControllerSimulatorTest, ADaemonSetConvergesScalesToZeroAndBack) {
  store.create(daemonSets, "default", daemonSet("agent"));
  json ds = awaitDaemonSet("agent", observed(1));
  ASSERT_FALSE(ds.is_null()) << "status never observed generation 1";
  EXPECT_EQ(ds["status"], converged(1, 2, 2));

  // Flagger's scale to zero: a nodeSelector no node has.
  ds["spec"]["template"]["spec"]["nodeSelector"] = {{kScaleToZeroLabel, "true"}};
  ds.erase("status");
  EXPECT_EQ(store.update(daemonSets, "default", "agent", ds, false)["metadata"]["generation"], 2);
  ds = awaitDaemonSet("agent", observed(2));
  ASSERT_FALSE(ds.is_null()) << "status never observed generation 2";
  EXPECT_EQ(ds["status"], converged(2, 0, 0));

  // Removing the selector brings the pods back.
  ds["spec"]["template"]["spec"].erase("nodeSelector");
  EXPECT_EQ(store.update(daemonSets, "default", "agent", ds, false)["metadata"]["generation"], 3);
  ds = awaitDaemonSet("agent", observed(3));
  ASSERT_FALSE(ds.is_null()) << "status never observed generation 3";
  EXPECT_EQ(ds["status"], converged(3, 2, 2));
  EXPECT_EQ(ds["metadata"]["generation"], 3);
}

}  // namespace
}  // namespace canaryd::kubesim
