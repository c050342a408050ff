// PrometheusProvider: instant queries against Prometheus' HTTP API. Thread-compatible; the
// HTTP client is created per query.
#pragma once

#include "canaryd/metrics/provider.h"

namespace canaryd::metrics {

class PrometheusProvider final : public Provider {
 public:
  explicit PrometheusProvider(ProviderConfig config);
  Result<double> query(const std::string& query) override;

 private:
  ProviderConfig config_;
};

}  // namespace canaryd::metrics
