#include "canaryd/core/log.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace canaryd {
namespace {

TEST(LogTest, JsonLinesAreOneEscapedObjectPerRecord) {
  std::ostringstream out;
  ASSERT_TRUE(setupLogging({LogFormat::kJson, "debug", &out}).ok());
  spdlog::info("canary {} promoted \"ok\"\nnext", "shop/frontend");
  spdlog::debug("second");
  spdlog::trace("not shown");
  std::istringstream lines(out.str());
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(lines, line))
    records.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["level"], "info");
  EXPECT_EQ(records[0]["logger"], "canaryd");
  EXPECT_EQ(records[0]["msg"], "canary shop/frontend promoted \"ok\"\nnext");
  EXPECT_EQ(records[1]["level"], "debug");
  EXPECT_EQ(records[0]["ts"].get<std::string>().back(), 'Z');
}

TEST(LogTest, TextFormatAndLevels) {
  std::ostringstream out;
  ASSERT_TRUE(setupLogging({LogFormat::kText, "warn", &out}).ok());
  spdlog::info("hidden");
  spdlog::warn("shown {}", 42);
  EXPECT_EQ(out.str().find("hidden"), std::string::npos);
  EXPECT_NE(out.str().find("shown 42"), std::string::npos);
  EXPECT_NE(out.str().find("warn"), std::string::npos);
}

TEST(LogTest, DecisionsCarryTheirFieldsAsKeysOrKeyValuePairs) {
  const LogFields fields = {{"canary", "podinfo"},
                            {"namespace", "test"},
                            {"phase", "Progressing"},
                            {"weight", "20"},
                            {"reason", "Advance podinfo.test canary weight 20"}};
  std::ostringstream json;
  ASSERT_TRUE(setupLogging({LogFormat::kJson, "info", &json}).ok());
  logInfoWithFields("decision", fields);
  spdlog::info("plain");
  std::istringstream lines(json.str());
  std::string first;
  std::string second;
  ASSERT_TRUE(std::getline(lines, first) && std::getline(lines, second));
  const nlohmann::json record = nlohmann::json::parse(first);
  EXPECT_EQ(record["msg"], "decision");
  EXPECT_EQ(record["weight"], "20");
  EXPECT_EQ(record["reason"], "Advance podinfo.test canary weight 20");
  EXPECT_FALSE(nlohmann::json::parse(second).contains("canary"));  // fields of one line only

  std::ostringstream text;
  ASSERT_TRUE(setupLogging({LogFormat::kText, "info", &text}).ok());
  logInfoWithFields("decision", fields);
  EXPECT_NE(text.str().find("decision canary=podinfo namespace=test phase=Progressing weight=20 "
                            "reason=\"Advance podinfo.test canary weight 20\""),
            std::string::npos)
      << text.str();
}

TEST(LogTest, RejectsUnknownLevelAndFormat) {
  Status bad = setupLogging({LogFormat::kText, "verbose", nullptr});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("must be one of: trace"), std::string::npos);
  EXPECT_TRUE(setupLogging({LogFormat::kText, "off", nullptr}).ok());
  EXPECT_FALSE(parseLogFormat("xml").ok());
  EXPECT_EQ(*parseLogFormat("json"), LogFormat::kJson);
}

}  // namespace
}  // namespace canaryd
