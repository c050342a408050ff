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

// Field selectors, with = == and !=: metadata.name and metadata.namespace on every resource,
// and the extra field labels the API server supports on some core resources (`resource` is
// the group-qualified plural, "events" or "pods" for the core group): events'
// involvedObject.*, reason, type, source and reportingComponent (`kubectl describe` selects
// a object's events by them), pods' spec.nodeName and status.phase, secrets' type.
class FieldSelector {
 public:
  static FieldSelector parse(const std::string& text, const std::string& resource = "");
  bool matches(const nlohmann::json& object) const;

 private:
  struct Requirement {
    std::string field;
    std::vector<std::string> path;  // the field's path in the object
    bool equals;
    std::string value;
  };
  std::vector<Requirement> requirements_;
};

}  // namespace canaryd::kubesim
