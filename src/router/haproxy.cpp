#include "canaryd/router/haproxy.h"

#include <cmath>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "canaryd/api/validate.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

struct Config {
  std::string address;
  std::string backend;
  std::string primary;
  std::string canary;
  bool syncEndpoints = false;
};

std::string annotation(const api::Canary& canary, const char* key, std::string fallback = "") {
  auto it = canary.metadata.annotations.find(key);
  return it == canary.metadata.annotations.end() || it->second.empty() ? fallback : it->second;
}

Result<Config> configOf(const api::Canary& canary) {
  const auto problems = api::haproxyAnnotationProblems(canary);
  if (!problems.empty()) {
    std::string all;
    for (const auto& [path, message] : problems)
      all += (all.empty() ? "" : "; ") + path + ": " + message;
    return Error::invalidInput(all);
  }
  Config c;
  c.address = annotation(canary, kHaproxyRuntimeApi);
  c.backend = annotation(canary, kHaproxyBackend, apexServiceName(canary));
  c.primary = annotation(canary, kHaproxyPrimaryServer, "primary");
  c.canary = annotation(canary, kHaproxyCanaryServer, "canary");
  c.syncEndpoints = annotation(canary, kHaproxySyncEndpoints) == "true";
  return c;
}

template <class Socket>
Result<std::string> exchange(Socket& socket, const std::string& command) {
  boost::system::error_code ec;
  boost::asio::write(socket, boost::asio::buffer(command + "\n"), ec);
  if (ec) return Error::unavailable("HAProxy Runtime API: " + ec.message());
  std::string answer;
  boost::asio::read(socket, boost::asio::dynamic_buffer(answer), ec);  // until HAProxy closes
  if (ec && ec != boost::asio::error::eof) {
    return Error::unavailable("HAProxy Runtime API: " + ec.message());
  }
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == ' '))
    answer.pop_back();
  return answer;
}

// HAProxy answers errors in words; anything that is not the expected answer is one.
Status expectEmpty(const std::string& what, const Result<std::string>& answer,
                   const std::string& hint) {
  if (!answer) return answer.error().withContext(what);
  if (answer->empty()) return {};
  return Error::invalidInput(what + ": HAProxy answered \"" + *answer + "\"" + hint);
}

Result<std::int64_t> weightOf(const Config& c, const std::string& server) {
  const std::string what = "get weight " + c.backend + "/" + server;
  Result<std::string> answer = haproxyCommand(c.address, what);
  if (!answer) return answer.error().withContext(what);
  // "26 (initial 1)"
  std::istringstream in(*answer);
  std::int64_t weight = -1;
  if (!(in >> weight) || weight < 0) {
    return Error::invalidInput(what + ": HAProxy answered \"" + *answer + "\" (check the " +
                               kHaproxyBackend + " and server annotations)");
  }
  return weight;
}

// The first ready address of the Endpoints `name`, as "IP", port.
Result<std::pair<std::string, std::int64_t>> endpointOf(cluster::Client& client,
                                                        const std::string& ns,
                                                        const std::string& name) {
  Result<api::JsonValue> endpoints = client.get(cluster::kEndpoints, {ns, name});
  if (!endpoints) return endpoints.error();
  for (const json& subset : endpoints->get().value("subsets", json::array())) {
    const json addresses = subset.value("addresses", json::array());
    const json ports = subset.value("ports", json::array());
    if (addresses.empty() || ports.empty()) continue;
    return std::pair{addresses[0].value("ip", ""), ports[0].value("port", std::int64_t{0})};
  }
  return Error::unavailable("endpoints " + ns + "/" + name + " have no ready address yet");
}

Status syncServer(cluster::Client& client, const api::Canary& canary, const Config& c,
                  const std::string& server, const std::string& service) {
  Result<std::pair<std::string, std::int64_t>> at =
      endpointOf(client, canary.metadata.namespace_.value_or("default"), service);
  if (!at) {
    // A canary scaled to zero has no endpoints: its weight is 0, nothing to point at.
    if (at.error().kind() == ErrorKind::kUnavailable || at.error().kind() == ErrorKind::kNotFound) {
      return {};
    }
    return at.error();
  }
  const std::string command = "set server " + c.backend + "/" + server + " addr " + at->first +
                              " port " + std::to_string(at->second);
  Result<std::string> answer = haproxyCommand(c.address, command);
  if (!answer) return answer.error().withContext(command);
  // HAProxy confirms address changes in words ("IP changed from ... to ..., port changed ...",
  // or "no need to change the addr"); errors start with "No such".
  if (answer->rfind("No such", 0) == 0 || answer->find("invalid") != std::string::npos) {
    return Error::invalidInput(command + ": HAProxy answered \"" + *answer + "\"");
  }
  return {};
}

}  // namespace

