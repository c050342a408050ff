#include "canaryd/api/validate.h"

#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"

#include "api/test_util.h"

namespace canaryd::api {
namespace {

using nlohmann::json;

// A valid progressive Canary with a webhook, an alert and a templated metric; each invalid
// case below breaks exactly one thing in it.
json validCanary() {
  return json::parse(R"({
    "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {
      "provider": "gatewayapi:v1",
      "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
      "service": {"port": 80, "targetPort": 8080,
                  "gatewayRefs": [{"name": "public", "namespace": "gateways"}]},
      "analysis": {
        "interval": "1m", "threshold": 5, "maxWeight": 50, "stepWeight": 10,
        "metrics": [
          {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
          {"name": "error-rate", "templateRef": {"name": "error-rate"},
           "thresholdRange": {"max": 1}, "interval": "1m"}],
        "webhooks": [{"name": "load", "type": "rollout", "url": "http://tester.shop/",
                      "timeout": "5s"}],
        "alerts": [{"name": "on-call", "severity": "error", "providerRef": {"name": "slack"}}]
      }
    }
  })");
}

json validTemplate() {
  return json::parse(R"j({"apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate",
    "metadata": {"name": "error-rate", "namespace": "shop"},
    "spec": {"provider": {"type": "prometheus", "address": "http://prometheus:9090"},
             "query": "sum(rate(errors{namespace=\"{{ namespace }}\"}[{{ interval }}]))"}})j");
}

json validAlertProvider() {
  return json::parse(R"({"apiVersion": "flagger.app/v1beta1", "kind": "AlertProvider",
    "metadata": {"name": "slack", "namespace": "shop"},
    "spec": {"type": "slack", "address": "https://hooks.slack.com/services/T/B/X"}})");
}

std::vector<DocumentReport> check(const json& manifest, std::vector<Document>& storage) {
  // Indented JSON is YAML too, so the positions of fields are known.
  Result<std::vector<Document>> docs = parseYamlDocuments(manifest.dump(2), "case.yaml");
  EXPECT_TRUE(docs.ok());
  storage = docs.ok() ? std::move(docs).value() : std::vector<Document>{};
  return validateDocuments(storage, testing::catalog());
}

TEST(ValidateTest, ValidManifestsHaveNoErrors) {
  for (const json& manifest : {validCanary(), validTemplate(), validAlertProvider()}) {
    std::vector<Document> docs;
    std::vector<DocumentReport> reports = check(manifest, docs);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid);
    for (const Problem& p : reports[0].problems)
      ADD_FAILURE() << p.path << ": " << p.message;
  }
}

struct InvalidCase {
  const char* name;
  std::function<json()> manifest;
  const char* path;
  const char* message;  // a substring the message must contain
};

json canaryWith(const std::function<void(json&)>& change) {
  json c = validCanary();
  change(c);
  return c;
}
json templateWith(const std::function<void(json&)>& change) {
  json t = validTemplate();
  change(t);
  return t;
}
json providerWith(const std::function<void(json&)>& change) {
  json p = validAlertProvider();
  change(p);
  return p;
}

#define CANARY(body) [] { return canaryWith([](json& c) { body; }); }
#define TEMPLATE(body) [] { return templateWith([](json& t) { body; }); }
#define PROVIDER(body) [] { return providerWith([](json& p) { body; }); }

