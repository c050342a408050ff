#include "canaryd/api/json_value.h"

#include <nlohmann/json.hpp>

namespace canaryd::api {

JsonValue::JsonValue(const nlohmann::json& value)
    : value_(std::make_shared<const nlohmann::json>(value)) {}

JsonValue::JsonValue(nlohmann::json&& value)
    : value_(std::make_shared<const nlohmann::json>(std::move(value))) {}

const nlohmann::json& JsonValue::get() const {
  static const nlohmann::json kNull;
  return value_ ? *value_ : kNull;
}

std::string JsonValue::dump() const {
  return get().dump();
}

bool operator==(const JsonValue& a, const JsonValue& b) {
  return a.get() == b.get();
}

}  // namespace canaryd::api
