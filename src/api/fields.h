// The field list of every API type, written once and used by the decoder (which also derives
// the known-field list for "unknown field" hints) and by the encoder. Internal to api/.
//
// `v(name, member)` visits one JSON field; `v.rest(member)` collects the fields not listed,
// for types that keep them (metadata, status) instead of reporting them as unknown.
#pragma once

#include "canaryd/api/alert_provider.h"
#include "canaryd/api/canary.h"
#include "canaryd/api/metric_template.h"

namespace canaryd::api {

template <class V>
void fields(V& v, ObjectMeta& m) {
  v("name", m.name);
  v("namespace", m.namespace_);
  v("labels", m.labels);
  v("annotations", m.annotations);
  v("uid", m.uid);
  v("resourceVersion", m.resourceVersion);
  v("generation", m.generation);
  v("creationTimestamp", m.creationTimestamp);
  v("deletionTimestamp", m.deletionTimestamp);
  v("finalizers", m.finalizers);
  v("ownerReferences", m.ownerReferences);
  v.rest(m.rest);
}

template <class V>
void fields(V& v, LocalObjectReference& r) {
  v("apiVersion", r.apiVersion);
  v("kind", r.kind);
  v("name", r.name);
}

template <class V>
void fields(V& v, CrossNamespaceObjectReference& r) {
  v("apiVersion", r.apiVersion);
  v("kind", r.kind);
  v("name", r.name);
  v("namespace", r.namespace_);
}

template <class V>
void fields(V& v, SecretReference& r) {
  v("name", r.name);
}

template <class V>
void fields(V& v, ScalerReplicas& r) {
  v("minReplicas", r.minReplicas);
  v("maxReplicas", r.maxReplicas);
}

template <class V>
void fields(V& v, AutoscalerReference& r) {
  v("apiVersion", r.apiVersion);
  v("kind", r.kind);
  v("name", r.name);
  v("primaryScalerQueries", r.primaryScalerQueries);
  v("primaryScalerReplicas", r.primaryScalerReplicas);
}

template <class V>
void fields(V& v, ParentReference& r) {
  v("group", r.group);
  v("kind", r.kind);
  v("namespace", r.namespace_);
  v("name", r.name);
  v("sectionName", r.sectionName);
  v("port", r.port);
}

template <class V>
void fields(V& v, CustomMetadata& m) {
  v("labels", m.labels);
  v("annotations", m.annotations);
}

template <class V>
void fields(V& v, UnmanagedMetadata& m) {
  v("labels", m.labels);
  v("annotations", m.annotations);
}

template <class V>
void fields(V& v, CanaryService& s) {
  v("name", s.name);
  v("port", s.port);
  v("portName", s.portName);
  v("targetPort", s.targetPort);
  v("appProtocol", s.appProtocol);
  v("trafficDistribution", s.trafficDistribution);
  v("portDiscovery", s.portDiscovery);
  v("headless", s.headless);
  v("timeout", s.timeout);
  v("backendTimeout", s.backendTimeout);
  v("gateways", s.gateways);
  v("gatewayRefs", s.gatewayRefs);
  v("hosts", s.hosts);
  v("delegation", s.delegation);
  v("trafficPolicy", s.trafficPolicy);
  v("match", s.match);
  v("rewrite", s.rewrite);
  v("retries", s.retries);
  v("headers", s.headers);
  v("corsPolicy", s.corsPolicy);
  v("meshName", s.meshName);
  v("backends", s.backends);
  v("apex", s.apex);
  v("primary", s.primary);
  v("canary", s.canary);
  v("unmanagedMetadata", s.unmanagedMetadata);
}

template <class V>
void fields(V& v, ThresholdRange& r) {
  v("min", r.min);
  v("max", r.max);
}

template <class V>
void fields(V& v, CanaryMetric& m) {
  v("name", m.name);
  v("interval", m.interval);
  v("threshold", m.threshold);
  v("thresholdRange", m.thresholdRange);
  v("query", m.query);
  v("templateRef", m.templateRef);
  v("templateVariables", m.templateVariables);
}

template <class V>
void fields(V& v, CanaryWebhook& w) {
  v("type", w.type);
  v("name", w.name);
  v("url", w.url);
  v("muteAlert", w.muteAlert);
  v("timeout", w.timeout);
  v("retries", w.retries);
  v("disableTLS", w.disableTLS);
  v("metadata", w.metadata);
}

template <class V>
void fields(V& v, CanaryAlert& a) {
  v("name", a.name);
  v("severity", a.severity);
  v("providerRef", a.providerRef);
}

template <class V>
void fields(V& v, SessionAffinity& s) {
  v("cookieName", s.cookieName);
  v("primaryCookieName", s.primaryCookieName);
  v("domain", s.domain);
  v("httpOnly", s.httpOnly);
  v("maxAge", s.maxAge);
  v("partitioned", s.partitioned);
  v("path", s.path);
  v("sameSite", s.sameSite);
  v("secure", s.secure);
}

template <class V>
void fields(V& v, CanaryJudge& j) {
  v("type", j.type);
  v("alpha", j.alpha);
  v("maxErrorIncrease", j.maxErrorIncrease);
  v("maxErrorRatio", j.maxErrorRatio);
  v("maxLatencyIncrease", j.maxLatencyIncrease);
  v("confidence", j.confidence);
  v("allowedIncrease", j.allowedIncrease);
  v("minSamples", j.minSamples);
  v("noDataLimit", j.noDataLimit);
  v("inconclusiveLimit", j.inconclusiveLimit);
  v("promoteOnInconclusive", j.promoteOnInconclusive);
  v("detectIncrease", j.detectIncrease);
  v("checkInterval", j.checkInterval);
}

template <class V>
void fields(V& v, CanaryAnalysis& a) {
  v("interval", a.interval);
  v("iterations", a.iterations);
  v("mirror", a.mirror);
  v("mirrorWeight", a.mirrorWeight);
  v("maxWeight", a.maxWeight);
  v("stepWeight", a.stepWeight);
  v("stepWeights", a.stepWeights);
  v("stepWeightPromotion", a.stepWeightPromotion);
  v("threshold", a.threshold);
  v("primaryReadyThreshold", a.primaryReadyThreshold);
  v("canaryReadyThreshold", a.canaryReadyThreshold);
  v("alerts", a.alerts);
  v("metrics", a.metrics);
  v("webhooks", a.webhooks);
  v("match", a.match);
  v("sessionAffinity", a.sessionAffinity);
  v("judge", a.judge);
}

template <class V>
void fields(V& v, CanarySpec& s) {
  v("provider", s.provider);
  v("metricsServer", s.metricsServer);
  v("targetRef", s.targetRef);
  v("autoscalerRef", s.autoscalerRef);
  v("ingressRef", s.ingressRef);
  v("routeRef", s.routeRef);
  v("upstreamRef", s.upstreamRef);
  v("service", s.service);
  v("analysis", s.analysis);
  v("canaryAnalysis", s.canaryAnalysis);
  v("progressDeadlineSeconds", s.progressDeadlineSeconds);
  v("skipAnalysis", s.skipAnalysis);
  v("revertOnDeletion", s.revertOnDeletion);
  v("suspend", s.suspend);
}

template <class V>
void fields(V& v, CanaryCondition& c) {
  v("type", c.type);
  v("status", c.status);
  v("lastUpdateTime", c.lastUpdateTime);
  v("lastTransitionTime", c.lastTransitionTime);
  v("reason", c.reason);
  v("message", c.message);
  v("observedGeneration", c.observedGeneration);
}

template <class V>
void fields(V& v, CanaryJudgeStatus& j) {
  v("verdict", j.verdict);
  v("explanation", j.explanation);
  v("noDataChecks", j.noDataChecks);
  v("inconclusiveChecks", j.inconclusiveChecks);
  v("state", j.state);
  v("lastCheckTime", j.lastCheckTime);
}

template <class V>
void fields(V& v, CanaryEvidence& e) {
  v("name", e.name);
  v("value", e.value);
}

template <class V>
void fields(V& v, CanaryFailedCheck& f) {
  v("message", f.message);
  v("time", f.time);
  v("source", f.source);
  v("evidence", f.evidence);
}

template <class V>
void fields(V& v, CanaryStatus& s) {
  v("observedGeneration", s.observedGeneration);
  v("phase", s.phase);
  v("failedChecks", s.failedChecks);
  v("canaryWeight", s.canaryWeight);
  v("iterations", s.iterations);
  v("trackedConfigs", s.trackedConfigs);
  v("lastAppliedSpec", s.lastAppliedSpec);
  v("lastPromotedSpec", s.lastPromotedSpec);
  v("lastTrackedRevision", s.lastTrackedRevision);
  v("lastTransitionTime", s.lastTransitionTime);
  v("sessionAffinityCookie", s.sessionAffinityCookie);
  v("primarySessionAffinityCookie", s.primarySessionAffinityCookie);
  v("previousSessionAffinityCookie", s.previousSessionAffinityCookie);
  v("conditions", s.conditions);
  v("judge", s.judge);
  v("lastFailedCheck", s.lastFailedCheck);
  v("lastAppliedRevision", s.lastAppliedRevision);
  v("lastPromotedRevision", s.lastPromotedRevision);
  v.rest(s.rest);
}

template <class V>
void fields(V& v, Canary& c) {
  v("apiVersion", c.apiVersion);
  v("kind", c.kind);
  v("metadata", c.metadata);
  v("spec", c.spec);
  v("status", c.status);
}

template <class V>
void fields(V& v, MetricTemplateProvider& p) {
  v("type", p.type);
  v("address", p.address);
  v("secretRef", p.secretRef);
  v("insecureSkipVerify", p.insecureSkipVerify);
  v("region", p.region);
  v("headers", p.headers);
}

template <class V>
void fields(V& v, MetricTemplateSpec& s) {
  v("provider", s.provider);
  v("query", s.query);
}

template <class V>
void fields(V& v, MetricTemplate& t) {
  v("apiVersion", t.apiVersion);
  v("kind", t.kind);
  v("metadata", t.metadata);
  v("spec", t.spec);
  v("status", t.status);
}

template <class V>
void fields(V& v, AlertProviderSpec& s) {
  v("type", s.type);
  v("channel", s.channel);
  v("username", s.username);
  v("address", s.address);
  v("proxy", s.proxy);
  v("secretRef", s.secretRef);
}

template <class V>
void fields(V& v, AlertProvider& p) {
  v("apiVersion", p.apiVersion);
  v("kind", p.kind);
  v("metadata", p.metadata);
  v("spec", p.spec);
  v("status", p.status);
}

}  // namespace canaryd::api