const InvalidCase kInvalid[] = {
    {"ThresholdNotANumber", CANARY(c["spec"]["analysis"]["threshold"] = "five"),
     "spec.analysis.threshold", "must be a whole number, got string \"five\""},
    {"ThresholdZero", CANARY(c["spec"]["analysis"]["threshold"] = 0), "spec.analysis.threshold",
     "must be at least 1, got 0"},
    {"ThresholdMissing", CANARY(c["spec"]["analysis"].erase("threshold")),
     "spec.analysis.threshold", "required field is missing"},
    {"StepWeightAbove100", CANARY(c["spec"]["analysis"]["stepWeight"] = 150),
     "spec.analysis.stepWeight", "must be between 1 and 100, got 150"},
    {"MaxWeightAbove100", CANARY(c["spec"]["analysis"]["maxWeight"] = 101),
     "spec.analysis.maxWeight", "must be between 1 and 100, got 101"},
    {"MaxWeightBelowStepWeight", CANARY(c["spec"]["analysis"]["maxWeight"] = 5),
     "spec.analysis.maxWeight", "must be at least stepWeight (10), got 5"},
    {"StepWeightWithStepWeights", CANARY(c["spec"]["analysis"]["stepWeights"] = json({10, 20})),
     "spec.analysis.stepWeights", "cannot be used together with stepWeight"},
    {"StepWeightsDecreasing",
     CANARY(c["spec"]["analysis"].erase("stepWeight");
            c["spec"]["analysis"]["stepWeights"] = json({10, 5})),
     "spec.analysis.stepWeights[1]", "must be greater than the previous step (10)"},
    {"StepWeightsZero",
     CANARY(c["spec"]["analysis"].erase("stepWeight");
            c["spec"]["analysis"]["stepWeights"] = json({0, 50})),
     "spec.analysis.stepWeights[0]", "must be between 1 and 100, got 0"},
    {"NoStepsNorIterations", CANARY(c["spec"]["analysis"].erase("stepWeight")), "spec.analysis",
     "set stepWeight or stepWeights for a progressive canary, or iterations"},
    {"IterationsWithStepWeight", CANARY(c["spec"]["analysis"]["iterations"] = 10),
     "spec.analysis.iterations", "cannot be used together with stepWeight"},
    {"ABMatchWithoutIterations",
     CANARY(c["spec"]["analysis"]["match"] = json::parse(R"([{"headers":{"x":{"exact":"y"}}}])")),
     "spec.analysis.match", "A/B testing needs iterations"},
    {"IntervalInHours", CANARY(c["spec"]["analysis"]["interval"] = "1h"), "spec.analysis.interval",
     "is not allowed by the Canary schema (pattern ^[0-9]+(m|s))"},
    {"IntervalUnparsable", CANARY(c["spec"]["analysis"]["interval"] = "thirty"),
     "spec.analysis.interval", "invalid duration \"thirty\""},
    {"IntervalMissing", CANARY(c["spec"]["analysis"].erase("interval")), "spec.analysis.interval",
     "required field is missing"},
    {"WebhookUnknownType", CANARY(c["spec"]["analysis"]["webhooks"][0]["type"] = "pre"),
     "spec.analysis.webhooks[0].type",
     "\"pre\" is not allowed; must be one of: confirm-rollout, pre-rollout, rollout, "
     "confirm-traffic-increase, confirm-promotion, post-rollout, rollback, event"},
    {"WebhookWithoutUrl", CANARY(c["spec"]["analysis"]["webhooks"][0].erase("url")),
     "spec.analysis.webhooks[0].url", "required field is missing"},
    {"WebhookBadUrl", CANARY(c["spec"]["analysis"]["webhooks"][0]["url"] = "tester.shop"),
     "spec.analysis.webhooks[0].url", "is not an absolute http(s) URL"},
    {"WebhookTimeoutWithoutUnit", CANARY(c["spec"]["analysis"]["webhooks"][0]["timeout"] = "10"),
     "spec.analysis.webhooks[0].timeout", "a unit is missing"},
    {"WebhookNegativeRetries", CANARY(c["spec"]["analysis"]["webhooks"][0]["retries"] = -1),
     "spec.analysis.webhooks[0].retries", "must be at least 0, got -1"},
    {"WebhooksNotAList", CANARY(c["spec"]["analysis"]["webhooks"] = json::parse(R"({"name":"x"})")),
     "spec.analysis.webhooks", "must be a list, got an object"},
    {"AlertUnknownSeverity", CANARY(c["spec"]["analysis"]["alerts"][0]["severity"] = "critical"),
     "spec.analysis.alerts[0].severity", "must be one of: info, warn, error"},
    {"AlertWithoutProvider", CANARY(c["spec"]["analysis"]["alerts"][0].erase("providerRef")),
     "spec.analysis.alerts[0].providerRef", "required field is missing"},
    {"MetricWithoutName", CANARY(c["spec"]["analysis"]["metrics"][0].erase("name")),
     "spec.analysis.metrics[0].name", "required field is missing"},
    {"MetricNotBuiltinWithoutTemplate",
     CANARY(c["spec"]["analysis"]["metrics"][1].erase("templateRef")),
     "spec.analysis.metrics[1].templateRef",
     "\"error-rate\" is not a built-in metric (request-success-rate, request-duration)"},
    {"MetricRangeNotANumber",
     CANARY(c["spec"]["analysis"]["metrics"][0]["thresholdRange"]["min"] = "high"),
     "spec.analysis.metrics[0].thresholdRange.min", "must be a number, got string \"high\""},
    {"MetricIntervalUnparsable",
     CANARY(c["spec"]["analysis"]["metrics"][0]["interval"] = "1 minute"),
     "spec.analysis.metrics[0].interval", "invalid duration \"1 minute\""},
    {"MetricTemplateRefWithoutName",
     CANARY(c["spec"]["analysis"]["metrics"][1]["templateRef"] = json::object()),
     "spec.analysis.metrics[1].templateRef.name", "required field is missing"},
    {"UnknownProvider", CANARY(c["spec"]["provider"] = "istoi"), "spec.provider",
     "\"istoi\" is not allowed; must be one of: kubernetes, gatewayapi:v1, gatewayapi:v1beta1"},
    {"UnknownProviderHint", CANARY(c["spec"]["provider"] = "contuor"), "spec.provider",
     "(did you mean \"contour\"?)"},
    {"TargetKindStatefulSet", CANARY(c["spec"]["targetRef"]["kind"] = "StatefulSet"),
     "spec.targetRef.kind", "must be one of: Deployment, DaemonSet, Service"},
    // What canaryd run cannot do is refused with the field path and what would work.
    {"TargetKindDaemonSetOnHaproxy",
     CANARY(c["spec"]["provider"] = "haproxy";
            c["metadata"]["annotations"]["haproxy.canaryd.dev/runtime-api"] = "127.0.0.1:9999";
            c["spec"]["targetRef"]["kind"] = "DaemonSet"),
     "spec.targetRef.kind",
     "\"DaemonSet\" targets are not supported by provider haproxy (it takes Deployment); of "
     "canaryd's routers kubernetes, gatewayapi:v1"},
    // Flagger's ServiceController: only routers that split between Services take them.
    {"TargetKindServiceOnKubernetes",
     CANARY(c["spec"]["provider"] = "kubernetes"; c["spec"]["targetRef"]["kind"] = "Service";
            c["spec"]["targetRef"]["apiVersion"] = "v1"; c["spec"]["analysis"]["iterations"] = 5;
            c["spec"]["analysis"].erase("stepWeight"); c["spec"]["analysis"].erase("maxWeight")),
     "spec.targetRef.kind",
     "\"Service\" targets are not supported by provider kubernetes (it takes Deployment, "
     "DaemonSet); of canaryd's routers gatewayapi:v1, gatewayapi:v1beta1, linkerd"},
    {"ServiceTargetWithAnotherServiceName",
     CANARY(c["spec"]["targetRef"]["kind"] = "Service"; c["spec"]["targetRef"]["apiVersion"] = "v1";
            c["spec"]["service"]["name"] = "frontend"),
     "spec.service.name", "must be unset or \"web\" with a Service target"},
    {"MirroringOnHaproxy",
     CANARY(c["spec"]["provider"] = "haproxy";
            c["metadata"]["annotations"]["haproxy.canaryd.dev/runtime-api"] = "127.0.0.1:9999";
            c["spec"]["analysis"]["iterations"] = 5; c["spec"]["analysis"].erase("stepWeight");
            c["spec"]["analysis"].erase("maxWeight"); c["spec"]["analysis"]["mirror"] = true),
     "spec.analysis.mirror", "provider haproxy cannot mirror traffic; of canaryd's routers"},
    {"MirrorWeightOnGatewayApi",
     CANARY(c["spec"]["analysis"]["iterations"] = 5; c["spec"]["analysis"].erase("stepWeight");
            c["spec"]["analysis"].erase("maxWeight"); c["spec"]["analysis"]["mirror"] = true;
            c["spec"]["analysis"]["mirrorWeight"] = 10),
     "spec.analysis.mirrorWeight", "mirrors all of the primary's traffic, not a percentage"},
    {"SessionAffinityOnKuma",
     CANARY(c["spec"]["provider"] = "kuma";
            c["spec"]["analysis"]["sessionAffinity"] = json::parse(R"({"cookieName":"c"})")),
     "spec.analysis.sessionAffinity", "cannot pin users to the canary by cookie"},
    {"DefaultProviderJudgedToo",
     CANARY(c["spec"].erase("provider"); c["spec"]["analysis"]["iterations"] = 5;
            c["spec"]["analysis"].erase("stepWeight"); c["spec"]["analysis"].erase("maxWeight");
            c["spec"]["analysis"]["mirror"] = true),
     "spec.analysis.mirror", "provider kubernetes cannot mirror traffic"},
    {"ABTestingOnKubernetes",
     CANARY(c["spec"]["provider"] = "kubernetes"; c["spec"]["analysis"]["iterations"] = 5;
            c["spec"]["analysis"].erase("stepWeight"); c["spec"]["analysis"].erase("maxWeight");
            c["spec"]["analysis"]["match"] =
                json::parse(R"([{"headers":{"x-canary":{"exact":"1"}}}])")),
     "spec.analysis.match", "provider kubernetes cannot route by header, cookie or query"},
    {"ABTestingOnHaproxy",
     CANARY(c["spec"]["provider"] = "haproxy";
            c["metadata"]["annotations"]["haproxy.canaryd.dev/runtime-api"] = "127.0.0.1:9999";
            c["spec"]["analysis"]["iterations"] = 5;
            c["spec"]["analysis"]["match"] =
                json::parse(R"([{"headers":{"x-canary":{"exact":"1"}}}])")),
     "spec.analysis.match",
     "of canaryd's routers gatewayapi:v1, gatewayapi:v1beta1, istio, appmesh, appmesh:v1beta2, "
     "contour, gloo, nginx can"},
    {"MirroringOnKubernetes",
     CANARY(c["spec"]["provider"] = "kubernetes"; c["spec"]["analysis"]["iterations"] = 5;
            c["spec"]["analysis"]["mirror"] = true),
     "spec.analysis.mirror", "provider kubernetes cannot mirror traffic"},
    {"TargetRefMissing", CANARY(c["spec"].erase("targetRef")), "spec.targetRef",
     "required field is missing: the Deployment, DaemonSet or Service to roll out"},
    {"TargetRefWithoutName", CANARY(c["spec"]["targetRef"].erase("name")), "spec.targetRef.name",
     "required field is missing"},
    {"ServicePortOutOfRange", CANARY(c["spec"]["service"]["port"] = 70000), "spec.service.port",
     "must be between 1 and 65535, got 70000"},
    {"ServicePortAsName", CANARY(c["spec"]["service"]["port"] = "http"), "spec.service.port",
     "must be a whole number, got string \"http\""},
    {"ServiceMissing", CANARY(c["spec"].erase("service")), "spec.service",
     "required field is missing"},
    {"TargetPortBadName", CANARY(c["spec"]["service"]["targetPort"] = "Http_Port"),
     "spec.service.targetPort", "is neither a port number (1-65535) nor a port name"},
    {"TargetPortZero", CANARY(c["spec"]["service"]["targetPort"] = 0), "spec.service.targetPort",
     "must be between 1 and 65535, got 0"},
    {"UnknownAnalysisField", CANARY(c["spec"]["analysis"]["stepWeigth"] = 5),
     "spec.analysis.stepWeigth", "unknown field \"stepWeigth\"; did you mean \"stepWeight\"?"},
    {"UnknownSpecField", CANARY(c["spec"]["targetref"] = json::object()), "spec.targetref",
     "unknown field \"targetref\"; did you mean \"targetRef\"?"},
    {"NameMissing", CANARY(c["metadata"].erase("name")), "metadata.name",
     "required field is missing"},
    {"NameInvalid", CANARY(c["metadata"]["name"] = "My_App"), "metadata.name",
     "\"My_App\" is not a valid name"},
    {"NamespaceInvalid", CANARY(c["metadata"]["namespace"] = "Shop.Prod"), "metadata.namespace",
     "is not a valid namespace"},
    {"AutoscalerKindUnknown",
     CANARY(c["spec"]["autoscalerRef"] =
                json::parse(R"({"apiVersion":"autoscaling.k8s.io/v1","kind":"VPA","name":"web"})")),
     "spec.autoscalerRef.kind", "must be one of: HorizontalPodAutoscaler, ScaledObject"},
    {"ScalerReplicasInverted",
     CANARY(c["spec"]["autoscalerRef"] = json::parse(
                R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","name":"web",
                    "primaryScalerReplicas":{"minReplicas":5,"maxReplicas":2}})")),
     "spec.autoscalerRef.primaryScalerReplicas.minReplicas", "must not exceed maxReplicas (2)"},
    {"ProgressDeadlineZero", CANARY(c["spec"]["progressDeadlineSeconds"] = 0),
     "spec.progressDeadlineSeconds", "must be at least 1, got 0"},
    {"SkipAnalysisNotABoolean", CANARY(c["spec"]["skipAnalysis"] = "please"), "spec.skipAnalysis",
     "must be a boolean (true or false), got string \"please\""},
    {"AnalysisMissing", CANARY(c["spec"].erase("analysis")), "spec.analysis",
     "required field is missing"},
    {"GatewayApiWithoutGatewayRefs", CANARY(c["spec"]["service"].erase("gatewayRefs")),
     "spec.service.gatewayRefs", "required field is missing"},
    {"NginxWithoutIngressRef", CANARY(c["spec"]["provider"] = "nginx"), "spec.ingressRef",
     "required"},
    {"KnativeTargetWithAnotherProvider",
     CANARY(c["spec"]["provider"] = "istio";
            c["spec"]["targetRef"] = json::parse(
                R"({"apiVersion":"serving.knative.dev/v1","kind":"Service","name":"podinfo"})")),
     "spec.provider", "\"istio\": a Knative Service target takes provider knative"},
    {"KnativeTargetOfAnotherVersion",
     CANARY(c["spec"]["provider"] = "knative";
            c["spec"]["targetRef"] = json::parse(
                R"({"apiVersion":"serving.knative.dev/v1beta1","kind":"Service","name":"web"})")),
     "spec.targetRef.apiVersion",
     "\"serving.knative.dev/v1beta1\": canaryd drives Knative Services of "
     "serving.knative.dev/v1 only"},
    {"KnativeProviderWithADeployment", CANARY(c["spec"]["provider"] = "knative"),
     "spec.targetRef.kind", "\"Deployment\" targets are not supported by provider knative"},
    {"KnativeTargetWithMannWhitney",
     CANARY(c["spec"]["provider"] = "knative";
            c["spec"]["targetRef"] = json::parse(
                R"({"apiVersion":"serving.knative.dev/v1","kind":"Service","name":"web"})");
            c["spec"]["analysis"]["judge"] = json::parse(R"({"type":"mann-whitney"})")),
     "spec.analysis.judge.type", "once per Revision of a Knative Service"},
    {"MirrorWeightAbove100", CANARY(c["spec"]["analysis"]["mirrorWeight"] = 200),
     "spec.analysis.mirrorWeight", "must be between 0 and 100, got 200"},
    {"ReadyThresholdAbove100", CANARY(c["spec"]["analysis"]["canaryReadyThreshold"] = 101),
     "spec.analysis.canaryReadyThreshold", "must be between 0 and 100, got 101"},
    {"SessionAffinityWithoutCookie",
     CANARY(c["spec"]["analysis"]["sessionAffinity"] = json::parse(R"({"maxAge":60})")),
     "spec.analysis.sessionAffinity.cookieName", "required field is missing"},
    {"ServiceTimeoutUnparsable", CANARY(c["spec"]["service"]["timeout"] = "soon"),
     "spec.service.timeout", "invalid duration \"soon\""},
    {"MetricsServerNotUrl", CANARY(c["spec"]["metricsServer"] = "prometheus:9090"),
     "spec.metricsServer", "is not an absolute http(s) URL"},
    {"UnsupportedApiVersion", CANARY(c["apiVersion"] = "flagger.app/v1alpha3"), "apiVersion",
     "\"flagger.app/v1alpha3\" is not supported; must be flagger.app/v1beta1"},
    {"StatusPhaseUnknown", CANARY(c["status"] = json::parse(R"({"phase":"Done"})")), "status.phase",
     "must be one of: Initializing"},
    {"JudgeTypeUnknown",
     CANARY(c["spec"]["analysis"]["judge"] = json::parse(R"({"type":"bayesian"})")),
     "spec.analysis.judge.type", "must be one of: threshold, mann-whitney, sequential"},
    {"JudgeAlphaTooLarge",
     CANARY(c["spec"]["analysis"]["judge"] = json::parse(R"({"type":"sequential","alpha":0.9})")),
     "spec.analysis.judge.alpha", "must be above 0 and at most 0.5, got 0.9"},
    {"JudgeWithoutType", CANARY(c["spec"]["analysis"]["judge"] = json::parse(R"({"alpha":0.01})")),
     "spec.analysis.judge.type", "required field is missing"},
    {"JudgeConfidenceOne",
     CANARY(c["spec"]["analysis"]["judge"] =
                json::parse(R"({"type":"mann-whitney","confidence":1})")),
     "spec.analysis.judge.confidence", "must be below 1"},
    {"JudgeCheckIntervalTooShort",
     CANARY(c["spec"]["analysis"]["judge"] =
                json::parse(R"({"type":"sequential","checkInterval":"2s"})")),
     "spec.analysis.judge.checkInterval",
     "must be at least 5s (a counter's increase needs two Prometheus scrapes), got 2s"},
    {"JudgeCheckIntervalNotADuration",
     CANARY(c["spec"]["analysis"]["judge"] =
                json::parse(R"({"type":"sequential","checkInterval":"often"})")),
     "spec.analysis.judge.checkInterval", "often"},
    {"TemplateProviderTypeUnknown", TEMPLATE(t["spec"]["provider"]["type"] = "prom"),
     "spec.provider.type", "\"prom\" is not allowed; must be one of: prometheus, influxdb"},
    {"TemplateProviderNotYetSupported", TEMPLATE(t["spec"]["provider"]["type"] = "datadog"),
     "spec.provider.type", "\"datadog\" is not supported yet by canaryd; supported: prometheus"},
    {"TemplateProviderMissing", TEMPLATE(t["spec"].erase("provider")), "spec.provider",
     "required field is missing"},
    {"TemplateQueryMissing", TEMPLATE(t["spec"].erase("query")), "spec.query",
     "required field is missing"},
    {"TemplateUnknownVariable",
     TEMPLATE(t["spec"]["query"] = "sum(x{namespace=\"{{ namespce }}\"})"), "spec.query",
     "unknown template variable \"namespce\"; must be one of: "},
    {"TemplateUnclosedBraces", TEMPLATE(t["spec"]["query"] = "sum(x[{{ interval ])"), "spec.query",
     "without a closing }}"},
    {"TemplateAddressNotUrl", TEMPLATE(t["spec"]["provider"]["address"] = "prometheus"),
     "spec.provider.address", "is not an absolute http(s) URL"},
    {"AlertProviderTypeUnknown", PROVIDER(p["spec"]["type"] = "sms"), "spec.type",
     "\"sms\" is not allowed; must be one of: slack, msteams, discord, rocket, gchat"},
    {"AlertProviderWithoutAddress", PROVIDER(p["spec"].erase("address")), "spec.address",
     "set address, or secretRef"},
    {"AlertProviderAddressNotUrl", PROVIDER(p["spec"]["address"] = "ftp://hooks"), "spec.address",
     "is not an absolute http(s) URL"},
    {"AlertProviderUnknownField", PROVIDER(p["spec"]["chanel"] = "x"), "spec.chanel",
     "did you mean \"channel\"?"},
};

