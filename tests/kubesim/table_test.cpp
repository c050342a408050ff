#include "kubesim/table.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kubesim/controller_simulator.h"
#include "kubesim/objects.h"

namespace canaryd::kubesim {
namespace {

using nlohmann::json;

std::vector<std::string> columnNames(const json& table) {
  std::vector<std::string> names;
  for (const json& c : table["columnDefinitions"])
    names.push_back(c["name"]);
  return names;
}

// The row's cells without the last (Age, which depends on the wall clock).
json cellsBeforeAge(const json& table, std::size_t row = 0) {
  json cells = table["rows"][row]["cells"];
  cells.erase(cells.size() - 1);
  return cells;
}

class KubesimTableTest : public ::testing::Test {
 protected:
  ResourceType type(const std::string& group, const std::string& resource) {
    return testing::typeOf(registry, group, "v1", resource);
  }
  static json created(json object) {
    object["metadata"]["creationTimestamp"] = "2025-01-01T00:00:00Z";
    return object;
  }
  ResourceRegistry registry;
};

TEST_F(KubesimTableTest, DaemonSetsShowTheirCountsAndNodeSelector) {
  json ds = created(testing::daemonSet("agent"));
  ds["status"] = daemonSetStatusFor(1, 3, 2);
  json zero = created(testing::daemonSet("idle", {{testing::kScaleToZeroLabel, "true"}}));
  const json table = toTable(type("apps", "daemonsets"), json::array({ds, zero}), false);
  EXPECT_EQ(columnNames(table),
            (std::vector<std::string>{"Name", "Desired", "Current", "Ready", "Up-to-date",
                                      "Available", "Node Selector", "Age"}));
  EXPECT_EQ(cellsBeforeAge(table, 0), json({"agent", 3, 3, 2, 3, 2, "<none>"}));
  EXPECT_EQ(cellsBeforeAge(table, 1),
            json({"idle", 0, 0, 0, 0, 0, "flagger.app/scale-to-zero=true"}));
}

TEST_F(KubesimTableTest, IngressesShowClassHostsAddressAndPorts) {
  json plain = created(testing::ingress("shop"));
  json tls = created(testing::ingress("secure"));
  tls["spec"].erase("ingressClassName");
  tls["spec"]["rules"].push_back({{"host", "api.example"}});
  tls["spec"]["tls"] = {{{"hosts", {"shop.example"}}, {"secretName", "cert"}}};
  tls["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "10.0.0.7"}}, {{"hostname", "lb"}}}}}}};
  const json table =
      toTable(type("networking.k8s.io", "ingresses"), json::array({plain, tls}), false);
  EXPECT_EQ(columnNames(table),
            (std::vector<std::string>{"Name", "Class", "Hosts", "Address", "Ports", "Age"}));
  EXPECT_EQ(cellsBeforeAge(table, 0), json({"shop", "nginx", "shop.example", "", "80"}));
  EXPECT_EQ(cellsBeforeAge(table, 1),
            json({"secure", "<none>", "shop.example,api.example", "10.0.0.7,lb", "80, 443"}));
}

TEST_F(KubesimTableTest, ServicesShowTypeAddressesPortsAndSelector) {
  auto service = [](const std::string& name, const json& spec) {
    return created({{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", {{"name", name}}},
                    {"spec", spec}});
  };
  json lb = service("lb", json::parse(R"({"type": "LoadBalancer", "clusterIP": "10.96.0.3",
      "ports": [{"port": 443, "nodePort": 30443, "protocol": "TCP"}]})"));
  lb["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "203.0.113.9"}}}}}}};
  const json objects = {
      service("web", json::parse(R"({"type": "ClusterIP", "clusterIP": "10.96.0.1",
          "selector": {"app": "web"}, "ports": [{"port": 80, "protocol": "TCP"},
          {"port": 53, "protocol": "UDP"}]})")),
      service("ext", {{"type", "ExternalName"}, {"externalName", "db.example"}}),
      service("pending", {{"type", "LoadBalancer"}, {"clusterIP", "10.96.0.2"}}), lb};
  const json table = toTable(type("", "services"), objects, false);
  EXPECT_EQ(columnNames(table),
            (std::vector<std::string>{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)",
                                      "Selector", "Age"}));
  EXPECT_EQ(table["columnDefinitions"][5]["priority"], 1);
  EXPECT_EQ(cellsBeforeAge(table, 0),
            json({"web", "ClusterIP", "10.96.0.1", "<none>", "80/TCP,53/UDP", "app=web"}));
  EXPECT_EQ(cellsBeforeAge(table, 1),
            json({"ext", "ExternalName", "<none>", "db.example", "<none>", "<none>"}));
  EXPECT_EQ(cellsBeforeAge(table, 2),
            json({"pending", "LoadBalancer", "10.96.0.2", "<pending>", "<none>", "<none>"}));
  EXPECT_EQ(cellsBeforeAge(table, 3),
            json({"lb", "LoadBalancer", "10.96.0.3", "203.0.113.9", "443:30443/TCP", "<none>"}));
}

TEST_F(KubesimTableTest, IngressClassesShowControllerAndParameters) {
  json withParameters = created(testing::ingressClass("external"));
  withParameters["spec"]["parameters"] = {
      {"apiGroup", "k8s.example.com"}, {"kind", "IngressParameters"}, {"name", "lb"}};
  const json table =
      toTable(type("networking.k8s.io", "ingressclasses"),
              json::array({created(testing::ingressClass("nginx")), withParameters}), false);
  EXPECT_EQ(columnNames(table),
            (std::vector<std::string>{"Name", "Controller", "Parameters", "Age"}));
  EXPECT_EQ(cellsBeforeAge(table, 0), json({"nginx", "k8s.io/ingress-nginx", "<none>"}));
  EXPECT_EQ(cellsBeforeAge(table, 1),
            json({"external", "k8s.io/ingress-nginx", "IngressParameters.k8s.example.com/lb"}));
}

TEST_F(KubesimTableTest, EventsShowLastSeenTypeReasonObjectAndMessageAsKubectlGetEvents) {
  json event = created({{"metadata", {{"name", "hello.18ecc0e527a64d57"}}},
                        {"involvedObject", {{"kind", "Canary"}, {"name", "hello"}}},
                        {"type", "Warning"},
                        {"reason", "Synced"},
                        {"message", "Rolling back hello.tour: canary deployment is not ready"},
                        {"count", 3},
                        {"source", {{"component", "canaryd"}}}});
  const json table = toTable(type("", "events"), json::array({event}), false);
  EXPECT_EQ(columnNames(table),
            (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Subobject",
                                      "Source", "Message", "First Seen", "Count", "Name"}));
  std::vector<int> priorities;
  for (const json& c : table["columnDefinitions"])
    priorities.push_back(c["priority"]);
  EXPECT_EQ(priorities, (std::vector<int>{0, 0, 0, 0, 1, 1, 0, 1, 1, 1}));
  const json cells = table["rows"][0]["cells"];
  EXPECT_EQ(cells[1], "Warning");
  EXPECT_EQ(cells[2], "Synced");
  EXPECT_EQ(cells[3], "canary/hello");
  EXPECT_EQ(cells[5], "canaryd");
  EXPECT_EQ(cells[6], "Rolling back hello.tour: canary deployment is not ready");
  EXPECT_EQ(cells[8], 3);
  EXPECT_EQ(cells[9], "hello.18ecc0e527a64d57");
  // Without first and last timestamps, both are the creation time, long ago.
  EXPECT_EQ(cells[0], cells[7]);
  EXPECT_EQ(cells[0].get<std::string>().back(), 'd');
}

}  // namespace
}  // namespace canaryd::kubesim
