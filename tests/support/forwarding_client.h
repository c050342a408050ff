// ForwardingClient: a cluster::Client that passes every call to another one, telling `seen`
// first which API request it is (the resource, "/status" for the status subresource, and the
// Kubernetes verb). Tests derive from it to record requests, fail them, or throw. Thread-safety
// is the base client's and the derived class's.
#pragma once

#include <string>

#include "canaryd/cluster/client.h"

namespace canaryd::testing {

class ForwardingClient : public cluster::Client {
 public:
  explicit ForwardingClient(cluster::Client& base) : base_(base) {}

  // Called before each request is forwarded; `verb` as RBAC names it (get, list, watch,
  // create, update, patch, delete) and `status` for the status subresource. An error is
  // returned instead of forwarding.
  virtual Status seen(const cluster::Resource&, const std::string& /*ns*/, const char* /*verb*/,
                      bool /*status*/) {
    return {};
  }

  Result<api::JsonValue> get(const cluster::Resource& r, const cluster::ObjectRef& ref) override {
    if (Status s = seen(r, ref.namespace_, "get", false); !s) return s.error();
    return base_.get(r, ref);
  }
  Result<cluster::ObjectList> list(const cluster::Resource& r, const std::string& ns,
                                   const cluster::ListOptions& o) override {
    if (Status s = seen(r, ns, "list", false); !s) return s.error();
    return base_.list(r, ns, o);
  }
  Result<api::JsonValue> create(const cluster::Resource& r, const std::string& ns,
                                const api::JsonValue& o) override {
    if (Status s = seen(r, ns, "create", false); !s) return s.error();
    return base_.create(r, ns, o);
  }
  Result<api::JsonValue> update(const cluster::Resource& r, const api::JsonValue& o) override {
    if (Status s = seen(r, "", "update", false); !s) return s.error();
    return base_.update(r, o);
  }
  Result<api::JsonValue> updateStatus(const cluster::Resource& r,
                                      const api::JsonValue& o) override {
    if (Status s = seen(r, "", "update", true); !s) return s.error();
    return base_.updateStatus(r, o);
  }
  Result<api::JsonValue> patch(const cluster::Resource& r, const cluster::ObjectRef& ref,
                               cluster::PatchType type, std::string_view patch,
                               bool status) override {
    if (Status s = seen(r, ref.namespace_, "patch", status); !s) return s.error();
    return base_.patch(r, ref, type, patch, status);
  }
  Status remove(const cluster::Resource& r, const cluster::ObjectRef& ref,
                const cluster::DeleteOptions& o) override {
    if (Status s = seen(r, ref.namespace_, "delete", false); !s) return s;
    return base_.remove(r, ref, o);
  }
  Status watch(const cluster::Resource& r, const std::string& ns, const cluster::WatchOptions& o,
               const std::function<bool(const cluster::WatchEvent&)>& onEvent) override {
    if (Status s = seen(r, ns, "watch", false); !s) return s;
    return base_.watch(r, ns, o, onEvent);
  }

 private:
  cluster::Client& base_;
};

}  // namespace canaryd::testing
