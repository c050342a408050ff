// deploy/base/rbac.yaml grants every API request canaryd's reconciles make, for every router
// at the composition root: each scenario drives a Canary through initialisation, a release to
// Succeeded, a stall and a deletion with revertOnDeletion against the simulator's cluster,
// recording each request (resource, subresource, verb); the ClusterRole must allow all of them.
// A router that writes a new kind of object fails here until its rule is added.
#include <cctype>
#include <ostream>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/document.h"
#include "canaryd/cluster/knative.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/controller/reconciler.h"
#include "canaryd/plugins/builtin.h"
#include "canaryd/sim/cluster.h"

#include "support/forwarding_client.h"
#include "support/sim_reconciler.h"
#include "support/source_files.h"

namespace canaryd {
namespace {

using nlohmann::json;
using Request = std::tuple<std::string, std::string, std::string>;  // group, resource, verb

class RecordingClient final : public testing::ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  std::set<Request> requests;
  Status seen(const cluster::Resource& r, const std::string&, const char* verb,
              bool status) override {
    requests.emplace(r.group, r.resource + (status ? "/status" : ""), verb);
    return {};
  }
};

// The ClusterRole's rules as (group, resource, verb) triples.
std::set<Request> granted() {
  std::set<Request> out;
  auto docs = api::parseYamlDocuments(
      testing::readFile(testing::sourcePath("deploy/base/rbac.yaml")), "rbac.yaml");
  EXPECT_TRUE(docs.ok());
  if (!docs.ok()) return out;
  for (const api::Document& doc : *docs) {
    const json& role = doc.body.get();
    if (role.value("kind", "") != "ClusterRole") continue;
    for (const json& rule : role.value("rules", json::array())) {
      for (const json& group : rule.value("apiGroups", json::array()))
        for (const json& resource : rule.value("resources", json::array()))
          for (const json& verb : rule.value("verbs", json::array()))
            out.emplace(group.get<std::string>(), resource.get<std::string>(),
                        verb.get<std::string>());
    }
  }
  return out;
}

json deployment(const std::string& kind, const std::string& image) {
  json workload = {{"apiVersion", "apps/v1"},
                   {"kind", kind},
                   {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                   {"spec",
                    {{"selector", {{"matchLabels", {{"app", "web"}}}}},
                     {"template",
                      {{"metadata", {{"labels", {{"app", "web"}}}}},
                       {"spec",
                        {{"containers",
                          {{{"name", "web"},
                            {"image", image},
                            {"envFrom",
                             {{{"configMapRef", {{"name", "settings"}}}},
                              {{"secretRef", {{"name", "keys"}}}}}}}}}}}}}}}};
  if (kind == "Deployment") workload["spec"]["replicas"] = 2;
  return workload;
}

struct Scenario {
  std::string provider;
  std::string targetKind;
};
void PrintTo(const Scenario& s, std::ostream* out) {
  *out << s.provider << " with a " << s.targetKind << " target";
}

class RbacTest : public ::testing::TestWithParam<Scenario> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster()
                    .create(cluster::kNamespaces, "",
                            api::JsonValue(json{{"metadata", {{"name", "shop"}}}}))
                    .ok());
    for (const auto& [resource, object] :
         {std::pair{&cluster::kConfigMaps,
                    json{{"apiVersion", "v1"},
                         {"kind", "ConfigMap"},
                         {"metadata", {{"name", "settings"}, {"namespace", "shop"}}},
                         {"data", {{"mode", "fast"}}}}},
          std::pair{&cluster::kSecrets,
                    json{{"apiVersion", "v1"},
                         {"kind", "Secret"},
                         {"metadata", {{"name", "keys"}, {"namespace", "shop"}}},
                         {"data", {{"k", "dg=="}}}}},
          std::pair{&cluster::kHorizontalPodAutoscalers,
                    json{{"apiVersion", "autoscaling/v2"},
                         {"kind", "HorizontalPodAutoscaler"},
                         {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                         {"spec",
                          {{"scaleTargetRef",
                            {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
                           {"minReplicas", 2},
                           {"maxReplicas", 4}}}}}}) {
      ASSERT_TRUE(cluster().create(*resource, "shop", api::JsonValue(object)).ok());
    }
    const json crd = testing::yamlFile("tests/data/smi-trafficsplit-crd.yaml");
    ASSERT_TRUE(
        cluster().create(cluster::kCustomResourceDefinitions, "", api::JsonValue(crd)).ok());
  }
  sim::Cluster& cluster() { return sim_.cluster; }
  std::string phase() {
    Result<api::Canary> c = cluster::getCanary(cluster(), {"shop", "web"});
    return c.ok() && c->status ? c->status->phase.value_or("") : "";
  }
  void reconcileUntil(const std::string& wanted) {
    for (int i = 0; i < 400 && phase() != wanted; ++i) {
      cluster().settle();
      (void)reconciler_.reconcile({"shop", "web"});
      sim_.clock.advance(std::chrono::seconds(1));
    }
  }

  testing::SimReconciler sim_;
  RecordingClient client_{sim_.cluster};
  controller::Reconciler reconciler_{
      client_, sim_.clock, sim_.notifier, testing::withBuiltinPlugins(),
      [](const metrics::ProviderConfig&) -> Result<std::unique_ptr<metrics::Provider>> {
        return Error::unavailable("no metrics server in this test");
      }};
};

TEST_P(RbacTest, TheClusterRoleGrantsEveryRequestOfARollout) {
  const Scenario& s = GetParam();
  const bool knative = s.targetKind == "KnativeService";
  if (knative) {
    const json service = {
        {"apiVersion", "serving.knative.dev/v1"},
        {"kind", "Service"},
        {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
        {"spec", {{"template", {{"spec", {{"containers", {{{"image", "web:1"}}}}}}}}}}};
    ASSERT_TRUE(cluster().create(cluster::kKnativeServices, "shop", api::JsonValue(service)).ok());
  } else if (s.targetKind == "Service") {
    const json service = {{"apiVersion", "v1"},
                          {"kind", "Service"},
                          {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                          {"spec", {{"selector", {{"app", "web"}}}, {"ports", {{{"port", 80}}}}}}};
    ASSERT_TRUE(cluster().create(cluster::kServices, "shop", api::JsonValue(service)).ok());
  } else {
    const cluster::Resource& workloads =
        s.targetKind == "DaemonSet" ? cluster::kDaemonSets : cluster::kDeployments;
    ASSERT_TRUE(cluster()
                    .create(workloads, "shop", api::JsonValue(deployment(s.targetKind, "web:1")))
                    .ok());
  }
  json analysis = {{"interval", "10s"}, {"threshold", 2}};
  if (s.provider == "kubernetes") {
    analysis["iterations"] = 2;
  } else {
    analysis["stepWeight"] = 50;
    analysis["maxWeight"] = 50;
  }
  json canary = {{"apiVersion", "flagger.app/v1beta1"},
                 {"kind", "Canary"},
                 {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                 {"spec",
                  {{"provider", s.provider},
                   {"revertOnDeletion", true},
                   {"targetRef",
                    {{"apiVersion", s.targetKind == "Service" ? "v1" : "apps/v1"},
                     {"kind", s.targetKind},
                     {"name", "web"}}},
                   {"service", {{"port", 80}, {"gatewayRefs", {{{"name", "edge"}}}}}},
                   {"analysis", analysis}}}};
  if (knative) {
    canary["spec"]["targetRef"] = {
        {"apiVersion", "serving.knative.dev/v1"}, {"kind", "Service"}, {"name", "web"}};
    canary["spec"].erase("service");
  }
  json manifest = canary;
  if (s.targetKind == "Deployment") {
    manifest["spec"]["autoscalerRef"] = {
        {"apiVersion", "autoscaling/v2"}, {"kind", "HorizontalPodAutoscaler"}, {"name", "web"}};
  }
  ASSERT_TRUE(cluster().create(cluster::kCanaries, "shop", api::JsonValue(manifest)).ok());
  reconcileUntil("Initialized");
  ASSERT_EQ(phase(), "Initialized");
  // A release to Succeeded.
  const std::string change =
      s.targetKind == "Service" ? R"({"spec":{"selector":{"app":"web","track":"v2"}}})"
      : knative ? R"({"spec":{"template":{"spec":{"containers":[{"image":"web:2"}]}}}})"
                : R"({"spec":{"template":{"metadata":{"labels":{"v":"2"}}}}})";
  ASSERT_TRUE(cluster()
                  .patch(s.targetKind == "Service"     ? cluster::kServices
                         : knative                     ? cluster::kKnativeServices
                         : s.targetKind == "DaemonSet" ? cluster::kDaemonSets
                                                       : cluster::kDeployments,
                         {"shop", "web"}, cluster::PatchType::kMerge, change)
                  .ok());
  reconcileUntil("Succeeded");
  ASSERT_EQ(phase(), "Succeeded");
  // A stall (its status is patched), then the fix.
  ASSERT_TRUE(cluster()
                  .patch(cluster::kCanaries, {"shop", "web"}, cluster::PatchType::kMerge,
                         R"({"spec":{"provider":"nonesuch"}})")
                  .ok());
  for (int i = 0; i < 3; ++i) {
    (void)reconciler_.reconcile({"shop", "web"});
    sim_.clock.advance(std::chrono::seconds(1));
  }
  // Deleted with revertOnDeletion: the finalizer, the revert.
  ASSERT_TRUE(cluster()
                  .patch(cluster::kCanaries, {"shop", "web"}, cluster::PatchType::kMerge,
                         R"({"spec":{"provider":")" + s.provider + R"("}})")
                  .ok());
  ASSERT_TRUE(cluster().remove(cluster::kCanaries, {"shop", "web"}, {}).ok());
  for (int i = 0; i < 50 && cluster().get(cluster::kCanaries, {"shop", "web"}).ok(); ++i) {
    cluster().settle();
    (void)reconciler_.reconcile({"shop", "web"});
    sim_.clock.advance(std::chrono::seconds(1));
  }
  EXPECT_FALSE(cluster().get(cluster::kCanaries, {"shop", "web"}).ok()) << "never finalized";

  const std::set<Request> rules = granted();
  ASSERT_FALSE(rules.empty());
  for (const auto& [group, resource, verb] : client_.requests) {
    EXPECT_TRUE(rules.contains({group, resource, verb}))
        << "deploy/base/rbac.yaml does not allow " << verb << " on " << resource << " in group \""
        << group << "\"";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Routers, RbacTest,
    ::testing::Values(Scenario{"kubernetes", "Deployment"}, Scenario{"kubernetes", "DaemonSet"},
                      Scenario{"gatewayapi:v1", "Deployment"}, Scenario{"gatewayapi:v1", "Service"},
                      Scenario{"linkerd", "Deployment"}, Scenario{"istio", "Deployment"},
                      Scenario{"kuma", "Deployment"}, Scenario{"appmesh:v1beta2", "Deployment"},
                      Scenario{"contour", "Deployment"}, Scenario{"gloo", "Deployment"},
                      Scenario{"traefik", "Deployment"}, Scenario{"knative", "KnativeService"}),
    [](const auto& param) {
      std::string name = param.param.provider + param.param.targetKind;
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

}  // namespace
}  // namespace canaryd
