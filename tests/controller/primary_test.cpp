#include "canaryd/controller/primary.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/cluster/knative.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

json target() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "podinfo", "namespace": "test",
      "labels": {"app": "podinfo", "kustomize.toolkit.fluxcd.io/name": "apps",
                 "app.kubernetes.io/instance": "shop"},
      "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a",
                      "argocd.argoproj.io/tracking-id": "shop:apps/Deployment:test/podinfo"}},
    "spec": {
      "replicas": 3,
      "selector": {"matchLabels": {"app": "podinfo"}},
      "strategy": {"type": "RollingUpdate"},
      "template": {
        "metadata": {"labels": {"app": "podinfo"}, "annotations": {"prometheus.io/scrape": "true"}},
        "spec": {
          "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
              "labelSelector": {"matchLabels": {"app": "podinfo"}}}}]}},
          "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone",
            "labelSelector": {"matchLabels": {"app": "podinfo"}}}],
          "containers": [{"name": "app", "image": "podinfo:6.7.0",
            "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "podinfo-config", "key": "a"}}},
                    {"name": "B", "valueFrom": {"secretKeyRef": {"name": "podinfo-secret", "key": "b"}}},
                    {"name": "C", "value": "plain"}],
            "envFrom": [{"configMapRef": {"name": "shared-env"}}]}],
          "initContainers": [{"name": "init", "image": "busybox",
            "envFrom": [{"secretRef": {"name": "init-secret"}}]}],
          "volumes": [{"name": "cfg", "configMap": {"name": "podinfo-config"}},
                      {"name": "tls", "secret": {"secretName": "podinfo-tls"}},
                      {"name": "all", "projected": {"sources": [{"configMap": {"name": "projected-cm"}},
                                                                {"secret": {"name": "projected-secret"}}]}}]}}}})");
}

api::Canary canary(bool autoscaler) {
  std::string autoscalerRef =
      autoscaler
          ? R"(,"autoscalerRef":{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","name":"podinfo"})"
          : "";
  auto c = api::canaryFromJson(R"({"metadata":{"name":"podinfo","namespace":"test","uid":"u1"},
      "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"})" +
                               autoscalerRef + "}}");
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return *c;
}

TEST(PrimaryTest, FindsEveryConfigReference) {
  ConfigRefs refs = configReferences(api::JsonValue(target()["spec"]["template"]));
  EXPECT_EQ(refs.configMaps,
            (std::set<std::string>{"podinfo-config", "projected-cm", "shared-env"}));
  EXPECT_EQ(refs.secrets, (std::set<std::string>{"init-secret", "podinfo-secret", "podinfo-tls",
                                                 "projected-secret"}));
}

