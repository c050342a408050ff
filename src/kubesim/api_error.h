// ApiError: a failure kubesim answers with a Kubernetes Status object. Internal to kubesim.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace canaryd::kubesim {

struct ApiError {
  int code = 500;
  std::string reason;  // NotFound, AlreadyExists, Conflict, Invalid, BadRequest, Expired, ...
  std::string message;
  nlohmann::json details = nlohmann::json::object();

  nlohmann::json toStatus() const {
    return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"details", details},  {"code", code}};
  }
};

inline ApiError notFound(const std::string& resource, const std::string& name) {
  return {404,
          "NotFound",
          resource + " \"" + name + "\" not found",
          {{"name", name}, {"kind", resource}}};
}
inline ApiError badRequest(const std::string& message) {
  return {400, "BadRequest", message};
}
inline ApiError invalid(const std::string& kind, const std::string& name, const std::string& field,
                        const std::string& message) {
  return {
      422,
      "Invalid",
      kind + " \"" + name + "\" is invalid: " + field + ": " + message,
      {{"name", name},
       {"kind", kind},
       {"causes", {{{"reason", "FieldValueInvalid"}, {"message", message}, {"field", field}}}}}};
}

}  // namespace canaryd::kubesim
