// metrics::Provider: where a Canary's metric checks get their numbers (Prometheus, or the
// simulation's synthetic series).
//
// A provider answers one instant query with one number. No data is an error, never a number:
// an empty result or NaN is kNotFound ("no values found"), a failed or refused query is
// kUnavailable or kInvalidInput, so that a check can never pass on missing data. A provider is a
// plugin: one file declares its MetricProviderPlugin (the MetricTemplate `spec.provider.type`
// it answers, its own checks of a template, a factory), registered at the composition root
// (plugins/registry.h); the controller sees only this interface.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "canaryd/api/catalog.h"
#include "canaryd/core/clock.h"
#include "canaryd/core/duration.h"
#include "canaryd/core/http.h"
#include "canaryd/core/result.h"

namespace canaryd::metrics {

class Provider {
 public:
  virtual ~Provider() = default;
  // The value of `query` now: a scalar, or an instant vector of exactly one series. Several
  // series are an error that names their labels (Flagger silently takes the last one); no
  // series, NaN or an infinity is kNotFound.
  virtual Result<double> query(const std::string& query) = 0;
  // The values of `query` from `start` to `end` every `step` (one series; NaN points kept,
  // for the judge's NaN strategy). No series is kNotFound; several are an error that names
  // their labels.
  virtual Result<std::vector<double>> queryRange(const std::string& query, TimePoint start,
                                                 TimePoint end, Duration step) = 0;
  // One value per series of an instant vector, keyed by the series' `label` (the histogram
  // buckets of `sum by (le) (...)`, keyed by `le`). No series is kNotFound; a series without
  // the label, two with the same value of it, or more than kMaxLabelledSeries are errors.
  // Providers that cannot answer it say so (kInvalidInput).
  static constexpr std::size_t kMaxLabelledSeries = 200;
  virtual Result<std::map<std::string, double>> queryByLabel(const std::string& query,
                                                             const std::string& label);
};

struct ProviderConfig {
  std::string type = "prometheus";
  std::string address;  // e.g. http://prometheus.istio-system:9090
  // From the template's secretRef: a bearer `token`, or `username` and `password`.
  std::string bearerToken;
  std::string username;
  std::string password;
  bool insecureSkipVerify = false;
  std::map<std::string, std::vector<std::string>> headers;
  std::chrono::milliseconds timeout{5000};
  // Connection failures, timeouts and 5xx answers are retried this many times, waiting
  // retryBackoff, then twice as long, ...
  int retries = 2;
  std::chrono::milliseconds retryBackoff{200};
  std::string caFile;     // PEM bundle to verify an https address with (default: the system's)
  HttpObserver observer;  // told of every request (request metrics)
  // The operator's allow-list (--allow-address); null: any address.
  std::shared_ptr<const AddressPolicy> addresses;
  // A longer answer is an error naming the server and the limit.
  std::size_t maxResponseBytes = 10u << 20;
};

// A metric provider as registered at the composition root.
struct MetricProviderPlugin {
  api::MetricProviderEntry entry;
  std::function<Result<std::unique_ptr<Provider>>(const ProviderConfig&)> make;
};

}  // namespace canaryd::metrics
