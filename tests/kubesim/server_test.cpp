#include "kubesim/server.h"

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "canaryd/core/http.h"

#include "kubesim/objects.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

struct Answer {
  int status = 0;
  json body;
};

// kubesim's HTTP server in this process on a free loopback port, asked through HttpClient.
class KubesimServerTest : public ::testing::Test {
 protected:
  KubesimServerTest() { base = "http://127.0.0.1:" + std::to_string(server.start()); }

  Answer send(const std::string& method, const std::string& path, const json& body = nullptr) {
    HttpRequest request;
    request.method = method;
    request.url = base + path;
    if (!body.is_null()) {
      request.headers = {{"Content-Type", "application/json"}};
      request.body = body.dump();
    }
    auto response = client.send(request);
    if (!response) {
      ADD_FAILURE() << method << " " << path << ": " << response.error().message();
      return {};
    }
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  // `body` sent as it is, with `contentType`.
  Answer sendRaw(const std::string& method, const std::string& path, const std::string& contentType,
                 const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.url = base + path;
    request.headers = {{"Content-Type", contentType}};
    request.body = body;
    auto response = client.send(request);
    if (!response) {
      ADD_FAILURE() << method << " " << path << ": " << response.error().message();
      return {};
    }
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  // The first event of a watch on `path` (from the current objects).
  json firstWatchEvent(const std::string& path) {
    HttpRequest request;
    request.url = base + path + "?watch=true&timeoutSeconds=5";
    request.timeout = std::chrono::seconds(10);
    std::string received;
    json event;
    auto response = client.stream(request, [&](std::string_view chunk) {
      received += chunk;
      const auto newline = received.find('\n');
      if (newline == std::string::npos) return true;
      event = json::parse(received.substr(0, newline), nullptr, false);
      return false;
    });
    EXPECT_TRUE(response.ok());
    return event;
  }

  // The events of a watch on `path` (a query of its own), until `count` arrived or it ends.
  std::vector<json> watchEvents(const std::string& path, std::size_t count) {
    HttpRequest request;
    request.url = base + path + "&watch=true&timeoutSeconds=5";
    request.timeout = std::chrono::seconds(10);
    std::string received;
    std::vector<json> events;
    auto response = client.stream(request, [&](std::string_view chunk) {
      received += chunk;
      for (auto newline = received.find('\n'); newline != std::string::npos;
           newline = received.find('\n')) {
        events.push_back(json::parse(received.substr(0, newline), nullptr, false));
        received.erase(0, newline + 1);
      }
      return events.size() < count;
    });
    EXPECT_TRUE(response.ok());
    return events;
  }

  void installWidgets() {
    ASSERT_EQ(send("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                   testing::widgetCrd())
                  .status,
              201);
  }

  ResourceRegistry registry;
  Store store{registry, 1000};
  Server server{registry, store, ServerOptions{}};
  HttpClient client;
  std::string base;
};

TEST_F(KubesimServerTest, ACustomResourceAnswersAtEveryServedVersion) {
  installWidgets();
  Answer created = send("POST", "/apis/example.com/v1beta1/namespaces/default/widgets",
                        testing::widget("example.com/v1beta1", "w", 3));
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["apiVersion"], "example.com/v1beta1");

  Answer asV1 = send("GET", "/apis/example.com/v1/namespaces/default/widgets/w");
  ASSERT_EQ(asV1.status, 200) << asV1.body.dump();
  EXPECT_EQ(asV1.body["apiVersion"], "example.com/v1");
  EXPECT_EQ(asV1.body["spec"]["size"], 3);

  Answer list = send("GET", "/apis/example.com/v1/widgets");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["apiVersion"], "example.com/v1");
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(list.body["items"][0]["apiVersion"], "example.com/v1");

  json event = firstWatchEvent("/apis/example.com/v1/namespaces/default/widgets");
  EXPECT_EQ(event["type"], "ADDED");
  EXPECT_EQ(event["object"]["apiVersion"], "example.com/v1");

  // Written under v1, read under v1beta1: one object.
  json changed = asV1.body;
  changed["spec"]["size"] = 4;
  EXPECT_EQ(send("PUT", "/apis/example.com/v1/namespaces/default/widgets/w", changed).status, 200);
  Answer asBeta = send("GET", "/apis/example.com/v1beta1/namespaces/default/widgets/w");
  EXPECT_EQ(asBeta.body["apiVersion"], "example.com/v1beta1");
  EXPECT_EQ(asBeta.body["spec"]["size"], 4);
}

// Conversion strategy None: every answer and watch event carries the version asked with,
// whichever version the object was written with (v1beta1 is the storage version).
TEST_F(KubesimServerTest, EveryWriteAndWatchEventAnswersAtTheVersionAskedWith) {
  installWidgets();
  const std::string v1 = "/apis/example.com/v1/namespaces/default/widgets";
  const std::string beta = "/apis/example.com/v1beta1/namespaces/default/widgets";
  Answer created = send("POST", v1, testing::widget("example.com/v1", "w", 1));
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["apiVersion"], "example.com/v1");
  const std::string from = created.body["metadata"]["resourceVersion"];

