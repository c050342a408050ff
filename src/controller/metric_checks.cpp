#include "canaryd/controller/metric_checks.h"

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/core/base64.h"
#include "canaryd/core/text.h"
#include "canaryd/metrics/builtin_queries.h"
#include "canaryd/metrics/query_template.h"

namespace canaryd::controller {
namespace {

using nlohmann::json;

// Credentials of a MetricTemplate's secretRef: `token` (bearer), or `username` + `password`.
Status readCredentials(cluster::Client& client, const std::string& ns, const std::string& name,
                       metrics::ProviderConfig& config) {
  Result<std::map<std::string, std::string>> data =
      cluster::readSecret(client, {ns, name}, {"token", "username", "password"});
  if (!data) return data.error();
  config.bearerToken = (*data)["token"];
  config.username = (*data)["username"];
  config.password = (*data)["password"];
  return {};
}

std::string metricName(const api::CanaryMetric& metric) {
  return metric.name.value_or("metric");
}

}  // namespace

Result<std::string> builtinQuery(const api::Canary& canary, const api::CanaryMetric& metric,
                                 const MetricCheckContext& context) {
  const std::string provider = canary.spec.provider.value_or(context.defaultProvider);
  Result<metrics::BuiltinQueries> queries = metrics::builtinQueries(provider);
  if (!queries) return queries.error();
  const std::string name = metricName(metric);
  if (name == "request-success-rate") return queries->requestSuccessRate;
  if (name == "request-duration") return queries->requestDuration;
  return Error::invalidInput("metric " + quote(name) +
                             " has neither a templateRef nor a query, and is not a built-in "
                             "metric (request-success-rate, request-duration)");
}

metrics::QueryContext queryContext(const api::Canary& canary, const api::CanaryMetric& metric) {
  const api::CanarySpec& spec = canary.spec;
  const std::string target = spec.targetRef ? spec.targetRef->name.value_or("") : "";
  metrics::QueryContext context;
  context.values = {
      {"name", canary.metadata.name.value_or("")},
      {"namespace", canary.metadata.namespace_.value_or("default")},
      {"target", target},
      {"service", spec.service && spec.service->name ? *spec.service->name : target},
      {"ingress", spec.ingressRef ? spec.ingressRef->name.value_or("") : ""},
      {"route", spec.routeRef ? spec.routeRef->name.value_or("") : ""},
      {"interval", metric.interval.value_or(std::string(api::kDefaultMetricInterval))},
  };
  context.variables = metric.templateVariables;
  return context;
}

Result<std::unique_ptr<metrics::Provider>> providerFor(const api::Canary& canary,
                                                       const api::CanaryMetric& metric,
                                                       const MetricCheckContext& context,
                                                       std::string& query) {
  const std::string ns = canary.metadata.namespace_.value_or("default");
  metrics::ProviderConfig config;
  config.address = canary.spec.metricsServer.value_or(context.defaultAddress);
  if (metric.templateRef) {
    const std::string templateNs = metric.templateRef->namespace_.value_or(ns);
    const std::string templateName = metric.templateRef->name.value_or("");
    if (context.noCrossNamespaceRefs && templateNs != ns) {
      return Error::invalidInput("templateRef " + templateNs + "/" + templateName +
                                 " is in another namespace than the Canary (" + ns +
                                 "), which canaryd run --no-cross-namespace-refs refuses");
    }
    Result<api::MetricTemplate> found =
        cluster::getMetricTemplate(context.client, {templateNs, templateName});
    if (!found) {
      return found.error().withContext("MetricTemplate " + templateNs + "/" + templateName);
    }
    const api::MetricTemplateSpec& spec = found->spec;
    if (spec.provider) {
      config.type = spec.provider->type.value_or("prometheus");
      if (spec.provider->address && !spec.provider->address->empty()) {
        config.address = *spec.provider->address;
      }
      config.insecureSkipVerify = spec.provider->insecureSkipVerify.value_or(false);
      config.headers = spec.provider->headers;
      if (spec.provider->secretRef && spec.provider->secretRef->name) {
        if (!spec.provider->address || spec.provider->address->empty()) {
          return Error::invalidInput(
              "MetricTemplate " + templateNs + "/" + templateName +
              " has a secretRef but no provider.address: its credentials are sent only to an "
              "address the template names, not to the Canary's metricsServer or the daemon's");
        }
        Status credentials =
            readCredentials(context.client, templateNs, *spec.provider->secretRef->name, config);
        if (!credentials) return credentials.error();
      }
    }
    query = spec.query.value_or("");
  } else if (!metric.query.value_or("").empty()) {
    query = *metric.query;  // deprecated by Flagger, still honoured
  } else {
    Result<std::string> builtin = builtinQuery(canary, metric, context);
    if (!builtin) return builtin.error();
    query = *builtin;
  }
  return context.providers(config);
}

MetricCheck checkMetric(const api::Canary& canary, const api::CanaryMetric& metric,
                        const MetricCheckContext& context) {
  MetricCheck out;
  out.name = metricName(metric);
  if (metric.thresholdRange) {
    out.min = metric.thresholdRange->min;
    out.max = metric.thresholdRange->max;
  } else if (metric.threshold) {
    // Flagger's deprecated single threshold: the least success rate for the built-in
    // request-success-rate, an upper bound for every other metric.
    const bool builtinSuccessRate = out.name == "request-success-rate" && !metric.templateRef &&
                                    metric.query.value_or("").empty();
    (builtinSuccessRate ? out.min : out.max) = metric.threshold;
  }
  std::string query;
  Result<std::unique_ptr<metrics::Provider>> provider = providerFor(canary, metric, context, query);
  if (!provider) {
    out.failure = out.name + ": " + provider.error().message();
    out.error = provider.error().kind();
    return out;
  }
  metrics::QueryContext variables = queryContext(canary, metric);
  if (!context.route.empty()) variables.values["route"] = context.route;
  Result<std::string> rendered = metrics::renderQuery(query, variables);
  if (!rendered) {
    out.failure = out.name + ": " + rendered.error().message();
    out.error = rendered.error().kind();
    return out;
  }
  out.query = *rendered;
  Result<double> value = (*provider)->query(*rendered);
  if (!value) {
    out.failure = out.name + ": " + value.error().message();
    out.error = value.error().kind();
    return out;
  }
  out.value = *value;
  if (out.min && *value < *out.min) {
    out.failure = out.name + " " + formatNumber(*value) + " < " + formatNumber(*out.min);
  } else if (out.max && *value > *out.max) {
    out.failure = out.name + " " + formatNumber(*value) + " > " + formatNumber(*out.max);
  } else {
    out.passed = true;
  }
  return out;
}

Facts evidenceOf(const MetricCheck& check) {
  Facts out{{"metric", check.name}};
  if (check.value) {
    out.emplace_back("value", formatNumber(*check.value));
  } else {
    out.emplace_back("value", "none (" + check.failure + ")");
  }
  std::string range;
  if (check.min) range = "min " + formatNumber(*check.min);
  if (check.max)
    range += (range.empty() ? "" : ", ") + std::string("max ") + formatNumber(*check.max);
  if (!range.empty()) out.emplace_back("thresholdRange", range);
  if (!check.query.empty()) out.emplace_back("query", check.query);
  return out;
}

CheckOutcome runMetricChecks(const api::Canary& canary, const MetricCheckContext& context,
                             const std::set<std::string>& skip) {
  CheckOutcome out;
  if (!canary.spec.analysis) return out;
  for (const api::CanaryMetric& metric : canary.spec.analysis->metrics) {
    if (skip.contains(metricName(metric))) continue;
    MetricCheck check = checkMetric(canary, metric, context);
    if (check.value) out.values.emplace_back(check.name, *check.value);
    if (!check.passed) {
      // As Flagger: the first failing metric fails the check; the rest are not queried.
      out.passed = false;
      out.failure = check.failure;
      out.evidence = evidenceOf(check);
      return out;
    }
  }
  return out;
}

}  // namespace canaryd::controller
