// Validation of decoded manifests: what Flagger's CRDs enforce (required fields, enums,
// ranges, duration patterns) plus the mistakes that otherwise surface only mid-rollout
// (stepWeight with stepWeights, maxWeight below stepWeight, A/B match without iterations, a
// metric neither built in nor templated, ...). Each Problem names the field path and what is
// allowed; positions are filled in by validateDocuments(). Pure functions; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "canaryd/api/alert_provider.h"
#include "canaryd/api/canary.h"
#include "canaryd/api/document.h"
#include "canaryd/api/metric_template.h"
#include "canaryd/api/problem.h"

namespace canaryd::api {

std::vector<Problem> validate(const Canary& canary);
std::vector<Problem> validate(const MetricTemplate& metricTemplate);
std::vector<Problem> validate(const AlertProvider& alertProvider);

// Provider haproxy's annotations (router/haproxy.h): a missing or malformed
// haproxy.canaryd.dev/runtime-api, a sync-endpoints other than "true"/"false"; each problem as
// {field path, message}. Part of validate(Canary); the router refuses the same.
std::vector<std::pair<std::string, std::string>> haproxyAnnotationProblems(const Canary& canary);

// What the named provider's router cannot do of `analysis` (at `path`, e.g. "spec.analysis"):
// A/B `match` and `mirror` on kubernetes and haproxy; each problem as {field path, message}.
// Part of validate(Canary); `canaryd run` refuses the same.
std::vector<std::pair<std::string, std::string>> routingProblems(const std::string& provider,
                                                                 const CanaryAnalysis& analysis,
                                                                 const std::string& path);

enum class DocumentVerdict { kValid, kInvalid, kSkipped };

struct DocumentReport {
  const Document* document = nullptr;  // points into the vector given to validateDocuments
  std::string kind;                    // as written
  std::string name;                    // "namespace/name", or "name" without a namespace
  DocumentVerdict verdict = DocumentVerdict::kValid;
  std::vector<Problem> problems;  // errors and warnings, located in the source
};

// Decodes and validates every Canary, MetricTemplate and AlertProvider among `documents`
// (other kinds are reported as skipped), and adds the warnings that need several documents,
// such as a target Deployment that sets replicas while the Canary references an autoscaler.
std::vector<DocumentReport> validateDocuments(const std::vector<Document>& documents);

}  // namespace canaryd::api