  json replaced = created.body;
  replaced["spec"]["size"] = 2;
  Answer updated = send("PUT", v1 + "/w", replaced);
  ASSERT_EQ(updated.status, 200) << updated.body.dump();
  EXPECT_EQ(updated.body["apiVersion"], "example.com/v1");
  Answer patched =
      sendRaw("PATCH", beta + "/w", "application/merge-patch+json", R"({"spec": {"size": 3}})");
  ASSERT_EQ(patched.status, 200) << patched.body.dump();
  EXPECT_EQ(patched.body["apiVersion"], "example.com/v1beta1");
  json status = patched.body;
  status["status"] = {{"phase", "Ready"}};
  Answer statusUpdated = send("PUT", v1 + "/w/status", status);
  ASSERT_EQ(statusUpdated.status, 200) << statusUpdated.body.dump();
  EXPECT_EQ(statusUpdated.body["apiVersion"], "example.com/v1");
  Answer deleted = send("DELETE", v1 + "/w");
  ASSERT_EQ(deleted.status, 200) << deleted.body.dump();
  EXPECT_EQ(deleted.body["apiVersion"], "example.com/v1");

  // The history since the create, watched at each version.
  for (const std::string version : {"v1", "v1beta1"}) {
    SCOPED_TRACE(version);
    std::vector<json> events = watchEvents(
        "/apis/example.com/" + version + "/namespaces/default/widgets?resourceVersion=" + from, 4);
    ASSERT_EQ(events.size(), 4u);
    for (const json& e : events) {
      EXPECT_EQ(e["object"]["apiVersion"], "example.com/" + version) << e.dump();
    }
    EXPECT_EQ(events[1]["object"]["spec"]["size"], 3);
    EXPECT_EQ(events[3]["type"], "DELETED");
  }
}

TEST_F(KubesimServerTest, AVersionThatIsNotServedIsNotFound) {
  installWidgets();
  ASSERT_EQ(send("POST", "/apis/example.com/v1/namespaces/default/widgets",
                 testing::widget("example.com/v1", "w", 1))
                .status,
            201);
  EXPECT_EQ(send("GET", "/apis/example.com/v1alpha1/namespaces/default/widgets/w").status, 404);
  EXPECT_EQ(send("GET", "/apis/example.com/v1alpha1/namespaces/default/widgets").status, 404);
  EXPECT_EQ(send("GET", "/apis/example.com/v1alpha1").status, 404);
  EXPECT_EQ(send("POST", "/apis/example.com/v1alpha1/namespaces/default/widgets",
                 testing::widget("example.com/v1alpha1", "x", 1))
                .status,
            404);
}

