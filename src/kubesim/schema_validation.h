// Validation of custom resources against their CRD's structural OpenAPI v3 schema, as the API
// server does: types, enums, required fields, numeric ranges, string patterns (422 Invalid),
// and the fields the schema does not know (rejected under fieldValidation=Strict). Internal to
// kubesim.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace canaryd::kubesim {

struct SchemaViolation {
  std::string field;  // spec.analysis.stepWeight
  std::string message;
};

void validateAgainstSchema(const nlohmann::json& object, const nlohmann::json& schema,
                           std::vector<std::string>& unknownFields,
                           std::vector<SchemaViolation>& violations);

// Removes the fields the schema does not know, as the API server prunes custom resources.
void pruneUnknownFields(nlohmann::json& object, const nlohmann::json& schema);

}  // namespace canaryd::kubesim
