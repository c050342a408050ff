// The simulator's Prometheus: the traffic served so far (a ledger of fixed ticks) and a
// metrics::Provider that answers the controller's queries from it.
//
// The provider recognises the built-in queries of the Canary's provider (request-success-rate,
// request-duration, and the sequential judge's request and error increments and latency
// buckets by le), rendered as the controller renders them for the canary (`<target>`) or the
// primary (`<target>-primary`) with any `[interval]`, and computes what Prometheus would: the
// success rate in percent, the 0.99 histogram quantile in milliseconds (Prometheus' linear
// interpolation within a bucket), the counts, or the cumulative bucket counts. A window without
// requests has no value (kNotFound, as an empty result or NaN is), so a check can never pass on it;
// during a metrics outage every query is kUnavailable. Any other query is kInvalidInput, naming the
// ones the simulator answers.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "canaryd/core/clock.h"
#include "canaryd/metrics/provider.h"
#include "canaryd/sim/traffic.h"

namespace canaryd::sim {

// Thread-compatible: written by the driver between reconciles, read during them.
class TrafficLedger {
 public:
  TrafficLedger(TimePoint origin, Duration tick) : origin_(origin), tick_(tick) {}
  Duration tick() const { return tick_; }
  TimePoint origin() const { return origin_; }
  // The index of the next tick to record (ticks start at origin + index * tick).
  std::int64_t size() const { return static_cast<std::int64_t>(ticks_.size()); }
  void append(const IntervalTraffic& traffic) { ticks_.push_back(traffic); }
  // The sum of the ticks that start in [from, to).
  IntervalTraffic window(TimePoint from, TimePoint to) const;

 private:
  TimePoint origin_;
  Duration tick_;
  std::vector<IntervalTraffic> ticks_;
};

struct MetricsSource {
  std::string provider;  // the Canary's provider, whose built-in queries are answered
  std::string namespace_;
  std::string target;                     // the target Deployment's name
  std::function<bool(TimePoint)> outage;  // true while metrics are unavailable
  // The request and error increments as increase() computes them from scrapes (see
  // PrometheusModel); exact counts otherwise.
  bool extrapolate = false;
  Duration scrapeInterval = std::chrono::seconds(15);
  // The other keys of the built-in queries, as the controller renders them: the Canary's name,
  // the apex Service (service.name, else the target), spec.ingressRef and spec.routeRef names.
  std::string name{};
  std::string apex{};
  std::string ingress{};
  std::string route{};
};

// increase() over (end - window, end] of a counter sampled at `times` (ascending) with
// `values`, as Prometheus computes it: the last minus the first sample, extrapolated towards the
// window's edges (fully when a sample is within 1.1 average intervals of the edge, else by half
// an interval; never below zero at the start). NaN with fewer than two samples.
double prometheusIncrease(const std::vector<double>& times, const std::vector<double>& values,
                          double windowStart, double windowEnd);

// The 0.99 quantile in milliseconds of a side's histogram, as histogram_quantile computes it;
// NaN without requests.
double latencyQuantileMs(const Side& side, double quantile);

std::unique_ptr<metrics::Provider> makeProvider(const Clock& clock, const TrafficLedger& ledger,
                                                MetricsSource source);

}  // namespace canaryd::sim
