#include "canaryd/api/defaults.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace canaryd::api {

Canary withDefaults(Canary canary) {
  CanarySpec& spec = canary.spec;
  if (!spec.analysis && spec.canaryAnalysis) spec.analysis = spec.canaryAnalysis;
  if (!spec.progressDeadlineSeconds) spec.progressDeadlineSeconds = kDefaultProgressDeadlineSeconds;

  CanaryService& service = spec.service ? *spec.service : spec.service.emplace();
  if (!service.name && spec.targetRef && spec.targetRef->name) service.name = spec.targetRef->name;
  if (!service.portName) service.portName = std::string(kDefaultPortName);
  if (!service.targetPort && service.port) service.targetPort = IntOrString{*service.port};

  if (!spec.analysis) return canary;
  CanaryAnalysis& a = *spec.analysis;
  if (!a.interval) a.interval = formatDuration(kDefaultAnalysisInterval);
  if (!a.threshold || *a.threshold <= 0) a.threshold = kDefaultThreshold;
  if (!a.maxWeight) {
    a.maxWeight = a.stepWeights.empty() ? kDefaultMaxWeight
                                        : std::min<std::int64_t>(a.stepWeights.back(), 100);
  }
  if (!a.primaryReadyThreshold) a.primaryReadyThreshold = kDefaultReadyThreshold;
  if (!a.canaryReadyThreshold) a.canaryReadyThreshold = kDefaultReadyThreshold;
  if (spec.provider == "kubernetes" && (!a.iterations || *a.iterations < 1)) {
    a.iterations = kKubernetesProviderIterations;
  }
  if (a.sessionAffinity && (!a.sessionAffinity->maxAge || *a.sessionAffinity->maxAge == 0)) {
    a.sessionAffinity->maxAge = kDefaultSessionAffinityMaxAge;
  }
  for (CanaryMetric& m : a.metrics) {
    if (!m.interval) m.interval = std::string(kDefaultMetricInterval);
  }
  for (CanaryWebhook& w : a.webhooks) {
    if (!w.type || w.type->empty()) w.type = "rollout";
    if (!w.timeout) w.timeout = std::string(kDefaultWebhookTimeout);
  }
  for (CanaryAlert& alert : a.alerts) {
    if (!alert.severity || alert.severity->empty()) alert.severity = "info";
  }
  return canary;
}

AlertProvider withDefaults(AlertProvider provider) {
  if (!provider.spec.channel) provider.spec.channel = std::string(kDefaultAlertChannel);
  if (!provider.spec.username) provider.spec.username = std::string(kDefaultAlertUsername);
  return provider;
}

Duration effectiveInterval(const CanaryAnalysis& analysis, Duration floor) {
  if (!analysis.interval) return kDefaultAnalysisInterval;
  Result<Duration> parsed = parseDuration(*analysis.interval);
  if (!parsed) return kDefaultAnalysisInterval;
  return std::max(*parsed, floor);
}

std::optional<Duration> judgeCheckInterval(const CanaryAnalysis& analysis, Duration interval) {
  if (!analysis.judge || analysis.judge->type.value_or("") != "sequential" ||
      !analysis.judge->checkInterval) {
    return std::nullopt;
  }
  Result<Duration> parsed = parseDuration(*analysis.judge->checkInterval);
  if (!parsed) return std::nullopt;
  const Duration every = std::max(*parsed, kMinJudgeCheckInterval);
  if (every >= interval) return std::nullopt;
  return every;
}

std::string_view toString(Strategy strategy) {
  switch (strategy) {
    case Strategy::kCanary:
      return "canary";
    case Strategy::kABTesting:
      return "A/B testing";
    case Strategy::kBlueGreen:
      return "blue/green";
    case Strategy::kBlueGreenMirroring:
      return "blue/green with traffic mirroring";
  }
  return "canary";
}

Strategy strategyOf(const CanaryAnalysis& analysis) {
  // Flagger's order: iterations with match are A/B testing, iterations alone blue/green
  // (mirrored when mirror is set); otherwise stepWeight(s) make a progressive canary.
  if (analysis.iterations && *analysis.iterations > 0) {
    if (!analysis.match.empty()) return Strategy::kABTesting;
    if (analysis.mirror.value_or(false)) return Strategy::kBlueGreenMirroring;
    return Strategy::kBlueGreen;
  }
  return Strategy::kCanary;
}

std::vector<std::int64_t> weightSteps(const CanaryAnalysis& analysis) {
  std::vector<std::int64_t> steps;
  if (strategyOf(analysis) != Strategy::kCanary) return steps;
  if (analysis.stepWeight && *analysis.stepWeight > 0) {
    std::int64_t max =
        std::clamp<std::int64_t>(analysis.maxWeight.value_or(kDefaultMaxWeight), 1, 100);
    for (std::int64_t w = *analysis.stepWeight; w < max; w += *analysis.stepWeight) {
      steps.push_back(w);
    }
    steps.push_back(max);
    return steps;
  }
  std::int64_t max = analysis.maxWeight.value_or(
      analysis.stepWeights.empty() ? kDefaultMaxWeight : analysis.stepWeights.back());
  for (std::int64_t w : analysis.stepWeights) {
    if (w > 0 && w <= max && (steps.empty() || w > steps.back())) steps.push_back(w);
  }
  return steps;
}

JsonValue ownerReferenceTo(const Canary& canary) {
  return JsonValue(nlohmann::json{{"apiVersion", kFlaggerApiVersion},
                                  {"kind", "Canary"},
                                  {"name", canary.metadata.name.value_or("")},
                                  {"uid", canary.metadata.uid.value_or("")},
                                  {"controller", true},
                                  {"blockOwnerDeletion", true}});
}

}  // namespace canaryd::api
