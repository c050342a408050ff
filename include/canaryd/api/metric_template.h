// The MetricTemplate resource (flagger.app/v1beta1): a query and the provider that runs it.
// Plain value types; see canary.h for the conventions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "canaryd/api/meta.h"

namespace canaryd::api {

struct MetricTemplateProvider {
  std::optional<std::string> type;
  std::optional<std::string> address;
  std::optional<SecretReference> secretRef;
  std::optional<bool> insecureSkipVerify;
  std::optional<std::string> region;
  std::map<std::string, std::vector<std::string>> headers;
  friend bool operator==(const MetricTemplateProvider&, const MetricTemplateProvider&) = default;
};

struct MetricTemplateSpec {
  std::optional<MetricTemplateProvider> provider;
  std::optional<std::string> query;
  friend bool operator==(const MetricTemplateSpec&, const MetricTemplateSpec&) = default;
};

struct MetricTemplate {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  ObjectMeta metadata;
  MetricTemplateSpec spec;
  JsonValue status;  // Flagger defines no status fields; kept as written
  friend bool operator==(const MetricTemplate&, const MetricTemplate&) = default;
};

}  // namespace canaryd::api
