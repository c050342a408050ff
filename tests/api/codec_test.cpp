#include "canaryd/api/codec.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/test_util.h"

namespace canaryd::api {
namespace {

using nlohmann::json;
using testing::oneYamlDocument;
using testing::readFile;
using testing::sourcePath;

const char* kSeedYaml = R"(apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: my-app
  namespace: production
spec:
  provider: kubernetes
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: my-app
  progressDeadlineSeconds: 60
  service:
    port: 80
    targetPort: 8080
  analysis:
    interval: 30s
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
    - name: request-success-rate
      thresholdRange:
        min: 99
      interval: 1m
    - name: request-duration
      thresholdRange:
        max: 500
      interval: 1m
)";

// The same Canary as the API server would return it: JSON, different key order, status set.
const char* kSeedJson = R"({
  "kind": "Canary", "apiVersion": "flagger.app/v1beta1",
  "metadata": {"namespace": "production", "name": "my-app"},
  "spec": {
    "analysis": {"stepWeight": 10, "maxWeight": 50, "threshold": 5, "interval": "30s",
      "metrics": [
        {"interval": "1m", "name": "request-success-rate", "thresholdRange": {"min": 99}},
        {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "1m"}]},
    "service": {"targetPort": 8080, "port": 80},
    "progressDeadlineSeconds": 60,
    "targetRef": {"name": "my-app", "kind": "Deployment", "apiVersion": "apps/v1"},
    "provider": "kubernetes"
  }
})";

TEST(CodecTest, YamlAndJsonDecodeToTheSameValue) {
  Result<Document> yaml = oneYamlDocument(kSeedYaml, "seed.yaml");
  ASSERT_TRUE(yaml.ok()) << yaml.error().message();
  Result<Document> jsonDoc = parseJsonDocument(kSeedJson, "seed.json");
  ASSERT_TRUE(jsonDoc.ok()) << jsonDoc.error().message();
  Decoded<Canary> fromYaml = decodeCanary(*yaml);
  Decoded<Canary> fromJson = decodeCanary(*jsonDoc);
  EXPECT_TRUE(fromYaml.problems.empty());
  EXPECT_TRUE(fromJson.problems.empty());
  EXPECT_EQ(fromYaml.value, fromJson.value);

  const Canary& c = fromYaml.value;
  EXPECT_EQ(c.metadata.name, "my-app");
  EXPECT_EQ(c.metadata.namespace_, "production");
  EXPECT_EQ(c.spec.provider, "kubernetes");
  EXPECT_EQ(c.spec.targetRef->kind, "Deployment");
  EXPECT_EQ(c.spec.progressDeadlineSeconds, 60);
  EXPECT_EQ(c.spec.service->port, 80);
  EXPECT_EQ(c.spec.service->targetPort, (IntOrString{std::int64_t{8080}}));
  EXPECT_EQ(c.spec.analysis->interval, "30s");
  EXPECT_EQ(c.spec.analysis->threshold, 5);
  EXPECT_EQ(c.spec.analysis->stepWeight, 10);
  ASSERT_EQ(c.spec.analysis->metrics.size(), 2u);
  EXPECT_EQ(c.spec.analysis->metrics[0].thresholdRange->min, 99.0);
  EXPECT_FALSE(c.spec.analysis->metrics[0].thresholdRange->max.has_value());
  EXPECT_EQ(c.spec.analysis->metrics[1].thresholdRange->max, 500.0);
}

TEST(CodecTest, CanaryFromJsonMatchesYaml) {
  Result<Canary> c = canaryFromJson(kSeedJson);
  ASSERT_TRUE(c.ok()) << c.error().message();
  Result<Document> yaml = oneYamlDocument(kSeedYaml, "seed.yaml");
  ASSERT_TRUE(yaml.ok());
  EXPECT_EQ(*c, decodeCanary(*yaml).value);
}

TEST(CodecTest, FullCanaryRoundTripsEveryField) {
  std::string text = readFile(sourcePath("tests/api/data/full-canary.yaml"));
  ASSERT_FALSE(text.empty());
  Result<Document> doc = oneYamlDocument(text, "full-canary.yaml");
  ASSERT_TRUE(doc.ok()) << doc.error().message();
  Decoded<Canary> decoded = decodeCanary(*doc);
  ASSERT_TRUE(decoded.problems.empty())
      << decoded.problems.front().path << ": " << decoded.problems.front().message;
  // Encoding gives back exactly what was read, including fields canaryd does not act on.
  EXPECT_EQ(toJsonValue(decoded.value).get(), doc->body.get());
  // And decoding the encoding gives the same value.
  Result<Canary> again = canaryFromJson(toJson(decoded.value));
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(*again, decoded.value);

  const Canary& c = decoded.value;
  EXPECT_EQ(c.metadata.generation, 3);
  EXPECT_EQ(c.metadata.rest.get()["managedFields"][0]["manager"], "kubectl");
  EXPECT_EQ(c.spec.autoscalerRef->primaryScalerReplicas->maxReplicas, 10);
  EXPECT_EQ(c.spec.service->gatewayRefs.at(0).sectionName, "https");
  EXPECT_EQ(c.spec.service->retries.get()["attempts"], 3);
  EXPECT_EQ(c.spec.analysis->sessionAffinity->sameSite, "Lax");
  EXPECT_EQ(c.spec.analysis->webhooks.at(0).retries, 2);
  EXPECT_EQ(c.spec.analysis->metrics.at(2).templateVariables.at("reporter"), "destination");
  EXPECT_EQ(c.status->trackedConfigs.at("configmap/podinfo-config"), "5cb8b5c7a6");
  EXPECT_EQ(c.status->conditions.at(0).reason, "Progressing");
  EXPECT_EQ(c.status->observedGeneration, 3);
  EXPECT_EQ(c.status->rest.get()["fieldOfALaterVersion"], "kept");
}