TEST_F(KubesimServerTest, DiscoveryPrefersTheHighestServedVersion) {
  installWidgets();
  Answer group = send("GET", "/apis/example.com");
  ASSERT_EQ(group.status, 200);
  EXPECT_EQ(group.body["kind"], "APIGroup");
  EXPECT_EQ(group.body["preferredVersion"]["groupVersion"], "example.com/v1");
  ASSERT_EQ(group.body["versions"].size(), 2u);
  EXPECT_EQ(group.body["versions"][1]["version"], "v1beta1");
  EXPECT_EQ(send("GET", "/apis/example.com/v1").status, 200);
  EXPECT_EQ(send("GET", "/apis/example.com/v1beta1").status, 200);
}

TEST_F(KubesimServerTest, IngressesAndIngressClassesAreCreatedReadAndListed) {
  Answer ingress = send("POST", "/apis/networking.k8s.io/v1/namespaces/default/ingresses",
                        testing::ingress("shop"));
  ASSERT_EQ(ingress.status, 201) << ingress.body.dump();
  EXPECT_EQ(send("GET", "/apis/networking.k8s.io/v1/namespaces/default/ingresses/shop")
                .body["spec"]["ingressClassName"],
            "nginx");
  Answer ingresses = send("GET", "/apis/networking.k8s.io/v1/ingresses");
  EXPECT_EQ(ingresses.body["kind"], "IngressList");
  EXPECT_EQ(ingresses.body["items"].size(), 1u);
  json status = ingress.body;
  status["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "10.0.0.7"}}}}}}};
  EXPECT_EQ(
      send("PUT", "/apis/networking.k8s.io/v1/namespaces/default/ingresses/shop/status", status)
          .status,
      200);

  ASSERT_EQ(
      send("POST", "/apis/networking.k8s.io/v1/ingressclasses", testing::ingressClass("nginx"))
          .status,
      201);
  Answer ingressClass = send("GET", "/apis/networking.k8s.io/v1/ingressclasses/nginx");
  EXPECT_EQ(ingressClass.status, 200);
  EXPECT_EQ(ingressClass.body["kind"], "IngressClass");
  EXPECT_EQ(send("GET", "/apis/networking.k8s.io/v1/ingressclasses").body["items"].size(), 1u);
}

TEST_F(KubesimServerTest, DaemonSetsGetTheirDefaultsAndAStatusButNoScale) {
  Answer created =
      send("POST", "/apis/apps/v1/namespaces/default/daemonsets", testing::daemonSet("agent"));
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["spec"]["updateStrategy"], json::parse(R"({"type": "RollingUpdate",
                            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})"));
  EXPECT_EQ(created.body["spec"]["revisionHistoryLimit"], 10);
  EXPECT_EQ(send("GET", "/apis/apps/v1/namespaces/default/daemonsets/agent/status").status, 200);
  EXPECT_EQ(send("GET", "/apis/apps/v1/namespaces/default/daemonsets/agent/scale").status, 404);
}