void PrintTo(const InvalidCase& c, std::ostream* os) {
  *os << c.name;
}

class InvalidManifestTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidManifestTest, NamesPathAndWhatIsAllowed) {
  const InvalidCase& c = GetParam();
  std::vector<Document> docs;
  std::vector<DocumentReport> reports = check(c.manifest(), docs);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kInvalid);
  bool found = false;
  std::string seen;
  for (const Problem& p : reports[0].problems) {
    seen += "\n  " + p.path + ": " + p.message;
    if (p.severity == Severity::kError && p.path == c.path &&
        p.message.find(c.message) != std::string::npos) {
      found = true;
      EXPECT_GT(p.line, 0) << "no line for " << p.path;
    }
  }
  EXPECT_TRUE(found) << "expected error at " << c.path << " containing \"" << c.message
                     << "\"; got:" << seen;
}

INSTANTIATE_TEST_SUITE_P(Cases, InvalidManifestTest, ::testing::ValuesIn(kInvalid),
                         [](const auto& param) { return std::string(param.param.name); });

TEST(ValidateTest, ErrorsPointAtTheLineInTheUsersFile) {
  const char* text = R"(apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: web
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  service:
    port: 80
  analysis:
    interval: 1m
    threshold: 5
    stepWeight: 10
    webhooks:
      - name: load
        url: http://tester/
      - name: gate
        type: confirm-rolout
        url: http://gate/
)";
  Result<std::vector<Document>> docs = parseYamlDocuments(text, "web.yaml");
  ASSERT_TRUE(docs.ok());
  std::vector<DocumentReport> reports = validateDocuments(*docs, testing::catalog());
  ASSERT_EQ(reports.size(), 1u);
  // The error, and the warning that the default provider (kubernetes) runs stepWeight as
  // blue/green, in the order of the file.
  ASSERT_EQ(reports[0].problems.size(), 2u);
  EXPECT_EQ(reports[0].problems[0].severity, Severity::kWarning);
  EXPECT_EQ(reports[0].problems[0].path, "spec.analysis.stepWeight");
  const Problem& p = reports[0].problems[1];
  EXPECT_EQ(p.path, "spec.analysis.webhooks[1].type");
  EXPECT_EQ(p.line, 20);
  EXPECT_EQ(p.column, 9);
  EXPECT_NE(p.message.find("(did you mean \"confirm-rollout\"?)"), std::string::npos);
}

