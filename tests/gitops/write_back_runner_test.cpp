// Git write-back as its own runnable: the reconciler hands a rollback over and goes on; the
// runner decides, writes and reports on the Canary (events) and to the on-call (alerts).
#include "canaryd/gitops/write_back_runner.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/sim/cluster.h"

namespace canaryd::gitops {
namespace {

using nlohmann::json;

class Alerts final : public notify::Notifier {
 public:
  Status notify(const api::Canary&, const notify::Alert& alert) override {
    messages.push_back(alert.message);
    return {};
  }
  std::vector<std::string> messages;
};

api::Canary rolledBackCanary(bool optedIn) {
  api::Canary canary;
  canary.metadata.name = "web";
  canary.metadata.namespace_ = "shop";
  canary.metadata.uid = "uid-web";
  if (optedIn) {
    canary.metadata.annotations[kWriteBackAnnotation] = "commit";
    canary.metadata.annotations[kRepositoryAnnotation] = "https://git.example.com/shop/apps.git";
    canary.metadata.annotations[kPathAnnotation] = "apps/shop/web.yaml";
  }
  return canary;
}

api::CanaryStatus failedStatus() {
  api::CanaryStatus status;
  status.phase = "Failed";
  status.lastAppliedRevision = "app=web:2";
  status.lastPromotedRevision = "app=web:1";
  return status;
}

class WriteBackRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_
                    .create(cluster::kNamespaces, "",
                            api::JsonValue(json{{"apiVersion", "v1"},
                                                {"kind", "Namespace"},
                                                {"metadata", {{"name", "shop"}}}}))
                    .ok());
  }
  // "Type Reason Message" of every event recorded in namespace shop.
  std::vector<std::string> events() {
    std::vector<std::string> out;
    Result<cluster::ObjectList> list = cluster_.list(cluster::kEvents, "shop", {});
    if (!list) return out;
    for (const api::JsonValue& e : list->items) {
      out.push_back(e.get().value("type", "") + " " + e.get().value("reason", "") + " " +
                    e.get().value("message", ""));
    }
    return out;
  }
  void tell(WriteBackRunner& runner, bool optedIn) {
    const api::Canary canary = rolledBackCanary(optedIn);
    runner.rolledBack(canary, api::toJsonValue(canary), failedStatus());
  }

  VirtualClock clock_;
  sim::Cluster cluster_{clock_};
  Alerts alerts_;
};

std::shared_ptr<const Fence> fenceForShop() {
  Result<Fence> fence = Fence::parse(R"(namespaces:
  shop:
    - repository: https://git.example.com/shop/apps.git
      paths: [apps/shop/]
      commit: true
)",
                                     "fence.yaml");
  EXPECT_TRUE(fence.ok());
  return std::make_shared<const Fence>(std::move(*fence));
}

TEST_F(WriteBackRunnerTest, NothingRunsOnTheCallersThreadUntilDrained) {
  int writes = 0;
  WriteBackRunner runner(
      cluster_, clock_, alerts_, fenceForShop(),
      [&](const Request&, const Credentials&) -> Result<Outcome> {
        ++writes;
        return Outcome{"0123456789abcdef", "main"};
      },
      /*ownThread=*/false);
  tell(runner, true);
  EXPECT_EQ(writes, 0);  // rolledBack() only queued it
  EXPECT_TRUE(events().empty());
  runner.drain();
  EXPECT_EQ(writes, 1);
  ASSERT_EQ(events().size(), 1u);
  EXPECT_EQ(events()[0],
            "Normal GitWriteBack Git write-back: commit 0123456789ab on main of "
            "https://git.example.com/shop/apps.git sets apps/shop/web.yaml back to app=web:1");
}

TEST_F(WriteBackRunnerTest, ACanaryThatDidNotOptInIsToldToRevertInGit) {
  WriteBackRunner runner(
      cluster_, clock_, alerts_, fenceForShop(),
      [](const Request&, const Credentials&) -> Result<Outcome> {
        ADD_FAILURE() << "no write without the annotation";
        return Outcome{};
      },
      false);
  tell(runner, false);
  runner.drain();
  ASSERT_EQ(events().size(), 1u);
  EXPECT_NE(events()[0].find("Normal GitWriteBack Git still names the rolled-back revision "
                             "app=web:2 while the primary runs app=web:1"),
            std::string::npos);
}

TEST_F(WriteBackRunnerTest, WithoutTheOperatorsFileNothingIsWritten) {
  WriteBackRunner runner(
      cluster_, clock_, alerts_, nullptr,
      [](const Request&, const Credentials&) -> Result<Outcome> {
        ADD_FAILURE() << "write-back is off";
        return Outcome{};
      },
      false);
  tell(runner, true);
  runner.drain();
  ASSERT_EQ(events().size(), 1u);
  EXPECT_NE(
      events()[0].find("Warning GitWriteBack Git write-back not attempted: it is not enabled"),
      std::string::npos);
}

TEST_F(WriteBackRunnerTest, AFailureIsRetriedOnceThenReportedAndAlerted) {
  int attempts = 0;
  WriteBackRunner runner(
      cluster_, clock_, alerts_, fenceForShop(),
      [&](const Request&, const Credentials&) -> Result<Outcome> {
        ++attempts;
        return Error::unavailable("connection refused");
      },
      false);
  tell(runner, true);
  runner.drain();
  EXPECT_EQ(attempts, 2);
  ASSERT_EQ(events().size(), 1u);
  EXPECT_NE(events()[0].find("Warning GitWriteBack Git write-back failed: connection refused; "
                             "Git still names app=web:2"),
            std::string::npos);
  ASSERT_EQ(alerts_.messages.size(), 1u);
  EXPECT_NE(alerts_.messages[0].find("Canary web.shop: Git write-back failed"), std::string::npos);
}

TEST_F(WriteBackRunnerTest, ItsOwnThreadWritesWhileTheCallerGoesOnAndFinishesOnStop) {
  std::mutex mutex;
  std::condition_variable released;
  bool release = false;
  std::atomic<int> writes{0};
  {
    WriteBackRunner runner(cluster_, clock_, alerts_, fenceForShop(),
                           [&](const Request&, const Credentials&) -> Result<Outcome> {
                             std::unique_lock lock(mutex);
                             released.wait(lock, [&] { return release; });
                             ++writes;
                             return Outcome{"0123456789abcdef", "main"};
                           });
    tell(runner, true);
    tell(runner, true);
    // The writer is blocked, yet rolledBack() returned: the reconcile worker is free.
    EXPECT_EQ(writes.load(), 0);
    {
      std::lock_guard lock(mutex);
      release = true;
    }
    released.notify_all();
  }  // the destructor finishes what was queued
  EXPECT_EQ(writes.load(), 2);
}

}  // namespace
}  // namespace canaryd::gitops
