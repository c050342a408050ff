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
#include "canaryd/api/catalog.h"
#include "canaryd/api/document.h"
#include "canaryd/api/metric_template.h"
#include "canaryd/api/problem.h"

namespace canaryd::api {

// `catalog`: the routers, metric providers and notifiers canaryd was built with; a provider,
// target kind or feature none of them can act on is an error naming the field and what would
// work (api/catalog.h).
std::vector<Problem> validate(const Canary& canary, const Catalog& catalog);
std::vector<Problem> validate(const MetricTemplate& metricTemplate, const Catalog& catalog);
std::vector<Problem> validate(const AlertProvider& alertProvider, const Catalog& catalog);

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
std::vector<DocumentReport> validateDocuments(const std::vector<Document>& documents,
                                              const Catalog& catalog);

}  // namespace canaryd::api
