#include "canaryd/api/document.h"

#include <nlohmann/json.hpp>

#include "api/path.h"
#include "api/yaml_to_json.h"

namespace canaryd::api {
namespace {

std::string stringAt(const nlohmann::json& body, std::initializer_list<const char*> keys) {
  const nlohmann::json* at = &body;
  for (const char* key : keys) {
    if (!at->is_object()) return {};
    auto it = at->find(key);
    if (it == at->end()) return {};
    at = &*it;
  }
  return at->is_string() ? at->get<std::string>() : std::string();
}

// 1-based line and column of byte `offset` in `text`.
SourcePosition positionOfOffset(std::string_view text, std::size_t offset) {
  SourcePosition at{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++at.line;
      at.column = 1;
    } else {
      ++at.column;
    }
  }
  return at;
}

}  // namespace

std::string Document::apiVersion() const {
  return stringAt(body.get(), {"apiVersion"});
}
std::string Document::kind() const {
  return stringAt(body.get(), {"kind"});
}
std::string Document::name() const {
  return stringAt(body.get(), {"metadata", "name"});
}
std::string Document::namespaceName() const {
  return stringAt(body.get(), {"metadata", "namespace"});
}

Result<std::vector<Document>> parseYamlDocuments(std::string_view text, std::string source) {
  Result<std::vector<YamlDocument>> parsed = yamlToJson(text);
  if (!parsed) return parsed.error().withContext(source);
  std::vector<Document> documents;
  int index = 0;
  for (YamlDocument& yaml : parsed.value()) {
    Document doc;
    doc.source = source;
    doc.index = index++;
    doc.start = yaml.start;
    doc.body = JsonValue(std::move(yaml.value));
    doc.positions = std::make_shared<const SourceMap>(std::move(yaml.positions));
    documents.push_back(std::move(doc));
  }
  return documents;
}

Result<Document> parseJsonDocument(std::string_view text, std::string source) {
  try {
    Document doc;
    doc.body = JsonValue(nlohmann::json::parse(text));
    doc.source = std::move(source);
    doc.start = {1, 1};
    return doc;
  } catch (const nlohmann::json::parse_error& e) {
    SourcePosition at = positionOfOffset(text, e.byte > 0 ? e.byte - 1 : 0);
    return Error::invalidInput(source + ": line " + std::to_string(at.line) + ", column " +
                               std::to_string(at.column) + ": malformed JSON: " + e.what());
  }
}

SourcePosition locate(const Document& document, std::string_view fieldPath) {
  if (document.positions) {
    std::string p(fieldPath);
    while (!p.empty()) {
      auto it = document.positions->find(p);
      if (it != document.positions->end()) return it->second;
      p = path::parent(p);
    }
  }
  return document.start;
}

}  // namespace canaryd::api
