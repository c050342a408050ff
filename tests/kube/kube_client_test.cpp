// The Kubernetes client against a real kubesim process: each operation, and each failure the
// API can answer with.
#include "canaryd/kube/kube_client.h"

#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/document.h"

#include "kube/kubesim_process.h"
#include "support/raw_http_server.h"
#include "support/source_files.h"

namespace canaryd::kube {
namespace {

using nlohmann::json;
using namespace cluster;

api::JsonValue js(const json& j) {
  return api::JsonValue(j);
}

using canaryd::testing::yamlFile;

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ConnectionConfig config;
    config.server = sim_.url();
    ClientOptions options;
    options.requestTimeout = std::chrono::milliseconds(2000);
    options.sleep = [this](std::chrono::milliseconds d) { sleeps_.push_back(d); };
    client_ = std::make_unique<KubeClient>(config, options);
    ASSERT_TRUE(client_->create(kNamespaces, "", js({{"metadata", {{"name", "t"}}}})).ok());
  }

  void admin(const std::string& what, const json& body = json::object()) {
    HttpClient http;
    HttpRequest req;
    req.method = "POST";
    req.url = sim_.url() + "/admin/" + what;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body.dump();
    auto r = http.send(req);
    ASSERT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.error().message());
  }

  void applyCanaryCrd() {
    ASSERT_TRUE(
        client_
            ->create(kCustomResourceDefinitions, "", js(yamlFile("crds/flagger.app_canaries.yaml")))
            .ok());
  }

  testing::KubesimProcess sim_;
  std::vector<std::chrono::milliseconds> sleeps_;
  std::unique_ptr<cluster::Client> client_;
};

json configMap(const std::string& name, json labels = json::object()) {
  return {{"metadata", {{"name", name}, {"labels", labels}}}, {"data", {{"k", "v"}}}};
}

TEST_F(KubeClientTest, CreateGetUpdatePatchDelete) {
  auto created = client_->create(kConfigMaps, "t", js(configMap("a")));
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_EQ(created->get()["apiVersion"], "v1");
  EXPECT_FALSE(created->get()["metadata"]["uid"].get<std::string>().empty());

  auto duplicate = client_->create(kConfigMaps, "t", js(configMap("a")));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().kind(), ErrorKind::kConflict);
  EXPECT_NE(duplicate.error().message().find("already exists"), std::string::npos);

  json object = client_->get(kConfigMaps, {"t", "a"})->get();
  object["data"]["k"] = "w";
  auto updated = client_->update(kConfigMaps, js(object));
  ASSERT_TRUE(updated.ok()) << updated.error().message();
  EXPECT_NE(updated->get()["metadata"]["resourceVersion"], object["metadata"]["resourceVersion"]);

  // The old resourceVersion is now stale: 409.
  auto stale = client_->update(kConfigMaps, js(object));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind(), ErrorKind::kConflict);
  EXPECT_TRUE(stale.error().retryable());

  auto merged = client_->patch(kConfigMaps, {"t", "a"}, PatchType::kMerge, R"({"data":{"x":"1"}})");
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->get()["data"]["x"], "1");
  auto jsonPatched = client_->patch(kConfigMaps, {"t", "a"}, PatchType::kJson,
                                    R"([{"op":"replace","path":"/data/x","value":"2"}])");
  ASSERT_TRUE(jsonPatched.ok());
  EXPECT_EQ(jsonPatched->get()["data"]["x"], "2");
  auto failedTest = client_->patch(kConfigMaps, {"t", "a"}, PatchType::kJson,
                                   R"([{"op":"test","path":"/data/x","value":"nope"}])");
  ASSERT_FALSE(failedTest.ok());
  EXPECT_EQ(failedTest.error().kind(), ErrorKind::kInvalidInput);

  ASSERT_TRUE(client_->remove(kConfigMaps, {"t", "a"}).ok());
  auto gone = client_->get(kConfigMaps, {"t", "a"});
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(gone.error().message().find("configmaps \"a\" not found"), std::string::npos);
  EXPECT_EQ(client_->remove(kConfigMaps, {"t", "a"}).error().kind(), ErrorKind::kNotFound);
}

