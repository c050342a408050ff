// Helpers shared by the api tests.
#pragma once

#include <string>

#include "canaryd/api/catalog.h"
#include "canaryd/api/document.h"
#include "canaryd/plugins/builtin.h"

#include "support/source_files.h"

namespace canaryd::api::testing {

using canaryd::testing::readFile;
using canaryd::testing::sourcePath;

// The single document of a YAML text; fails the calling test through the returned Result.
inline Result<Document> oneYamlDocument(const std::string& text, const std::string& source) {
  Result<std::vector<Document>> docs = parseYamlDocuments(text, source);
  if (!docs) return docs.error();
  if (docs->size() != 1) return Error::invalidInput("expected exactly one document");
  return docs->front();
}

// What canaryd's commands validate against: the plugins it ships.
inline api::Catalog catalog() {
  return plugins::builtin().catalog();
}

}  // namespace canaryd::api::testing
