#include "canaryd/runtime/event_recorder.h"

#include <cstdio>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace canaryd::runtime {
namespace {

using nlohmann::json;
constexpr auto kAggregationWindow = std::chrono::minutes(10);

}  // namespace

EventRecorder::EventRecorder(cluster::Client& client, const Clock& clock, std::string component)
    : client_(client), clock_(clock), component_(std::move(component)) {}

void EventRecorder::record(const api::JsonValue& involved, const std::string& type,
                           const std::string& reason, const std::string& message) {
  const json& o = involved.get();
  const json meta = o.value("metadata", json::object());
  const std::string ns = meta.value("namespace", "default");
  const std::string name = meta.value("name", "");
  const std::string key =
      ns + "/" + o.value("kind", "") + "/" + name + "/" + type + "/" + reason + "/" + message;
  const TimePoint now = clock_.now();
  const std::string stamp = formatRfc3339(now);
  std::lock_guard lock(mu_);
  auto it = seen_.find(key);
  if (it != seen_.end() && now - it->second.last < kAggregationWindow) {
    Seen& s = it->second;
    json patch = {{"count", s.count + 1}, {"lastTimestamp", stamp}};
    auto r =
        client_.patch(cluster::kEvents, {s.ns, s.name}, cluster::PatchType::kMerge, patch.dump());
    if (r) {
      ++s.count;
      s.last = now;
      return;
    }
    spdlog::debug("event {} could not be updated ({}); recording a new one", s.name,
                  r.error().message());
  }
  // Named after the time, as client-go names them; two events in the same nanosecond (a
  // virtual clock stands still during a reconcile) get consecutive names, not a conflict.
  const auto nanos = static_cast<unsigned long long>(now.time_since_epoch().count());
  lastSuffix_ = std::max(nanos, lastSuffix_ + 1);
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", lastSuffix_);
  const std::string eventName = name + suffix;
  json event = {{"metadata", {{"name", eventName}, {"namespace", ns}}},
                {"involvedObject",
                 {{"apiVersion", o.value("apiVersion", "")},
                  {"kind", o.value("kind", "")},
                  {"name", name},
                  {"namespace", ns},
                  {"uid", meta.value("uid", "")},
                  {"resourceVersion", meta.value("resourceVersion", "")}}},
                {"type", type},
                {"reason", reason},
                {"message", message},
                {"count", 1},
                {"firstTimestamp", stamp},
                {"lastTimestamp", stamp},
                {"source", {{"component", component_}}},
                {"reportingComponent", component_}};
  auto created = client_.create(cluster::kEvents, ns, api::JsonValue(event));
  if (!created) {
    spdlog::warn("could not record event {} on {}/{}: {}", reason, ns, name,
                 created.error().message());
    return;
  }
  seen_[key] = {eventName, ns, 1, now};
}

}  // namespace canaryd::runtime
