// What the benchmarks that drive kubesim share: wall-clock seconds, a process's memory and CPU
// from /proc, and running work on several threads, each with its own client.
#pragma once

#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "canaryd/kube/kube_client.h"

namespace canaryd::bench {

using Wall = std::chrono::steady_clock;

inline double seconds(Wall::duration d) {
  return std::chrono::duration<double>(d).count();
}

// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM, ...); pid 0 is this process.
inline long procStatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// utime + stime of a process, in seconds.
inline double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Runs `work(client, i)` for i in [0, count) on `threads` threads, each with its own client.
inline void parallel(const std::string& server, int count, int threads,
                     const std::function<void(kube::KubeClient&, int)>& work) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      kube::ConnectionConfig config;
      config.server = server;
      kube::KubeClient client(config);
      for (int i = t; i < count; i += threads)
        work(client, i);
    });
  }
  for (auto& w : workers)
    w.join();
}

}  // namespace canaryd::bench
