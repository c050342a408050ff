// demo-receiver: the demo's webhook receiver (Alertmanager's webhook_configs point here).
// Answers every POST with 200 and appends its body, as one line, to --output.
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "listen.h"

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

int main(int argc, char** argv) {
  int port = 0;
  std::string output;
  CLI::App app{"demo-receiver: records webhook deliveries, one body per line"};
  app.add_option("--port", port, "Port on 127.0.0.1")->required();
  app.add_option("--output", output, "File to append each POST body to")->required();
  CLI11_PARSE(app, argc, argv);
  boost::asio::io_context io;
  std::optional<tcp::acceptor> listening = demo::listenOn(io, "demo-receiver", "127.0.0.1", port);
  if (!listening) return 1;
  tcp::acceptor& acceptor = *listening;
  std::cout << "demo-receiver listening on 127.0.0.1:" << port << std::endl;
  for (;;) {
    tcp::socket socket(io);
    beast::error_code ec;
    acceptor.accept(socket, ec);
    if (ec) continue;
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> request;
      http::read(socket, buffer, request, ec);
      if (ec) break;
      if (request.method() == http::verb::post) {
        std::string body = request.body();
        for (char& c : body) {
          if (c == '\n') c = ' ';
        }
        std::ofstream(output, std::ios::app) << body << "\n";
      }
      http::response<http::string_body> response{http::status::ok, request.version()};
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::write(socket, response, ec);
      if (ec || !request.keep_alive()) break;
    }
  }
}
