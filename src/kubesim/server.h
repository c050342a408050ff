// The kubesim HTTP server: the Kubernetes REST API over plain HTTP on loopback, one thread
// per connection. Also the admin endpoints tests use to inject faults:
//   POST /admin/faults        {"delayMs": 200, "errorRates": {"get": 0.5}, "errorCode": 503}
//   POST /admin/drop-watches  closes every open watch
//   POST /admin/compact       forgets the event history (older resourceVersions get 410)
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "kubesim/resources.h"
#include "kubesim/store.h"

namespace canaryd::kubesim {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port
  std::chrono::milliseconds bookmarkInterval{1000};
  // Off (the default): requests must name a loopback Host (localhost, 127.0.0.1, [::1]), so
  // that a web page cannot reach kubesim through DNS rebinding.
  bool allowRemote = false;
};

class Server {
 public:
  Server(ResourceRegistry& registry, Store& store, ServerOptions options);
  ~Server();
  // Binds and starts accepting in the background; returns the bound port.
  std::uint16_t start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace canaryd::kubesim
