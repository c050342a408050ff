// A primary and a canary workload (tests/support/workload_exporter.h) scraped by Debian's
// Prometheus, labelled as Kubernetes service discovery labels pods of namespace `test`:
//   primary  podinfo-primary-5d8f7b9c4-x2z9q: 200 requests/s, 0.5 % errors, 20 ms each
//   canary   podinfo-7c9d6f5b8-k8m2p:         100 requests/s, 4 % errors, 200 ms each
// Ready once every target has 5 s of samples (the first scrape lands seconds after start).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "canaryd/metrics/provider.h"
#include "canaryd/plugins/builtin.h"

#include "support/prometheus_process.h"
#include "support/workload_exporter.h"

namespace canaryd::testing {

class WorkloadsInPrometheus {
 public:
  WorkloadsInPrometheus()
      : primary_(WorkloadProfile{200, 0.005, 0.02}), canary_(WorkloadProfile{100, 0.04, 0.2}) {
    auto job = [](const std::string& name, int port, const std::string& pod) {
      return "  - job_name: " + name +
             "\n    static_configs:\n      - targets: ['127.0.0.1:" + std::to_string(port) +
             "']\n        labels: {kubernetes_namespace: test, " + "kubernetes_pod_name: " + pod +
             ", namespace: test, pod: " + pod + "}\n";
    };
    prometheus_ = std::make_unique<PrometheusProcess>(
        job("primary", primary_.port(), "podinfo-primary-5d8f7b9c4-x2z9q") +
        job("canary", canary_.port(), "podinfo-7c9d6f5b8-k8m2p"));
    metrics::ProviderConfig config;
    config.address = prometheus_->url();
    Result<std::unique_ptr<metrics::Provider>> made = plugins::builtin().makeMetricProvider(config);
    provider_ = std::move(*made);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      Result<double> samples = provider_->query("min(count_over_time(up[5s]))");
      if (samples && *samples >= 24) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    throw std::runtime_error("Prometheus did not gather 5s of data within a minute");
  }

  const std::string& url() const { return prometheus_->url(); }
  metrics::Provider& provider() { return *provider_; }

 private:
  WorkloadExporter primary_;
  WorkloadExporter canary_;
  std::unique_ptr<PrometheusProcess> prometheus_;
  std::unique_ptr<metrics::Provider> provider_;
};

}  // namespace canaryd::testing
