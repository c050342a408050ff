// Decoding and encoding of Canary, MetricTemplate and AlertProvider.
//
// Decoding never throws and never stops at the first mistake: it returns the value with every
// field it could read plus a Problem for each field it could not (wrong type, unknown field
// with the nearest known name as a hint), located in the source when the input was YAML.
// Encoding writes exactly the fields that are set, so decode -> encode round-trips.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "canaryd/api/alert_provider.h"
#include "canaryd/api/canary.h"
#include "canaryd/api/document.h"
#include "canaryd/api/metric_template.h"
#include "canaryd/api/problem.h"
#include "canaryd/core/result.h"

namespace canaryd::api {

template <typename T>
struct Decoded {
  T value;
  std::vector<Problem> problems;
  bool ok() const { return !hasErrors(problems); }
};

Decoded<Canary> decodeCanary(const Document& document);
Decoded<MetricTemplate> decodeMetricTemplate(const Document& document);
Decoded<AlertProvider> decodeAlertProvider(const Document& document);

// Decodes JSON as the API server returns it; the first problem becomes the error.
Result<Canary> canaryFromJson(std::string_view json);
Result<MetricTemplate> metricTemplateFromJson(std::string_view json);
Result<AlertProvider> alertProviderFromJson(std::string_view json);
// The same from an object already parsed (what the cluster client returns): no text between.
Result<Canary> canaryFromJson(const JsonValue& value);
Result<MetricTemplate> metricTemplateFromJson(const JsonValue& value);
Result<AlertProvider> alertProviderFromJson(const JsonValue& value);

JsonValue toJsonValue(const Canary& canary);
JsonValue toJsonValue(const MetricTemplate& metricTemplate);
JsonValue toJsonValue(const AlertProvider& alertProvider);

// Compact JSON with keys sorted.
template <typename T>
std::string toJson(const T& value) {
  return toJsonValue(value).dump();
}

}  // namespace canaryd::api
