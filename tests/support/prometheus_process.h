// Debian's `prometheus` for tests: started on a free 127.0.0.1 port with a generated config
// and a temporary storage directory, ready once /-/ready answers (and the process is still
// alive), stopped by PID and cleaned up when destroyed.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "canaryd/core/http.h"

#include "support/free_port.h"

namespace canaryd::testing {

class PrometheusProcess {
 public:
  // `scrapeConfigs`: the YAML list under scrape_configs (indented by two spaces).
  explicit PrometheusProcess(const std::string& scrapeConfigs,
                             const std::string& scrapeInterval = "200ms") {
    dir_ = std::filesystem::temp_directory_path() /
           ("canaryd-prometheus-" + std::to_string(getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "prometheus.yml") << "global:\n  scrape_interval: " << scrapeInterval
                                           << "\n  evaluation_interval: 1s\nscrape_configs:\n"
                                           << scrapeConfigs;
    const int port = freePort();
    url_ = "http://127.0.0.1:" + std::to_string(port);
    pid_ = fork();
    if (pid_ == 0) {
      const std::string log = (dir_ / "prometheus.log").string();
      FILE* out = std::freopen(log.c_str(), "w", stdout);
      FILE* err = std::freopen(log.c_str(), "a", stderr);
      (void)out;
      (void)err;
      const std::string config = "--config.file=" + (dir_ / "prometheus.yml").string();
      const std::string storage = "--storage.tsdb.path=" + (dir_ / "data").string();
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
      execlp("prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
    HttpClient http;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("prometheus exited at start; see " +
                                 (dir_ / "prometheus.log").string());
      }
      auto r = http.send({"GET", url_ + "/-/ready", {}, "", std::chrono::milliseconds(500)});
      if (r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("prometheus did not become ready within 30s");
  }
  ~PrometheusProcess() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  const std::string& url() const { return url_; }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::filesystem::path dir_;
  std::string url_;
  pid_t pid_ = -1;
};

}  // namespace canaryd::testing
