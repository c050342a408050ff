#include "kubesim/server_side_apply.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kubesim/api_error.h"
#include "kubesim/objects.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

class ServerSideApplyTest : public ::testing::Test {
 protected:
  ServerSideApplyTest() : deployments(testing::typeOf(registry, "apps", "v1", "deployments")) {}

  static FieldManagerWrite by(const std::string& manager, bool status = false) {
    return {manager, status, "2026-11-30T00:00:00Z"};
  }
  static json deployment(const std::string& image, std::int64_t replicas) {
    return {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "web"}, {"labels", {{"app", "web"}}}}},
            {"spec",
             {{"replicas", replicas},
              {"template", {{"spec", {{"containers", {{{"name", "web"}, {"image", image}}}}}}}}}}};
  }
  // The manager -> FieldsV1 of an object's managedFields.
  static std::map<std::string, json> owners(const json& object) {
    std::map<std::string, json> out;
    for (const json& m : object["metadata"].value("managedFields", json::array())) {
      out[m["manager"].get<std::string>() + "/" + m["operation"].get<std::string>() +
          (m.contains("subresource") ? "/" + m["subresource"].get<std::string>() : "")] =
          m["fieldsV1"];
    }
    return out;
  }
  json apply(const json* live, const json& config, const std::string& manager, bool force = false) {
    return serverSideApply(deployments, live, config, "web", by(manager), force);
  }

  ResourceRegistry registry;
  ResourceType deployments;
};

