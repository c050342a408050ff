// Reading the repository's own files (examples, CRDs, test data) from tests and benchmarks.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "canaryd/api/document.h"

namespace canaryd::testing {

inline std::string sourcePath(const std::string& relative) {
  return std::string(CANARYD_SOURCE_DIR) + "/" + relative;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first document of a YAML file of the repository, as JSON; null when unreadable.
inline nlohmann::json yamlFile(const std::string& relative) {
  auto docs = api::parseYamlDocuments(readFile(sourcePath(relative)), relative);
  return docs.ok() && !docs->empty() ? docs->front().body.get() : nlohmann::json();
}

}  // namespace canaryd::testing
