#include "canaryd/api/validate.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/api/enums.h"
#include "canaryd/api/knative.h"
#include "canaryd/core/text.h"

#include "api/checker.h"
#include "api/path.h"

namespace canaryd::api {
namespace {

using path::child;
using path::element;

void checkMeta(Checker& c, const ObjectMeta& meta) {
  if (c.requiredText("metadata.name", meta.name, "every object needs a name")) {
    c.objectName("metadata.name", meta.name);
  }
  c.namespaceName("metadata.namespace", meta.namespace_);
}

void checkLocalRef(Checker& c, const std::string& p, const LocalObjectReference& ref,
                   std::span<const std::string_view> kinds) {
  c.requiredText(child(p, "apiVersion"), ref.apiVersion, "the referenced object's API version");
  if (c.requiredText(child(p, "kind"), ref.kind, "the referenced object's kind")) {
    c.oneOf(child(p, "kind"), ref.kind, kinds);
  }
  if (c.requiredText(child(p, "name"), ref.name, "the referenced object's name")) {
    c.objectName(child(p, "name"), ref.name);
  }
}

void checkService(Checker& c, const CanarySpec& spec) {
  const std::string p = "spec.service";
  if (!c.required(p, spec.service, "the port the generated Services expose (service.port)")) return;
  const CanaryService& s = *spec.service;
  if (c.required(child(p, "port"), s.port, "the port the generated Services expose")) {
    c.range(child(p, "port"), s.port, 1, 65535);
  }
  if (s.targetPort) {
    if (s.targetPort->isInt()) {
      c.range(child(p, "targetPort"), std::get<std::int64_t>(s.targetPort->value), 1, 65535);
    } else {
      static const std::regex kPortName("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
      const std::string& name = std::get<std::string>(s.targetPort->value);
      if (name.size() > 15 || !std::regex_match(name, kPortName)) {
        c.error(child(p, "targetPort"),
                quote(name) +
                    " is neither a port number (1-65535) nor a port name (at most 15 "
                    "lower-case letters, digits and '-')");
      }
    }
  }
  c.objectName(child(p, "name"), s.name);
  c.duration(child(p, "timeout"), s.timeout, false);
  c.duration(child(p, "backendTimeout"), s.backendTimeout, false);
  c.oneOf(child(p, "trafficDistribution"), s.trafficDistribution, allowed::trafficDistributions());
  for (std::size_t i = 0; i < s.gatewayRefs.size(); ++i) {
    std::string at = element(child(p, "gatewayRefs"), i);
    c.requiredText(child(at, "name"), s.gatewayRefs[i].name, "the Gateway's name");
    c.range(child(at, "port"), s.gatewayRefs[i].port, 1, 65535);
  }
  for (std::size_t i = 0; i < s.match.size(); ++i) {
    if (!s.match[i].get().is_object()) {
      c.error(element(child(p, "match"), i), "must be an object (an HTTP match request)");
    }
  }
}

void checkMetric(Checker& c, const std::string& p, const CanaryMetric& m, Duration analysisInterval,
                 bool intervalKnown) {
  if (!c.requiredText(child(p, "name"), m.name, "each metric needs a name")) return;
  c.duration(child(p, "interval"), m.interval, true);
  bool builtin = allowed::contains(allowed::builtinMetrics(), *m.name);
  if (!builtin && !m.templateRef && !m.query) {
    c.error(child(p, "templateRef"),
            "required field is missing: " + quote(*m.name) +
                " is not a built-in metric (request-success-rate, request-duration); reference a "
                "MetricTemplate with templateRef");
  }
  if (m.templateRef) {
    c.requiredText(child(child(p, "templateRef"), "name"), m.templateRef->name,
                   "the MetricTemplate's name");
    if (m.query) {
      c.warn(child(p, "query"), "is ignored because templateRef is set");
    }
  } else if (m.query) {
    c.warn(child(p, "query"), "is deprecated by Flagger; move the query into a MetricTemplate");
  }
  if (m.threshold) {
    c.warn(child(p, "threshold"), "is deprecated by Flagger; use thresholdRange.max");
  }
  if (!m.thresholdRange && !m.threshold) {
    c.warn(child(p, "thresholdRange"),
           "is not set: the metric is queried but cannot fail; set min and/or max");
  }
  if (m.thresholdRange) {
    const ThresholdRange& r = *m.thresholdRange;
    std::string rp = child(p, "thresholdRange");
    if (!r.min && !r.max) c.warn(rp, "has neither min nor max: the metric cannot fail");
    if (r.min && r.max && *r.min > *r.max) {
      c.warn(rp, "min " + formatNumber(*r.min) + " is above max " + formatNumber(*r.max) +
                     ": no value can pass, every check will fail");
    }
    if (*m.name == "request-success-rate") {
      if (r.min && *r.min > 100) {
        c.warn(child(rp, "min"), "request-success-rate is a percentage (0-100); a minimum of " +
                                     formatNumber(*r.min) + " can never be met");
      }
      if (r.max && *r.max < 0) {
        c.warn(child(rp, "max"), "request-success-rate is a percentage (0-100); a maximum of " +
                                     formatNumber(*r.max) + " can never be met");
      }
    }
    if (*m.name == "request-duration" && r.max && *r.max <= 0) {
      c.warn(child(rp, "max"), "request-duration is in milliseconds; a maximum of " +
                                   formatNumber(*r.max) + " can never be met");
    }
  }
  if (intervalKnown) {
    Result<Duration> window =
        parseDuration(m.interval.value_or(std::string(kDefaultMetricInterval)));
    if (window && *window > analysisInterval) {
      c.warn(m.interval ? child(p, "interval") : p,
             "the query window " + formatDuration(*window) + " is longer than analysis.interval " +
                 formatDuration(analysisInterval) +
                 ": consecutive checks overlap, so one bad period counts as several failed checks");
    }
  }
}

void checkWebhook(Checker& c, const std::string& p, const CanaryWebhook& w) {
  c.requiredText(child(p, "name"), w.name, "each webhook needs a name");
  if (c.requiredText(child(p, "url"), w.url, "the address the webhook is sent to")) {
    c.url(child(p, "url"), w.url);
  }
  c.oneOf(child(p, "type"), w.type, allowed::webhookTypes());
  c.duration(child(p, "timeout"), w.timeout, true);
  if (w.timeout) {
    if (Result<Duration> d = parseDuration(*w.timeout);
        d && (*d < std::chrono::seconds(1) || *d > kMaxWebhookTimeout)) {
      c.error(child(p, "timeout"),
              quote(*w.timeout) +
                  " is out of range: a webhook holds a worker while it runs, so its timeout is "
                  "1s..10m (0s would mean none)");
    }
  }
  c.atLeast(child(p, "retries"), w.retries, 0);
  if (w.retries && *w.retries > kMaxWebhookRetries) {
    c.error(child(p, "retries"), std::to_string(*w.retries) + " is more than the maximum of " +
                                     std::to_string(kMaxWebhookRetries));
  }
}

void checkAlert(Checker& c, const std::string& p, const CanaryAlert& a) {
  c.requiredText(child(p, "name"), a.name, "each alert needs a name");
  c.oneOf(child(p, "severity"), a.severity, allowed::alertSeverities());
  if (c.required(child(p, "providerRef"), a.providerRef, "the AlertProvider to send to")) {
    c.requiredText(child(child(p, "providerRef"), "name"), a.providerRef->name,
                   "the AlertProvider's name");
  }
}

template <typename T, typename Name>
void warnDuplicates(Checker& c, const std::string& p, const std::vector<T>& items, Name name) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::optional<std::string>& n = name(items[i]);
    if (!n) continue;
    auto [it, inserted] = seen.emplace(*n, i);
    if (!inserted) {
      c.warn(child(element(p, i), "name"), "duplicates the name of " + element(p, it->second) +
                                               "; results and alerts will be ambiguous");
    }
  }
}

void realRange(Checker& c, const std::string& p, const std::optional<double>& v, double lo,
               double hi, bool openLow, const std::string& what) {
  if (!v) return;
  const bool low = openLow ? *v <= lo : *v < lo;
  if (low || *v > hi) c.error(p, "must be " + what + ", got " + formatNumber(*v));
}

// `interval`: the analysis interval, when it parses.
void checkJudge(Checker& c, const std::string& p, const CanaryJudge& j,
                const std::optional<Duration>& interval, const Catalog& catalog,
                const std::string& provider) {
  const std::vector<std::string>& counted = catalog.judgeCountProviders;
  if (j.type == "sequential" && !counted.empty() &&
      std::find(counted.begin(), counted.end(), provider) == counted.end()) {
    c.error(child(p, "type"),
            "the sequential judge needs the canary's and the primary's request and error counts, "
            "and the built-in queries of provider " +
                quote(provider) + " do not tell them apart (they do for: " + join(counted, ", ") +
                "); use mann-whitney or threshold");
  }
  if (c.requiredText(child(p, "type"), j.type, "threshold, mann-whitney or sequential")) {
    c.oneOf(child(p, "type"), j.type, allowed::judgeTypes());
  }
  realRange(c, child(p, "alpha"), j.alpha, 0, 0.5, true, "above 0 and at most 0.5");
  realRange(c, child(p, "confidence"), j.confidence, 0.5, 1, false, "between 0.5 and 1");
  if (j.confidence && *j.confidence == 1) c.error(child(p, "confidence"), "must be below 1, got 1");
  realRange(c, child(p, "maxErrorRatio"), j.maxErrorRatio, 1, 1000, false, "between 1 and 1000");
  if (j.maxErrorRatio && j.maxErrorIncrease) {
    c.error(child(p, "maxErrorRatio"),
            "set either maxErrorRatio or maxErrorIncrease, not both: they are two ways of saying "
            "how much worse the canary's error rate may be");
  } else if (j.maxErrorIncrease && *j.maxErrorIncrease > 0) {
    c.warn(child(p, "maxErrorIncrease"),
           "a margin in percentage points becomes a ratio through the primary's error rate "
           "estimated so far, so the false-rollback guarantee holds only while the primary's "
           "rate stays steady (a review measured 36.5% false rollbacks when it fell from 2% to "
           "0.5% mid-run); maxErrorRatio (for example 1.5) keeps it exact");
  }
  realRange(c, child(p, "maxErrorIncrease"), j.maxErrorIncrease, 0, 100, false,
            "between 0 and 100 percentage points");
  realRange(c, child(p, "detectIncrease"), j.detectIncrease, 0, 100, true,
            "above 0 and at most 100 percentage points");
  realRange(c, child(p, "maxLatencyIncrease"), j.maxLatencyIncrease, 0, 1000, false,
            "between 0 and 1000 percent");
  realRange(c, child(p, "allowedIncrease"), j.allowedIncrease, 0, 1e9, true, "above 0");
  c.atLeast(child(p, "minSamples"), j.minSamples, 1);
  c.atLeast(child(p, "noDataLimit"), j.noDataLimit, 1);
  c.atLeast(child(p, "inconclusiveLimit"), j.inconclusiveLimit, 1);
  if (j.checkInterval) {
    const std::string at = child(p, "checkInterval");
    c.duration(at, j.checkInterval, true);
    Result<Duration> every = parseDuration(*j.checkInterval);
    if (every && *every < kMinJudgeCheckInterval) {
      c.error(at, "must be at least " + formatDuration(kMinJudgeCheckInterval) +
                      " (a counter's increase needs two Prometheus scrapes), got " +
                      formatDuration(*every));
    } else if (every && interval && *every >= *interval) {
      c.warn(at, "not shorter than the analysis interval (" + formatDuration(*interval) +
                     "): the judge runs once per step");
    }
    if (j.type && *j.type != "sequential") {
      c.warn(at,
             "applies to the sequential judge only (the " + *j.type + " judge runs once per step)");
    }
  }
  if (j.type == "sequential" && (j.confidence || j.allowedIncrease)) {
    c.warn(p,
           "confidence and allowedIncrease apply to the mann-whitney judge; sequential uses "
           "alpha, maxErrorRatio (or maxErrorIncrease) and maxLatencyIncrease");
  }
  if (j.type == "mann-whitney") {
    c.warn(child(p, "type"),
           "spends 1 - confidence over the whole run, so it rarely rolls back a healthy "
           "release (none of 20,000 in canaryd's benchmark), but it catches little: +5 points "
           "of errors at 10 requests/s in 49% of runs, a p99 latency +50% in none; the "
           "sequential judge catches both in at least 95% of runs at the same false-rollback "
           "rate");
  }
}

void checkAnalysis(Checker& c, const std::string& p, const CanaryAnalysis& a,
                   const Catalog& catalog, const CanarySpec& spec) {
  bool intervalKnown = false;
  if (c.requiredText(child(p, "interval"), a.interval,
                     "how often the analysis runs, for example 1m")) {
    c.duration(child(p, "interval"), a.interval, true);
    Result<Duration> interval = parseDuration(*a.interval);
    intervalKnown = interval.ok();
    if (interval && *interval < kMinAnalysisInterval && interval->count() >= 0) {
      c.warn(child(p, "interval"), formatDuration(*interval) +
                                       " is below the minimum; the analysis runs every " +
                                       formatDuration(kMinAnalysisInterval));
    }
  }
  if (c.required(child(p, "threshold"), a.threshold,
                 "the number of failed checks that rolls back, for example 5")) {
    c.atLeast(child(p, "threshold"), a.threshold, 1);
  }

  const bool hasStep = a.stepWeight.has_value();
  const bool hasSteps = !a.stepWeights.empty();
  const bool hasIterations = a.iterations.has_value();
  if (!hasStep && !hasSteps && !hasIterations) {
    c.error(p,
            "required field is missing: set stepWeight or stepWeights for a progressive canary, "
            "or iterations for A/B testing and blue/green");
  }
  if (hasStep && hasSteps) {
    c.error(child(p, "stepWeights"),
            "cannot be used together with stepWeight; use stepWeight for equal steps or "
            "stepWeights for an explicit list");
  }
  if (hasIterations && (hasStep || hasSteps)) {
    c.error(child(p, "iterations"),
            std::string("cannot be used together with ") +
                (hasStep ? "stepWeight" : "stepWeights") +
                ": iterations select A/B testing or blue/green, step weights a progressive canary");
  }
  c.range(child(p, "stepWeight"), a.stepWeight, 1, 100);
  for (std::size_t i = 0; i < a.stepWeights.size(); ++i) {
    std::string at = element(child(p, "stepWeights"), i);
    c.range(at, a.stepWeights[i], 1, 100);
    if (i > 0 && a.stepWeights[i] <= a.stepWeights[i - 1]) {
      c.error(at, "must be greater than the previous step (" +
                      std::to_string(a.stepWeights[i - 1]) +
                      "); step weights are absolute and must increase");
    }
  }
  c.range(child(p, "maxWeight"), a.maxWeight, 1, 100);
  if (a.maxWeight && a.stepWeight && *a.maxWeight < *a.stepWeight && *a.maxWeight >= 1) {
    c.error(child(p, "maxWeight"), "must be at least stepWeight (" + std::to_string(*a.stepWeight) +
                                       "), got " + std::to_string(*a.maxWeight));
  }
  if (a.maxWeight && hasSteps && *a.maxWeight < a.stepWeights.back()) {
    c.warn(child(p, "maxWeight"), "is below the last of stepWeights (" +
                                      std::to_string(a.stepWeights.back()) +
                                      "); the steps above it are never reached");
  }
  c.range(child(p, "stepWeightPromotion"), a.stepWeightPromotion, 0, 100);
  c.atLeast(child(p, "iterations"), a.iterations, 1);
  c.range(child(p, "mirrorWeight"), a.mirrorWeight, 0, 100);
  c.range(child(p, "primaryReadyThreshold"), a.primaryReadyThreshold, 0, 100);
  c.range(child(p, "canaryReadyThreshold"), a.canaryReadyThreshold, 0, 100);
  if (!a.match.empty() && !hasIterations) {
    c.error(child(p, "match"),
            "A/B testing needs iterations: set analysis.iterations to the number of checks to "
            "run on the matched traffic");
  }
  for (std::size_t i = 0; i < a.match.size(); ++i) {
    if (!a.match[i].get().is_object()) {
      c.error(element(child(p, "match"), i), "must be an object (an HTTP match request)");
    }
  }
  if (a.sessionAffinity) {
    std::string sp = child(p, "sessionAffinity");
    c.requiredText(child(sp, "cookieName"), a.sessionAffinity->cookieName,
                   "the name of the cookie that pins a user to the canary");
    c.atLeast(child(sp, "maxAge"), a.sessionAffinity->maxAge, 0);
    c.oneOf(child(sp, "sameSite"), a.sessionAffinity->sameSite, allowed::sameSiteValues());
  }

  if (a.judge) {
    std::optional<Duration> interval;
    if (a.interval) {
      if (Result<Duration> parsed = parseDuration(*a.interval)) interval = *parsed;
    }
    checkJudge(c, child(p, "judge"), *a.judge, interval, catalog,
               spec.provider.value_or(catalog.defaultProvider));
  }

  Duration interval = effectiveInterval(a);
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    checkMetric(c, element(child(p, "metrics"), i), a.metrics[i], interval, intervalKnown);
  }
  warnDuplicates(
      c, child(p, "metrics"), a.metrics, [](const CanaryMetric& m) -> auto& { return m.name; });
  for (std::size_t i = 0; i < a.webhooks.size(); ++i) {
    checkWebhook(c, element(child(p, "webhooks"), i), a.webhooks[i]);
  }
  warnDuplicates(
      c, child(p, "webhooks"), a.webhooks, [](const CanaryWebhook& w) -> auto& { return w.name; });
  for (std::size_t i = 0; i < a.alerts.size(); ++i) {
    checkAlert(c, element(child(p, "alerts"), i), a.alerts[i]);
  }
  const RouterEntry* router = catalog.router(spec.provider.value_or(catalog.defaultProvider));
  if (router && !router->can.weights && (hasStep || hasSteps) && !hasIterations) {
    c.warn(child(p, hasStep ? "stepWeight" : "stepWeights"),
           "is ignored: provider " + router->name +
               " cannot split traffic by weight, so this Canary runs blue/green with " +
               std::to_string(kKubernetesProviderIterations) +
               " iterations (as Flagger does); of canaryd's routers " +
               join(catalog.routersThat(&RouterCapabilities::weights), ", ") +
               " run weighted steps");
  }
}

