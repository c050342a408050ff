// Document: one manifest read from YAML or JSON, with the position of every field.
//
// A YAML stream ("---"-separated) becomes one Document per non-empty document; a JSON text
// becomes one Document. YAML scalars are typed as Kubernetes' YAML reader types them
// (unquoted 80 is an integer, "80" a string, yes/no/on/off booleans), so a manifest decodes to
// the same value whether it arrives as YAML from a user or as JSON from the API server.
// Value type; thread-safe to share once built.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "canaryd/api/json_value.h"
#include "canaryd/core/result.h"

namespace canaryd::api {

struct SourcePosition {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  friend bool operator==(const SourcePosition&, const SourcePosition&) = default;
};

// Field path ("spec.analysis.webhooks[1].type") -> position of the field's key in the source.
using SourceMap = std::map<std::string, SourcePosition, std::less<>>;

struct Document {
  std::string source;  // file name used in messages; "-" for standard input
  int index = 0;       // 0-based position in the stream
  SourcePosition start;
  JsonValue body;
  std::shared_ptr<const SourceMap> positions;  // empty for JSON input

  // Top-level identity, "" when absent or not a string.
  std::string apiVersion() const;
  std::string kind() const;
  std::string name() const;
  std::string namespaceName() const;
};

// Parses every document of a YAML stream. Malformed YAML (or a duplicate key) is an error
// whose message names `source`, line and column.
Result<std::vector<Document>> parseYamlDocuments(std::string_view text, std::string source);

// Parses one JSON document; a syntax error names `source`, line and column.
Result<Document> parseJsonDocument(std::string_view text, std::string source);

// Position of `path` in the document or, when that field is absent, of its nearest enclosing
// field that is present; the document's start when nothing matches.
SourcePosition locate(const Document& document, std::string_view path);

}  // namespace canaryd::api
