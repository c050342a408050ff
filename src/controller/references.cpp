#include "references.h"

#include "canaryd/cluster/typed.h"

namespace canaryd::controller {

Result<std::optional<std::string>> missingReference(cluster::Client& client,
                                                    const api::Canary& canary) {
  if (!canary.spec.analysis) return std::optional<std::string>();
  const std::string ns = canary.metadata.namespace_.value_or("default");
  const api::CanaryAnalysis& analysis = *canary.spec.analysis;
  auto missing = [&](const char* kind, const api::CrossNamespaceObjectReference& ref,
                     const std::string& path, auto get) -> Result<std::optional<std::string>> {
    const cluster::ObjectRef at{ref.namespace_.value_or(ns), ref.name.value_or("")};
    auto found = get(client, at);
    if (found) return std::optional<std::string>();
    if (found.error().kind() != ErrorKind::kNotFound) return found.error();
    return std::optional<std::string>(std::string(kind) + " " + at.namespace_ + "/" + at.name +
                                      " (" + path + ") not found");
  };
  for (std::size_t i = 0; i < analysis.metrics.size(); ++i) {
    const api::CanaryMetric& metric = analysis.metrics[i];
    if (!metric.templateRef) continue;
    auto r = missing("MetricTemplate", *metric.templateRef,
                     "spec.analysis.metrics[" + std::to_string(i) + "].templateRef",
                     cluster::getMetricTemplate);
    if (!r || *r) return r;
  }
  for (std::size_t i = 0; i < analysis.alerts.size(); ++i) {
    const api::CanaryAlert& alert = analysis.alerts[i];
    if (!alert.providerRef) continue;
    auto r = missing("AlertProvider", *alert.providerRef,
                     "spec.analysis.alerts[" + std::to_string(i) + "].providerRef",
                     cluster::getAlertProvider);
    if (!r || *r) return r;
  }
  return std::optional<std::string>();
}

}  // namespace canaryd::controller
