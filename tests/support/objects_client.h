// ObjectsClient: a cluster::Client that serves a few objects from a map ("Kind/namespace/name")
// and refuses everything else, for tests of code that reads AlertProviders, Secrets and
// templates. Not thread-safe while `objects` is being filled.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "canaryd/cluster/null_client.h"

namespace canaryd::testing {

class ObjectsClient final : public cluster::NullClient {
 public:
  ObjectsClient() : NullClient("not in this test") {}
  std::map<std::string, nlohmann::json> objects;  // "Kind/namespace/name"
  Result<api::JsonValue> get(const cluster::Resource& r, const cluster::ObjectRef& ref) override {
    auto it = objects.find(r.kind + "/" + ref.namespace_ + "/" + ref.name);
    if (it == objects.end()) return NullClient::get(r, ref);
    return api::JsonValue(it->second);
  }
};

}  // namespace canaryd::testing
