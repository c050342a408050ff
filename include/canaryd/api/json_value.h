// JsonValue: an immutable JSON value kept as it was written.
//
// Holds the parts of a manifest whose schema belongs to another project (Istio match
// requests, CORS and traffic policies, owner references, ...) so that they are decoded,
// kept and written back unchanged. Only the JSON library's forward declaration is included
// here; code that reads the value includes <nlohmann/json.hpp> itself.
// Cheap to copy (shared, immutable); thread-safe.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace canaryd::api {

class JsonValue {
 public:
  JsonValue() = default;  // absent
  explicit JsonValue(const nlohmann::json& value);
  explicit JsonValue(nlohmann::json&& value);

  bool present() const { return value_ != nullptr; }
  explicit operator bool() const { return present(); }
  // The value; null JSON when absent.
  const nlohmann::json& get() const;
  // Compact JSON text with keys sorted; "null" when absent.
  std::string dump() const;

  friend bool operator==(const JsonValue& a, const JsonValue& b);

 private:
  std::shared_ptr<const nlohmann::json> value_;
};

}  // namespace canaryd::api