Result<std::string> haproxyCommand(const std::string& address, const std::string& command) {
  boost::asio::io_context io;
  boost::system::error_code ec;
  std::string path = address;
  if (path.rfind("unix:", 0) == 0) path = path.substr(5);
  if (!path.empty() && path.front() == '/') {
    boost::asio::local::stream_protocol::socket socket(io);
    socket.connect(boost::asio::local::stream_protocol::endpoint(path), ec);
    if (ec) return Error::unavailable("HAProxy Runtime API at " + path + ": " + ec.message());
    return exchange(socket, command);
  }
  const auto colon = address.rfind(':');
  boost::asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(address.substr(0, colon), address.substr(colon + 1), ec);
  if (ec) return Error::unavailable("HAProxy Runtime API at " + address + ": " + ec.message());
  boost::asio::ip::tcp::socket socket(io);
  boost::asio::connect(socket, endpoints, ec);
  if (ec) return Error::unavailable("HAProxy Runtime API at " + address + ": " + ec.message());
  return exchange(socket, command);
}

std::int64_t toHaproxyWeight(std::int64_t percent) {
  return static_cast<std::int64_t>(std::lround(static_cast<double>(percent) * 256.0 / 100.0));
}

std::int64_t fromHaproxyWeights(std::int64_t canary, std::int64_t primary) {
  if (canary + primary == 0) return 0;
  return static_cast<std::int64_t>(
      std::lround(100.0 * static_cast<double>(canary) / static_cast<double>(canary + primary)));
}

Status HaproxyRouter::reconcile(const api::Canary& canary) {
  Result<Config> c = configOf(canary);
  if (!c) return c.error();
  // The backend and both servers must exist; a typo is reported, not retried forever.
  for (const std::string& server : {c->primary, c->canary}) {
    Result<std::int64_t> w = weightOf(*c, server);
    if (!w) return w.error();
  }
  if (!c->syncEndpoints) return {};
  const std::string apex = apexServiceName(canary);
  if (Status s = syncServer(client_, canary, *c, c->primary, apex + "-primary"); !s) return s;
  return syncServer(client_, canary, *c, c->canary, apex + "-canary");
}

Status HaproxyRouter::setRoutes(const api::Canary& canary, const Weights& weights) {
  if (weights.mirror) {
    return Error::invalidInput(
        "provider haproxy cannot mirror traffic (HAProxy has no request mirroring); use "
        "analysis.iterations without mirror");
  }
  Result<Config> c = configOf(canary);
  if (!c) return c.error();
  const std::int64_t canaryWeight = toHaproxyWeight(weights.canary);
  const std::string hint = std::string(" (check the ") + kHaproxyBackend + ", " +
                           kHaproxyPrimaryServer + " and " + kHaproxyCanaryServer + " annotations)";
  // Canary first when it shrinks, primary first when it grows: the sum never drops to zero.
  std::vector<std::pair<std::string, std::int64_t>> order = {{c->primary, 256 - canaryWeight},
                                                             {c->canary, canaryWeight}};
  if (weights.canary < 50) std::swap(order[0], order[1]);
  for (const auto& [server, weight] : order) {
    const std::string command =
        "set weight " + c->backend + "/" + server + " " + std::to_string(weight);
    if (Status s = expectEmpty(command, haproxyCommand(c->address, command), hint); !s) return s;
  }
  return {};
}

Result<Weights> HaproxyRouter::getRoutes(const api::Canary& canary) {
  Result<Config> c = configOf(canary);
  if (!c) return c.error();
  Result<std::int64_t> primary = weightOf(*c, c->primary);
  if (!primary) return primary.error();
  Result<std::int64_t> canaryWeight = weightOf(*c, c->canary);
  if (!canaryWeight) return canaryWeight.error();
  Weights w;
  w.canary = fromHaproxyWeights(*canaryWeight, *primary);
  w.primary = 100 - w.canary;
  return w;
}

}  // namespace canaryd::router
