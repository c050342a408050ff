// Runs a kubesim process for a test: a free port, stopped by PID when the test ends (also when
// it fails).
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/child_process.h"

namespace canaryd::testing {

class KubesimProcess {
 public:
  explicit KubesimProcess(std::vector<std::string> extraArgs = {}) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<std::string> args = {KUBESIM_PATH,    "--listen", "127.0.0.1:0",
                                       "--ready-delay", "100ms",    "--bookmark-interval",
                                       "200ms"};
      args.insert(args.end(), extraArgs.begin(), extraArgs.end());
      std::vector<char*> argv;
      for (std::string& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(KUBESIM_PATH, argv.data());
      _exit(127);
    }
    close(out[1]);
    FILE* stream = fdopen(out[0], "r");
    char line[256] = {0};
    if (stream == nullptr || fgets(line, sizeof line, stream) == nullptr) {
      stop();
      throw std::runtime_error("kubesim did not start");
    }
    std::string text(line);
    const std::string prefix = "listening on ";
    if (text.rfind(prefix, 0) != 0) {
      stop();
      throw std::runtime_error("unexpected kubesim output: " + text);
    }
    url_ = text.substr(prefix.size());
    while (!url_.empty() && (url_.back() == '\n' || url_.back() == '\r'))
      url_.pop_back();
    fclose(stream);
  }
  ~KubesimProcess() { stop(); }
  KubesimProcess(const KubesimProcess&) = delete;
  KubesimProcess& operator=(const KubesimProcess&) = delete;

  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }

  void stop() { terminateChild(pid_); }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace canaryd::testing