std::string capturedBody(const std::string& name) {
  std::ifstream in(std::string(CANARYD_SOURCE_DIR) + "/tests/kubesim/data/" + name,
                   std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

constexpr const char* kProtobuf = "application/vnd.kubernetes.protobuf";

// What `kubectl create deployment` sends (tests/kubesim/data/deployment.pb) is created and
// answered as JSON, defaulted as a JSON create would be.
TEST_F(KubesimServerTest, ProtobufCreatesAreAnsweredInJson) {
  Answer created = sendRaw("POST", "/apis/apps/v1/namespaces/default/deployments", kProtobuf,
                           capturedBody("deployment.pb"));
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["apiVersion"], "apps/v1");
  EXPECT_EQ(created.body["spec"]["replicas"], 3);
  EXPECT_EQ(created.body["spec"]["progressDeadlineSeconds"], 600);
  EXPECT_EQ(send("GET", "/apis/apps/v1/namespaces/default/deployments/d1")
                .body["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.27");
  Answer ns = sendRaw("POST", "/api/v1/namespaces", kProtobuf, capturedBody("namespace.pb"));
  ASSERT_EQ(ns.status, 201) << ns.body.dump();
  EXPECT_EQ(ns.body["status"]["phase"], "Active");
}

TEST_F(KubesimServerTest, ProtobufOfAnotherKindOrMalformedIsRefused) {
  Answer wrongKind = sendRaw("POST", "/apis/apps/v1/namespaces/default/deployments", kProtobuf,
                             capturedBody("namespace.pb"));
  EXPECT_EQ(wrongKind.status, 400) << wrongKind.body.dump();
  Answer cut =
      sendRaw("POST", "/api/v1/namespaces", kProtobuf, capturedBody("namespace.pb").substr(0, 20));
  EXPECT_EQ(cut.status, 400) << cut.body.dump();
  EXPECT_EQ(cut.body["reason"], "BadRequest");
  Answer notProtobuf = sendRaw("POST", "/api/v1/namespaces", kProtobuf, R"({"kind":"x"})");
  EXPECT_EQ(notProtobuf.status, 400);
  // The CSRF guard: a body that is neither JSON, YAML nor protobuf is not read.
  Answer text = sendRaw("POST", "/api/v1/namespaces", "text/plain",
                        R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"t"}})");
  EXPECT_EQ(text.status, 415);
  EXPECT_EQ(send("GET", "/api/v1/namespaces/t").status, 404);
  // Patches are never protobuf.
  EXPECT_EQ(sendRaw("PATCH", "/api/v1/namespaces/default", kProtobuf, capturedBody("namespace.pb"))
                .status,
            415);
}

// stringData is merged into data (base64, winning over data) and dropped on create, update
// and patch; type defaults to Opaque.
TEST_F(KubesimServerTest, SecretStringDataIsMergedIntoData) {
  const std::string path = "/api/v1/namespaces/default/secrets";
  Answer created = send("POST", path, json::parse(R"({"apiVersion": "v1", "kind": "Secret",
      "metadata": {"name": "creds"}, "data": {"user": "b2xk", "keep": "a2VlcA=="},
      "stringData": {"user": "admin", "password": "s3cret"}})"));
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["type"], "Opaque");
  EXPECT_FALSE(created.body.contains("stringData"));
  EXPECT_EQ(created.body["data"], json::parse(R"({"user": "YWRtaW4=", "password": "czNjcmV0",
                                                  "keep": "a2VlcA=="})"));
  Answer read = send("GET", path + "/creds");
  EXPECT_EQ(read.body["data"]["user"], "YWRtaW4=");
  EXPECT_FALSE(read.body.contains("stringData"));

  json replaced = read.body;
  replaced["stringData"] = {{"password", "new"}};
  Answer updated = send("PUT", path + "/creds", replaced);
  ASSERT_EQ(updated.status, 200) << updated.body.dump();
  EXPECT_EQ(updated.body["data"]["password"], "bmV3");
  EXPECT_FALSE(updated.body.contains("stringData"));

  Answer patched = sendRaw("PATCH", path + "/creds", "application/merge-patch+json",
                           R"({"stringData": {"token": "t"}})");
  ASSERT_EQ(patched.status, 200) << patched.body.dump();
  EXPECT_EQ(patched.body["data"]["token"], "dA==");
  EXPECT_EQ(patched.body["data"]["password"], "bmV3");
  EXPECT_FALSE(send("GET", path + "/creds").body.contains("stringData"));

  Answer typed = send("POST", path, json::parse(R"({"apiVersion": "v1", "kind": "Secret",
      "metadata": {"name": "tls"}, "type": "kubernetes.io/tls"})"));
  EXPECT_EQ(typed.body["type"], "kubernetes.io/tls");
  EXPECT_EQ(send("POST", path, json::parse(R"({"apiVersion": "v1", "kind": "Secret",
      "metadata": {"name": "bad"}, "stringData": {"n": 1}})"))
                .status,
            400);
}

json service(const std::string& name, const json& spec) {
  return {
      {"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", name}}}, {"spec", spec}};
}

