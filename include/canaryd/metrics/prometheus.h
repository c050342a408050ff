// Metric provider prometheus: instant and range queries against Prometheus' HTTP API (and
// anything that speaks it: VictoriaMetrics, Thanos, Mimir).
#pragma once

#include <memory>
#include <vector>

#include "canaryd/metrics/provider.h"

namespace canaryd::metrics {

std::unique_ptr<Provider> makePrometheusProvider(const ProviderConfig& config);

std::vector<MetricProviderPlugin> prometheusProviders();

}  // namespace canaryd::metrics
