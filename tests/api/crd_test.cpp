// The CRDs in crds/ and the decoder must agree: the same enums, and a schema for every field
// the decoder reads (the API server prunes fields its schema does not know).
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/enums.h"

#include "api/test_util.h"

namespace canaryd::api {
namespace {

using nlohmann::json;
using testing::readFile;
using testing::sourcePath;

json loadCrd(const std::string& file) {
  Result<std::vector<Document>> docs =
      parseYamlDocuments(readFile(sourcePath("crds/" + file)), file);
  EXPECT_TRUE(docs.ok()) << (docs.ok() ? "" : docs.error().message());
  if (!docs.ok() || docs->size() != 1) return json();
  return docs->front().body.get();
}

const json& schemaOf(const json& crd) {
  return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
}

std::vector<std::string> enumAt(const json& schema, std::initializer_list<const char*> path) {
  const json* at = &schema;
  for (const char* step : path) {
    if (std::string(step) == "[]") {
      at = &(*at)["items"];
    } else {
      at = &(*at)["properties"][step];
    }
  }
  return (*at)["enum"].get<std::vector<std::string>>();
}

std::vector<std::string> asStrings(std::span<const std::string_view> values) {
  return {values.begin(), values.end()};
}

TEST(CrdTest, EnumsMatchValidation) {
  json canary = schemaOf(loadCrd("flagger.app_canaries.yaml"));
  EXPECT_EQ(enumAt(canary, {"spec", "provider"}), asStrings(allowed::providers()));
  EXPECT_EQ(enumAt(canary, {"spec", "targetRef", "kind"}), asStrings(allowed::targetKinds()));
  EXPECT_EQ(enumAt(canary, {"spec", "autoscalerRef", "kind"}),
            asStrings(allowed::autoscalerKinds()));
  EXPECT_EQ(enumAt(canary, {"spec", "analysis", "webhooks", "[]", "type"}),
            asStrings(allowed::webhookTypes()));
  EXPECT_EQ(enumAt(canary, {"spec", "analysis", "alerts", "[]", "severity"}),
            asStrings(allowed::alertSeverities()));
  EXPECT_EQ(enumAt(canary, {"spec", "analysis", "sessionAffinity", "sameSite"}),
            asStrings(allowed::sameSiteValues()));
  EXPECT_EQ(enumAt(canary, {"spec", "service", "trafficDistribution"}),
            asStrings(allowed::trafficDistributions()));
  EXPECT_EQ(enumAt(canary, {"status", "phase"}), asStrings(allowed::phases()));
  EXPECT_EQ(enumAt(canary, {"spec", "analysis", "judge", "type"}),
            asStrings(allowed::judgeTypes()));
  EXPECT_EQ(
      enumAt(schemaOf(loadCrd("flagger.app_metrictemplates.yaml")), {"spec", "provider", "type"}),
      asStrings(allowed::metricProviderTypes()));
  EXPECT_EQ(enumAt(schemaOf(loadCrd("flagger.app_alertproviders.yaml")), {"spec", "type"}),
            asStrings(allowed::alertProviderTypes()));
}

// Every plugin canaryd registers answers to a name the CRDs accept (a router for a provider the
// API server would refuse could never run), and the names canaryd lacks are Flagger's.
TEST(CrdTest, EveryRegisteredPluginHasANameTheCrdsAccept) {
  const Catalog catalog = testing::catalog();
  auto within = [](const std::vector<std::string>& names, const std::vector<std::string>& allowed) {
    for (const std::string& name : names) {
      EXPECT_NE(std::find(allowed.begin(), allowed.end(), name), allowed.end()) << name;
    }
  };
  json canary = schemaOf(loadCrd("flagger.app_canaries.yaml"));
  EXPECT_GE(catalog.routerNames().size(), 4u);
  within(catalog.routerNames(), enumAt(canary, {"spec", "provider"}));
  within(
      catalog.metricProviderTypes(),
      enumAt(schemaOf(loadCrd("flagger.app_metrictemplates.yaml")), {"spec", "provider", "type"}));
  within(catalog.notifierTypes(),
         enumAt(schemaOf(loadCrd("flagger.app_alertproviders.yaml")), {"spec", "type"}));
  EXPECT_EQ(catalog.notifierTypes().size(), allowed::alertProviderTypes().size());
}

TEST(CrdTest, CanaryHasStatusSubresourcePrinterColumnsAndShortName) {
  json crd = loadCrd("flagger.app_canaries.yaml");
  EXPECT_EQ(crd["metadata"]["name"], "canaries.flagger.app");
  const json& version = crd["spec"]["versions"][0];
  EXPECT_EQ(version["name"], "v1beta1");
  EXPECT_TRUE(version["subresources"].contains("status"));
  std::vector<std::string> shown;
  for (const json& column : version["additionalPrinterColumns"]) {
    if (column.value("priority", 0) == 0) shown.push_back(column["name"]);
  }
  EXPECT_EQ(shown,
            (std::vector<std::string>{"Status", "Weight", "FailedChecks", "LastTransitionTime"}));
  EXPECT_FALSE(crd["spec"]["names"]["shortNames"].empty());
}

// Structural schema rules the API server enforces: every node has a type (or is an
// int-or-string / preserve-unknown-fields node), and properties only under objects.
void expectStructural(const json& node, const std::string& where) {
  bool intOrString = node.value("x-kubernetes-int-or-string", false);
  bool preserve = node.value("x-kubernetes-preserve-unknown-fields", false);
  if (!intOrString) {
    EXPECT_TRUE(node.contains("type") || preserve) << where << " has no type";
  }
  if (node.contains("properties")) {
    EXPECT_EQ(node.value("type", ""), "object") << where;
    for (auto it = node["properties"].begin(); it != node["properties"].end(); ++it) {
      expectStructural(*it, where + "." + it.key());
    }
  }
  if (node.contains("items")) expectStructural(node["items"], where + "[]");
  if (node.contains("additionalProperties") && node["additionalProperties"].is_object()) {
    expectStructural(node["additionalProperties"], where + "{}");
  }
}

TEST(CrdTest, SchemasAreStructural) {
  for (const char* file : {"flagger.app_canaries.yaml", "flagger.app_metrictemplates.yaml",
                           "flagger.app_alertproviders.yaml"}) {
    json crd = loadCrd(file);
    ASSERT_FALSE(crd.is_null()) << file;
    expectStructural(schemaOf(crd), file);
  }
}

// Every field of `value` has a place in `schema`, so the API server keeps it.
void expectKnownToSchema(const json& value, const json& schema, const std::string& where) {
  if (schema.value("x-kubernetes-preserve-unknown-fields", false) &&
      !schema.contains("properties")) {
    return;
  }
  if (value.is_object() && schema.contains("properties")) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (where == "" && it.key() == "metadata") continue;
      if (schema["properties"].contains(it.key())) {
        expectKnownToSchema(*it, schema["properties"][it.key()], where + "." + it.key());
      } else {
        EXPECT_TRUE(schema.value("x-kubernetes-preserve-unknown-fields", false))
            << where << "." << it.key() << " is not in the CRD schema";
      }
    }
  } else if (value.is_object() && schema.contains("additionalProperties")) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      expectKnownToSchema(*it, schema["additionalProperties"], where + "." + it.key());
    }
  } else if (value.is_array() && schema.contains("items")) {
    for (const json& item : value)
      expectKnownToSchema(item, schema["items"], where + "[]");
  }
}

