// The routers' tests: a Canary from a JSON manifest, and a kubesim to route against.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/cluster/client.h"
#include "canaryd/kube/kube_client.h"

#include "kube/kubesim_process.h"

namespace canaryd::testing {

// The Canary of `manifest` with Flagger's defaults and a uid (the owner reference a router
// writes); fails the calling test when it does not decode.
inline api::Canary decodeCanary(const nlohmann::json& manifest) {
  auto decoded = api::canaryFromJson(manifest.dump());
  EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().message());
  api::Canary canary = api::withDefaults(decoded.ok() ? *decoded : api::Canary{});
  canary.metadata.uid = "uid-1";
  return canary;
}

// A kubesim of the test's own and a client of it; the routers' kubesim tests install their
// stand-in CRDs with installCrd() and read what the router wrote with object().
class RouterKubesimTest : public ::testing::Test {
 protected:
  RouterKubesimTest() {
    kube::ConnectionConfig config;
    config.server = sim_.url();
    client_ = std::make_unique<kube::KubeClient>(config);
  }

  // The namespace `test`, where the tests' Canaries live.
  void createTestNamespace() {
    ASSERT_TRUE(client_
                    ->create(cluster::kNamespaces, "",
                             api::JsonValue(nlohmann::json{{"metadata", {{"name", "test"}}}}))
                    .ok());
  }

  void installCrd(const nlohmann::json& crd) {
    ASSERT_TRUE(client_->create(cluster::kCustomResourceDefinitions, "", api::JsonValue(crd)).ok());
  }

  // The object `name` of `resource` in `ns` ("" for a cluster-scoped one); failing the calling
  // test (and null) when it cannot be read.
  nlohmann::json object(const cluster::Resource& resource, const std::string& ns,
                        const std::string& name) {
    auto found = client_->get(resource, {ns, name});
    EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().message());
    return found.ok() ? found->get() : nlohmann::json();
  }

  KubesimProcess sim_;
  std::unique_ptr<cluster::Client> client_;
};

}  // namespace canaryd::testing
