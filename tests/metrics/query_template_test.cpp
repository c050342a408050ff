#include "canaryd/metrics/query_template.h"

#include <gtest/gtest.h>

#include "canaryd/metrics/builtin_queries.h"

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

TEST(QueryTemplateTest, ValuesCannotBreakOutOfALabelMatcher) {
  QueryContext c = context();
  c.variables["path"] = R"(/x"} or vector(1) or x{a="\)";
  Result<std::string> q = renderQuery(R"(rate(r{path="{{ variables.path }}"}[1m]))", c);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, R"(rate(r{path="/x\"} or vector(1) or x{a=\"\\"}[1m]))");
}

TEST(QueryTemplateTest, TheWordFilterMakesSkipperRouteNames) {
  QueryContext c = context();
  c.values["ingress"] = "web.example-com";
  EXPECT_EQ(*renderQuery("kube_{{ namespace | word }}__{{ingress|word}}_canary", c),
            "kube_test__web_example_com_canary");
  Result<std::string> bad = renderQuery("{{ ingress | upper }}", c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("the only filter is word"), std::string::npos);
}

TEST(QueryTemplateTest, TheBuiltinQueriesRenderForGatewayApiAndKubernetes) {
  for (const char* provider : {"kubernetes", "gatewayapi", "gatewayapi:v1", "gatewayapi:v1beta1"}) {
    Result<BuiltinQueries> q = builtinQueries(provider);
    ASSERT_TRUE(q.ok()) << provider;
    for (const std::string* text :
         {&q->requestSuccessRate, &q->requestDuration, &q->requests, &q->errors}) {
      Result<std::string> rendered = renderQuery(*text, context());
      ASSERT_TRUE(rendered.ok()) << rendered.error().message();
      EXPECT_NE(rendered->find(R"(kubernetes_namespace="test")"), std::string::npos);
      EXPECT_NE(rendered->find(R"x(kubernetes_pod_name=~"podinfo-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)")x"),
                std::string::npos)
          << *rendered;
    }
    EXPECT_NE(q->errors.find(R"(status=~"5.*")"), std::string::npos);
  }
  Result<BuiltinQueries> osm = builtinQueries("osm");
  ASSERT_FALSE(osm.ok());
  EXPECT_NE(osm.error().message().find("built-in metrics for provider \"osm\" are not "
                                       "available yet (available for: apisix, "),
            std::string::npos)
      << osm.error().message();
}

}  // namespace
}  // namespace canaryd::metrics