// Checks a MetricTemplate query's {{ ... }} placeholders against the variables Flagger
// provides; a typo otherwise surfaces only when the query runs mid-rollout.
void checkQueryTemplate(Checker& c, const std::string& p, const std::string& query) {
  static const std::set<std::string, std::less<>> kVariables = {
      "name", "namespace", "target", "service", "ingress", "route", "interval"};
  std::size_t pos = 0;
  while ((pos = query.find("{{", pos)) != std::string::npos) {
    std::size_t end = query.find("}}", pos + 2);
    if (end == std::string::npos) {
      c.error(p, "has an opening {{ at offset " + std::to_string(pos) + " without a closing }}");
      return;
    }
    std::string expr = query.substr(pos + 2, end - pos - 2);
    auto trim = [](std::string s) {
      std::size_t b = s.find_first_not_of(" \t\n-");
      std::size_t e = s.find_last_not_of(" \t\n-");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    expr = trim(expr);
    if (expr.starts_with(".")) expr.erase(0, 1);
    bool known = kVariables.count(expr) > 0 ||
                 (expr.starts_with("variables.") && expr.size() > std::string("variables.").size());
    if (!known) {
      std::vector<std::string_view> names(kVariables.begin(), kVariables.end());
      std::string message = "unknown template variable " + quote(expr) +
                            "; must be one of: " + join(names, ", ") + ", variables.<key>";
      if (auto hint = closestMatch(expr, names)) message += " (did you mean " + quote(*hint) + "?)";
      c.error(p, std::move(message));
    }
    pos = end + 2;
  }
}

// A Knative Service target (Flagger's verifyKnativeCanary): only with provider knative, only
// serving.knative.dev/v1, and without what canaryd cannot do for its Revisions.
void checkKnativeTarget(Checker& c, const Canary& canary, const Catalog& catalog) {
  const CanarySpec& spec = canary.spec;
  const LocalObjectReference& t = *spec.targetRef;
  if (!isKnativeService(t)) {
    c.error("spec.targetRef.apiVersion",
            quote(t.apiVersion.value_or("")) + ": canaryd drives Knative Services of " +
                std::string(kKnativeServingApiVersion) + " only, as Flagger");
    return;
  }
  const std::string provider = spec.provider.value_or(catalog.defaultProvider);
  if (provider != "knative") {
    c.error(spec.provider ? "spec.provider" : "canaryd run --provider",
            quote(provider) +
                ": a Knative Service target takes provider knative (its traffic is split "
                "between its Revisions on the Service itself, as Flagger's knative provider "
                "does)");
  }
  const std::optional<CanaryAnalysis>& analysis =
      spec.analysis ? spec.analysis : spec.canaryAnalysis;
  if (analysis && analysis->judge && analysis->judge->type == "mann-whitney") {
    c.error(std::string(spec.analysis ? "spec.analysis" : "spec.canaryAnalysis") + ".judge.type",
            "the mann-whitney judge compares the canary's series with the primary's, and "
            "canaryd does not yet render a query once per Revision of a Knative Service; use "
            "threshold");
  }
}

}  // namespace