TEST(ValidateTest, TypeErrorsAreNotRepeatedAsMissingFields) {
  std::vector<Document> docs;
  json c = validCanary();
  c["spec"]["targetRef"] = "web";
  std::vector<DocumentReport> reports = check(c, docs);
  ASSERT_EQ(reports[0].problems.size(), 1u);
  EXPECT_EQ(reports[0].problems[0].path, "spec.targetRef");
  EXPECT_EQ(reports[0].problems[0].message, "must be an object, got string \"web\"");
}

TEST(ValidateTest, WarnsAboutThresholdsThatCannotBeMet) {
  std::vector<Document> docs;
  json c = validCanary();
  c["spec"]["analysis"]["metrics"][0]["thresholdRange"] = json::parse(R"({"min": 101})");
  c["spec"]["analysis"]["metrics"][1]["thresholdRange"] = json::parse(R"({"min": 5, "max": 1})");
  std::vector<DocumentReport> reports = check(c, docs);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid);
  ASSERT_EQ(reports[0].problems.size(), 2u);
  EXPECT_EQ(reports[0].problems[0].severity, Severity::kWarning);
  EXPECT_EQ(reports[0].problems[0].path, "spec.analysis.metrics[0].thresholdRange.min");
  EXPECT_NE(reports[0].problems[0].message.find("can never be met"), std::string::npos);
  EXPECT_EQ(reports[0].problems[1].path, "spec.analysis.metrics[1].thresholdRange");
  EXPECT_NE(reports[0].problems[1].message.find("min 5 is above max 1"), std::string::npos);
}

