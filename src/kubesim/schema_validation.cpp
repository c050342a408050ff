#include "kubesim/schema_validation.h"

#include <cmath>
#include <map>
#include <regex>

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

std::string child(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

bool typeMatches(const json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "integer") {
    return value.is_number_integer() ||
           (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
  }
  if (type == "number") return value.is_number();
  return true;
}

void walk(const json& value, const json& schema, const std::string& path,
          std::vector<std::string>& unknown, std::vector<SchemaViolation>& violations) {
  if (!schema.is_object()) return;
  if (value.is_null()) return;
  if (schema.value("x-kubernetes-int-or-string", false)) {
    if (!value.is_string() && !value.is_number_integer()) {
      violations.push_back({path, "Invalid value: must be an integer or a string"});
    }
    return;
  }
  if (schema.contains("type") && schema["type"].is_string() &&
      !typeMatches(value, schema["type"].get<std::string>())) {
    violations.push_back({path, "Invalid value: " + value.dump() + ": " + path +
                                    " in body must be of type " +
                                    schema["type"].get<std::string>()});
    return;
  }
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (const json& e : schema["enum"])
      found = found || e == value;
    if (!found) {
      std::string allowed;
      for (const json& e : schema["enum"])
        allowed += (allowed.empty() ? "" : ", ") + e.dump();
      violations.push_back(
          {path, "Unsupported value: " + value.dump() + ": supported values: " + allowed});
    }
  }
  if (value.is_number()) {
    double v = value.get<double>();
    if (schema.value("exclusiveMinimum", false) && schema.contains("minimum") &&
        v <= schema["minimum"].get<double>()) {
      violations.push_back({path, "Invalid value: " + value.dump() + ": " + path +
                                      " in body should be greater than " +
                                      schema["minimum"].dump()});
    }
    if (schema.value("exclusiveMaximum", false) && schema.contains("maximum") &&
        v >= schema["maximum"].get<double>()) {
      violations.push_back({path, "Invalid value: " + value.dump() + ": " + path +
                                      " in body should be less than " + schema["maximum"].dump()});
    }
    if (schema.contains("minimum") && v < schema["minimum"].get<double>()) {
      violations.push_back({path, "Invalid value: " + value.dump() + ": " + path +
                                      " in body should be greater than or equal to " +
                                      schema["minimum"].dump()});
    }
    if (schema.contains("maximum") && v > schema["maximum"].get<double>()) {
      violations.push_back({path, "Invalid value: " + value.dump() + ": " + path +
                                      " in body should be less than or equal to " +
                                      schema["maximum"].dump()});
    }
  }
  if (value.is_string() && schema.contains("pattern")) {
    try {
      // Compiling a std::regex costs far more than matching: keep each pattern compiled.
      static thread_local std::map<std::string, std::regex> compiled;
      const std::string& text = schema["pattern"].get_ref<const std::string&>();
      auto it = compiled.find(text);
      if (it == compiled.end())
        it = compiled.emplace(text, std::regex(text, std::regex::ECMAScript)).first;
      const std::regex& pattern = it->second;
      if (!std::regex_search(value.get<std::string>(), pattern)) {
        violations.push_back({path, "Invalid value: " + value.dump() + ": " + path +
                                        " in body should match '" +
                                        schema["pattern"].get<std::string>() + "'"});
      }
    } catch (const std::regex_error&) {
    }
  }
  if (value.is_string() && schema.contains("minLength") &&
      value.get<std::string>().size() < schema["minLength"].get<std::size_t>()) {
    violations.push_back({path, "Invalid value: " + value.dump() + ": " + path +
                                    " in body should be at least " + schema["minLength"].dump() +
                                    " chars long"});
  }
  if (value.is_object()) {
    for (const json& r : schema.value("required", json::array())) {
      if (r.is_string() && !value.contains(r.get<std::string>())) {
        violations.push_back({child(path, r.get<std::string>()), "Required value"});
      }
    }
    const json properties = schema.value("properties", json::object());
    const bool preserve = schema.value("x-kubernetes-preserve-unknown-fields", false);
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (path.empty() &&
          (it.key() == "metadata" || it.key() == "apiVersion" || it.key() == "kind")) {
        continue;
      }
      if (properties.contains(it.key())) {
        walk(*it, properties[it.key()], child(path, it.key()), unknown, violations);
      } else if (schema.contains("additionalProperties") &&
                 schema["additionalProperties"].is_object()) {
        walk(*it, schema["additionalProperties"], child(path, it.key()), unknown, violations);
      } else if (!preserve && !(schema.contains("additionalProperties") &&
                                schema["additionalProperties"] == true)) {
        unknown.push_back(child(path, it.key()));
      }
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      walk(value[i], schema["items"], path + "[" + std::to_string(i) + "]", unknown, violations);
    }
  }
}

void prune(json& value, const json& schema, bool root) {
  if (!schema.is_object()) return;
  if (value.is_object()) {
    if (schema.value("x-kubernetes-preserve-unknown-fields", false) &&
        !schema.contains("properties")) {
      return;
    }
    const json properties = schema.value("properties", json::object());
    const bool open =
        schema.value("x-kubernetes-preserve-unknown-fields", false) ||
        (schema.contains("additionalProperties") && schema["additionalProperties"] == true);
    std::vector<std::string> doomed;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (root && (it.key() == "metadata" || it.key() == "apiVersion" || it.key() == "kind"))
        continue;
      if (properties.contains(it.key())) {
        prune(*it, properties[it.key()], false);
      } else if (schema.contains("additionalProperties") &&
                 schema["additionalProperties"].is_object()) {
        prune(*it, schema["additionalProperties"], false);
      } else if (!open) {
        doomed.push_back(it.key());
      }
    }
    for (const std::string& k : doomed)
      value.erase(k);
  } else if (value.is_array() && schema.contains("items")) {
    for (json& item : value)
      prune(item, schema["items"], false);
  }
}

}  // namespace

void pruneUnknownFields(json& object, const json& schema) {
  prune(object, schema, true);
}

void validateAgainstSchema(const json& object, const json& schema,
                           std::vector<std::string>& unknownFields,
                           std::vector<SchemaViolation>& violations) {
  walk(object, schema, "", unknownFields, violations);
}

}  // namespace canaryd::kubesim