std::vector<Problem> validate(const Canary& canary, const Catalog& catalog) {
  Checker c;
  checkMeta(c, canary.metadata);
  const CanarySpec& spec = canary.spec;
  // A Knative Service target first: the provider it needs decides which router's checks apply.
  if (spec.targetRef && isKnativeServingRef(*spec.targetRef)) {
    checkKnativeTarget(c, canary, catalog);
  }
  // The provider, the target kind and what the router can do come from the catalog: what
  // canaryd run cannot do is refused here with the field path and what would work.
  for (auto& [path, message] : routerProblems(catalog, canary))
    c.error(path, message);
  c.url("spec.metricsServer", spec.metricsServer);
  if (c.required("spec.targetRef", spec.targetRef,
                 "the Deployment, DaemonSet or Service to roll out")) {
    checkLocalRef(c, "spec.targetRef", *spec.targetRef, allowed::targetKinds());
    const LocalObjectReference& t = *spec.targetRef;
    // A Service target's copies are named after it; routes name the apex's copies.
    if (t.kind == "Service" && !isKnativeServingRef(t) && spec.service && spec.service->name &&
        t.name && *spec.service->name != *t.name) {
      c.error("spec.service.name", "must be unset or " + quote(*t.name) +
                                       " with a Service target: canaryd copies the "
                                       "Service to " +
                                       *t.name + "-primary and " + *t.name +
                                       "-canary, and the route would send traffic to " +
                                       *spec.service->name + "-primary and " + *spec.service->name +
                                       "-canary");
    }
  }
  if (spec.autoscalerRef) {
    const AutoscalerReference& a = *spec.autoscalerRef;
    const std::string p = "spec.autoscalerRef";
    c.requiredText(child(p, "apiVersion"), a.apiVersion, "the autoscaler's API version");
    if (c.requiredText(child(p, "kind"), a.kind, "the autoscaler's kind")) {
      c.oneOf(child(p, "kind"), a.kind, allowed::autoscalerKinds());
    }
    c.requiredText(child(p, "name"), a.name, "the autoscaler's name");
    if (a.primaryScalerReplicas) {
      const ScalerReplicas& r = *a.primaryScalerReplicas;
      std::string rp = child(p, "primaryScalerReplicas");
      c.atLeast(child(rp, "minReplicas"), r.minReplicas, 1);
      c.atLeast(child(rp, "maxReplicas"), r.maxReplicas, 1);
      if (r.minReplicas && r.maxReplicas && *r.minReplicas > *r.maxReplicas) {
        c.error(child(rp, "minReplicas"),
                "must not exceed maxReplicas (" + std::to_string(*r.maxReplicas) + ")");
      }
    }
  }
  static constexpr std::string_view kIngress[] = {"Ingress"};
  static constexpr std::string_view kApisixRoute[] = {"ApisixRoute"};
  static constexpr std::string_view kUpstream[] = {"Upstream"};
  if (spec.ingressRef) checkLocalRef(c, "spec.ingressRef", *spec.ingressRef, kIngress);
  if (spec.routeRef) checkLocalRef(c, "spec.routeRef", *spec.routeRef, kApisixRoute);
  if (spec.upstreamRef) {
    const CrossNamespaceObjectReference& u = *spec.upstreamRef;
    checkLocalRef(c, "spec.upstreamRef", LocalObjectReference{u.apiVersion, u.kind, u.name},
                  kUpstream);
  }
  c.atLeast("spec.progressDeadlineSeconds", spec.progressDeadlineSeconds, 1);
  // A Knative target has no generated Services (Flagger does not read spec.service for it).
  if (!spec.targetRef || !isKnativeService(*spec.targetRef)) checkService(c, spec);
  if (spec.analysis) {
    checkAnalysis(c, "spec.analysis", *spec.analysis, catalog, spec);
    if (spec.canaryAnalysis) {
      c.warn("spec.canaryAnalysis", "is deprecated and ignored because spec.analysis is set");
    }
  } else if (spec.canaryAnalysis) {
    c.warn("spec.canaryAnalysis", "is deprecated by Flagger; rename it to spec.analysis");
    checkAnalysis(c, "spec.canaryAnalysis", *spec.canaryAnalysis, catalog, spec);
  } else {
    c.error("spec.analysis",
            "required field is missing: the interval, threshold, traffic steps and metrics of "
            "the rollout");
  }
  if (canary.status) c.oneOf("status.phase", canary.status->phase, allowed::phases());
  return c.take();
}

