#include "canaryd/api/enums.h"

#include <array>

namespace canaryd::api::allowed {
namespace {

using namespace std::string_view_literals;

constexpr std::array kProviders = {
    "apisix"sv,       "appmesh"sv,       "appmesh:v1beta2"sv,
    "contour"sv,      "gatewayapi:v1"sv, "gatewayapi:v1beta1"sv,
    "gloo"sv,         "istio"sv,         "knative"sv,
    "kubernetes"sv,   "kuma"sv,          "linkerd"sv,
    "nginx"sv,        "osm"sv,           "skipper"sv,
    "smi:v1alpha1"sv, "smi:v1alpha2"sv,  "smi:v1alpha3"sv,
    "traefik"sv,      "haproxy"sv,       "traefik:containo.us"sv,
};
constexpr std::array kTargetKinds = {"Deployment"sv, "DaemonSet"sv, "Service"sv};
constexpr std::array kAutoscalerKinds = {"HorizontalPodAutoscaler"sv, "ScaledObject"sv};
constexpr std::array kWebhookTypes = {
    ""sv,
    "confirm-rollout"sv,
    "pre-rollout"sv,
    "rollout"sv,
    "confirm-traffic-increase"sv,
    "confirm-promotion"sv,
    "post-rollout"sv,
    "rollback"sv,
    "event"sv,
};
constexpr std::array kAlertSeverities = {""sv, "info"sv, "warn"sv, "error"sv};
constexpr std::array kMetricProviderTypes = {
    "prometheus"sv,  "influxdb"sv,   "datadog"sv,  "externalmetrics"sv,
    "stackdriver"sv, "cloudwatch"sv, "newrelic"sv, "graphite"sv,
    "dynatrace"sv,   "keptn"sv,      "splunk"sv,
};
constexpr std::array kAlertProviderTypes = {
    "slack"sv, "msteams"sv, "discord"sv,      "rocket"sv,
    "gchat"sv, "webhook"sv, "alertmanager"sv, "pagerduty"sv,
};
constexpr std::array kBuiltinMetrics = {"request-success-rate"sv, "request-duration"sv};
constexpr std::array kPhases = {
    ""sv,          "Initializing"sv, "Initialized"sv,
    "Waiting"sv,   "Progressing"sv,  "WaitingPromotion"sv,
    "Promoting"sv, "Finalising"sv,   "Succeeded"sv,
    "Failed"sv,    "Terminating"sv,  "Terminated"sv,
};
constexpr std::array kTrafficDistributions = {"PreferClose"sv, "PreferSameZone"sv,
                                              "PreferSameNode"sv};
constexpr std::array kJudgeTypes = {"threshold"sv, "mann-whitney"sv, "sequential"sv};
constexpr std::array kSameSite = {"Strict"sv, "Lax"sv, "None"sv};

}  // namespace

std::span<const std::string_view> providers() {
  return kProviders;
}
std::span<const std::string_view> targetKinds() {
  return kTargetKinds;
}
std::span<const std::string_view> autoscalerKinds() {
  return kAutoscalerKinds;
}
std::span<const std::string_view> webhookTypes() {
  return kWebhookTypes;
}
std::span<const std::string_view> alertSeverities() {
  return kAlertSeverities;
}
std::span<const std::string_view> metricProviderTypes() {
  return kMetricProviderTypes;
}
std::span<const std::string_view> alertProviderTypes() {
  return kAlertProviderTypes;
}
std::span<const std::string_view> builtinMetrics() {
  return kBuiltinMetrics;
}
std::span<const std::string_view> phases() {
  return kPhases;
}
std::span<const std::string_view> trafficDistributions() {
  return kTrafficDistributions;
}
std::span<const std::string_view> sameSiteValues() {
  return kSameSite;
}

std::span<const std::string_view> judgeTypes() {
  return kJudgeTypes;
}

bool contains(std::span<const std::string_view> values, std::string_view value) {
  for (std::string_view v : values) {
    if (v == value) return true;
  }
  return false;
}

}  // namespace canaryd::api::allowed
