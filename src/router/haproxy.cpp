#include "canaryd/router/haproxy.h"

#include <cmath>
#include <optional>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "canaryd/core/text.h"

namespace canaryd::router {
namespace {

using nlohmann::json;

struct Config {
  const AddressPolicy* addresses = nullptr;
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

Result<Config> configOf(const api::Canary& canary, const AddressPolicy* addresses) {
  const auto problems = haproxyProblems(canary);
  if (!problems.empty()) {
    std::string all;
    for (const auto& [path, message] : problems)
      all += (all.empty() ? "" : "; ") + path + ": " + message;
    return Error::invalidInput(all);
  }
  Config c;
  c.addresses = addresses;
  c.address = annotation(canary, kHaproxyRuntimeApi);
  c.backend = annotation(canary, kHaproxyBackend, apexServiceName(canary));
  c.primary = annotation(canary, kHaproxyPrimaryServer, "primary");
  c.canary = annotation(canary, kHaproxyCanaryServer, "canary");
  c.syncEndpoints = annotation(canary, kHaproxySyncEndpoints) == "true";
  return c;
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
  Result<std::string> answer = haproxyCommand(c.address, what, c.addresses);
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
  boost::system::error_code invalid;
  (void)boost::asio::ip::make_address(at->first, invalid);
  if (invalid) {
    return Error::invalidInput("endpoints of " + service + ": " + quote(at->first) +
                               " is not an IP address");
  }
  const std::string command = "set server " + c.backend + "/" + server + " addr " + at->first +
                              " port " + std::to_string(at->second);
  Result<std::string> answer = haproxyCommand(c.address, command, c.addresses);
  if (!answer) return answer.error().withContext(command);
  // HAProxy confirms address changes in words ("IP changed from ... to ..., port changed ...",
  // or "no need to change the addr"); errors start with "No such".
  if (answer->rfind("No such", 0) == 0 || answer->find("invalid") != std::string::npos) {
    return Error::invalidInput(command + ": HAProxy answered \"" + *answer + "\"");
  }
  return {};
}

}  // namespace

namespace {

// Connects (`connect` starts it), writes the command, reads until HAProxy closes: all within
// `deadline`, and at most kRuntimeApiMaxAnswer bytes.
template <class Socket, class Connect>
Result<std::string> exchange(boost::asio::io_context& io, Socket& socket, Connect connect,
                             const std::string& where, const std::string& command,
                             std::chrono::milliseconds deadline) {
  const std::string line = command + "\n";
  std::string answer;
  std::optional<boost::system::error_code> done;
  connect([&](boost::system::error_code ec) {
    if (ec) {
      done = ec;
      return;
    }
    boost::asio::async_write(
        socket, boost::asio::buffer(line), [&](boost::system::error_code wec, std::size_t) {
          if (wec) {
            done = wec;
            return;
          }
          boost::asio::async_read(socket, boost::asio::dynamic_buffer(answer, kRuntimeApiMaxAnswer),
                                  [&](boost::system::error_code rec, std::size_t) { done = rec; });
        });
  });
  io.run_for(deadline);
  if (!done) {
    boost::system::error_code ignored;
    socket.close(ignored);
    io.run();  // lets the cancelled handlers finish before the locals go
    return Error::unavailable("HAProxy Runtime API at " + where + " did not answer within " +
                              std::to_string(deadline.count()) + " ms");
  }
  if (answer.size() >= kRuntimeApiMaxAnswer) {
    return Error::unavailable("HAProxy Runtime API at " + where + " answered more than " +
                              std::to_string(kRuntimeApiMaxAnswer) + " bytes");
  }
  if (*done && *done != boost::asio::error::eof) {
    return Error::unavailable("HAProxy Runtime API at " + where + ": " + done->message());
  }
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == ' '))
    answer.pop_back();
  return answer;
}

}  // namespace

