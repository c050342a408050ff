// NullClient: a cluster::Client with nothing in it, whose every call fails with `why`. A base
// for clients that serve a few objects from elsewhere (the input files of `canaryd metrics`)
// and for tests of code that must not reach a cluster. Thread-safe.
#pragma once

#include <string>
#include <utility>

#include "canaryd/cluster/client.h"

namespace canaryd::cluster {

class NullClient : public Client {
 public:
  explicit NullClient(std::string why) : why_(std::move(why)) {}
  Result<api::JsonValue> get(const Resource& resource, const ObjectRef& ref) override {
    return Error::notFound(resource.kind + " " + ref.namespace_ + "/" + ref.name + ": " + why_);
  }
  Result<ObjectList> list(const Resource&, const std::string&, const ListOptions&) override {
    return refuse();
  }
  Result<api::JsonValue> create(const Resource&, const std::string&,
                                const api::JsonValue&) override {
    return refuse();
  }
  Result<api::JsonValue> update(const Resource&, const api::JsonValue&) override {
    return refuse();
  }
  Result<api::JsonValue> updateStatus(const Resource&, const api::JsonValue&) override {
    return refuse();
  }
  Result<api::JsonValue> patch(const Resource&, const ObjectRef&, PatchType, std::string_view,
                               bool) override {
    return refuse();
  }
  Status remove(const Resource&, const ObjectRef&, const DeleteOptions&) override {
    return refuse();
  }
  Status watch(const Resource&, const std::string&, const WatchOptions&,
               const std::function<bool(const WatchEvent&)>&) override {
    return refuse();
  }

 private:
  Error refuse() const { return Error::unavailable(why_); }
  std::string why_;
};

}  // namespace canaryd::cluster
