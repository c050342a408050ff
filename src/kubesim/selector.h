// Label and field selectors as the Kubernetes API accepts them. Internal to kubesim.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace canaryd::kubesim {

class LabelSelector {
 public:
  // Parses "a=b,c!=d,e in (x,y),f notin (z),g,!h"; throws ApiError(400) on a syntax error.
  static LabelSelector parse(const std::string& text);
  bool matches(const nlohmann::json& labels) const;
  bool empty() const { return requirements_.empty(); }

 private:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements_;
};

// Field selectors: metadata.name and metadata.namespace, with = == and !=.
class FieldSelector {
 public:
  static FieldSelector parse(const std::string& text);
  bool matches(const nlohmann::json& object) const;

 private:
  struct Requirement {
    std::string field;
    bool equals;
    std::string value;
  };
  std::vector<Requirement> requirements_;
};

}  // namespace canaryd::kubesim
