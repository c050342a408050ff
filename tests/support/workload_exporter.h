// A workload's application metrics for tests, served by prometheus-cpp on 127.0.0.1 (port
// chosen by the system): the `http_request_duration_seconds` histogram with a `status` label,
// as the app-level built-in queries expect, and the `http_requests_total` counter with a `code`
// label, as the example MetricTemplate expects. A background thread serves `requestsPerSecond`
// requests every second in ten batches, `errorRate` of them answered 500, every one taking
// `latencySeconds` — exact, deterministic counts, so tests know what Prometheus must compute.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace canaryd::testing {

struct WorkloadProfile {
  double requestsPerSecond = 100;
  double errorRate = 0;  // fraction answered 500
  double latencySeconds = 0.02;
};

class WorkloadExporter {
 public:
  explicit WorkloadExporter(WorkloadProfile profile) : profile_(profile), exposer_("127.0.0.1:0") {
    auto& family = prometheus::BuildHistogram()
                       .Name("http_request_duration_seconds")
                       .Help("Request latency by status")
                       .Register(*registry_);
    const prometheus::Histogram::BucketBoundaries buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                          0.5,   1,    2.5,   5,    10};
    ok_ = &family.Add({{"status", "200"}}, buckets);
    failed_ = &family.Add({{"status", "500"}}, buckets);
    auto& total = prometheus::BuildCounter()
                      .Name("http_requests_total")
                      .Help("Requests by status code")
                      .Register(*registry_);
    okCount_ = &total.Add({{"code", "200"}});
    failedCount_ = &total.Add({{"code", "500"}});
    exposer_.RegisterCollectable(registry_);
    thread_ = std::thread([this] { serve(); });
  }
  ~WorkloadExporter() {
    stop_ = true;
    thread_.join();
  }
  WorkloadExporter(const WorkloadExporter&) = delete;
  WorkloadExporter& operator=(const WorkloadExporter&) = delete;

  int port() const { return exposer_.GetListeningPorts().front(); }

 private:
  void serve() {
    double due = 0;
    double errorsDue = 0;
    auto next = std::chrono::steady_clock::now();
    while (!stop_) {
      due += profile_.requestsPerSecond / 10;
      for (; due >= 1; due -= 1) {
        errorsDue += profile_.errorRate;
        if (errorsDue >= 1) {
          errorsDue -= 1;
          failed_->Observe(profile_.latencySeconds);
          failedCount_->Increment();
        } else {
          ok_->Observe(profile_.latencySeconds);
          okCount_->Increment();
        }
      }
      next += std::chrono::milliseconds(100);
      std::this_thread::sleep_until(next);
    }
  }

  WorkloadProfile profile_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  prometheus::Exposer exposer_;
  prometheus::Histogram* ok_ = nullptr;
  prometheus::Histogram* failed_ = nullptr;
  prometheus::Counter* okCount_ = nullptr;
  prometheus::Counter* failedCount_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace canaryd::testing
