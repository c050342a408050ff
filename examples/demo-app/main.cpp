// demo-app: the service of canaryd's demo. An HTTP server whose version, error rate and latency
// come from flags or the environment, exporting Prometheus metrics the way an instrumented
// application does:
//   GET /         "demo-app <version>\n", 500 with probability --error-rate, after a latency
//                 drawn from a log-normal distribution with the given p50 and p99
//   GET /version  the version, always 200, no delay
//   GET /healthz  200 "ok" (the readiness probe)
//   GET /metrics  http_requests_total{code}, http_request_duration_seconds{status} (histogram)
// One thread per connection (keep-alive); the demo's load is tens of requests a second.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "listen.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct Behaviour {
  std::string version = "v1";
  double errorRate = 0;  // 0..1
  double p50Ms = 5;
  double p99Ms = 20;
};

class Metrics {
 public:
  Metrics()
      : requests_(prometheus::BuildCounter()
                      .Name("http_requests_total")
                      .Help("HTTP requests by status code")
                      .Register(*registry_)),
        duration_(prometheus::BuildHistogram()
                      .Name("http_request_duration_seconds")
                      .Help("HTTP request latency by status code")
                      .Register(*registry_)) {}
  void record(int status, double seconds) {
    const std::string code = std::to_string(status);
    requests_.Add({{"code", code}}).Increment();
    duration_
        .Add({{"status", code}},
             prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15,
                                                     0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5})
        .Observe(seconds);
  }
  std::string render() const {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
};

class Server {
 public:
  Server(Behaviour b) : behaviour_(std::move(b)) {
    // log-normal: median p50, and p99 = p50 * exp(2.3263 sigma)
    sigma_ = behaviour_.p99Ms > behaviour_.p50Ms
                 ? std::log(behaviour_.p99Ms / behaviour_.p50Ms) / 2.3263478740
                 : 0.0;
  }

  void serve(tcp::socket socket) {
    std::mt19937_64 random{std::random_device{}()};
    beast::flat_buffer buffer;
    beast::error_code ec;
    for (;;) {
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) return;
      http::response<http::string_body> response{http::status::ok, request.version()};
      response.set(http::field::server, "demo-app");
      response.keep_alive(request.keep_alive());
      const std::string target(request.target());
      if (target == "/metrics") {
        response.set(http::field::content_type, "text/plain; version=0.0.4");
        response.body() = metrics_.render();
      } else if (target == "/healthz") {
        response.body() = "ok\n";
      } else if (target == "/version") {
        response.body() = behaviour_.version + "\n";
      } else {
        const auto start = std::chrono::steady_clock::now();
        std::lognormal_distribution<double> latency(std::log(behaviour_.p50Ms), sigma_);
        std::bernoulli_distribution fails(behaviour_.errorRate);
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(latency(random)));
        const bool failed = fails(random);
        response.result(failed ? http::status::internal_server_error : http::status::ok);
        response.body() = "demo-app " + behaviour_.version + (failed ? " failed\n" : "\n");
        metrics_.record(
            failed ? 500 : 200,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      response.prepare_payload();
      http::write(socket, response, ec);
      if (ec || !response.keep_alive()) return;
    }
  }

 private:
  Behaviour behaviour_;
  double sigma_ = 0;
  Metrics metrics_;
};

std::string fromEnv(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  Behaviour b;
  b.version = fromEnv("DEMO_VERSION", b.version);
  b.errorRate = std::stod(fromEnv("DEMO_ERROR_RATE", "0"));
  b.p50Ms = std::stod(fromEnv("DEMO_LATENCY_P50_MS", "5"));
  b.p99Ms = std::stod(fromEnv("DEMO_LATENCY_P99_MS", "20"));
  int port = std::stoi(fromEnv("PORT", "8080"));
  std::string host = "127.0.0.1";
  CLI::App app{"demo-app: the HTTP service of canaryd's demo"};
  app.add_option("--version-name", b.version, "Version to report (env DEMO_VERSION)");
  app.add_option("--error-rate", b.errorRate,
                 "Fraction of / requests answered 500 (env DEMO_ERROR_RATE)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--latency-p50-ms", b.p50Ms, "Median latency of / (env DEMO_LATENCY_P50_MS)")
      ->check(CLI::PositiveNumber);
  app.add_option("--latency-p99-ms", b.p99Ms, "p99 latency of / (env DEMO_LATENCY_P99_MS)")
      ->check(CLI::PositiveNumber);
  app.add_option("--port", port, "Port (env PORT)");
  app.add_option("--host", host, "Address to listen on");
  CLI11_PARSE(app, argc, argv);

  boost::asio::io_context io;
  std::optional<tcp::acceptor> listening = demo::listenOn(io, "demo-app", host, port);
  if (!listening) return 1;
  tcp::acceptor& acceptor = *listening;
  std::cout << "demo-app " << b.version << " listening on " << host << ":" << port
            << " (error rate " << b.errorRate << ", p50 " << b.p50Ms << " ms, p99 " << b.p99Ms
            << " ms)" << std::endl;
  Server server(b);
  for (;;) {
    tcp::socket socket(io);
    beast::error_code ec;
    acceptor.accept(socket, ec);
    if (ec) continue;
    std::thread([&server, s = std::move(socket)]() mutable {
      server.serve(std::move(s));
    }).detach();
  }
}
