// A loopback HTTP server for tests: reads each request whole (headers and Content-Length body),
// keeps it, and writes back whatever `answer` returns — a well-formed response or garbage.
// One connection at a time; stopped when destroyed.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace canaryd::testing {

// A listening TCP socket on 127.0.0.1 with a free port; returns its descriptor.
inline int listenOnLoopback(int& port, int backlog = 16) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(fd, backlog);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

class RawHttpServer {
 public:
  using Answer = std::function<std::string(const std::string& request)>;

  explicit RawHttpServer(Answer answer) : answer_(std::move(answer)) {
    fd_ = listenOnLoopback(port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~RawHttpServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  RawHttpServer(const RawHttpServer&) = delete;
  RawHttpServer& operator=(const RawHttpServer&) = delete;

  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // A response with `status` and `body`, closing the connection.
  static std::string response(int status, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
  }

 private:
  void serve() {
    while (true) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string data;
      char buf[4096];
      std::size_t headerEnd = std::string::npos;
      std::size_t length = 0;
      while (true) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        data.append(buf, static_cast<std::size_t>(n));
        if (headerEnd == std::string::npos &&
            (headerEnd = data.find("\r\n\r\n")) != std::string::npos) {
          auto pos = data.find("Content-Length: ");
          length =
              pos == std::string::npos || pos > headerEnd ? 0 : std::stoul(data.substr(pos + 16));
        }
        if (headerEnd != std::string::npos && data.size() >= headerEnd + 4 + length) break;
      }
      std::string reply;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(data);
        reply = answer_(data);
      }
      // MSG_NOSIGNAL: a client that hangs up on a long answer must not SIGPIPE the test.
      for (std::size_t sent = 0; sent < reply.size();) {
        const ssize_t n = send(c, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      close(c);
    }
  }

  Answer answer_;
  int fd_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

}  // namespace canaryd::testing