std::vector<Problem> validate(const MetricTemplate& t, const Catalog& catalog) {
  Checker c;
  checkMeta(c, t.metadata);
  if (c.required("spec.provider", t.spec.provider, "the metrics backend that runs the query")) {
    const MetricTemplateProvider& p = *t.spec.provider;
    if (c.requiredText("spec.provider.type", p.type, "for example prometheus")) {
      c.oneOf("spec.provider.type", p.type, allowed::metricProviderTypes());
      const MetricProviderEntry* entry = catalog.metricProvider(*p.type);
      if (allowed::contains(allowed::metricProviderTypes(), *p.type) && entry == nullptr) {
        // Valid for Flagger, but canaryd would have nothing to ask: refuse now rather than
        // fail every check of a rollout.
        c.error("spec.provider.type", quote(*p.type) +
                                          " is not supported yet by canaryd; supported: " +
                                          join(catalog.metricProviderTypes(), ", "));
      }
      if (entry != nullptr && entry->check) {
        for (auto& [path, message] : entry->check(t))
          c.error(path, message);
      }
    }
    c.url("spec.provider.address", p.address);
    if (p.secretRef) {
      c.requiredText("spec.provider.secretRef.name", p.secretRef->name, "the Secret's name");
      if (!p.address || p.address->empty()) {
        // canaryd run refuses it too: the credentials would go to whatever server a Canary
        // names in spec.metricsServer.
        c.error("spec.provider.address",
                "required with secretRef: canaryd sends a template's credentials only to an "
                "address the template names");
      }
    }
  }
  if (c.requiredText("spec.query", t.spec.query, "the query whose result is judged")) {
    checkQueryTemplate(c, "spec.query", *t.spec.query);
  }
  return c.take();
}

std::vector<Problem> validate(const AlertProvider& provider, const Catalog& catalog) {
  Checker c;
  checkMeta(c, provider.metadata);
  const AlertProviderSpec& s = provider.spec;
  if (c.requiredText("spec.type", s.type, "for example slack")) {
    c.oneOf("spec.type", s.type, allowed::alertProviderTypes());
    if (allowed::contains(allowed::alertProviderTypes(), *s.type) &&
        !catalog.hasNotifier(*s.type)) {
      c.error("spec.type", quote(*s.type) + " is not supported yet by canaryd; supported: " +
                               join(catalog.notifierTypes(), ", "));
    }
  }
  c.url("spec.address", s.address);
  c.url("spec.proxy", s.proxy);
  if (s.secretRef) c.requiredText("spec.secretRef.name", s.secretRef->name, "the Secret's name");
  if (!s.address && !s.secretRef) {
    c.error("spec.address",
            "required field is missing: set address, or secretRef to a Secret whose key "
            "\"address\" holds it");
  }
  return c.take();
}

}  // namespace canaryd::api
