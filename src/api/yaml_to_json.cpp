#include "api/yaml_to_json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "canaryd/core/text.h"

#include "api/path.h"

namespace canaryd::api {
namespace {

SourcePosition positionOf(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

bool oneOf(const std::string& s, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (s == o) return true;
  }
  return false;
}

// Integer as Go's strconv.ParseInt(s, 0, 64) reads it: sign, then 0x/0b/0 prefixes.
std::optional<nlohmann::json> parseInteger(const std::string& text) {
  std::string s;
  for (char c : text) {
    if (c != '_') s += c;
  }
  if (s.empty()) return std::nullopt;
  std::size_t i = 0;
  bool negative = false;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    i = 1;
  }
  int base = 10;
  if (s.size() > i + 1 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    base = 16;
    i += 2;
  } else if (s.size() > i + 1 && s[i] == '0' && (s[i + 1] == 'b' || s[i + 1] == 'B')) {
    base = 2;
    i += 2;
  } else if (s.size() > i + 1 && s[i] == '0') {
    base = 8;
    i += 1;
  }
  if (i >= s.size()) return std::nullopt;
  for (std::size_t k = i; k < s.size(); ++k) {
    char c = s[k];
    int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                            : 99;
    if (digit >= base) return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long magnitude = std::strtoull(s.c_str() + i, &end, base);
  if (errno == ERANGE) return nlohmann::json(std::strtod(text.c_str(), nullptr));
  constexpr auto kMaxPositive =
      static_cast<unsigned long long>(std::numeric_limits<long long>::max());
  if (negative) {
    if (magnitude > kMaxPositive + 1) return nlohmann::json(-static_cast<double>(magnitude));
    if (magnitude == kMaxPositive + 1) return nlohmann::json(std::numeric_limits<long long>::min());
    return nlohmann::json(-static_cast<long long>(magnitude));
  }
  if (magnitude > kMaxPositive) return nlohmann::json(static_cast<double>(magnitude));
  return nlohmann::json(static_cast<long long>(magnitude));
}

class Converter {
 public:
  explicit Converter(SourceMap& positions) : positions_(positions) {}

  Result<nlohmann::json> convert(const YAML::Node& node, const std::string& where) {
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return nlohmann::json(nullptr);
      case YAML::NodeType::Scalar:
        return scalar(node);
      case YAML::NodeType::Sequence: {
        nlohmann::json list = nlohmann::json::array();
        std::size_t index = 0;
        for (const YAML::Node& item : node) {
          std::string p = path::element(where, index++);
          positions_.emplace(p, positionOf(item.Mark()));
          Result<nlohmann::json> value = convert(item, p);
          if (!value) return value.error();
          list.push_back(std::move(value).value());
        }
        return list;
      }
      case YAML::NodeType::Map: {
        nlohmann::json object = nlohmann::json::object();
        for (const auto& entry : node) {
          // Copies: the iterator hands out a temporary pair, and yaml-cpp nodes are handles.
          const YAML::Node keyNode = entry.first;
          const YAML::Node valueNode = entry.second;
          if (!keyNode.IsScalar()) {
            SourcePosition at = positionOf(keyNode.Mark());
            return Error::invalidInput("line " + std::to_string(at.line) + ", column " +
                                       std::to_string(at.column) +
                                       ": a mapping key must be a plain value, not a list or map");
          }
          std::string key = keyNode.Scalar();
          std::string p = path::child(where, key);
          SourcePosition at = positionOf(keyNode.Mark());
          if (object.contains(key)) {
            return Error::invalidInput("line " + std::to_string(at.line) + ", column " +
                                       std::to_string(at.column) + ": duplicate key " + quote(key) +
                                       " (first defined at line " +
                                       std::to_string(positions_[p].line) + ")");
          }
          positions_[p] = at;
          Result<nlohmann::json> value = convert(valueNode, p);
          if (!value) return value.error();
          object[key] = std::move(value).value();
        }
        return object;
      }
    }
    return nlohmann::json(nullptr);
  }

 private:
  static nlohmann::json scalar(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    // "!" marks a quoted or block scalar: always a string. An explicit !!str likewise.
    if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "!!str") return text;
    return resolvePlainScalar(text);
  }

  SourceMap& positions_;
};

}  // namespace

nlohmann::json resolvePlainScalar(const std::string& text) {
  if (oneOf(text, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (oneOf(text, {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) {
    return true;
  }
  if (oneOf(text, {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) {
    return false;
  }
  if (oneOf(text, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) {
    return std::numeric_limits<double>::infinity();
  }
  if (oneOf(text, {"-.inf", "-.Inf", "-.INF"})) return -std::numeric_limits<double>::infinity();
  if (oneOf(text, {".nan", ".NaN", ".NAN"})) return std::numeric_limits<double>::quiet_NaN();
  const char c = text[0];
  if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.')) {
    return text;
  }
  if (auto integer = parseInteger(text)) return *integer;
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(text, kFloat)) return std::strtod(text.c_str(), nullptr);
  return text;
}

Result<std::vector<YamlDocument>> yamlToJson(std::string_view text) {
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    SourcePosition at = positionOf(e.mark);
    std::string where = at.line > 0 ? "line " + std::to_string(at.line) + ", column " +
                                          std::to_string(at.column) + ": "
                                    : std::string();
    return Error::invalidInput(where + "malformed YAML: " + e.msg);
  }
  std::vector<YamlDocument> out;
  for (const YAML::Node& node : nodes) {
    if (node.IsNull() || !node.IsDefined()) continue;  // empty document, e.g. a trailing "---"
    YamlDocument doc;
    doc.start = positionOf(node.Mark());
    Converter converter(doc.positions);
    try {
      Result<nlohmann::json> value = converter.convert(node, "");
      if (!value) return value.error();
      doc.value = std::move(value).value();
    } catch (const YAML::Exception& e) {
      return Error::invalidInput("malformed YAML: " + e.msg);
    }
    out.push_back(std::move(doc));
  }
  return out;
}

}  // namespace canaryd::api
