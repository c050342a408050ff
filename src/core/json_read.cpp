#include "canaryd/core/json_read.h"

#include <nlohmann/json.hpp>

#include "canaryd/core/text.h"

namespace canaryd::jsonread {

using nlohmann::json;

std::size_t nestingDepth(std::string_view text, std::size_t stopAbove) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool inString = false;
  bool escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        inString = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > stopAbove) return deepest;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<json> parse(std::string_view text, std::string_view what, const Limits& limits) {
  if (text.size() > limits.maxBytes) {
    return Error::unavailable(std::string(what) + " answered " + std::to_string(text.size()) +
                              " bytes, more than the limit of " + std::to_string(limits.maxBytes));
  }
  if (nestingDepth(text, limits.maxDepth) > limits.maxDepth) {
    return Error::unavailable(std::string(what) +
                              " answered JSON nested deeper than the limit of " +
                              std::to_string(limits.maxDepth) + " levels");
  }
  try {
    json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return Error::unavailable(std::string(what) +
                                " answered a body that is not JSON: " + snippet(text));
    }
    return parsed;
  } catch (const std::exception& e) {  // allocation failure; the parser itself does not throw
    return Error::unavailable(std::string(what) +
                              " answered JSON that cannot be read: " + e.what());
  }
}

const json* member(const json& value, std::string_view key) {
  if (!value.is_object()) return nullptr;
  auto it = value.find(key);
  return it == value.end() ? nullptr : &*it;
}

std::string string(const json& value, std::string_view key, std::string_view fallback) {
  const json* m = member(value, key);
  if (m == nullptr || !m->is_string()) return std::string(fallback);
  return m->get_ref<const std::string&>();
}

std::optional<std::int64_t> integer(const json& value, std::string_view key) {
  const json* m = member(value, key);
  if (m == nullptr) return std::nullopt;
  if (m->is_number_unsigned()) {  // is_number_integer() is true for these too
    const auto u = m->get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(u);
    return std::nullopt;
  }
  if (m->is_number_integer()) return m->get<std::int64_t>();
  return std::nullopt;
}

const json* object(const json& value, std::string_view key) {
  const json* m = member(value, key);
  return m != nullptr && m->is_object() ? m : nullptr;
}

const json* array(const json& value, std::string_view key) {
  const json* m = member(value, key);
  return m != nullptr && m->is_array() ? m : nullptr;
}

std::string snippet(std::string_view text, std::size_t maxBytes) {
  if (text.size() <= maxBytes) return printable(text);
  return printable(text.substr(0, maxBytes)) + "... (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace canaryd::jsonread