TEST(CrdTest, EveryDecodedFieldHasASchema) {
  std::string text = readFile(sourcePath("tests/api/data/full-canary.yaml"));
  Result<std::vector<Document>> docs = parseYamlDocuments(text, "full-canary.yaml");
  ASSERT_TRUE(docs.ok());
  expectKnownToSchema(docs->front().body.get(), schemaOf(loadCrd("flagger.app_canaries.yaml")), "");
}

TEST(CrdTest, ExamplesFitTheSchemas) {
  std::map<std::string, json> schemas = {
      {"Canary", schemaOf(loadCrd("flagger.app_canaries.yaml"))},
      {"MetricTemplate", schemaOf(loadCrd("flagger.app_metrictemplates.yaml"))},
      {"AlertProvider", schemaOf(loadCrd("flagger.app_alertproviders.yaml"))},
  };
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(sourcePath("examples"))) {
    if (entry.path().extension() != ".yaml") continue;
    Result<std::vector<Document>> docs =
        parseYamlDocuments(readFile(entry.path().string()), entry.path().filename().string());
    ASSERT_TRUE(docs.ok()) << docs.error().message();
    for (const Document& d : *docs) {
      auto it = schemas.find(d.kind());
      if (it == schemas.end()) continue;
      expectKnownToSchema(d.body.get(), it->second, entry.path().filename().string());
      ++checked;
    }
  }
  EXPECT_GE(checked, 7);
}

}  // namespace
}  // namespace canaryd::api