TEST_F(KubeClientTest, RetryOnConflictRereadsAndSucceeds) {
  ASSERT_TRUE(client_->create(kConfigMaps, "t", js(configMap("counter"))).ok());
  int attempts = 0;
  auto increment = [&]() -> Result<api::JsonValue> {
    ++attempts;
    auto current = client_->get(kConfigMaps, {"t", "counter"});
    if (!current) return current.error();
    json next = current->get();
    if (attempts == 1) {
      // Another writer gets in between this read and the write below.
      auto other = client_->patch(kConfigMaps, {"t", "counter"}, PatchType::kMerge,
                                  R"({"data":{"other":"x"}})");
      if (!other) return other.error();
    }
    next["data"]["n"] = std::to_string(attempts);
    return client_->update(kConfigMaps, js(next));
  };
  auto result = retryOnConflict<api::JsonValue>(increment);
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(attempts, 2);  // the first write hit 409 and was retried after a fresh read
  EXPECT_EQ(result->get()["data"]["n"], "2");
  EXPECT_EQ(result->get()["data"]["other"], "x");  // the other writer's change survived

  int failing = 0;
  auto alwaysMissing = [&]() -> Result<api::JsonValue> {
    ++failing;
    return client_->get(kConfigMaps, {"t", "missing"});
  };
  EXPECT_EQ(retryOnConflict<api::JsonValue>(alwaysMissing).error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(failing, 1);  // only conflicts are retried
}

TEST_F(KubeClientTest, StrategicMergeOfContainersAndGenerationOnSpecChangesOnly) {
  json deployment = {{"metadata", {{"name", "web"}}},
                     {"spec",
                      {{"selector", {{"matchLabels", {{"app", "web"}}}}},
                       {"template",
                        {{"metadata", {{"labels", {{"app", "web"}}}}},
                         {"spec",
                          {{"containers",
                            {{{"name", "app"}, {"image", "web:1"}},
                             {{"name", "sidecar"}, {"image", "proxy:1"}}}}}}}}}}};
  ASSERT_TRUE(client_->create(kDeployments, "t", js(deployment)).ok());
  auto patched = client_->patch(
      kDeployments, {"t", "web"}, PatchType::kStrategicMerge,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:2"}]}}}})");
  ASSERT_TRUE(patched.ok()) << patched.error().message();
  const json& containers = patched->get()["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["image"], "web:2");
  EXPECT_EQ(containers[1]["image"], "proxy:1");
  EXPECT_EQ(patched->get()["metadata"]["generation"], 2);
  EXPECT_EQ(patched->get()["spec"]["replicas"], 1);  // defaulted like the API server does
  auto labelled = client_->patch(kDeployments, {"t", "web"}, PatchType::kMerge,
                                 R"({"metadata":{"labels":{"team":"a"}}})");
  EXPECT_EQ(labelled->get()["metadata"]["generation"], 2);
}

TEST_F(KubeClientTest, StatusSubresourceAndSchemaValidation) {
  applyCanaryCrd();
  json canary = yamlFile("examples/gitops-guide-canary.yaml");
  canary["metadata"]["namespace"] = "t";
  auto created = client_->create(kCanaries, "t", js(canary));
  ASSERT_TRUE(created.ok()) << created.error().message();
  json withStatus = created->get();
  withStatus["status"] = {{"phase", "Progressing"}, {"canaryWeight", 10}};
  auto status = client_->updateStatus(kCanaries, js(withStatus));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(status->get()["status"]["phase"], "Progressing");
  EXPECT_EQ(status->get()["metadata"]["generation"], 1);
  // The main resource ignores status.
  json changed = status->get();
  changed["status"]["phase"] = "Failed";
  changed["spec"]["analysis"]["threshold"] = 6;
  auto main = client_->update(kCanaries, js(changed));
  ASSERT_TRUE(main.ok()) << main.error().message();
  EXPECT_EQ(main->get()["status"]["phase"], "Progressing");
  EXPECT_EQ(main->get()["metadata"]["generation"], 2);

  json bad = canary;
  bad["metadata"]["name"] = "bad";
  bad["spec"]["analysis"]["stepWeight"] = 500;
  auto invalid = client_->create(kCanaries, "t", js(bad));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(invalid.error().message().find("spec.analysis.stepWeight"), std::string::npos)
      << invalid.error().message();
}

TEST_F(KubeClientTest, FinalizersDelayDeletionUntilRemoved) {
  json held = configMap("held");
  held["metadata"]["finalizers"] = {"canaryd.dev/test"};
  ASSERT_TRUE(client_->create(kConfigMaps, "t", js(held)).ok());
  ASSERT_TRUE(client_->remove(kConfigMaps, {"t", "held"}).ok());
  auto terminating = client_->get(kConfigMaps, {"t", "held"});
  ASSERT_TRUE(terminating.ok());
  EXPECT_TRUE(terminating->get()["metadata"].contains("deletionTimestamp"));
  ASSERT_TRUE(client_
                  ->patch(kConfigMaps, {"t", "held"}, PatchType::kMerge,
                          R"({"metadata":{"finalizers":null}})")
                  .ok());
  EXPECT_EQ(client_->get(kConfigMaps, {"t", "held"}).error().kind(), ErrorKind::kNotFound);
}

TEST_F(KubeClientTest, OwnerReferencesAreGarbageCollected) {
  auto owner = client_->create(kConfigMaps, "t", js(configMap("owner")));
  ASSERT_TRUE(owner.ok());
  const std::string uid = owner->get()["metadata"]["uid"];
  for (const char* name : {"dependent-1", "dependent-2"}) {
    json d = configMap(name);
    d["metadata"]["ownerReferences"] = {
        {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"}, {"uid", uid}}};
    ASSERT_TRUE(client_->create(kConfigMaps, "t", js(d)).ok());
  }
  DeleteOptions orphan;
  orphan.propagationPolicy = "Orphan";
  json kept = configMap("orphan-owner");
  auto owner2 = client_->create(kConfigMaps, "t", js(kept));
  json d3 = configMap("dependent-3");
  d3["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                        {"kind", "ConfigMap"},
                                        {"name", "orphan-owner"},
                                        {"uid", owner2->get()["metadata"]["uid"]}}};
  ASSERT_TRUE(client_->create(kConfigMaps, "t", js(d3)).ok());

  ASSERT_TRUE(client_->remove(kConfigMaps, {"t", "owner"}).ok());
  EXPECT_EQ(client_->get(kConfigMaps, {"t", "dependent-1"}).error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(client_->get(kConfigMaps, {"t", "dependent-2"}).error().kind(), ErrorKind::kNotFound);
  ASSERT_TRUE(client_->remove(kConfigMaps, {"t", "orphan-owner"}, orphan).ok());
  auto orphaned = client_->get(kConfigMaps, {"t", "dependent-3"});
  ASSERT_TRUE(orphaned.ok());
  EXPECT_TRUE(orphaned->get()["metadata"]["ownerReferences"].empty());

  // Preconditions: a stale uid refuses the delete.
  DeleteOptions wrongUid;
  wrongUid.preconditionUid = "not-the-uid";
  EXPECT_EQ(client_->remove(kConfigMaps, {"t", "dependent-3"}, wrongUid).error().kind(),
            ErrorKind::kConflict);
}

TEST_F(KubeClientTest, DeploymentSimulatorConvergesOrNeverBecomesReady) {
  auto deployment = [](const std::string& name, bool neverReady) {
    json template_ = {{"metadata", {{"labels", {{"app", name}}}}},
                      {"spec", {{"containers", {{{"name", "app"}, {"image", "app:1"}}}}}}};
    if (neverReady)
      template_["metadata"]["annotations"] = {{"kubesim.canaryd.dev/never-ready", "true"}};
    return json{{"metadata", {{"name", name}}},
                {"spec",
                 {{"replicas", 3},
                  {"selector", {{"matchLabels", {{"app", name}}}}},
                  {"template", template_}}}};
  };
  ASSERT_TRUE(client_->create(kDeployments, "t", js(deployment("ok", false))).ok());
  ASSERT_TRUE(client_->create(kDeployments, "t", js(deployment("stuck", true))).ok());
  auto observed = [&](const std::string& name) {
    for (int i = 0; i < 500; ++i) {
      auto d = client_->get(kDeployments, {"t", name});
      if (d.ok() && d->get().contains("status") &&
          d->get()["status"].value("observedGeneration", 0) == 1) {
        return d->get()["status"];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return json();
  };
  json ok = observed("ok");
  ASSERT_FALSE(ok.is_null());
  EXPECT_EQ(ok["readyReplicas"], 3);
  EXPECT_EQ(ok["availableReplicas"], 3);
  EXPECT_EQ(ok["updatedReplicas"], 3);
  json stuck = observed("stuck");
  ASSERT_FALSE(stuck.is_null());
  EXPECT_EQ(stuck["readyReplicas"], 0);
  EXPECT_EQ(stuck["conditions"][0]["type"], "Available");
  EXPECT_EQ(stuck["conditions"][0]["status"], "False");
}

TEST_F(KubeClientTest, ListPaginatesAndSelects) {
  for (int i = 0; i < 25; ++i) {
    json labels = {{"tier", i % 2 == 0 ? "even" : "odd"}};
    ASSERT_TRUE(
        client_->create(kConfigMaps, "t", js(configMap("cm-" + std::to_string(i), labels))).ok());
  }
  std::set<std::string> names;
  ListOptions options;
  options.limit = 10;
  int pages = 0;
  do {
    auto page = client_->list(kConfigMaps, "t", options);
    ASSERT_TRUE(page.ok()) << page.error().message();
    EXPECT_LE(page->items.size(), 10u);
    for (const auto& item : page->items)
      names.insert(item.get()["metadata"]["name"]);
    options.continueToken = page->continueToken;
    ++pages;
  } while (!options.continueToken.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names.size(), 25u);

  auto even = client_->list(kConfigMaps, "t", {"tier=even", "", 0, ""});
  ASSERT_TRUE(even.ok());
  EXPECT_EQ(even->items.size(), 13u);
  auto notOdd = client_->list(kConfigMaps, "t", {"tier notin (odd)", "", 0, ""});
  EXPECT_EQ(notOdd->items.size(), 13u);
  auto byName = client_->list(kConfigMaps, "t", {"", "metadata.name=cm-3", 0, ""});
  ASSERT_EQ(byName->items.size(), 1u);
  auto badSelector = client_->list(kConfigMaps, "t", {"tier in (x", "", 0, ""});
  ASSERT_FALSE(badSelector.ok());
  EXPECT_EQ(badSelector.error().kind(), ErrorKind::kInvalidInput);
}

TEST_F(KubeClientTest, WatchResumesFromAResourceVersion) {
  auto list = client_->list(kConfigMaps, "t", {});
  ASSERT_TRUE(list.ok());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(client_->create(kConfigMaps, "t", js(configMap("w" + std::to_string(i)))).ok());
  std::vector<std::string> seen;
  std::string last;
  WatchOptions options;
  options.resourceVersion = list->resourceVersion;
  Status s = client_->watch(kConfigMaps, "t", options, [&](const WatchEvent& e) {
    if (e.type == WatchEvent::Type::kBookmark) return true;
    seen.push_back(e.object.get()["metadata"]["name"]);
    last = e.resourceVersion;
    return seen.size() < 2;  // stop after two, resume for the rest
  });
  ASSERT_TRUE(s.ok()) << s.error().message();
  ASSERT_EQ(seen, (std::vector<std::string>{"w0", "w1"}));
  options.resourceVersion = last;
  s = client_->watch(kConfigMaps, "t", options, [&](const WatchEvent& e) {
    if (e.type == WatchEvent::Type::kBookmark) return true;
    seen.push_back(e.object.get()["metadata"]["name"]);
    EXPECT_EQ(e.type, WatchEvent::Type::kAdded);
    return false;
  });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(seen.back(), "w2");
}

TEST_F(KubeClientTest, WatchSendsBookmarksAndEndsOnTimeout) {
  WatchOptions options;
  options.resourceVersion = client_->list(kConfigMaps, "t", {})->resourceVersion;
  options.timeout = std::chrono::seconds(1);
  int bookmarks = 0;
  Status s = client_->watch(kConfigMaps, "t", options, [&](const WatchEvent& e) {
    if (e.type == WatchEvent::Type::kBookmark) {
      ++bookmarks;
      EXPECT_FALSE(e.resourceVersion.empty());
    }
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.error().message();
  EXPECT_GE(bookmarks, 1);
}

TEST_F(KubeClientTest, WatchFromCompactedHistoryIsExpired) {
  std::string old = client_->list(kConfigMaps, "t", {})->resourceVersion;
  ASSERT_TRUE(client_->create(kConfigMaps, "t", js(configMap("late"))).ok());
  admin("compact");
  WatchOptions options;
  options.resourceVersion = old;
  Status s = client_->watch(kConfigMaps, "t", options, [](const WatchEvent&) { return true; });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind(), ErrorKind::kExpired);
  EXPECT_NE(s.error().message().find("too old resource version"), std::string::npos);
}

TEST_F(KubeClientTest, DroppedWatchEndsTheStream) {
  WatchOptions options;
  options.resourceVersion = client_->list(kConfigMaps, "t", {})->resourceVersion;
  std::thread dropper([&] {
    // Drop the watch once it is open: wait until a change is delivered.
    while (!client_->create(kConfigMaps, "t", js(configMap("ping"))).ok()) {
    }
  });
  bool sawPing = false;
  Status s = client_->watch(kConfigMaps, "t", options, [&](const WatchEvent& e) {
    if (e.type == WatchEvent::Type::kAdded) {
      sawPing = true;
      admin("drop-watches");
    }
    return true;
  });
  dropper.join();
  EXPECT_TRUE(sawPing);
  EXPECT_TRUE(s.ok()) << s.error().message();
}

TEST_F(KubeClientTest, RetriesServerErrorsHonouringRetryAfter) {
  ASSERT_TRUE(client_->create(kConfigMaps, "t", js(configMap("r"))).ok());
  admin("faults", {{"errorRates", {{"get", 1.0}}}, {"errorCode", 503}});
  auto failed = client_->get(kConfigMaps, {"t", "r"});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind(), ErrorKind::kUnavailable);
  ASSERT_EQ(sleeps_.size(), 4u);  // maxRetries
  for (auto d : sleeps_)
    EXPECT_EQ(d, std::chrono::milliseconds(1000));  // Retry-After: 1

  sleeps_.clear();
  admin("faults", {{"errorRates", {{"get", 1.0}}}, {"errorCode", 500}});
  EXPECT_FALSE(client_->get(kConfigMaps, {"t", "r"}).ok());
  EXPECT_EQ(sleeps_, (std::vector<std::chrono::milliseconds>{
                         std::chrono::milliseconds(100), std::chrono::milliseconds(200),
                         std::chrono::milliseconds(400), std::chrono::milliseconds(800)}));

  admin("faults", {{"errorRates", {{"get", 0.5}}}, {"errorCode", 500}});
  int successes = 0;
  for (int i = 0; i < 10; ++i)
    successes += client_->get(kConfigMaps, {"t", "r"}).ok();
  EXPECT_GE(successes, 8);  // half the attempts fail; four retries almost always recover
  admin("faults", {});
}

TEST_F(KubeClientTest, SlowServerTimesOut) {
  ConnectionConfig config;
  config.server = sim_.url();
  ClientOptions options;
  options.requestTimeout = std::chrono::milliseconds(200);
  options.maxRetries = 0;
  KubeClient kube(config, options);
  cluster::Client& impatient = kube;
  admin("faults", {{"delayMs", 1000}});
  auto r = impatient.get(kNamespaces, {"", "t"});
  admin("faults", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(r.error().message().find("timed out"), std::string::npos) << r.error().message();
}

TEST_F(KubeClientTest, UnknownResourcesAndMissingNamespaces) {
  auto unknown = client_->list({"example.com", "v1", "widgets", true, "Widget"}, "t", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind(), ErrorKind::kNotFound);
  auto noNamespace = client_->create(kConfigMaps, "nowhere", js(configMap("x")));
  ASSERT_FALSE(noNamespace.ok());
  EXPECT_NE(noNamespace.error().message().find("namespaces \"nowhere\" not found"),
            std::string::npos);
}

TEST_F(KubeClientTest, MalformedBodiesGetKubernetesStatusAnswers) {
  HttpClient http;
  HttpRequest req;
  req.method = "POST";
  req.url = sim_.url() + "/api/v1/namespaces/t/configmaps";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = "{not json";
  auto r = http.send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  json status = json::parse(r->body);
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["reason"], "BadRequest");
  req.method = "PATCH";
  req.url = sim_.url() + "/api/v1/namespaces/t/configmaps/x";
  req.headers = {{"Content-Type", "application/merge-patch+json"}};
  r = http.send(req);
  EXPECT_EQ(r->status, 404);
}

TEST(KubeClientMalformedServerTest, GarbageAnswersAreErrorsNotCrashes) {
  for (std::string answer :
       {std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{bad"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"),
        std::string("HTTP/1.1 500 Oops\r\nContent-Length: 3\r\nConnection: close\r\n\r\n<p>"),
        std::string("not http at all\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    "5\r\n{\"a\":\r\n0\r\n\r\n")}) {
    canaryd::testing::RawHttpServer server([&answer](const std::string&) { return answer; });
    ConnectionConfig config;
    config.server = server.url();
    ClientOptions options;
    options.maxRetries = 1;
    options.sleep = [](std::chrono::milliseconds) {};
    KubeClient kube(config, options);
    cluster::Client& client = kube;
    auto got = client.get(kConfigMaps, {"t", "x"});
    EXPECT_FALSE(got.ok()) << answer;
    auto listed = client.list(kConfigMaps, "t", {});
    EXPECT_FALSE(listed.ok()) << answer;
    Status watched = client.watch(kConfigMaps, "t", {}, [](const WatchEvent&) { return true; });
    EXPECT_FALSE(watched.ok()) << answer;
  }
}

// Every write names the field manager "canaryd" (GitOps engines tell its fields from Git's);
// reads do not.
TEST(KubeClientFieldManagerTest, WritesNameCanarydAsTheirFieldManager) {
  std::vector<std::string> requestLines;
  std::mutex mu;
  canaryd::testing::RawHttpServer server([&](const std::string& request) {
    std::lock_guard lock(mu);
    requestLines.push_back(request.substr(0, request.find("\r\n")));
    return std::string(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 51\r\n"
        "Connection: close\r\n\r\n"
        R"({"metadata":{"name":"x","namespace":"t","uid":"1"}})");
  });
  ConnectionConfig config;
  config.server = server.url();
  KubeClient kube(config);
  cluster::Client& client = kube;
  const api::JsonValue object(nlohmann::json::parse(
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"t"}})"));
  ASSERT_TRUE(client.get(kConfigMaps, {"t", "x"}).ok());
  ASSERT_TRUE(client.create(kConfigMaps, "t", object).ok());
  ASSERT_TRUE(client.update(kConfigMaps, object).ok());
  ASSERT_TRUE(client.patch(kConfigMaps, {"t", "x"}, cluster::PatchType::kMerge, "{}", false).ok());
  std::lock_guard lock(mu);
  ASSERT_EQ(requestLines.size(), 4u);
  EXPECT_EQ(requestLines[0], "GET /api/v1/namespaces/t/configmaps/x HTTP/1.1");
  EXPECT_EQ(requestLines[1], "POST /api/v1/namespaces/t/configmaps?fieldManager=canaryd HTTP/1.1");
  EXPECT_EQ(requestLines[2], "PUT /api/v1/namespaces/t/configmaps/x?fieldManager=canaryd HTTP/1.1");
  EXPECT_EQ(requestLines[3],
            "PATCH /api/v1/namespaces/t/configmaps/x?fieldManager=canaryd HTTP/1.1");
}

TEST(InterpretResponseTest, MapsStatusCodesToErrorKinds) {
  EXPECT_TRUE(interpretResponse(200, R"({"a":1})", "get x").ok());
  EXPECT_EQ(interpretResponse(404, "", "get x").error().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(interpretResponse(409, "", "x").error().kind(), ErrorKind::kConflict);
  EXPECT_EQ(interpretResponse(410, "", "x").error().kind(), ErrorKind::kExpired);
  EXPECT_EQ(interpretResponse(429, "", "x").error().kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(interpretResponse(503, "", "x").error().kind(), ErrorKind::kUnavailable);
  auto invalid = interpretResponse(
      422,
      R"({"kind":"Status","message":"Canary \"a\" is invalid","details":{"causes":[{"field":"spec.x","message":"Required value"}]}})",
      "create canary t/a");
  EXPECT_EQ(invalid.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(invalid.error().message(),
            "create canary t/a: Canary \"a\" is invalid; spec.x: Required value");
}

}  // namespace
}  // namespace canaryd::kube
