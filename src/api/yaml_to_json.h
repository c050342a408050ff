// YAML -> JSON conversion with the source position of every field. Internal to api/.
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "canaryd/api/document.h"
#include "canaryd/core/result.h"

namespace canaryd::api {

struct YamlDocument {
  nlohmann::json value;
  SourceMap positions;
  SourcePosition start;
};

// Converts each non-empty document of the stream. Errors name line and column, not the file.
Result<std::vector<YamlDocument>> yamlToJson(std::string_view text);

// Types a plain (unquoted) scalar as Kubernetes' YAML reader does: null, booleans (including
// yes/no/on/off), integers (decimal, 0x hex, 0o octal), floats (.inf, .nan), else a string.
nlohmann::json resolvePlainScalar(const std::string& text);

}  // namespace canaryd::api
