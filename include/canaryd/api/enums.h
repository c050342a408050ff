// The values each enumerated field accepts. One list per field, shared by validation, the
// CRDs' tests and the CLI, so that the messages, the schemas and the code cannot disagree.
#pragma once

#include <span>
#include <string_view>

namespace canaryd::api::allowed {

// spec.provider: Flagger's routers plus canaryd's "haproxy".
std::span<const std::string_view> providers();
// spec.targetRef.kind
std::span<const std::string_view> targetKinds();
// spec.autoscalerRef.kind
std::span<const std::string_view> autoscalerKinds();
// spec.analysis.webhooks[].type ("" means rollout, as in Flagger)
std::span<const std::string_view> webhookTypes();
// spec.analysis.alerts[].severity ("" means info)
std::span<const std::string_view> alertSeverities();
// MetricTemplate spec.provider.type
std::span<const std::string_view> metricProviderTypes();
// AlertProvider spec.type: Flagger's plus canaryd's webhook, alertmanager and pagerduty.
std::span<const std::string_view> alertProviderTypes();
// Metrics that need no template.
std::span<const std::string_view> builtinMetrics();
// status.phase
std::span<const std::string_view> phases();
// spec.service.trafficDistribution
std::span<const std::string_view> trafficDistributions();
// spec.analysis.sessionAffinity.sameSite
std::span<const std::string_view> sameSiteValues();

// spec.analysis.judge.type (canaryd extension)
std::span<const std::string_view> judgeTypes();

bool contains(std::span<const std::string_view> values, std::string_view value);

}  // namespace canaryd::api::allowed