TEST(ValidateTest, WarnsWhenTheQueryWindowIsLongerThanTheInterval) {
  std::vector<Document> docs;
  json c = validCanary();
  c["spec"]["analysis"]["interval"] = "30s";
  c["spec"]["analysis"]["metrics"][1]["interval"] = "30s";
  std::vector<DocumentReport> reports = check(c, docs);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid);
  ASSERT_EQ(reports[0].problems.size(), 1u);
  EXPECT_EQ(reports[0].problems[0].severity, Severity::kWarning);
  EXPECT_EQ(reports[0].problems[0].path, "spec.analysis.metrics[0].interval");
  EXPECT_NE(reports[0].problems[0].message.find("query window 1m0s is longer than "
                                                "analysis.interval 30s"),
            std::string::npos);
}

TEST(ValidateTest, WarnsWhenJudgeCheckIntervalCannotTakeEffect) {
  for (const auto& [judge, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"type":"sequential","checkInterval":"2m"})",
            "not shorter than the analysis interval (1m0s): the judge runs once per step"},
           {R"({"type":"mann-whitney","checkInterval":"15s"})",
            "applies to the sequential judge only (the mann-whitney judge runs once per step)"}}) {
    json c = validCanary();
    c["spec"]["analysis"]["interval"] = "1m";
    c["spec"]["analysis"]["judge"] = json::parse(judge);
    std::vector<Document> docs;
    std::vector<DocumentReport> reports = check(c, docs);
    EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid) << judge;
    const Problem* found = nullptr;
    for (const Problem& problem : reports[0].problems) {
      EXPECT_EQ(problem.severity, Severity::kWarning) << problem.message;
      if (problem.path == "spec.analysis.judge.checkInterval") found = &problem;
    }
    ASSERT_NE(found, nullptr) << judge;
    EXPECT_EQ(found->message, expected);
  }
}

