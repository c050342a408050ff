// Opening a listening socket for the demo's small servers; prints why on failure.
#pragma once

#include <iostream>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>

namespace demo {

// An acceptor on host:port, or nothing (the reason printed as "<program>: cannot listen ...").
inline std::optional<boost::asio::ip::tcp::acceptor> listenOn(boost::asio::io_context& io,
                                                              const std::string& program,
                                                              const std::string& host, int port) {
  using boost::asio::ip::tcp;
  tcp::acceptor acceptor(io);
  try {
    const tcp::endpoint endpoint(boost::asio::ip::make_address(host),
                                 static_cast<unsigned short>(port));
    acceptor.open(endpoint.protocol());
    acceptor.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
  } catch (const std::exception& e) {
    std::cerr << program << ": cannot listen on " << host << ":" << port << ": " << e.what()
              << "\n";
    return std::nullopt;
  }
  return acceptor;
}

}  // namespace demo
