#include "api/yaml_to_json.h"

#include <cmath>

#include <gtest/gtest.h>

#include "canaryd/api/document.h"

namespace canaryd::api {
namespace {

using nlohmann::json;

TEST(YamlToJsonTest, TypesPlainScalarsAsKubernetesDoes) {
  EXPECT_EQ(resolvePlainScalar("80"), json(80));
  EXPECT_EQ(resolvePlainScalar("-3"), json(-3));
  EXPECT_EQ(resolvePlainScalar("0x1F"), json(31));
  EXPECT_EQ(resolvePlainScalar("0755"), json(493));  // Go's YAML reads a leading 0 as octal
  EXPECT_EQ(resolvePlainScalar("1_000"), json(1000));
  EXPECT_EQ(resolvePlainScalar("99.5"), json(99.5));
  EXPECT_EQ(resolvePlainScalar("1e3"), json(1000.0));
  EXPECT_EQ(resolvePlainScalar("true"), json(true));
  EXPECT_EQ(resolvePlainScalar("yes"), json(true));
  EXPECT_EQ(resolvePlainScalar("Off"), json(false));
  EXPECT_EQ(resolvePlainScalar("~"), json(nullptr));
  EXPECT_EQ(resolvePlainScalar("null"), json(nullptr));
  EXPECT_EQ(resolvePlainScalar("30s"), json("30s"));
  EXPECT_EQ(resolvePlainScalar("1.2.3"), json("1.2.3"));
  EXPECT_EQ(resolvePlainScalar("-"), json("-"));
  EXPECT_TRUE(std::isinf(resolvePlainScalar(".inf").get<double>()));
  EXPECT_TRUE(std::isnan(resolvePlainScalar(".nan").get<double>()));
  EXPECT_EQ(resolvePlainScalar("99999999999999999999"), json(1e20));
}

TEST(YamlToJsonTest, QuotedScalarsStayStrings) {
  Result<std::vector<YamlDocument>> docs =
      yamlToJson("a: \"80\"\nb: 'true'\nc: |\n  42\nd: !!str 7\ne: 80\n");
  ASSERT_TRUE(docs.ok()) << docs.error().message();
  const json& v = docs->at(0).value;
  EXPECT_EQ(v["a"], json("80"));
  EXPECT_EQ(v["b"], json("true"));
  EXPECT_EQ(v["c"], json("42\n"));
  EXPECT_EQ(v["d"], json("7"));
  EXPECT_EQ(v["e"], json(80));
}

TEST(YamlToJsonTest, RecordsPositionOfEveryField) {
  const char* text =
      "apiVersion: v1\n"
      "spec:\n"
      "  items:\n"
      "    - name: a\n"
      "    - name: b\n"
      "      port: 80\n";
  Result<std::vector<YamlDocument>> docs = yamlToJson(text);
  ASSERT_TRUE(docs.ok());
  const SourceMap& at = docs->at(0).positions;
  EXPECT_EQ(at.at("apiVersion"), (SourcePosition{1, 1}));
  EXPECT_EQ(at.at("spec.items"), (SourcePosition{3, 3}));
  EXPECT_EQ(at.at("spec.items[1]"), (SourcePosition{5, 7}));
  EXPECT_EQ(at.at("spec.items[1].port"), (SourcePosition{6, 7}));
}

TEST(YamlToJsonTest, MultipleDocumentsSkipEmptyOnes) {
  Result<std::vector<Document>> docs =
      parseYamlDocuments("---\nkind: A\n---\n---\nkind: B\n...\n---\n", "multi.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ(docs->at(0).kind(), "A");
  EXPECT_EQ(docs->at(1).kind(), "B");
  EXPECT_EQ(docs->at(1).index, 1);
  EXPECT_EQ(docs->at(1).start.line, 5);
}

TEST(YamlToJsonTest, MalformedYamlNamesFileLineAndColumn) {
  Result<std::vector<Document>> docs =
      parseYamlDocuments("spec:\n  analysis:\n    interval: [30s\n", "bad.yaml");
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(docs.error().message().find("bad.yaml: line "), std::string::npos)
      << docs.error().message();
  EXPECT_NE(docs.error().message().find("malformed YAML"), std::string::npos);

  Result<std::vector<Document>> tabs = parseYamlDocuments("a:\n\t- b\n", "tabs.yaml");
  ASSERT_FALSE(tabs.ok());
  EXPECT_NE(tabs.error().message().find("line 2"), std::string::npos) << tabs.error().message();
}

TEST(YamlToJsonTest, DuplicateKeysAreErrors) {
  Result<std::vector<Document>> docs =
      parseYamlDocuments("spec:\n  threshold: 5\n  threshold: 6\n", "dup.yaml");
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.error().message(),
            "dup.yaml: line 3, column 3: duplicate key \"threshold\" (first defined at line 2)");
}

TEST(YamlToJsonTest, ComplexKeysAreErrors) {
  Result<std::vector<Document>> docs = parseYamlDocuments("? [a, b]\n: c\n", "key.yaml");
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(docs.error().message().find("mapping key must be a plain value"), std::string::npos);
}

TEST(YamlToJsonTest, MalformedJsonNamesLineAndColumn) {
  Result<Document> doc = parseJsonDocument("{\n  \"a\": 1,\n  \"b\": }\n", "x.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().message().find("x.json: line 3"), std::string::npos)
      << doc.error().message();
}

TEST(YamlToJsonTest, LocateFallsBackToNearestParent) {
  Result<std::vector<Document>> docs =
      parseYamlDocuments("kind: Canary\nspec:\n  analysis:\n    interval: 1m\n", "c.yaml");
  ASSERT_TRUE(docs.ok());
  const Document& d = docs->front();
  EXPECT_EQ(locate(d, "spec.analysis.interval"), (SourcePosition{4, 5}));
  EXPECT_EQ(locate(d, "spec.analysis.threshold"), (SourcePosition{3, 3}));
  EXPECT_EQ(locate(d, "spec.analysis.webhooks[2].type"), (SourcePosition{3, 3}));
  EXPECT_EQ(locate(d, "status.phase"), d.start);
}

}  // namespace
}  // namespace canaryd::api
