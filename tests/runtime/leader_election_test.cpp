// Leader election between candidates sharing a kubesim Lease and a virtual clock.
#include "canaryd/runtime/leader_election.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/kube/kube_client.h"

#include "kube/kubesim_process.h"
#include "support/forwarding_client.h"

namespace canaryd::runtime {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// Forwards to a real client; fails its reads, creates and updates while `broken` (an API
// outage for one replica).
class BreakableClient final : public testing::ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  bool broken = false;
  Status seen(const cluster::Resource&, const std::string&, const char* verb,
              bool status) override {
    const std::string v = verb;
    if (broken && !status && (v == "get" || v == "create" || v == "update")) {
      return Error::unavailable("outage");
    }
    return {};
  }
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kube::ConnectionConfig config;
    config.server = sim_.url();
    client_ = std::make_unique<kube::KubeClient>(config);
    ASSERT_TRUE(client_
                    ->create(cluster::kNamespaces, "",
                             api::JsonValue(json{{"metadata", {{"name", "canaryd-system"}}}}))
                    .ok());
  }
  LeaderElectionConfig config(const std::string& identity) {
    LeaderElectionConfig c;
    c.identity = identity;
    return c;
  }
  testing::KubesimProcess sim_;
  std::unique_ptr<cluster::Client> client_;
  VirtualClock clock_;
};

TEST_F(LeaderElectionTest, OnlyOneLeadsAndTheOtherTakesOverAfterTheLeaseExpires) {
  LeaderElector a(*client_, clock_, config("replica-a"));
  LeaderElector b(*client_, clock_, config("replica-b"));
  ASSERT_TRUE(a.tryAcquireOrRenew());
  EXPECT_FALSE(b.tryAcquireOrRenew());
  EXPECT_EQ(b.observedHolder(), "replica-a");

  // A renews every retry period; B keeps trying and never wins.
  for (int i = 0; i < 20; ++i) {
    clock_.advance(seconds(2));
    ASSERT_TRUE(a.tryAcquireOrRenew());
    ASSERT_FALSE(b.tryAcquireOrRenew());
  }

  // A stops renewing (killed). B polls every retry period and takes over once A's last
  // renewal, as B observed it, is a lease duration old.
  const TimePoint lastRenewal = clock_.now();
  int polls = 0;
  while (!b.tryAcquireOrRenew()) {
    clock_.advance(seconds(2));
    ASSERT_LT(++polls, 20);
  }
  const auto takeover = clock_.now() - lastRenewal;
  std::cout << "takeover " << std::chrono::duration_cast<seconds>(takeover).count()
            << "s after the leader's last renewal (lease 15s, retry 2s)\n";
  EXPECT_GE(takeover, seconds(15));
  EXPECT_LE(takeover, seconds(15) + seconds(2));
  EXPECT_TRUE(b.isLeader());

  auto lease = client_->get(cluster::kLeases, {"canaryd-system", "canaryd-leader"});
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->get()["spec"]["holderIdentity"], "replica-b");
  EXPECT_EQ(lease->get()["spec"]["leaseTransitions"], 1);

  // A comes back: it sees B's fresh lease and does not lead.
  EXPECT_FALSE(a.tryAcquireOrRenew());
  EXPECT_FALSE(a.isLeader());
}

TEST_F(LeaderElectionTest, ALeaderThatCannotRenewStepsDownBeforeAnyoneTakesOver) {
  BreakableClient aClient(*client_);
  LeaderElector a(aClient, clock_, config("replica-a"));
  LeaderElector b(*client_, clock_, config("replica-b"));
  ASSERT_TRUE(a.tryAcquireOrRenew());
  ASSERT_FALSE(b.tryAcquireOrRenew());
  aClient.broken = true;  // A cannot reach the API any more
  bool bothLed = false;
  bool aSteppedDownFirst = false;
  for (int i = 0; i < 15; ++i) {
    clock_.advance(seconds(2));
    const bool aLeads = a.tryAcquireOrRenew();
    const bool bLeads = b.tryAcquireOrRenew();
    bothLed = bothLed || (aLeads && bLeads);
    if (!aLeads && !bLeads) aSteppedDownFirst = true;
  }
  EXPECT_FALSE(bothLed);
  EXPECT_TRUE(aSteppedDownFirst);  // renew deadline 10s < lease 15s
  EXPECT_FALSE(a.isLeader());
  EXPECT_TRUE(b.isLeader());
}

TEST_F(LeaderElectionTest, ReleaseLetsTheNextCandidateLeadAtOnce) {
  LeaderElector a(*client_, clock_, config("replica-a"));
  LeaderElector b(*client_, clock_, config("replica-b"));
  ASSERT_TRUE(a.tryAcquireOrRenew());
  ASSERT_FALSE(b.tryAcquireOrRenew());
  a.release();
  EXPECT_FALSE(a.isLeader());
  EXPECT_TRUE(b.tryAcquireOrRenew());
}

// Why a round failed is kept, naming the Lease: a missing namespace is not a lost race.
TEST_F(LeaderElectionTest, ALeaseThatCannotBeCreatedSaysWhy) {
  LeaderElectionConfig c = config("a");
  c.namespace_ = "missing";
  LeaderElector a(*client_, clock_, c);
  EXPECT_FALSE(a.tryAcquireOrRenew());
  EXPECT_NE(a.lastError().find("cannot create Lease missing/canaryd-leader: "), std::string::npos)
      << a.lastError();
  // Where the Lease can be taken, no error.
  LeaderElector b(*client_, clock_, config("b"));
  EXPECT_TRUE(b.tryAcquireOrRenew());
  EXPECT_EQ(b.lastError(), "");
  // A standby that sees a live holder has no error either.
  LeaderElector other(*client_, clock_, config("other"));
  EXPECT_FALSE(other.tryAcquireOrRenew());
  EXPECT_EQ(other.lastError(), "");
}

}  // namespace
}  // namespace canaryd::runtime
