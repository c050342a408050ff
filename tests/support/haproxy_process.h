// Debian's haproxy for tests (see server_process.h): in the foreground (-db), its Runtime API
// on a Unix socket in the test's directory (`level admin`), a monitor URI /ready on the free
// port, and the backends given (each line of `backends` goes into the configuration as is).
#pragma once

#include <fstream>
#include <string>

#include "support/server_process.h"

namespace canaryd::testing {

class HaproxyProcess : public ServerProcess {
 public:
  explicit HaproxyProcess(const std::string& backends)
      : ServerProcess(
            "haproxy", "/ready",
            [&](const std::filesystem::path& dir) {
              std::ofstream(dir / "haproxy.cfg")
                  << "global\n  stats socket " << (dir / "admin.sock").string()
                  << " mode 600 level admin\n"
                     "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n"
                     "  timeout server 5s\n"
                  << backends;
            },
            [](int port, const std::filesystem::path& dir) {
              std::ofstream(dir / "haproxy.cfg", std::ios::app)
                  << "frontend health\n  bind 127.0.0.1:" << port << "\n  monitor-uri /ready\n";
              return std::vector<std::string>{"-f", (dir / "haproxy.cfg").string(), "-db"};
            }) {}
  std::string socket() const { return (dir() / "admin.sock").string(); }
};

}  // namespace canaryd::testing
