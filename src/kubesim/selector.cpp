#include "kubesim/selector.h"

#include <map>

#include "kubesim/api_error.h"

namespace canaryd::kubesim {
namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> splitTerms(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!trim(current).empty() || !out.empty()) out.push_back(trim(current));
  return out;
}

std::vector<std::string> parseSet(const std::string& text, const std::string& term) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    throw badRequest("unable to parse requirement: " + term + ": expected a (value, ...) set");
  }
  std::vector<std::string> values;
  std::string inside = text.substr(open + 1, close - open - 1);
  std::string current;
  for (char c : inside + ",") {
    if (c == ',') {
      values.push_back(trim(current));
      current.clear();
    } else {
      current += c;
    }
  }
  return values;
}

}  // namespace

LabelSelector LabelSelector::parse(const std::string& text) {
  LabelSelector s;
  for (const std::string& term : splitTerms(text)) {
    if (term.empty())
      throw badRequest("unable to parse requirement: empty term in \"" + text + "\"");
    Requirement r;
    if (auto pos = term.find(" notin "); pos != std::string::npos) {
      r = {trim(term.substr(0, pos)), Op::kNotIn, parseSet(term.substr(pos), term)};
    } else if (auto pos2 = term.find(" in "); pos2 != std::string::npos) {
      r = {trim(term.substr(0, pos2)), Op::kIn, parseSet(term.substr(pos2), term)};
    } else if (auto ne = term.find("!="); ne != std::string::npos) {
      r = {trim(term.substr(0, ne)), Op::kNotEquals, {trim(term.substr(ne + 2))}};
    } else if (auto eq2 = term.find("=="); eq2 != std::string::npos) {
      r = {trim(term.substr(0, eq2)), Op::kEquals, {trim(term.substr(eq2 + 2))}};
    } else if (auto eq = term.find('='); eq != std::string::npos) {
      r = {trim(term.substr(0, eq)), Op::kEquals, {trim(term.substr(eq + 1))}};
    } else if (term[0] == '!') {
      r = {trim(term.substr(1)), Op::kNotExists, {}};
    } else {
      r = {term, Op::kExists, {}};
    }
    if (r.key.empty()) throw badRequest("unable to parse requirement: " + term + ": empty key");
    s.requirements_.push_back(std::move(r));
  }
  return s;
}

bool LabelSelector::matches(const nlohmann::json& labels) const {
  for (const Requirement& r : requirements_) {
    const bool has = labels.is_object() && labels.contains(r.key) && labels[r.key].is_string();
    const std::string value = has ? labels[r.key].get<std::string>() : "";
    auto in = [&] {
      for (const std::string& v : r.values) {
        if (v == value) return true;
      }
      return false;
    };
    switch (r.op) {
      case Op::kEquals:
        if (!has || value != r.values[0]) return false;
        break;
      case Op::kNotEquals:
        if (has && value == r.values[0]) return false;
        break;
      case Op::kIn:
        if (!has || !in()) return false;
        break;
      case Op::kNotIn:
        if (has && in()) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

namespace {

// The field labels the API server registers beyond metadata.name and metadata.namespace
// (k8s.io/kubernetes pkg/registry/core/{event,pod,secret}/strategy.go), with the object path
// each selects. An event's `source` is its source.component.
const std::map<std::string, std::map<std::string, std::string>>& extraFieldLabels() {
  static const std::map<std::string, std::map<std::string, std::string>> labels = {
      {"events",
       {{"involvedObject.kind", "involvedObject.kind"},
        {"involvedObject.namespace", "involvedObject.namespace"},
        {"involvedObject.name", "involvedObject.name"},
        {"involvedObject.uid", "involvedObject.uid"},
        {"involvedObject.apiVersion", "involvedObject.apiVersion"},
        {"involvedObject.resourceVersion", "involvedObject.resourceVersion"},
        {"involvedObject.fieldPath", "involvedObject.fieldPath"},
        {"reason", "reason"},
        {"reportingComponent", "reportingComponent"},
        {"source", "source.component"},
        {"type", "type"}}},
      {"pods", {{"spec.nodeName", "spec.nodeName"}, {"status.phase", "status.phase"}}},
      {"secrets", {{"type", "type"}}},
  };
  return labels;
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(path.substr(start, dot - start));
  }
  parts.push_back(path.substr(start));
  return parts;
}

}  // namespace

FieldSelector FieldSelector::parse(const std::string& text, const std::string& resource) {
  FieldSelector s;
  for (const std::string& term : splitTerms(text)) {
    Requirement r;
    std::size_t pos;
    std::size_t width;
    if ((pos = term.find("!=")) != std::string::npos) {
      r.equals = false;
      width = 2;
    } else if ((pos = term.find("==")) != std::string::npos) {
      r.equals = true;
      width = 2;
    } else if ((pos = term.find('=')) != std::string::npos) {
      r.equals = true;
      width = 1;
    } else {
      throw badRequest("invalid field selector: " + term);
    }
    r.field = trim(term.substr(0, pos));
    r.value = trim(term.substr(pos + width));
    if (r.field == "metadata.name" || r.field == "metadata.namespace") {
      r.path = splitPath(r.field);
    } else {
      const auto& extra = extraFieldLabels();
      auto labels = extra.find(resource);
      auto label = labels == extra.end() ? std::map<std::string, std::string>::const_iterator{}
                                         : labels->second.find(r.field);
      if (labels == extra.end() || label == labels->second.end()) {
        throw badRequest("field label not supported: " + r.field);
      }
      r.path = splitPath(label->second);
    }
    s.requirements_.push_back(std::move(r));
  }
  return s;
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  for (const Requirement& r : requirements_) {
    // A missing or non-string field selects as the empty string, as the API server's.
    const nlohmann::json* node = &object;
    for (const std::string& part : r.path) {
      if (!node->is_object() || !node->contains(part)) {
        node = nullptr;
        break;
      }
      node = &(*node)[part];
    }
    std::string value = node != nullptr && node->is_string() ? node->get<std::string>() : "";
    if ((value == r.value) != r.equals) return false;
  }
  return true;
}

}  // namespace canaryd::kubesim
