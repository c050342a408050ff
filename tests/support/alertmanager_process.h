// Debian's Alertmanager for tests (see server_process.h): no cluster port
// (--cluster.listen-address empty), one route that sends every alert at once (group_wait 0s,
// group_interval 1s) to a webhook receiver at `webhookUrl`, resolved alerts included.
#pragma once

#include <fstream>
#include <string>

#include "support/server_process.h"

namespace canaryd::testing {

class AlertmanagerProcess : public ServerProcess {
 public:
  explicit AlertmanagerProcess(const std::string& webhookUrl)
      : ServerProcess(
            "prometheus-alertmanager", "/-/ready",
            [&](const std::filesystem::path& dir) {
              std::ofstream(dir / "alertmanager.yml")
                  << "route:\n  receiver: hook\n  group_by: [alertname, namespace, canary]\n"
                     "  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n"
                     "receivers:\n  - name: hook\n    webhook_configs:\n      - url: '"
                  << webhookUrl << "'\n        send_resolved: true\n";
            },
            [](int port, const std::filesystem::path& dir) {
              return std::vector<std::string>{
                  "--config.file=" + (dir / "alertmanager.yml").string(),
                  "--storage.path=" + (dir / "data").string(),
                  "--web.listen-address=127.0.0.1:" + std::to_string(port),
                  "--cluster.listen-address="};
            }) {}
};

}  // namespace canaryd::testing