Result<std::string> haproxyCommand(const std::string& address, const std::string& command,
                                   const AddressPolicy* addresses,
                                   std::chrono::milliseconds deadline) {
  if (command.find_first_of("\r\n;") != std::string::npos) {
    return Error::invalidInput("HAProxy command " + quote(command) + " holds a line break or ';'");
  }
  boost::asio::io_context io;
  boost::system::error_code ec;
  std::string path = address;
  if (path.rfind("unix:", 0) == 0) path = path.substr(5);
  if (!path.empty() && path.front() == '/') {
    if (addresses != nullptr && !addresses->allowsSocketPath(path)) {
      addresses->refused("runtime-api");
      return Error::invalidInput("the HAProxy Runtime API socket unix:" + path +
                                 " is not an allowed address (add --allow-address unix:" + path +
                                 ")");
    }
    boost::asio::local::stream_protocol::socket socket(io);
    const boost::asio::local::stream_protocol::endpoint endpoint(path);
    return exchange(
        io, socket, [&](auto then) { socket.async_connect(endpoint, then); }, path, command,
        deadline);
  }
  const auto colon = address.rfind(':');
  const std::string host = address.substr(0, colon);
  if (addresses != nullptr && addresses->restricts() &&
      addresses->checkUrl("http://" + address + "/") == AddressPolicy::Verdict::kRefused) {
    addresses->refused("runtime-api");
    return Error::invalidInput("the HAProxy Runtime API at " + address +
                               " is not an allowed address (canaryd run --allow-address)");
  }
  boost::asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, address.substr(colon + 1), ec);
  if (ec) return Error::unavailable("HAProxy Runtime API at " + address + ": " + ec.message());
  if (addresses != nullptr && addresses->restricts() &&
      addresses->checkUrl("http://" + address + "/") != AddressPolicy::Verdict::kAllowed) {
    for (const auto& entry : endpoints) {
      if (!addresses->allowsSocketAddress(entry.endpoint().data())) {
        addresses->refused("runtime-api");
        return Error::invalidInput("the HAProxy Runtime API at " + address +
                                   " resolves outside the allowed ranges (--allow-address)");
      }
    }
  }
  boost::asio::ip::tcp::socket socket(io);
  return exchange(
      io, socket,
      [&](auto then) {
        boost::asio::async_connect(socket, endpoints, [then](auto e, auto) { then(e); });
      },
      address, command, deadline);
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
  Result<Config> c = configOf(canary, addresses_.get());
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
  Result<Config> c = configOf(canary, addresses_.get());
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
    if (Status s = expectEmpty(command, haproxyCommand(c->address, command, c->addresses), hint);
        !s)
      return s;
  }
  return {};
}

Result<Weights> HaproxyRouter::getRoutes(const api::Canary& canary) {
  Result<Config> c = configOf(canary, addresses_.get());
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

api::FieldProblems haproxyProblems(const api::Canary& canary) {
  api::FieldProblems problems;
  auto annotation = [&](const std::string& key) {
    auto it = canary.metadata.annotations.find(key);
    return it == canary.metadata.annotations.end() ? std::string() : it->second;
  };
  const std::string runtimeApi = "haproxy.canaryd.dev/runtime-api";
  const std::string field = "metadata.annotations[" + runtimeApi + "]";
  const std::string address = annotation(runtimeApi);
  if (address.empty()) {
    problems.emplace_back(field,
                          "required with provider haproxy: where HAProxy's Runtime API listens, "
                          "\"unix:/run/haproxy/admin.sock\", \"/path/to.sock\" or \"HOST:PORT\"");
  } else if (address.rfind("unix:", 0) != 0 && address.front() != '/') {
    const auto colon = address.rfind(':');
    const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
    if (colon == std::string::npos || colon == 0 || port.empty() ||
        port.find_first_not_of("0123456789") != std::string::npos) {
      problems.emplace_back(field, "\"" + address +
                                       "\" is neither a socket path (unix:/path, /path) nor "
                                       "HOST:PORT");
    }
  }
  // Names go into Runtime API commands: only HAProxy's own characters, so that no line break,
  // ';' or space can add a command of the tenant's.
  for (const char* key : {"haproxy.canaryd.dev/backend", "haproxy.canaryd.dev/primary-server",
                          "haproxy.canaryd.dev/canary-server"}) {
    const std::string name = annotation(key);
    const bool safe = std::all_of(name.begin(), name.end(), [](unsigned char ch) {
      return std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch == ':';
    });
    if (!safe || name.size() > 128) {
      problems.emplace_back(std::string("metadata.annotations[") + key + "]",
                            quote(name) +
                                " is not an HAProxy name (letters, digits, '.', '-', '_', ':'; "
                                "at most 128)");
    }
  }
  const std::string syncKey = "haproxy.canaryd.dev/sync-endpoints";
  const std::string sync = annotation(syncKey);
  if (!sync.empty() && sync != "true" && sync != "false") {
    problems.emplace_back("metadata.annotations[" + syncKey + "]",
                          "\"" + sync + "\" must be \"true\" or \"false\"");
  }
  return problems;
}

std::vector<RouterPlugin> haproxyRouters() {
  api::RouterEntry entry{"haproxy", {}, haproxyProblems};
  entry.can.weights = true;
  return {{entry, [](const RouterContext& c) -> std::unique_ptr<Router> {
             return std::make_unique<HaproxyRouter>(c.client, c.addresses);
           }}};
}

}  // namespace canaryd::router
