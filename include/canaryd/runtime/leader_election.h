// LeaderElector: Lease-based leader election, so that only one canaryd replica drives rollouts.
//
// The semantics are client-go's: a candidate takes the Lease when it does not exist or when the
// holder has not renewed it for leaseDuration, as observed on the candidate's own clock (so clock
// skew between replicas does not matter); the leader renews every retryPeriod and steps down
// if it cannot renew within renewDeadline, before anyone else may take over. Defaults: 15s
// lease, 10s renew deadline, 2s retry. Updates carry the Lease's resourceVersion, so two
// candidates never both win. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "canaryd/cluster/client.h"
#include "canaryd/core/clock.h"
#include "canaryd/core/duration.h"

namespace canaryd::runtime {

struct LeaderElectionConfig {
  std::string namespace_ = "canaryd-system";
  std::string name = "canaryd-leader";
  std::string identity;  // unique per replica, e.g. the pod name
  Duration leaseDuration = std::chrono::seconds(15);
  Duration renewDeadline = std::chrono::seconds(10);
  Duration retryPeriod = std::chrono::seconds(2);
};

class LeaderElector {
 public:
  LeaderElector(cluster::Client& client, const Clock& clock, LeaderElectionConfig config);

  // One round: take or renew the Lease. Returns whether this candidate leads afterwards. A
  // leader whose last successful renewal is older than renewDeadline stops leading.
  bool tryAcquireOrRenew();
  bool isLeader() const { return leader_; }
  // Gives the Lease up (when stopping cleanly), so that another replica need not wait.
  void release();
  const LeaderElectionConfig& config() const { return config_; }
  // The holder as last read from the Lease ("" when unknown).
  std::string observedHolder() const;
  // Why the last round could not read, take or renew the Lease (a missing namespace, RBAC, an
  // outage), naming the Lease; "" when it could (leading, or standing by for a live holder).
  std::string lastError() const;

 private:
  cluster::Client& client_;
  const Clock& clock_;
  LeaderElectionConfig config_;
  mutable std::mutex mu_;
  std::atomic<bool> leader_{false};
  std::string observedRecord_;  // holder + renewTime, to notice renewals
  std::string observedHolder_;
  std::string lastError_;
  TimePoint observedTime_{};
  TimePoint lastRenew_{};
};

}  // namespace canaryd::runtime