TEST_F(KubesimServerTest, ServicesGetTheApiServersDefaults) {
  Answer created = send("POST", "/api/v1/namespaces/default/services",
                        service("web", json::parse(R"({"selector": {"app": "web"},
                                          "ports": [{"port": 80}, {"name": "m", "port": 9090,
                                                     "targetPort": "metrics", "protocol": "UDP"}]})")));
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["spec"], json::parse(R"({
      "selector": {"app": "web"},
      "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80},
                {"name": "m", "port": 9090, "targetPort": "metrics", "protocol": "UDP"}],
      "type": "ClusterIP", "sessionAffinity": "None",
      "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
      "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
      "internalTrafficPolicy": "Cluster"})"));
  Answer external = send("POST", "/api/v1/namespaces/default/services",
                         service("ext", {{"type", "ExternalName"}, {"externalName", "a.example"}}));
  ASSERT_EQ(external.status, 201) << external.body.dump();
  EXPECT_FALSE(external.body["spec"].contains("clusterIP"));
  EXPECT_EQ(external.body["spec"]["sessionAffinity"], "None");
  Answer nodePort = send("POST", "/api/v1/namespaces/default/services",
                         service("np", {{"type", "NodePort"}, {"ports", {{{"port", 80}}}}}));
  EXPECT_EQ(nodePort.body["spec"]["externalTrafficPolicy"], "Cluster");
  EXPECT_EQ(nodePort.body["spec"]["clusterIP"], "10.96.0.2");
  Answer headless = send("POST", "/api/v1/namespaces/default/services",
                         service("hl", {{"clusterIP", "None"}, {"ports", {{{"port", 80}}}}}));
  EXPECT_EQ(headless.body["spec"]["clusterIPs"], json::array({"None"}));
}

// An update that leaves the cluster IP out keeps it (a client such as canaryd's controller
// writes Services without it); changing it is refused; a taken address is refused.
TEST_F(KubesimServerTest, AServicesClusterIPIsKeptAndUnique) {
  const std::string path = "/api/v1/namespaces/default/services";
  ASSERT_EQ(send("POST", path, service("a", {{"ports", {{{"port", 80}}}}})).status, 201);
  Answer b = send("POST", path, service("b", {{"ports", {{{"port", 80}}}}}));
  ASSERT_EQ(b.status, 201);
  EXPECT_EQ(b.body["spec"]["clusterIP"], "10.96.0.2");

  json replaced = service("b", {{"ports", {{{"port", 81}}}}});
  replaced["metadata"]["resourceVersion"] = b.body["metadata"]["resourceVersion"];
  Answer updated = send("PUT", path + "/b", replaced);
  ASSERT_EQ(updated.status, 200) << updated.body.dump();
  EXPECT_EQ(updated.body["spec"]["clusterIP"], "10.96.0.2");
  EXPECT_EQ(updated.body["spec"]["clusterIPs"], json::array({"10.96.0.2"}));
  EXPECT_EQ(updated.body["spec"]["ports"][0]["targetPort"], 81);

  Answer merged = sendRaw("PATCH", path + "/b", "application/merge-patch+json",
                          R"({"spec": {"clusterIP": null, "clusterIPs": null}})");
  ASSERT_EQ(merged.status, 200) << merged.body.dump();
  EXPECT_EQ(merged.body["spec"]["clusterIP"], "10.96.0.2");

  Answer changed = sendRaw("PATCH", path + "/b", "application/merge-patch+json",
                           R"({"spec": {"clusterIP": "10.96.0.9", "clusterIPs": ["10.96.0.9"]}})");
  EXPECT_EQ(changed.status, 422) << changed.body.dump();
  Answer taken = send("POST", path, service("c", {{"clusterIP", "10.96.0.1"}}));
  EXPECT_EQ(taken.status, 422) << taken.body.dump();
  EXPECT_NE(taken.body["message"].get<std::string>().find("already allocated"), std::string::npos);

  // A deleted Service's address is free again.
  ASSERT_EQ(send("DELETE", path + "/a").status, 200);
  EXPECT_EQ(send("POST", path, service("d", json::object())).body["spec"]["clusterIP"],
            "10.96.0.1");
}

}  // namespace
}  // namespace canaryd::kubesim
