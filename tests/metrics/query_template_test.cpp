#include "canaryd/metrics/query_template.h"

#include <gtest/gtest.h>

namespace canaryd::metrics {
namespace {

QueryContext context() {
  return {{{"name", "podinfo"},
           {"namespace", "test"},
           {"target", "podinfo"},
           {"service", "podinfo"},
           {"interval", "1m"}},
          {{"direction", "inbound"}}};
}

TEST(QueryTemplateTest, RendersFlaggersKeysAndVariables) {
  Result<std::string> q = renderQuery(
      R"(sum(rate(http_requests_total{namespace="{{ namespace }}",pod=~"{{target}}-.*",)"
      R"(direction="{{ variables.direction }}"}[{{ interval }}])))",
      context());
  ASSERT_TRUE(q.ok()) << q.error().message();
  EXPECT_EQ(*q, R"(sum(rate(http_requests_total{namespace="test",pod=~"podinfo-.*",)"
                R"(direction="inbound"}[1m])))");
  EXPECT_EQ(*renderQuery("{{ .namespace }}/{{.name}}", context()), "test/podinfo");
  EXPECT_EQ(*renderQuery("vector(1)", context()), "vector(1)");
}

TEST(QueryTemplateTest, AnUndefinedKeyIsAnErrorThatNamesTheDefinedOnes) {
  Result<std::string> typo = renderQuery("x{ns=\"{{ namespaec }}\"}", context());
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(typo.error().message().find("unknown template key {{ namespaec }}"), std::string::npos);
  EXPECT_NE(typo.error().message().find("did you mean namespace?"), std::string::npos);
  Result<std::string> variable = renderQuery("{{ variables.region }}", context());
  ASSERT_FALSE(variable.ok());
  EXPECT_NE(variable.error().message().find("(defined: direction)"), std::string::npos);
  Result<std::string> open = renderQuery("sum(x{a=\"{{ target \"})", context());
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message().find("is not closed"), std::string::npos);
}

}  // namespace
}  // namespace canaryd::metrics
