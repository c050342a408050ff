#include "conditions.h"

#include <nlohmann/json.hpp>

#include "canaryd/core/json_read.h"

namespace canaryd::controller {

using nlohmann::json;

std::optional<std::string> stalledStatusPatch(const api::JsonValue& raw, const std::string& reason,
                                              const std::string& message, TimePoint now) {
  const json& object = raw.get();
  const json* meta = jsonread::object(object, "metadata");
  const std::optional<std::int64_t> generation =
      meta == nullptr ? std::nullopt : jsonread::integer(*meta, "generation");
  const json* status = jsonread::object(object, "status");
  json conditions = json::array();
  if (const json* existing = status == nullptr ? nullptr : jsonread::array(*status, "conditions")) {
    conditions = *existing;
  }
  for (const json& c : conditions) {
    if (jsonread::string(c, "type") == "Stalled" && jsonread::string(c, "status") == "True" &&
        jsonread::string(c, "reason") == reason && jsonread::string(c, "message") == message &&
        jsonread::integer(c, "observedGeneration") == generation) {
      return std::nullopt;
    }
  }
  const std::string at = formatRfc3339(now);
  auto upsert = [&](const std::string& type, bool value) {
    json* found = nullptr;
    for (json& c : conditions) {
      if (jsonread::string(c, "type") == type) found = &c;
    }
    if (found == nullptr) {
      conditions.push_back({{"type", type}});
      found = &conditions.back();
    }
    const std::string wanted = value ? "True" : "False";
    if (jsonread::string(*found, "status") != wanted) (*found)["lastTransitionTime"] = at;
    (*found)["status"] = wanted;
    (*found)["reason"] = reason;
    (*found)["message"] = type == "Reconciling" ? "No rollout in flight: " + message : message;
    if (generation) (*found)["observedGeneration"] = *generation;
  };
  upsert("Ready", false);
  upsert("Stalled", true);
  upsert("Reconciling", false);
  json patch = {{"status", {{"conditions", conditions}}}};
  if (generation) patch["status"]["observedGeneration"] = *generation;
  return patch.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace canaryd::controller
