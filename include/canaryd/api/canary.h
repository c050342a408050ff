// The Canary resource (flagger.app/v1beta1), field for field as Flagger defines it.
//
// Values are what the manifest says: an unset optional or an empty container means the field
// was absent, so decode -> encode round-trips. Flagger's defaults are applied separately
// (canaryd/api/defaults.h). Objects whose schema belongs to Istio (match requests, retries,
// CORS, traffic policy, ...) are kept as JsonValue. Plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "canaryd/api/json_value.h"
#include "canaryd/api/meta.h"

namespace canaryd::api {

inline constexpr const char* kFlaggerApiVersion = "flagger.app/v1beta1";

struct ScalerReplicas {
  std::optional<std::int64_t> minReplicas;
  std::optional<std::int64_t> maxReplicas;
  friend bool operator==(const ScalerReplicas&, const ScalerReplicas&) = default;
};

struct AutoscalerReference {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  std::optional<std::string> name;
  StringMap primaryScalerQueries;
  std::optional<ScalerReplicas> primaryScalerReplicas;
  friend bool operator==(const AutoscalerReference&, const AutoscalerReference&) = default;
};

// Gateway API ParentReference (the Gateways an HTTPRoute attaches to).
struct ParentReference {
  std::optional<std::string> group;
  std::optional<std::string> kind;
  std::optional<std::string> namespace_;
  std::optional<std::string> name;
  std::optional<std::string> sectionName;
  std::optional<std::int64_t> port;
  friend bool operator==(const ParentReference&, const ParentReference&) = default;
};

struct CustomMetadata {
  StringMap labels;
  StringMap annotations;
  friend bool operator==(const CustomMetadata&, const CustomMetadata&) = default;
};

struct UnmanagedMetadata {
  std::vector<std::string> labels;
  std::vector<std::string> annotations;
  friend bool operator==(const UnmanagedMetadata&, const UnmanagedMetadata&) = default;
};

struct CanaryService {
  std::optional<std::string> name;
  std::optional<std::int64_t> port;
  std::optional<std::string> portName;
  std::optional<IntOrString> targetPort;
  std::optional<std::string> appProtocol;
  std::optional<std::string> trafficDistribution;
  std::optional<bool> portDiscovery;
  std::optional<bool> headless;
  std::optional<std::string> timeout;
  std::optional<std::string> backendTimeout;
  std::vector<std::string> gateways;
  std::vector<ParentReference> gatewayRefs;
  std::vector<std::string> hosts;
  std::optional<bool> delegation;
  JsonValue trafficPolicy;
  std::vector<JsonValue> match;
  JsonValue rewrite;
  JsonValue retries;
  JsonValue headers;
  JsonValue corsPolicy;
  std::optional<std::string> meshName;
  std::vector<std::string> backends;
  std::optional<CustomMetadata> apex;
  std::optional<CustomMetadata> primary;
  std::optional<CustomMetadata> canary;
  std::optional<UnmanagedMetadata> unmanagedMetadata;
  friend bool operator==(const CanaryService&, const CanaryService&) = default;
};

struct ThresholdRange {
  std::optional<double> min;
  std::optional<double> max;
  friend bool operator==(const ThresholdRange&, const ThresholdRange&) = default;
};

struct CanaryMetric {
  std::optional<std::string> name;
  std::optional<std::string> interval;
  std::optional<double> threshold;  // deprecated by Flagger: an upper bound, use thresholdRange
  std::optional<ThresholdRange> thresholdRange;
  std::optional<std::string> query;  // deprecated by Flagger: use templateRef
  std::optional<CrossNamespaceObjectReference> templateRef;
  StringMap templateVariables;
  friend bool operator==(const CanaryMetric&, const CanaryMetric&) = default;
};

struct CanaryWebhook {
  std::optional<std::string> type;
  std::optional<std::string> name;
  std::optional<std::string> url;
  std::optional<bool> muteAlert;
  std::optional<std::string> timeout;
  std::optional<std::int64_t> retries;
  std::optional<bool> disableTLS;
  StringMap metadata;
  friend bool operator==(const CanaryWebhook&, const CanaryWebhook&) = default;
};

struct CanaryAlert {
  std::optional<std::string> name;
  std::optional<std::string> severity;
  std::optional<CrossNamespaceObjectReference> providerRef;
  friend bool operator==(const CanaryAlert&, const CanaryAlert&) = default;
};

struct SessionAffinity {
  std::optional<std::string> cookieName;
  std::optional<std::string> primaryCookieName;
  std::optional<std::string> domain;
  std::optional<bool> httpOnly;
  std::optional<std::int64_t> maxAge;
  std::optional<bool> partitioned;
  std::optional<std::string> path;
  std::optional<std::string> sameSite;
  std::optional<bool> secure;
  friend bool operator==(const SessionAffinity&, const SessionAffinity&) = default;
};

// canaryd's extension (opt-in): judge the canary against the primary with the statistical
// judges of analysis/ instead of Flagger's fixed per-interval thresholds.
struct CanaryJudge {
  std::optional<std::string> type;         // threshold (Flagger's), mann-whitney, sequential
  std::optional<double> alpha;             // sequential: false-rollback rate over the run
  std::optional<double> maxErrorIncrease;  // sequential: allowed error-rate increase, points
  // sequential: allowed ratio of the canary's error rate to the primary's (1.2: 20% more); exact
  // whatever the primary's rate does, unlike maxErrorIncrease (a plug-in). Default 1.
  std::optional<double> maxErrorRatio;
  std::optional<double> maxLatencyIncrease;  // sequential: allowed slowdown, percent (default 0)
  std::optional<double> confidence;          // mann-whitney: confidence of the interval
  std::optional<double> allowedIncrease;     // mann-whitney: effect size that fails (mean ratio)
  std::optional<std::int64_t> minSamples;    // canary requests the run must count to promote
  std::optional<std::int64_t> noDataLimit;   // consecutive windows without data: a rollback
  // Windows at the top weight without a verdict before the run ends (default 15, and the run
  // ends earlier once it would catch detectIncrease; with promoteOnInconclusive false,
  // analysis.threshold).
  std::optional<std::int64_t> inconclusiveLimit;
  // Promote a run that ends without evidence either way (default true: the judge is a harm
  // detector); false: promote only on evidence of no harm, roll back otherwise.
  std::optional<bool> promoteOnInconclusive;
  // sequential: the smallest error-rate increase (percentage points above maxErrorIncrease) a
  // run must be able to catch before it promotes without a verdict: the run holds at the top
  // weight until its requests would have caught it in 95% of runs, at most inconclusiveLimit
  // windows (default 1 point).
  std::optional<double> detectIncrease;
  // sequential: also judge between the analysis steps, this often ("15s"); the weights and the
  // other checks still move once per interval. Unset: once per interval, as Flagger does.
  std::optional<std::string> checkInterval;
  friend bool operator==(const CanaryJudge&, const CanaryJudge&) = default;
};

struct CanaryAnalysis {
  std::optional<std::string> interval;
  std::optional<std::int64_t> iterations;
  std::optional<bool> mirror;
  std::optional<std::int64_t> mirrorWeight;
  std::optional<std::int64_t> maxWeight;
  std::optional<std::int64_t> stepWeight;
  std::vector<std::int64_t> stepWeights;
  std::optional<std::int64_t> stepWeightPromotion;
  std::optional<std::int64_t> threshold;
  std::optional<std::int64_t> primaryReadyThreshold;
  std::optional<std::int64_t> canaryReadyThreshold;
  std::vector<CanaryAlert> alerts;
  std::vector<CanaryMetric> metrics;
  std::vector<CanaryWebhook> webhooks;
  std::vector<JsonValue> match;
  std::optional<SessionAffinity> sessionAffinity;
  std::optional<CanaryJudge> judge;  // canaryd extension
  friend bool operator==(const CanaryAnalysis&, const CanaryAnalysis&) = default;
};

struct CanarySpec {
  std::optional<std::string> provider;
  std::optional<std::string> metricsServer;
  std::optional<LocalObjectReference> targetRef;
  std::optional<AutoscalerReference> autoscalerRef;
  std::optional<LocalObjectReference> ingressRef;
  std::optional<LocalObjectReference> routeRef;
  std::optional<CrossNamespaceObjectReference> upstreamRef;
  std::optional<CanaryService> service;
  std::optional<CanaryAnalysis> analysis;
  std::optional<CanaryAnalysis> canaryAnalysis;  // deprecated by Flagger: use analysis
  std::optional<std::int64_t> progressDeadlineSeconds;
  std::optional<bool> skipAnalysis;
  std::optional<bool> revertOnDeletion;
  std::optional<bool> suspend;
  friend bool operator==(const CanarySpec&, const CanarySpec&) = default;
};

struct CanaryCondition {
  std::optional<std::string> type;
  std::optional<std::string> status;
  std::optional<std::string> lastUpdateTime;
  std::optional<std::string> lastTransitionTime;
  std::optional<std::string> reason;
  std::optional<std::string> message;
  std::optional<std::int64_t> observedGeneration;  // canaryd's kstatus conditions
  friend bool operator==(const CanaryCondition&, const CanaryCondition&) = default;
};

// canaryd extension: where the statistical judge of spec.analysis.judge keeps its run.
struct CanaryJudgeStatus {
  std::optional<std::string> verdict;        // pass, fail, inconclusive, nodata: the last window's
  std::optional<std::string> explanation;    // the numbers behind it, for people
  std::optional<std::int64_t> noDataChecks;  // windows without data in this run
  std::optional<std::int64_t> inconclusiveChecks;  // windows at the top weight without a pass
  StringMap state;  // sequential: each test's evidence so far, as numbers in text
  // sequential with checkInterval: when the last window judged ended (RFC 3339); the next
  // window starts there, so the windows between steps and at the steps do not overlap
  std::optional<std::string> lastCheckTime;
  friend bool operator==(const CanaryJudgeStatus&, const CanaryJudgeStatus&) = default;
};

// canaryd extension: one named number behind a decision ("value" = "92.1").
struct CanaryEvidence {
  std::optional<std::string> name;
  std::optional<std::string> value;
  friend bool operator==(const CanaryEvidence&, const CanaryEvidence&) = default;
};

// canaryd extension: the last failed check of the run and its numbers, kept so that the
// rollback (one interval after the threshold-th failure, as in Flagger) can say why.
struct CanaryFailedCheck {
  std::optional<std::string> message;  // "request-success-rate 92.1 < 99"
  std::optional<std::string> time;
  // What failed: "webhook" (a gate's webhook) or "metric" (a metric check); a rollback when the
  // failures reach the threshold is counted under it.
  std::optional<std::string> source;
  std::vector<CanaryEvidence> evidence;
  friend bool operator==(const CanaryFailedCheck&, const CanaryFailedCheck&) = default;
};

struct CanaryStatus {
  std::optional<std::int64_t> observedGeneration;  // canaryd extension (kstatus)
  std::optional<std::string> phase;
  std::optional<std::int64_t> failedChecks;
  std::optional<std::int64_t> canaryWeight;
  std::optional<std::int64_t> iterations;
  StringMap trackedConfigs;
  std::optional<std::string> lastAppliedSpec;
  std::optional<std::string> lastPromotedSpec;
  std::optional<std::string> lastTrackedRevision;
  std::optional<std::string> lastTransitionTime;
  std::optional<std::string> sessionAffinityCookie;
  std::optional<std::string> primarySessionAffinityCookie;
  std::optional<std::string> previousSessionAffinityCookie;
  std::vector<CanaryCondition> conditions;
  std::optional<CanaryJudgeStatus> judge;            // canaryd extension
  std::optional<CanaryFailedCheck> lastFailedCheck;  // canaryd extension
  // canaryd extension: the images of the revision being (or last) rolled out, and of the one
  // last promoted, for people and dashboards ("name=image, ...").
  std::optional<std::string> lastAppliedRevision;
  std::optional<std::string> lastPromotedRevision;
  // Status fields written by other versions, kept as written.
  JsonValue rest;
  friend bool operator==(const CanaryStatus&, const CanaryStatus&) = default;
};

struct Canary {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  ObjectMeta metadata;
  CanarySpec spec;
  std::optional<CanaryStatus> status;
  friend bool operator==(const Canary&, const Canary&) = default;
};

}  // namespace canaryd::api
