// EventRecorder: Kubernetes Events about canaryd's objects, aggregated as Kubernetes does: the
// same type, reason and message about the same object within ten minutes bumps the existing
// Event's count and lastTimestamp instead of creating a new one. Failures to record are
// logged, never propagated: an Event is never worth failing a rollout for. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "canaryd/cluster/client.h"
#include "canaryd/core/clock.h"

namespace canaryd::runtime {

class EventRecorder {
 public:
  EventRecorder(cluster::Client& client, const Clock& clock, std::string component = "canaryd");
  // `involved` is the object the Event is about (its apiVersion, kind and metadata are used).
  void record(const api::JsonValue& involved, const std::string& type, const std::string& reason,
              const std::string& message);

 private:
  struct Seen {
    std::string name;
    std::string ns;
    int count = 0;
    TimePoint last;
  };
  cluster::Client& client_;
  const Clock& clock_;
  std::string component_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;
  unsigned long long lastSuffix_ = 0;  // the last name's time suffix, kept increasing
};

}  // namespace canaryd::runtime
