// The built-in metrics (request-success-rate in percent, request-duration in milliseconds) and
// the counter increments the sequential judge needs (requests, errors), per router provider.
// The query text is data: one YAML file per family of providers under src/metrics/queries/,
// compiled into the binary, readable by users.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "canaryd/core/result.h"

namespace canaryd::metrics {

struct BuiltinQueries {
  std::string requestSuccessRate;
  std::string requestDuration;
  // For the sequential judge, rendered with target = the canary and `<target>-primary`;
  // "" where the provider's metrics do not tell the workloads apart.
  std::string requests;  // sum(increase(...[interval])) of all requests
  std::string errors;    // the same for 5xx answers
  std::string source;    // the file they come from, for messages
  // The latency histogram's bucket increments over the window, `sum by (le) (increase(
  // <histogram>_bucket{...}[interval]))`, cumulative per `le` as Prometheus keeps them; "" where
  // the provider has no histogram of its own per workload.
  std::string latencyBuckets;
  // The counters' current sums (`sum(<counter>{...})`, no range): the judge's window is the
  // difference of two reads, which tiles exactly; "" where the provider has none.
  std::string requestsTotal;
  std::string errorsTotal;
  // The counter's resets over the window (`sum(resets(<counter>{...}[interval]))`, made from
  // requests-total): a pod restarted in place since the last read, whose lost count the sum
  // hides when the other pods' counts grew more; "" without requests-total.
  std::string requestsResets;
  double latencyBucketMs = 1;  // milliseconds per unit of `le` (1000 for a seconds histogram)
};

// The queries for `provider` ("gatewayapi:v1", "kubernetes", ...); an error naming the
// providers that have them otherwise.
Result<BuiltinQueries> builtinQueries(std::string_view provider);

// The providers that have built-in queries.
std::vector<std::string> builtinProviders();

// The providers whose built-in queries count the canary's and the primary's requests and
// errors apart (the sequential judge's `requests` and `errors`), in builtinProviders() order.
std::vector<std::string> countingProviders();

}  // namespace canaryd::metrics