TEST(PrimaryTest, BuildsThePrimaryWithRenamedSelectorsAndTrackedConfigs) {
  ConfigRefs tracked{{"podinfo-config", "shared-env"}, {"podinfo-secret", "init-secret"}};
  json p = buildPrimaryDeployment(canary(false), api::JsonValue(target()), tracked, "rev123").get();
  EXPECT_EQ(p["metadata"]["name"], "podinfo-primary");
  // GitOps tracking labels and annotations (Flux's, Argo CD's) are not copied: the engines would
  // adopt the primary; Flux's opt-out annotations are added.
  EXPECT_EQ(p["metadata"]["labels"], json::parse(R"({"app":"podinfo-primary"})"));
  EXPECT_EQ(p["metadata"]["annotations"],
            json::parse(R"({"team":"a","kustomize.toolkit.fluxcd.io/reconcile":"disabled",
                            "helm.toolkit.fluxcd.io/driftDetection":"disabled"})"));
  EXPECT_EQ(p["metadata"]["ownerReferences"][0]["uid"], "u1");
  EXPECT_EQ(p["spec"]["replicas"], 3);
  EXPECT_EQ(p["spec"]["strategy"]["type"], "RollingUpdate");
  EXPECT_EQ(p["spec"]["selector"]["matchLabels"]["app"], "podinfo-primary");
  const json& t = p["spec"]["template"];
  EXPECT_EQ(t["metadata"]["labels"]["app"], "podinfo-primary");
  EXPECT_EQ(t["metadata"]["annotations"]["flagger-id"], "rev123");
  EXPECT_EQ(t["metadata"]["annotations"]["prometheus.io/scrape"], "true");
  const json& c = t["spec"]["containers"][0];
  EXPECT_EQ(c["env"][0]["valueFrom"]["configMapKeyRef"]["name"], "podinfo-config-primary");
  EXPECT_EQ(c["env"][1]["valueFrom"]["secretKeyRef"]["name"], "podinfo-secret-primary");
  EXPECT_EQ(c["env"][2]["value"], "plain");
  EXPECT_EQ(c["envFrom"][0]["configMapRef"]["name"], "shared-env-primary");
  EXPECT_EQ(t["spec"]["initContainers"][0]["envFrom"][0]["secretRef"]["name"],
            "init-secret-primary");
  EXPECT_EQ(t["spec"]["volumes"][0]["configMap"]["name"], "podinfo-config-primary");
  EXPECT_EQ(t["spec"]["volumes"][1]["secret"]["secretName"], "podinfo-tls");  // not tracked
  EXPECT_EQ(
      t["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
       ["podAffinityTerm"]["labelSelector"]["matchLabels"]["app"],
      "podinfo-primary");
  EXPECT_EQ(t["spec"]["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]["app"],
            "podinfo-primary");
  EXPECT_EQ(t["spec"]["containers"][0]["image"], "podinfo:6.7.0");
}

TEST(PrimaryTest, AnAutoscalerOwnsTheReplicas) {
  json p = buildPrimaryDeployment(canary(true), api::JsonValue(target()), {}, "r").get();
  EXPECT_FALSE(p["spec"].contains("replicas"));
}

TEST(PrimaryTest, RevisionChangesWithTheTemplateOrATrackedConfigOnly) {
  json t = target();
  const std::string base = revisionOf(api::JsonValue(t), {});
  EXPECT_EQ(base.size(), 16u);
  EXPECT_EQ(revisionOf(api::JsonValue(t), {}), base);  // stable
  json scaled = t;
  scaled["spec"]["replicas"] = 10;  // replicas alone start no rollout
  EXPECT_EQ(revisionOf(api::JsonValue(scaled), {}), base);
  json newImage = t;
  newImage["spec"]["template"]["spec"]["containers"][0]["image"] = "podinfo:6.7.1";
  EXPECT_NE(revisionOf(api::JsonValue(newImage), {}), base);
  EXPECT_NE(revisionOf(api::JsonValue(t), {{"configmap/podinfo-config", "abc"}}), base);
}

// Flagger's e2e Knative Service (test/knative/init.sh) as Knative reports it with two Revisions.
json knativeService() {
  return json::parse(R"({
    "apiVersion": "serving.knative.dev/v1", "kind": "Service",
    "metadata": {"name": "podinfo", "namespace": "test", "generation": 3,
                 "annotations": {"flagger.app/primary-revision": "podinfo-00001"}},
    "spec": {"template": {"spec": {"containers": [{"image": "ghcr.io/stefanprodan/podinfo:6.0.1"}]}},
             "traffic": [{"latestRevision": true, "percent": 10},
                         {"revisionName": "podinfo-00001", "percent": 90}]},
    "status": {"observedGeneration": 3, "latestCreatedRevisionName": "podinfo-00002",
               "latestReadyRevisionName": "podinfo-00002"}
  })");
}

TEST(PrimaryTest, AKnativeServicesRevisionIsItsLatestCreatedRevision) {
  const json service = knativeService();
  ASSERT_TRUE(isKnativeService(api::JsonValue(service)));
  EXPECT_FALSE(isKnativeService(api::JsonValue(target())));
  json core = service;
  core["apiVersion"] = "v1";
  EXPECT_FALSE(isKnativeService(api::JsonValue(core)));
  EXPECT_EQ(latestCreatedRevision(api::JsonValue(service)), "podinfo-00002");
  EXPECT_EQ(primaryRevision(api::JsonValue(service)), "podinfo-00001");
  json bare = service;
  bare["metadata"].erase("annotations");
  EXPECT_EQ(primaryRevision(api::JsonValue(bare)), "");

  // As Flagger's HasTargetChanged: only a new Revision is a new revision; the template alone
  // (Knative has not made its Revision yet) and the traffic canaryd writes are not.
  const std::string base = revisionOf(api::JsonValue(service), {});
  EXPECT_EQ(base.size(), 16u);
  json edited = service;
  edited["spec"]["template"]["spec"]["containers"][0]["image"] = "podinfo:6.0.2";
  edited["spec"]["traffic"][0]["percent"] = 20;
  edited["metadata"]["annotations"]["flagger.app/primary-revision"] = "podinfo-00002";
  EXPECT_EQ(revisionOf(api::JsonValue(edited), {}), base);
  edited["status"]["latestCreatedRevisionName"] = "podinfo-00003";
  EXPECT_NE(revisionOf(api::JsonValue(edited), {}), base);
  EXPECT_NE(revisionOf(api::JsonValue(core), {}), base);  // a core Service's is its spec's

  EXPECT_EQ(imagesOf(api::JsonValue(service)), "ghcr.io/stefanprodan/podinfo:6.0.1");
}

TEST(PrimaryTest, AKnativeServiceIsNeverScaled) {
  EXPECT_EQ(workloadResource("Service", "serving.knative.dev/v1"), cluster::kKnativeServices);
  EXPECT_EQ(workloadResource("Service", "v1"), cluster::kServices);
  EXPECT_EQ(workloadResource("Deployment", "apps/v1"), cluster::kDeployments);
  EXPECT_EQ(workloadResource("DaemonSet", "apps/v1"), cluster::kDaemonSets);
  EXPECT_EQ(scaleOf(api::JsonValue(knativeService())), 1);
}

TEST(ReadinessTest, AKnativeRevisionIsReadyWhenKnativeSaysSo) {
  auto revision = [](int generation, int observed, const char* ready, const char* message) {
    json r = {{"apiVersion", "serving.knative.dev/v1"},
              {"kind", "Revision"},
              {"metadata", {{"name", "podinfo-00002"}, {"generation", generation}}},
              {"status", {{"observedGeneration", observed}}}};
    if (ready != nullptr) {
      r["status"]["conditions"] = {{{"type", "Active"}, {"status", "True"}},
                                   {{"type", "Ready"}, {"status", ready}, {"message", message}}};
    }
    return api::JsonValue(r);
  };
  EXPECT_TRUE(revisionReadiness(revision(1, 1, "True", "")).ready);
  // workloadReadiness goes by the kind; a Revision has no threshold.
  EXPECT_TRUE(workloadReadiness(revision(1, 1, "True", ""), 100).ready);
  EXPECT_EQ(revisionReadiness(revision(2, 1, "True", "")).reason,
            "waiting for Knative to observe Revision podinfo-00002");
  EXPECT_EQ(revisionReadiness(revision(1, 1, "Unknown", "")).reason,
            "Knative Revision podinfo-00002 is not ready");
  EXPECT_EQ(revisionReadiness(revision(1, 1, "False", "Container failed with: exit 1")).reason,
            "Knative Revision podinfo-00002 is not ready: Container failed with: exit 1");
  EXPECT_EQ(revisionReadiness(revision(1, 1, nullptr, "")).reason,
            "Knative Revision podinfo-00002 is not ready (no Ready condition yet)");
  // Not what Knative writes: not ready, never a throw.
  EXPECT_FALSE(revisionReadiness(api::JsonValue(json{{"status", "ready"}})).ready);
  EXPECT_FALSE(
      revisionReadiness(api::JsonValue(json{{"status", {{"conditions", {"Ready", 1, nullptr}}}}}))
          .ready);
}

TEST(ReadinessTest, FollowsTheDeploymentStatus) {
  auto deployment = [](int generation, int observed, int replicas, int updated, int available) {
    return api::JsonValue(json{{"metadata", {{"name", "web"}, {"generation", generation}}},
                               {"spec", {{"replicas", replicas}}},
                               {"status",
                                {{"observedGeneration", observed},
                                 {"updatedReplicas", updated},
                                 {"availableReplicas", available}}}});
  };
  EXPECT_TRUE(deploymentReadiness(deployment(2, 2, 4, 4, 4), 100).ready);
  Readiness stale = deploymentReadiness(deployment(3, 2, 4, 4, 4), 100);
  EXPECT_FALSE(stale.ready);
  EXPECT_EQ(stale.reason, "waiting for the rollout of web to be observed");
  EXPECT_EQ(deploymentReadiness(deployment(2, 2, 4, 3, 3), 100).reason,
            "waiting for web rollout: 3 of 4 updated replicas");
  EXPECT_FALSE(deploymentReadiness(deployment(2, 2, 4, 4, 3), 100).ready);
  EXPECT_TRUE(deploymentReadiness(deployment(2, 2, 4, 4, 3), 75).ready);  // readyThreshold 75%
  EXPECT_FALSE(deploymentReadiness(deployment(2, 2, 4, 4, 2), 75).ready);
  api::JsonValue stuck(json{{"metadata", {{"name", "web"}, {"generation", 1}}},
                            {"spec", {{"replicas", 1}}},
                            {"status",
                             {{"observedGeneration", 1},
                              {"conditions",
                               {{{"type", "Progressing"},
                                 {"status", "False"},
                                 {"reason", "ProgressDeadlineExceeded"}}}}}}});
  EXPECT_EQ(deploymentReadiness(stuck, 100).reason,
            "deployment web exceeded its progress deadline");
}

}  // namespace
}  // namespace canaryd::controller