TEST(CodecTest, MetricTemplateAndAlertProviderRoundTrip) {
  const char* templateYaml = R"(apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: latency
  namespace: istio-system
spec:
  provider:
    type: prometheus
    address: https://prometheus.example.com
    insecureSkipVerify: true
    secretRef:
      name: prom-auth
    headers:
      X-Scope-OrgID: [tenant-a]
  query: histogram_quantile(0.99, sum(rate(x_bucket[{{ interval }}])) by (le))
)";
  Result<Document> doc = oneYamlDocument(templateYaml, "t.yaml");
  ASSERT_TRUE(doc.ok());
  Decoded<MetricTemplate> t = decodeMetricTemplate(*doc);
  ASSERT_TRUE(t.problems.empty());
  EXPECT_EQ(t.value.spec.provider->headers.at("X-Scope-OrgID").at(0), "tenant-a");
  EXPECT_EQ(toJsonValue(t.value).get(), doc->body.get());

  const char* providerJson = R"({"apiVersion":"flagger.app/v1beta1","kind":"AlertProvider",
    "metadata":{"name":"slack"},"spec":{"type":"slack","channel":"alerts","username":"bot",
    "address":"https://hooks.slack.com/services/x","proxy":"http://proxy:3128",
    "secretRef":{"name":"slack-url"}}})";
  Result<AlertProvider> p = alertProviderFromJson(providerJson);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->spec.proxy, "http://proxy:3128");
  EXPECT_EQ(toJsonValue(*p).get(), json::parse(providerJson));
}

TEST(CodecTest, NullMeansAbsent) {
  Result<Canary> c = canaryFromJson(
      R"({"metadata":{"name":"a","labels":null},"spec":{"provider":null,"analysis":null}})");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_FALSE(c->spec.provider.has_value());
  EXPECT_FALSE(c->spec.analysis.has_value());
  EXPECT_TRUE(c->metadata.labels.empty());
}

TEST(CodecTest, CollectsEveryTypeErrorWithItsPath) {
  Result<Document> doc = oneYamlDocument(R"(apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: a
spec:
  service:
    port: "80"
  analysis:
    threshold: 2.5
    stepWeights: [10, "x"]
    webhooks:
      name: not-a-list
)",
                                         "types.yaml");
  ASSERT_TRUE(doc.ok());
  Decoded<Canary> d = decodeCanary(*doc);
  ASSERT_EQ(d.problems.size(), 4u);
  EXPECT_EQ(d.problems[0].path, "spec.service.port");
  EXPECT_EQ(d.problems[0].message, "must be a whole number, got string \"80\"");
  EXPECT_EQ(d.problems[0].line, 7);
  EXPECT_EQ(d.problems[1].path, "spec.analysis.threshold");
  EXPECT_EQ(d.problems[1].message, "must be a whole number, got number 2.5");
  EXPECT_EQ(d.problems[2].path, "spec.analysis.stepWeights[1]");
  EXPECT_EQ(d.problems[2].line, 10);
  EXPECT_EQ(d.problems[3].path, "spec.analysis.webhooks");
  EXPECT_EQ(d.problems[3].message, "must be a list, got an object");
  // What could be read is kept.
  EXPECT_EQ(d.value.spec.analysis->stepWeights, std::vector<std::int64_t>{10});
}

TEST(CodecTest, UnknownFieldsAreReportedWithTheNearestKnownName) {
  Result<Canary> c = canaryFromJson(R"({"spec":{"analysis":{"stepWeigth":10}}})");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(),
            "Canary: spec.analysis.stepWeigth: unknown field \"stepWeigth\"; did you mean "
            "\"stepWeight\"?");
  Result<Canary> far = canaryFromJson(R"({"spec":{"targetRef":{"colour":"blue"}}})");
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().message(),
            "Canary: spec.targetRef.colour: unknown field \"colour\"; known fields: apiVersion, "
            "kind, name");
}

TEST(CodecTest, NeverThrowsOnHostileInput) {
  for (const char* text : {"", "null", "[]", "42", "\"x\"", "{\"spec\": []}",
                           "{\"spec\": {\"analysis\": {\"metrics\": [null, 1, \"x\"]}}}",
                           "{\"metadata\": {\"name\": 1e400}}",
                           "{\"spec\": {\"service\": {"
                           "\"port\": 18446744073709551615}}}",
                           "{\"a\":", "\xff\xfe"}) {
    Result<Canary> c = canaryFromJson(text);
    EXPECT_FALSE(c.ok()) << text;
  }
}

}  // namespace
}  // namespace canaryd::api