// Flagger's Knative e2e Canary: provider knative, a Knative Service target, no spec.service.
json knativeCanary() {
  return json::parse(R"({
    "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
    "metadata": {"name": "podinfo", "namespace": "test"},
    "spec": {
      "provider": "knative",
      "targetRef": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "podinfo"},
      "progressDeadlineSeconds": 60,
      "analysis": {
        "interval": "15s", "threshold": 15, "maxWeight": 50, "stepWeight": 10,
        "metrics": [
          {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
          {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "1m"}]
      }
    }
  })");
}

TEST(ValidateTest, AKnativeServiceTargetNeedsProviderKnativeAndNoServicePort) {
  for (const Problem& p : validate(*canaryFromJson(JsonValue(knativeCanary())), testing::catalog()))
    EXPECT_NE(p.severity, Severity::kError) << p.path << ": " << p.message;
  // The provider may come from canaryd run --provider, as Flagger's -mesh-provider.
  json unset = knativeCanary();
  unset["spec"].erase("provider");
  Catalog knative = testing::catalog();
  knative.defaultProvider = "knative";
  for (const Problem& p : validate(*canaryFromJson(JsonValue(unset)), knative))
    EXPECT_NE(p.severity, Severity::kError) << p.path << ": " << p.message;
  Catalog istio = testing::catalog();
  istio.defaultProvider = "istio";
  bool refused = false;
  for (const Problem& p : validate(*canaryFromJson(JsonValue(unset)), istio)) {
    if (p.severity != Severity::kError) continue;
    refused = true;
    EXPECT_EQ(p.path, "canaryd run --provider");
    EXPECT_EQ(p.message,
              "\"istio\": a Knative Service target takes provider knative (its traffic is split "
              "between its Revisions on the Service itself, as Flagger's knative provider does)");
  }
  EXPECT_TRUE(refused);
}

