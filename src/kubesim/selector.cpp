#include "kubesim/selector.h"

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

FieldSelector FieldSelector::parse(const std::string& text) {
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
    if (r.field != "metadata.name" && r.field != "metadata.namespace") {
      throw badRequest("field label not supported: " + r.field);
    }
    s.requirements_.push_back(std::move(r));
  }
  return s;
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  for (const Requirement& r : requirements_) {
    std::string key = r.field == "metadata.name" ? "name" : "namespace";
    std::string value = object["metadata"].value(key, "");
    if ((value == r.value) != r.equals) return false;
  }
  return true;
}

}  // namespace canaryd::kubesim
