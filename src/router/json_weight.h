// The routers' reading of a weight from the objects they wrote: a whole number, or absent (0).
// Internal to the router layer.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "canaryd/core/result.h"

namespace canaryd::router {

// `entry`'s "weight": an integer, a float with no fraction, or absent (0); anything else is an
// invalid-input error that says `what` holds it, naming the entry as `noun` ("a destination").
inline Result<std::int64_t> wholeWeight(const nlohmann::json& entry, const std::string& what,
                                        std::string_view noun) {
  if (!entry.contains("weight")) return std::int64_t{0};
  const nlohmann::json& weight = entry["weight"];
  if (weight.is_number_integer()) return weight.get<std::int64_t>();
  if (weight.is_number_float()) {
    const double value = weight.get<double>();
    if (std::isfinite(value) && value == std::floor(value)) return static_cast<std::int64_t>(value);
  }
  return Error::invalidInput(what + ": " + std::string(noun) + "'s weight is " + weight.dump() +
                             ", not a whole number");
}

}  // namespace canaryd::router
