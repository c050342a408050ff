// PrometheusProvider: instant queries against Prometheus' HTTP API. Thread-compatible; the
// HTTP client is created per query.
#pragma once

#include <nlohmann/json.hpp>

#include "canaryd/metrics/provider.h"

namespace canaryd::metrics {

class PrometheusProvider final : public Provider {
 public:
  explicit PrometheusProvider(ProviderConfig config);
  Result<double> query(const std::string& query) override;
  Result<std::vector<double>> queryRange(const std::string& query, TimePoint start, TimePoint end,
                                         Duration step) override;
  Result<std::map<std::string, double>> queryByLabel(const std::string& query,
                                                     const std::string& label) override;

 private:
  // GETs `path` with the query string; the body's `data` when Prometheus says success.
  Result<nlohmann::json> get(const std::string& pathAndQuery, const std::string& query);

  ProviderConfig config_;
  std::string server_;  // the address as messages show it (no userinfo, no query)
};

}  // namespace canaryd::metrics
