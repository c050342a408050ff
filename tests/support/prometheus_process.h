// Debian's `prometheus` for tests (see server_process.h), scraping `scrapeConfigs` (the YAML
// list under scrape_configs, indented by two spaces).
#pragma once

#include <fstream>
#include <string>

#include "support/server_process.h"

namespace canaryd::testing {

class PrometheusProcess : public ServerProcess {
 public:
  explicit PrometheusProcess(const std::string& scrapeConfigs,
                             const std::string& scrapeInterval = "200ms")
      : ServerProcess(
            "prometheus", "/-/ready",
            [&](const std::filesystem::path& dir) {
              std::ofstream(dir / "prometheus.yml")
                  << "global:\n  scrape_interval: " << scrapeInterval
                  << "\n  evaluation_interval: 1s\nscrape_configs:\n"
                  << scrapeConfigs;
            },
            [](int port, const std::filesystem::path& dir) {
              return std::vector<std::string>{
                  "--config.file=" + (dir / "prometheus.yml").string(),
                  "--storage.tsdb.path=" + (dir / "data").string(),
                  "--web.listen-address=127.0.0.1:" + std::to_string(port)};
            }) {}
};

}  // namespace canaryd::testing
