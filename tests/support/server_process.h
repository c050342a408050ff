// A server binary for tests (Debian's prometheus, prometheus-alertmanager): started on a free
// 127.0.0.1 port in its own temporary directory, ready once `readyPath` answers 200 (while
// checking that the process is still alive), stopped by PID and cleaned up when destroyed.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "canaryd/core/http.h"

#include "support/child_process.h"
#include "support/free_port.h"

namespace canaryd::testing {

class ServerProcess {
 public:
  // `args(port, dir)` gives the command line after the binary; files it needs go in `dir`.
  using Args = std::function<std::vector<std::string>(int port, const std::filesystem::path& dir)>;

  ServerProcess(const std::string& binary, const std::string& readyPath,
                const std::function<void(const std::filesystem::path& dir)>& prepare,
                const Args& args) {
    dir_ = std::filesystem::temp_directory_path() /
           ("canaryd-" + std::filesystem::path(binary).filename().string() + "-" +
            std::to_string(getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir_);
    prepare(dir_);
    const int port = freePort();
    url_ = "http://127.0.0.1:" + std::to_string(port);
    std::vector<std::string> argv = args(port, dir_);
    argv.insert(argv.begin(), binary);
    pid_ = fork();
    if (pid_ == 0) {
      const std::string log = (dir_ / "server.log").string();
      if (std::freopen(log.c_str(), "w", stdout) == nullptr) _exit(126);
      if (std::freopen(log.c_str(), "a", stderr) == nullptr) _exit(126);
      std::vector<char*> raw;
      for (std::string& a : argv)
        raw.push_back(a.data());
      raw.push_back(nullptr);
      execvp(binary.c_str(), raw.data());
      _exit(127);
    }
    HttpClient http;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error(binary + " exited at start; see " +
                                 (dir_ / "server.log").string());
      }
      auto r = http.send({"GET", url_ + readyPath, {}, "", std::chrono::milliseconds(500)});
      if (r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error(binary + " did not become ready within 30s");
  }
  ~ServerProcess() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& url() const { return url_; }
  const std::filesystem::path& dir() const { return dir_; }

  void stop() { terminateChild(pid_); }

 private:
  std::filesystem::path dir_;
  std::string url_;
  pid_t pid_ = -1;
};

}  // namespace canaryd::testing
