#include "canaryd/runtime/leader_election.h"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace canaryd::runtime {
namespace {

using nlohmann::json;

// Kubernetes MicroTime: 2026-11-27T07:30:00.123456Z
std::string microTime(TimePoint t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1'000'000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros % 1'000'000));
  return buf;
}

}  // namespace

LeaderElector::LeaderElector(cluster::Client& client, const Clock& clock,
                             LeaderElectionConfig config)
    : client_(client), clock_(clock), config_(std::move(config)) {}

std::string LeaderElector::observedHolder() const {
  std::lock_guard lock(mu_);
  return observedHolder_;
}

std::string LeaderElector::lastError() const {
  std::lock_guard lock(mu_);
  return lastError_;
}

bool LeaderElector::tryAcquireOrRenew() {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.now();
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(config_.leaseDuration).count();
  auto stepDownIfLate = [&] {
    if (leader_ && now - lastRenew_ >= config_.renewDeadline) leader_ = false;
    return leader_.load();
  };

  const std::string lease = "Lease " + config_.namespace_ + "/" + config_.name;
  lastError_.clear();
  Result<api::JsonValue> current =
      client_.get(cluster::kLeases, {config_.namespace_, config_.name});
  if (!current) {
    if (current.error().kind() != ErrorKind::kNotFound) {
      lastError_ = "cannot read " + lease + ": " + current.error().message();
      return stepDownIfLate();
    }
    json fresh = {{"metadata", {{"name", config_.name}, {"namespace", config_.namespace_}}},
                  {"spec",
                   {{"holderIdentity", config_.identity},
                    {"leaseDurationSeconds", seconds},
                    {"acquireTime", microTime(now)},
                    {"renewTime", microTime(now)},
                    {"leaseTransitions", 0}}}};
    Result<api::JsonValue> created =
        client_.create(cluster::kLeases, config_.namespace_, api::JsonValue(fresh));
    if (created) {
      leader_ = true;
      lastRenew_ = now;
      observedHolder_ = config_.identity;
      return true;
    }
    // Another candidate creating it first is a lost race, not an error.
    if (created.error().kind() != ErrorKind::kConflict) {
      lastError_ = "cannot create " + lease + ": " + created.error().message();
    }
    return stepDownIfLate();
  }

  json held = current->get();
  json& spec = held["spec"];
  if (!spec.is_object()) spec = json::object();
  const std::string holder = spec.value("holderIdentity", "");
  const std::string record = holder + "|" + spec.value("renewTime", "");
  if (record != observedRecord_) {
    observedRecord_ = record;
    observedTime_ = now;
  }
  observedHolder_ = holder;
  const bool mine = holder == config_.identity;
  const bool expired = holder.empty() || now >= observedTime_ + config_.leaseDuration;
  if (!mine && !expired) {
    leader_ = false;
    return false;
  }
  if (!mine) {
    spec["acquireTime"] = microTime(now);
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = seconds;
  spec["renewTime"] = microTime(now);
  // The resourceVersion in the body makes this a compare-and-swap: of two candidates only one
  // update succeeds.
  Result<api::JsonValue> updated = client_.update(cluster::kLeases, api::JsonValue(held));
  if (!updated) {
    if (updated.error().kind() != ErrorKind::kConflict) {
      lastError_ = "cannot update " + lease + ": " + updated.error().message();
    }
    return stepDownIfLate();
  }
  leader_ = true;
  lastRenew_ = now;
  observedHolder_ = config_.identity;
  observedRecord_ = config_.identity + "|" + spec.value("renewTime", "");
  observedTime_ = now;
  return true;
}

void LeaderElector::release() {
  std::lock_guard lock(mu_);
  if (!leader_) return;
  leader_ = false;
  Result<api::JsonValue> current =
      client_.get(cluster::kLeases, {config_.namespace_, config_.name});
  if (!current) return;
  json lease = current->get();
  if (lease["spec"].value("holderIdentity", "") != config_.identity) return;
  lease["spec"]["holderIdentity"] = "";
  (void)client_.update(cluster::kLeases, api::JsonValue(lease));
}

}  // namespace canaryd::runtime