TEST_F(ServerSideApplyTest, AnApplyOwnsExactlyTheFieldsItSetsInFieldsV1) {
  const json created = apply(nullptr, deployment("nginx:1", 2), "kustomize-controller");
  EXPECT_EQ(created["spec"]["replicas"], 2);
  const auto own = owners(created);
  ASSERT_EQ(own.size(), 1u);
  const json expected = json::parse(R"({
    "f:metadata": {"f:labels": {"f:app": {}}},
    "f:spec": {"f:replicas": {},
               "f:template": {"f:spec": {"f:containers": {
                 "k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})");
  EXPECT_EQ(own.at("kustomize-controller/Apply"), expected);
  const json& entry = created["metadata"]["managedFields"][0];
  EXPECT_EQ(entry["apiVersion"], "apps/v1");
  EXPECT_EQ(entry["fieldsType"], "FieldsV1");
  EXPECT_EQ(entry["time"], "2026-11-30T00:00:00Z");
}

TEST_F(ServerSideApplyTest, AFieldAnotherManagerChangedIsAConflictUntilForced) {
  json live = apply(nullptr, deployment("nginx:1", 2), "kustomize-controller");
  // canaryd scales the target (an Update): it takes spec.replicas over.
  json scaled = live;
  scaled["spec"]["replicas"] = 0;
  live = recordUpdate(deployments, &live, scaled, by("canaryd"));
  EXPECT_EQ(owners(live).at("canaryd/Update"), json::parse(R"({"f:spec":{"f:replicas":{}}})"));
  EXPECT_FALSE(owners(live).at("kustomize-controller/Apply")["f:spec"].contains("f:replicas"));

  // The next sync of a manifest that still sets replicas conflicts, naming field and manager.
  try {
    apply(&live, deployment("nginx:1", 2), "kustomize-controller");
    FAIL() << "expected a conflict";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code, 409);
    EXPECT_EQ(e.reason, "Conflict");
    EXPECT_EQ(e.message,
              "Apply failed with 1 conflict: conflict with \"canaryd\" using apps/v1: "
              ".spec.replicas");
    EXPECT_EQ(e.details["causes"][0]["field"], ".spec.replicas");
    EXPECT_EQ(e.details["causes"][0]["reason"], "FieldManagerConflict");
  }
  // A manifest without replicas does not: canaryd keeps the count it set.
  json withoutReplicas = deployment("nginx:2", 2);
  withoutReplicas["spec"].erase("replicas");
  const json synced = apply(&live, withoutReplicas, "kustomize-controller");
  EXPECT_EQ(synced["spec"]["replicas"], 0);
  EXPECT_EQ(synced["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:2");
  EXPECT_TRUE(owners(synced).contains("canaryd/Update"));

  // Forced (as Flux's kustomize-controller applies), the value and the ownership move back.
  const json forced = apply(&live, deployment("nginx:1", 2), "kustomize-controller", true);
  EXPECT_EQ(forced["spec"]["replicas"], 2);
  EXPECT_FALSE(owners(forced).contains("canaryd/Update"));
}

TEST_F(ServerSideApplyTest, EqualValuesAreSharedAndAFieldGoesWhenItsLastApplierDropsIt) {
  json live = apply(nullptr, deployment("nginx:1", 2), "a");
  live = apply(&live, deployment("nginx:1", 2), "b");  // same values: no conflict
  EXPECT_TRUE(owners(live).at("b/Apply")["f:spec"].contains("f:replicas"));
  json noReplicas = deployment("nginx:1", 2);
  noReplicas["spec"].erase("replicas");
  live = apply(&live, noReplicas, "a");
  EXPECT_EQ(live["spec"]["replicas"], 2) << "b still applies it";
  live = apply(&live, noReplicas, "b");
  EXPECT_FALSE(live["spec"].contains("replicas")) << "nobody applies it any more";
}

TEST_F(ServerSideApplyTest, KeyedListsMergeByKeyAndKeepOtherManagersItems) {
  json live = apply(nullptr, deployment("nginx:1", 2), "git");
  // An injector adds a sidecar (an Update).
  json withSidecar = live;
  withSidecar["spec"]["template"]["spec"]["containers"].push_back(
      {{"name", "proxy"}, {"image", "envoy:1"}});
  live = recordUpdate(deployments, &live, withSidecar, by("injector"));
  // Git's next apply changes its container's image; the sidecar stays.
  live = apply(&live, deployment("nginx:2", 2), "git");
  const json& containers = live["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["image"], "nginx:2");
  EXPECT_EQ(containers[1]["name"], "proxy");
  // Git renames its container: the old one goes (only git owned it), the sidecar stays.
  json renamed = deployment("nginx:2", 2);
  renamed["spec"]["template"]["spec"]["containers"][0]["name"] = "app";
  live = apply(&live, renamed, "git");
  std::vector<std::string> names;
  for (const json& c : live["spec"]["template"]["spec"]["containers"])
    names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"proxy", "app"}));
}

TEST_F(ServerSideApplyTest, LabelsAppliedBeforeAndDroppedAreRemovedUnlessAnotherManagerSetThem) {
  json config = deployment("nginx:1", 2);
  config["metadata"]["labels"]["team"] = "shop";
  json live = apply(nullptr, config, "git");
  json labelled = live;
  labelled["metadata"]["labels"]["canaryd.dev/owner"] = "yes";
  live = recordUpdate(deployments, &live, labelled, by("canaryd"));
  live = apply(&live, deployment("nginx:1", 2), "git");  // without team
  EXPECT_EQ(live["metadata"]["labels"], (json{{"app", "web"}, {"canaryd.dev/owner", "yes"}}));
}

TEST_F(ServerSideApplyTest, UpdatesOwnWhatTheyChangedAndNoFieldsThatDoNotExist) {
  const json created =
      recordUpdate(deployments, nullptr, deployment("nginx:1", 1), by("kubectl-create"));
  EXPECT_TRUE(owners(created).at("kubectl-create/Update")["f:spec"].contains("f:replicas"));
  json next = created;
  next["spec"].erase("replicas");
  next["spec"]["paused"] = true;
  const json updated = recordUpdate(deployments, &created, next, by("kubectl-edit"));
  EXPECT_FALSE(owners(updated).at("kubectl-create/Update")["f:spec"].contains("f:replicas"));
  EXPECT_EQ(owners(updated).at("kubectl-edit/Update"),
            json::parse(R"({"f:spec":{"f:paused":{}}})"));
  // Managed fields a client echoes back (or makes up) are not taken from it.
  json forged = updated;
  forged["metadata"]["managedFields"] = json::array();
  const json kept = recordUpdate(deployments, &updated, forged, by("kubectl-edit"));
  EXPECT_EQ(kept["metadata"]["managedFields"], updated["metadata"]["managedFields"]);
}

TEST_F(ServerSideApplyTest, CustomResourceListsFollowTheirSchemasListType) {
  ResourceType gadgets;
  gadgets.group = "example.com";
  gadgets.version = "v1";
  gadgets.resource = "gadgets";
  gadgets.kind = "Gadget";
  gadgets.fromCrd = true;
  gadgets.statusSubresource = true;
  gadgets.schema = json::parse(R"({"type": "object", "properties": {"spec": {"type": "object",
    "properties": {
      "routes": {"type": "array", "x-kubernetes-list-type": "map",
                 "x-kubernetes-list-map-keys": ["host"],
                 "items": {"type": "object"}},
      "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
      "args": {"type": "array", "items": {"type": "string"}}}}}})");
  auto gadget = [](json spec) {
    return json{{"apiVersion", "example.com/v1"},
                {"kind", "Gadget"},
                {"metadata", {{"name", "g"}}},
                {"spec", std::move(spec)},
                {"status", {{"ready", true}}}};
  };
  auto routes = [](const char* host, int weight) {
    return json::array({{{"host", host}, {"weight", weight}}});
  };
  json live = serverSideApply(
      gadgets, nullptr,
      gadget(
          {{"routes", routes("a", 1)}, {"tags", json::array({"x"})}, {"args", json::array({"1"})}}),
      "g", by("git"), false);
  EXPECT_FALSE(live.contains("status")) << "status belongs to the status subresource";
  live = serverSideApply(gadgets, &live,
                         gadget({{"routes", routes("b", 2)}, {"tags", json::array({"y"})}}), "g",
                         by("other"), false);
  EXPECT_EQ(live["spec"]["routes"].size(), 2u) << live["spec"].dump();
  EXPECT_EQ(live["spec"]["tags"], json::array({"x", "y"}));
  EXPECT_TRUE(owners(live).at("other/Apply")["f:spec"]["f:routes"].contains("k:{\"host\":\"b\"}"));
  EXPECT_TRUE(owners(live).at("other/Apply")["f:spec"]["f:tags"].contains("v:\"y\""));
  // An atomic list is one field: another manager's different value is a conflict.
  const json otherArgs = gadget({{"args", json::array({"2"})}});
  EXPECT_THROW(serverSideApply(gadgets, &live, otherArgs, "g", by("other"), false), ApiError);
  live = serverSideApply(gadgets, &live, otherArgs, "g", by("other"), true);
  EXPECT_EQ(live["spec"]["args"], json::array({"2"}));
  // That configuration no longer has route b and tag y: they go, git's stay.
  EXPECT_EQ(live["spec"]["routes"], routes("a", 1));
  EXPECT_EQ(live["spec"]["tags"], json::array({"x"}));
  // A status write is recorded under the status subresource and owns only status.
  json withStatus = live;
  withStatus["status"] = {{"ready", true}};
  const json written = recordUpdate(gadgets, &live, withStatus, by("controller", true));
  EXPECT_EQ(owners(written).at("controller/Update/status"),
            json::parse(R"({"f:status":{"f:ready":{}}})"));
}

TEST_F(ServerSideApplyTest, AMalformedConfigurationIsABadRequest) {
  json wrongKind = deployment("nginx:1", 1);
  wrongKind["kind"] = "DaemonSet";
  json wrongName = deployment("nginx:1", 1);
  wrongName["metadata"]["name"] = "other";
  for (const json& config : {json("text"), wrongKind, wrongName}) {
    try {
      apply(nullptr, config, "git");
      FAIL() << config.dump();
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code, 400) << e.message;
    }
  }
  EXPECT_EQ(managerFromUserAgent("kubectl-client-side-apply/v1.32.4 (linux/amd64) kubernetes/x"),
            "kubectl-client-side-apply");
  EXPECT_EQ(managerFromUserAgent(""), "unknown");
}

}  // namespace
}  // namespace canaryd::kubesim