// The rank-sum judge compares quantile points of unequal sample sizes: validate says what the
// benchmark measured, and points to the judge that controls its false rollbacks.
TEST(ValidateTest, RefusesTheSequentialJudgeWhereTheProviderCannotCountCanaryAndPrimary) {
  json c = validCanary();
  c["spec"]["provider"] = "osm";
  c["spec"]["analysis"]["judge"] = json::parse(R"({"type":"sequential"})");
  std::vector<Document> docs;
  std::vector<DocumentReport> reports = check(c, docs);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kInvalid);
  bool found = false;
  for (const Problem& problem : reports[0].problems) {
    if (problem.path != "spec.analysis.judge.type") continue;
    found = true;
    EXPECT_NE(problem.message.find("provider \"osm\" do not tell them apart (they do for: "),
              std::string::npos)
        << problem.message;
  }
  EXPECT_TRUE(found);
  // linkerd's do.
  c["spec"]["provider"] = "linkerd";
  std::vector<Document> docs2;
  for (const Problem& problem : check(c, docs2)[0].problems)
    EXPECT_NE(problem.path, "spec.analysis.judge.type") << problem.message;
}

TEST(ValidateTest, AnErrorMarginInPointsIsWarnedAboutAndNotSetWithARatio) {
  json c = validCanary();
  c["spec"]["analysis"]["judge"] = json::parse(R"({"type":"sequential","maxErrorIncrease":0.5})");
  std::vector<Document> docs;
  std::vector<DocumentReport> reports = check(c, docs);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid);
  ASSERT_EQ(reports[0].problems.size(), 1u);
  EXPECT_EQ(reports[0].problems[0].path, "spec.analysis.judge.maxErrorIncrease");
  EXPECT_NE(reports[0].problems[0].message.find("maxErrorRatio (for example 1.5) keeps it exact"),
            std::string::npos);
  c["spec"]["analysis"]["judge"]["maxErrorRatio"] = 1.5;
  reports = check(c, docs);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kInvalid);
  c["spec"]["analysis"]["judge"].erase("maxErrorIncrease");
  reports = check(c, docs);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid);
  EXPECT_TRUE(reports[0].problems.empty());
  c["spec"]["analysis"]["judge"]["maxErrorRatio"] = 0.5;
  reports = check(c, docs);
  ASSERT_EQ(reports[0].verdict, DocumentVerdict::kInvalid);
  EXPECT_EQ(reports[0].problems[0].path, "spec.analysis.judge.maxErrorRatio");
}

