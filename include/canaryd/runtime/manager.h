// Manager: runs canaryd's runnables the way controller-runtime does.
//
// Informers run on every replica (so that a standby's cache is warm when it takes over);
// controllers run only while this replica holds the leader Lease; the health endpoints
// (/healthz: the process is alive; /readyz: every informer has synced) answer on every replica.
// Losing the Lease stops the controllers and makes run() return an error: the process exits
// and its restart rejoins as a candidate, which is the safe reaction to a split brain.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "canaryd/core/result.h"
#include "canaryd/runtime/informer.h"
#include "canaryd/runtime/leader_election.h"

namespace canaryd::runtime {

struct ManagerOptions {
  std::string healthHost = "127.0.0.1";
  std::uint16_t healthPort = 0;  // 0 picks a free port; see Manager::healthPort()
  std::optional<LeaderElectionConfig> leaderElection;  // none: this replica always leads
  // The body of /metrics (Prometheus text format); none: /metrics answers 404.
  std::function<std::string()> metrics;
};

class Manager {
 public:
  // `stop` is set when the controller must return.
  using Controller = std::function<void(const std::atomic<bool>& stop)>;

  Manager(cluster::Client& client, const Clock& clock, ManagerOptions options);
  ~Manager();

  void addInformer(Informer& informer);
  void addController(std::string name, Controller controller);

  // Starts the health endpoints; returns the port they listen on.
  Result<std::uint16_t> startHealth();
  // Runs informers, then (as leader) the controllers, until stop() (ok) or lost leadership
  // (an error). Blocks.
  Status run();
  void stop();
  bool isLeader() const;
  bool ready() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace canaryd::runtime
