// Flagger's defaults and the derived facts the controller and the CLI need (strategy,
// effective interval, the sequence of traffic weights). Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "canaryd/api/alert_provider.h"
#include "canaryd/api/canary.h"
#include "canaryd/core/duration.h"

namespace canaryd::api {

inline constexpr Duration kDefaultAnalysisInterval = std::chrono::seconds(60);
inline constexpr Duration kMinAnalysisInterval = std::chrono::seconds(10);
// The shortest judge.checkInterval: a counter's increase needs two Prometheus scrapes.
inline constexpr Duration kMinJudgeCheckInterval = std::chrono::seconds(5);
inline constexpr std::int64_t kDefaultThreshold = 1;
// The statistical judge's harm-detector defaults (judge.promoteOnInconclusive true): a run
// without a verdict is promoted once its requests would have caught an error-rate increase of
// kDefaultDetectIncrease points (one point: 0.5% -> 1.5% errors), holding at the top weight for
// at most kDefaultInconclusiveLimit windows (a service too quiet to show that in 15 windows
// is promoted then, as a healthy Flagger run would be).
inline constexpr double kDefaultDetectIncrease = 1.0;
inline constexpr std::int64_t kDefaultInconclusiveLimit = 15;
inline constexpr std::int64_t kDefaultMaxWeight = 100;
inline constexpr std::string_view kDefaultMetricInterval = "1m";
inline constexpr std::string_view kDefaultWebhookTimeout = "10s";
// A webhook holds a reconcile worker while it runs: its timeout is 1s..10m (0s, which Flagger
// takes as "no timeout", is refused) and it is retried at most 10 times.
inline constexpr std::chrono::seconds kMaxWebhookTimeout{600};
inline constexpr std::int64_t kMaxWebhookRetries = 10;
inline constexpr std::string_view kDefaultPortName = "http";
inline constexpr std::int64_t kDefaultProgressDeadlineSeconds = 600;
inline constexpr std::int64_t kDefaultReadyThreshold = 100;
inline constexpr std::int64_t kDefaultSessionAffinityMaxAge = 86400;
inline constexpr std::int64_t kKubernetesProviderIterations = 10;
inline constexpr std::string_view kDefaultAlertChannel = "general";
inline constexpr std::string_view kDefaultAlertUsername = "flagger";

// The Canary with every unset field that has a Flagger default filled in: analysis interval
// 60s, threshold 1 (also when <= 0), maxWeight 100 or the last stepWeights entry, metric
// interval 1m, webhook type rollout and timeout 10s, alert severity info, service name =
// target name, portName http, targetPort = port, progressDeadlineSeconds 600, ready
// thresholds 100, session cookie maxAge 86400, and iterations 10 for the kubernetes provider
// when unset. The deprecated spec.canaryAnalysis is used when spec.analysis is absent.
Canary withDefaults(Canary canary);

// channel "general" and username "flagger", as Flagger.
AlertProvider withDefaults(AlertProvider provider);

// The analysis interval as Flagger runs it: 60s when unset or unparsable, never below `floor`
// (Flagger's 10s; `canaryd run --min-interval` lowers it for tests and demos).
Duration effectiveInterval(const CanaryAnalysis& analysis, Duration floor = kMinAnalysisInterval);

// How often the sequential judge also checks between the analysis steps
// (spec.analysis.judge.checkInterval, never below kMinJudgeCheckInterval); nothing when the
// judge is not sequential, the field is unset or unparsable, or it is not shorter than
// `interval` (the analysis interval in effect): then the judge runs once per step.
std::optional<Duration> judgeCheckInterval(const CanaryAnalysis& analysis, Duration interval);

enum class Strategy {
  kCanary,              // progressive traffic shifting by stepWeight(s)
  kABTesting,           // match + iterations
  kBlueGreen,           // iterations
  kBlueGreenMirroring,  // iterations + mirror
};
std::string_view toString(Strategy strategy);
Strategy strategyOf(const CanaryAnalysis& analysis);

// The canary weights a progressive rollout steps through, in order, ending at maxWeight:
// stepWeight 10, maxWeight 50 -> 10 20 30 40 50; stepWeights [1, 5, 25] -> 1 5 25.
// Empty for the other strategies or when the step is not positive.
std::vector<std::int64_t> weightSteps(const CanaryAnalysis& analysis);

// The ownerReferences entry that makes a generated object (primary Deployment, Services,
// routing objects) belong to `canary`, as its controller: deleting the Canary deletes them.
JsonValue ownerReferenceTo(const Canary& canary);

}  // namespace canaryd::api