TEST(ValidateTest, WarnsThatMannWhitneyCatchesLessThanTheSequentialJudge) {
  json c = validCanary();
  c["spec"]["analysis"]["judge"] = json::parse(R"({"type":"mann-whitney"})");
  std::vector<Document> docs;
  std::vector<DocumentReport> reports = check(c, docs);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid);
  ASSERT_EQ(reports[0].problems.size(), 1u);
  EXPECT_EQ(reports[0].problems[0].severity, Severity::kWarning);
  EXPECT_EQ(reports[0].problems[0].path, "spec.analysis.judge.type");
  EXPECT_NE(reports[0].problems[0].message.find("catches little"), std::string::npos);
}

TEST(ValidateTest, WarnsWhenTargetDeploymentSetsReplicasInGit) {
  const std::string deployment =
      "\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
      "  namespace: shop\nspec:\n  replicas: 3\n";
  Result<std::vector<Document>> docs =
      parseYamlDocuments(validCanary().dump(2) + deployment, "app.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message();
  std::vector<DocumentReport> reports = validateDocuments(*docs, testing::catalog());
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid);  // a warning, not an error
  ASSERT_EQ(reports[0].problems.size(), 1u);
  const Problem& p = reports[0].problems[0];
  EXPECT_EQ(p.severity, Severity::kWarning);
  EXPECT_EQ(p.path, "spec.targetRef");
  EXPECT_NE(p.message.find("Deployment shop/web sets spec.replicas (app.yaml:"), std::string::npos);
  EXPECT_NE(p.message.find("canaryd gitops-config --engine argocd|flux"), std::string::npos);
  // Without replicas in Git there is nothing to fight over.
  docs = parseYamlDocuments(validCanary().dump(2) +
                                "\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                                "  name: web\n  namespace: shop\nspec:\n  paused: false\n",
                            "app.yaml");
  ASSERT_TRUE(docs.ok());
  EXPECT_TRUE(validateDocuments(*docs, testing::catalog())[0].problems.empty());
}

TEST(ValidateTest, WarnsWhenTargetDeploymentSetsReplicasWithAnAutoscaler) {
  json c = validCanary();
  c["spec"]["autoscalerRef"] = json::parse(
      R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","name":"web"})");
  std::string text = c.dump(2) +
                     "\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                     "  namespace: shop\nspec:\n  replicas: 3\n";
  Result<std::vector<Document>> docs = parseYamlDocuments(text, "app.yaml");
  ASSERT_TRUE(docs.ok()) << docs.error().message();
  std::vector<DocumentReport> reports = validateDocuments(*docs, testing::catalog());
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kValid);
  EXPECT_EQ(reports[1].verdict, DocumentVerdict::kSkipped);
  ASSERT_EQ(reports[0].problems.size(), 1u);
  const Problem& p = reports[0].problems[0];
  EXPECT_EQ(p.severity, Severity::kWarning);
  EXPECT_EQ(p.path, "spec.autoscalerRef");
  EXPECT_NE(p.message.find("Deployment shop/web sets spec.replicas (app.yaml:"), std::string::npos)
      << p.message;

  // In another namespace the Deployment is not this Canary's target.
  json other = c;
  other["metadata"]["namespace"] = "other";
  Result<std::vector<Document>> docs2 = parseYamlDocuments(
      other.dump(2) +
          "\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
          "  namespace: shop\nspec:\n  replicas: 3\n",
      "app.yaml");
  ASSERT_TRUE(docs2.ok());
  EXPECT_TRUE(validateDocuments(*docs2, testing::catalog())[0].problems.empty());
}

TEST(ValidateTest, OtherKindsAreSkippedAndBrokenDocumentsInvalid) {
  Result<std::vector<Document>> docs = parseYamlDocuments(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\n- a\n- b\n---\nfoo: bar\n"
      "---\napiVersion: argoproj.io/v1alpha1\nkind: Canary\n",
      "mixed.yaml");
  ASSERT_TRUE(docs.ok());
  std::vector<DocumentReport> reports = validateDocuments(*docs, testing::catalog());
  ASSERT_EQ(reports.size(), 4u);
  EXPECT_EQ(reports[0].verdict, DocumentVerdict::kSkipped);
  EXPECT_EQ(reports[1].verdict, DocumentVerdict::kInvalid);
  EXPECT_NE(reports[1].problems.at(0).message.find("must be a mapping"), std::string::npos);
  EXPECT_EQ(reports[2].verdict, DocumentVerdict::kInvalid);
  EXPECT_EQ(reports[2].problems.at(0).path, "kind");
  EXPECT_EQ(reports[3].verdict, DocumentVerdict::kSkipped);
}

}  // namespace
}  // namespace canaryd::api
