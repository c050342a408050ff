// Every manifest in examples/ is valid, and together they cover each strategy.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/api/validate.h"

#include "api/test_util.h"

namespace canaryd::api {
namespace {

using testing::readFile;
using testing::sourcePath;

TEST(ExamplesTest, AllExamplesAreValidAndCoverEveryStrategy) {
  std::set<Strategy> strategies;
  std::set<std::string> kinds;
  int files = 0;
  // examples/ and the demo's manifests in examples/demo/.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(sourcePath("examples"))) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    std::string name = entry.path().filename().string();
    Result<std::vector<Document>> docs = parseYamlDocuments(readFile(entry.path().string()), name);
    ASSERT_TRUE(docs.ok()) << docs.error().message();
    for (const DocumentReport& report : validateDocuments(*docs, testing::catalog())) {
      EXPECT_NE(report.verdict, DocumentVerdict::kInvalid) << name << " " << report.name;
      for (const Problem& p : report.problems) {
        if (p.severity == Severity::kError) {
          ADD_FAILURE() << name << ":" << p.line << ": " << p.path << ": " << p.message;
        }
      }
      if (report.verdict == DocumentVerdict::kSkipped) continue;
      kinds.insert(report.kind);
      if (report.kind == "Canary") {
        Canary c = withDefaults(decodeCanary(*report.document).value);
        strategies.insert(strategyOf(*c.spec.analysis));
      }
    }
  }
  EXPECT_GE(files, 6);
  EXPECT_EQ(kinds, (std::set<std::string>{"AlertProvider", "Canary", "MetricTemplate"}));
  EXPECT_EQ(strategies, (std::set<Strategy>{Strategy::kCanary, Strategy::kABTesting,
                                            Strategy::kBlueGreen, Strategy::kBlueGreenMirroring}));
}

TEST(ExamplesTest, GitopsGuideCanaryValidatesUnchanged) {
  std::string text = readFile(sourcePath("examples/gitops-guide-canary.yaml"));
  Result<std::vector<Document>> docs = parseYamlDocuments(text, "gitops-guide-canary.yaml");
  ASSERT_TRUE(docs.ok());
  std::vector<DocumentReport> reports = validateDocuments(*docs, testing::catalog());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid);
  EXPECT_EQ(reports[0].name, "production/my-app");
  EXPECT_FALSE(hasErrors(reports[0].problems));
}

}  // namespace
}  // namespace canaryd::api
