// Field paths as users read them: "spec.analysis.webhooks[1].type". Internal to api/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace canaryd::api::path {

inline std::string child(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

inline std::string element(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

// The enclosing path: "a.b[2]" -> "a.b", "a.b" -> "a", "a" -> "".
inline std::string parent(std::string_view p) {
  std::size_t cut = p.find_last_of(".[");
  return cut == std::string_view::npos ? std::string() : std::string(p.substr(0, cut));
}

}  // namespace canaryd::api::path
