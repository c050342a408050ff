// Helpers shared by the api tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "canaryd/api/document.h"

namespace canaryd::api::testing {

inline std::string sourcePath(const std::string& relative) {
  return std::string(CANARYD_SOURCE_DIR) + "/" + relative;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The single document of a YAML text; fails the calling test through the returned Result.
inline Result<Document> oneYamlDocument(const std::string& text, const std::string& source) {
  Result<std::vector<Document>> docs = parseYamlDocuments(text, source);
  if (!docs) return docs.error();
  if (docs->size() != 1) return Error::invalidInput("expected exactly one document");
  return docs->front();
}

}  // namespace canaryd::api::testing
