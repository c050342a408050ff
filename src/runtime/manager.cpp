#include "canaryd/runtime/manager.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace canaryd::runtime {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

}  // namespace

struct Manager::Impl {
  cluster::Client& client;
  const Clock& clock;
  ManagerOptions options;
  std::vector<Informer*> informers;
  std::vector<std::pair<std::string, Controller>> controllers;
  std::unique_ptr<LeaderElector> elector;
  std::atomic<bool> stopping{false};
  std::atomic<bool> leading{false};
  std::mutex mu;
  std::condition_variable cv;

  std::atomic<bool> electionHealthy{false};  // the last election round read the Lease
  std::atomic<int> healthConnections{0};     // before io: its sessions count down on destruction
  net::io_context io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread healthThread;

  Impl(cluster::Client& c, const Clock& k, ManagerOptions o)
      : client(c), clock(k), options(std::move(o)) {}

  // Ready once the informers have synced and, with leader election, the Lease could be read:
  // the leader, or a standby that sees a live holder. A replica that cannot reach its Lease (a
  // missing namespace, RBAC) would never run the controllers: it is not ready.
  bool ready() const {
    if (elector && !electionHealthy) return false;
    for (const Informer* i : informers) {
      if (!i->hasSynced()) return false;
    }
    return true;
  }

  // The health server: asynchronous on its own thread, each connection with a deadline, so
  // that clients that connect and say nothing (or read nothing) cannot stall /healthz for the
  // kubelet's probes. At most kMaxHealthConnections at once; more are closed at once.
  static constexpr int kMaxHealthConnections = 64;
  static constexpr std::chrono::seconds kHealthDeadline{5};
  http::response<http::string_body> answer(const http::request<http::string_body>& req) {
    const std::string target(req.target().data(), req.target().size());
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain");
    if (target == "/healthz" || target == "/livez") {
      res.body() = "ok";
    } else if (target == "/readyz") {
      const bool isReady = ready();
      res.result(isReady ? http::status::ok : http::status::service_unavailable);
      res.body() = isReady ? "ok" : "informers not synced";
    } else if (target == "/metrics" && options.metrics) {
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = options.metrics();
    } else {
      res.result(http::status::not_found);
      res.body() = "not found";
    }
    res.keep_alive(false);
    res.prepare_payload();
    return res;
  }

  struct HealthSession : std::enable_shared_from_this<HealthSession> {
    Impl& impl;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    HealthSession(Impl& i, tcp::socket socket) : impl(i), stream(std::move(socket)) {}
    ~HealthSession() { --impl.healthConnections; }
    void start() {
      stream.expires_after(kHealthDeadline);
      http::async_read(
          stream, buffer, req, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return;
            self->res = self->impl.answer(self->req);
            self->stream.expires_after(kHealthDeadline);
            http::async_write(self->stream, self->res, [self](beast::error_code, std::size_t) {
              beast::error_code ignored;
              self->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            });
          });
    }
  };

  void acceptHealth() {
    acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec || stopping) return;
      if (++healthConnections > kMaxHealthConnections) {
        --healthConnections;
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<HealthSession>(*this, std::move(socket))->start();
      }
      acceptHealth();
    });
  }

  void sleepFor(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, d, [&] { return stopping.load(); });
  }
};

Manager::Manager(cluster::Client& client, const Clock& clock, ManagerOptions options)
    : impl_(std::make_unique<Impl>(client, clock, std::move(options))) {
  if (impl_->options.leaderElection) {
    impl_->elector = std::make_unique<LeaderElector>(client, clock, *impl_->options.leaderElection);
  }
}

Manager::~Manager() {
  stop();
  impl_->io.stop();
  if (impl_->healthThread.joinable()) impl_->healthThread.join();
}

void Manager::addInformer(Informer& informer) {
  impl_->informers.push_back(&informer);
}

void Manager::addController(std::string name, Controller controller) {
  impl_->controllers.emplace_back(std::move(name), std::move(controller));
}

Result<std::uint16_t> Manager::startHealth() {
  try {
    auto address = net::ip::make_address(impl_->options.healthHost);
    impl_->acceptor = std::make_unique<tcp::acceptor>(
        impl_->io, tcp::endpoint(address, impl_->options.healthPort));
  } catch (const std::exception& e) {
    return Error::unavailable("health endpoints cannot listen on " + impl_->options.healthHost +
                              ":" + std::to_string(impl_->options.healthPort) + ": " + e.what());
  }
  impl_->acceptHealth();
  impl_->healthThread = std::thread([this] { impl_->io.run(); });
  return impl_->acceptor->local_endpoint().port();
}

Status Manager::run() {
  for (Informer* i : impl_->informers)
    i->start();
  std::vector<std::thread> running;
  std::atomic<bool> controllersStop{false};
  auto startControllers = [&] {
    for (auto& [name, controller] : impl_->controllers) {
      spdlog::info("starting controller {}", name);
      running.emplace_back([&controller, &controllersStop] { controller(controllersStop); });
    }
  };
  auto stopControllers = [&] {
    controllersStop = true;
    for (auto& t : running)
      t.join();
    running.clear();
  };
  Status result;
  if (!impl_->elector) {
    impl_->leading = true;
    startControllers();
    while (!impl_->stopping)
      impl_->sleepFor(std::chrono::milliseconds(500));
  } else {
    const auto retry = std::chrono::duration_cast<std::chrono::milliseconds>(
        impl_->options.leaderElection->retryPeriod);
    std::string reported;  // the election error last logged, so each is logged once
    while (!impl_->stopping) {
      const bool leads = impl_->elector->tryAcquireOrRenew();
      const std::string error = impl_->elector->lastError();
      impl_->electionHealthy = error.empty();
      if (error != reported) {
        if (!error.empty()) {
          spdlog::error(
              "leader election: {}; the controllers do not run and /readyz fails "
              "until it can (retrying every {} ms)",
              error, retry.count());
        } else {
          spdlog::info("leader election: the Lease is reachable again");
        }
        reported = error;
      }
      if (leads && !impl_->leading) {
        spdlog::info("became the leader ({})", impl_->options.leaderElection->identity);
        impl_->leading = true;
        startControllers();
      } else if (!leads && impl_->leading) {
        spdlog::error("lost the leader Lease; stopping the controllers");
        impl_->leading = false;
        result = Error::unavailable("lost leadership of Lease " +
                                    impl_->options.leaderElection->namespace_ + "/" +
                                    impl_->options.leaderElection->name);
        break;
      }
      impl_->sleepFor(retry);
    }
  }
  stopControllers();
  if (impl_->elector && impl_->leading) impl_->elector->release();
  impl_->leading = false;
  for (Informer* i : impl_->informers)
    i->stop();
  return result;
}

void Manager::stop() {
  impl_->stopping = true;
  impl_->cv.notify_all();
}

bool Manager::isLeader() const {
  return impl_->leading;
}
bool Manager::ready() const {
  return impl_->ready();
}

}  // namespace canaryd::runtime
