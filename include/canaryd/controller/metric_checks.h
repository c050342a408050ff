// The metric checks of one analysis step, Flagger's way: each metric of `analysis.metrics`
// in order, each against its thresholdRange; the first failure ends the step's checks.
//
// A metric with a templateRef is the MetricTemplate's query, rendered with the Canary's names
// and the metric's templateVariables, sent to the template's provider (its address, else the
// Canary's metricsServer, else the daemon's --metrics-server; credentials from its secretRef,
// sent only to the address the template itself names: a template with a secretRef and no
// address is refused, so no Canary can point another's credentials at its own server). With
// --no-cross-namespace-refs a templateRef to another namespace is refused. A query error, no data
// (empty or NaN) or a value out of range each fail the check, with a message that names the metric
// and the numbers ("error-rate 4.2 > 1"). Built-in metrics (request-success-rate,
// request-duration) without a template use the provider's built-in queries
// (metrics/builtin_queries.h); a provider without them fails the check with a message saying
// so, never passes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "canaryd/api/canary.h"
#include "canaryd/cluster/client.h"
#include "canaryd/controller/rollout.h"
#include "canaryd/metrics/provider.h"
#include "canaryd/metrics/query_template.h"

namespace canaryd::controller {

using ProviderFactory =
    std::function<Result<std::unique_ptr<metrics::Provider>>(const metrics::ProviderConfig&)>;

struct MetricCheckContext {
  cluster::Client& client;
  const ProviderFactory& providers;
  std::string defaultAddress;                  // --metrics-server
  std::string defaultProvider = "kubernetes";  // --provider, for built-in metrics
  bool noCrossNamespaceRefs = false;           // --no-cross-namespace-refs
  // {{ route }} when not empty, in place of spec.routeRef's name: a Knative target's latest
  // created Revision, as Flagger renders it.
  std::string route{};
};

// One metric's check, with everything a person needs to see why it passed or failed.
struct MetricCheck {
  std::string name;
  std::string query;  // rendered; "" when it could not be
  std::optional<double> value;
  std::optional<double> min;
  std::optional<double> max;
  bool passed = false;
  std::string failure;             // "error-rate 4.2 > 1", or the query's error
  std::optional<ErrorKind> error;  // set when there is no value: kNotFound is no data
};
MetricCheck checkMetric(const api::Canary& canary, const api::CanaryMetric& metric,
                        const MetricCheckContext& context);

// The check's numbers for alerts and status: metric, value, thresholdRange, query.
Facts evidenceOf(const MetricCheck& check);

// `canary` must have Flagger's defaults applied. Metrics named in `skip` are not checked.
CheckOutcome runMetricChecks(const api::Canary& canary, const MetricCheckContext& context,
                             const std::set<std::string>& skip = {});

// The pieces the judges share with the checks: a metric's provider and unrendered query
// (template, inline query or built-in), and the template keys for the Canary.
Result<std::unique_ptr<metrics::Provider>> providerFor(const api::Canary& canary,
                                                       const api::CanaryMetric& metric,
                                                       const MetricCheckContext& context,
                                                       std::string& query);
metrics::QueryContext queryContext(const api::Canary& canary, const api::CanaryMetric& metric);
Result<std::string> builtinQuery(const api::Canary& canary, const api::CanaryMetric& metric,
                                 const MetricCheckContext& context);

}  // namespace canaryd::controller
