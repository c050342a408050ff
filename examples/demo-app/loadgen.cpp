// demo-load: the demo's load generator. Sends GET requests to one URL at a steady rate from a
// few keep-alive connections and counts the answers by status; prints a line every --report
// seconds ("t=12s sent=240 2xx=238 5xx=2 errors=0") until SIGTERM or --duration.
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::atomic<bool> stopping{false};
std::atomic<long> sent{0}, ok{0}, serverErrors{0}, otherStatus{0}, failures{0};

void onSignal(int) {
  stopping = true;
}

void worker(const std::string& host, const std::string& port, const std::string& path,
            double rate) {
  boost::asio::io_context io;
  tcp::resolver resolver(io);
  const auto period = std::chrono::duration<double>(1.0 / rate);
  auto next = std::chrono::steady_clock::now();
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  while (!stopping) {
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
    std::this_thread::sleep_until(next);
    beast::error_code ec;
    if (!stream) {
      stream = std::make_unique<beast::tcp_stream>(io);
      stream->expires_after(std::chrono::seconds(2));
      stream->connect(resolver.resolve(host, port, ec), ec);
      if (ec) {
        ++failures;
        stream.reset();
        continue;
      }
    }
    http::request<http::empty_body> request{http::verb::get, path, 11};
    request.set(http::field::host, host);
    request.set(http::field::user_agent, "demo-load");
    stream->expires_after(std::chrono::seconds(5));
    ++sent;
    http::write(*stream, request, ec);
    http::response<http::string_body> response;
    if (!ec) http::read(*stream, buffer, response, ec);
    if (ec) {
      ++failures;
      stream.reset();
      buffer.clear();
      continue;
    }
    const unsigned status = response.result_int();
    if (status >= 200 && status < 300) {
      ++ok;
    } else if (status >= 500) {
      ++serverErrors;
    } else {
      ++otherStatus;
    }
    if (!response.keep_alive()) stream.reset();
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  double rps = 20;
  int connections = 4;
  double duration = 0;
  double report = 0;
  CLI::App app{"demo-load: steady HTTP load for canaryd's demo"};
  app.add_option("url", url, "http://HOST:PORT/PATH")->required();
  app.add_option("--rps", rps, "Requests per second in all")->check(CLI::PositiveNumber);
  app.add_option("--connections", connections, "Keep-alive connections")->check(CLI::Range(1, 64));
  app.add_option("--duration", duration, "Seconds to run (0: until SIGTERM)");
  app.add_option("--report", report, "Print counts every this many seconds (0: only at the end)");
  CLI11_PARSE(app, argc, argv);
  if (url.rfind("http://", 0) != 0) {
    std::cerr << "demo-load: the URL must start with http://\n";
    return 2;
  }
  const std::string rest = url.substr(7);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  const std::string host = authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i)
    threads.emplace_back(worker, host, port, path, rps / connections);
  const auto start = std::chrono::steady_clock::now();
  auto print = [&] {
    const auto t =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
            .count();
    std::cout << "t=" << t << "s sent=" << sent << " 2xx=" << ok << " 5xx=" << serverErrors
              << " other=" << otherStatus << " errors=" << failures << std::endl;
  };
  auto lastReport = start;
  while (!stopping) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = std::chrono::steady_clock::now();
    if (duration > 0 && now - start >= std::chrono::duration<double>(duration)) stopping = true;
    if (report > 0 && now - lastReport >= std::chrono::duration<double>(report)) {
      lastReport = now;
      print();
    }
  }
  for (std::thread& t : threads)
    t.join();
  print();
  return 0;
}
