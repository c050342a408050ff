#include "canaryd/controller/controller_metrics.h"

#include <map>
#include <mutex>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace canaryd::controller {
namespace {

using prometheus::Histogram;

// Prometheus' client default buckets, as Flagger's duration histogram uses.
const Histogram::BucketBoundaries kDefaultBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                  0.5,   1,    2.5,   5,    10};

template <class Builder>
auto& family(Builder builder, const char* name, const char* help, prometheus::Registry& registry) {
  return builder.Name(name).Help(help).Register(registry);
}

std::string codeLabel(int status) {
  return status == 0 ? "none" : std::to_string(status);
}

}  // namespace

struct ControllerMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Registry& r = *registry;
  prometheus::Family<prometheus::Gauge>& info = family(
      prometheus::BuildGauge(), "flagger_info", "canaryd version and mesh provider information", r);
  prometheus::Family<prometheus::Gauge>& status =
      family(prometheus::BuildGauge(), "flagger_canary_status",
             "Last canary analysis result: 0 Progressing, 2 Failed, 1 otherwise", r);
  prometheus::Family<prometheus::Gauge>& weight =
      family(prometheus::BuildGauge(), "flagger_canary_weight",
             "Traffic weight of the primary and canary workloads", r);
  prometheus::Family<prometheus::Gauge>& total =
      family(prometheus::BuildGauge(), "flagger_canary_total", "Canaries known, per namespace", r);
  prometheus::Family<Histogram>& canaryDuration =
      family(prometheus::BuildHistogram(), "flagger_canary_duration_seconds",
             "Seconds spent performing canary analysis (one reconcile)", r);
  prometheus::Family<prometheus::Gauge>& analysis =
      family(prometheus::BuildGauge(), "flagger_canary_metric_analysis",
             "Last canary analysis result per metric", r);
  prometheus::Family<prometheus::Counter>& successes =
      family(prometheus::BuildCounter(), "flagger_canary_successes_total",
             "Canary runs that ended in promotion", r);
  prometheus::Family<prometheus::Counter>& failures =
      family(prometheus::BuildCounter(), "flagger_canary_failures_total",
             "Canary runs that ended in a rollback", r);
  prometheus::Family<prometheus::Counter>& reconciles =
      family(prometheus::BuildCounter(), "canaryd_reconciles_total",
             "Reconciles by result: ok, conflict, invalid, error", r);
  prometheus::Family<Histogram>& duration =
      family(prometheus::BuildHistogram(), "canaryd_reconcile_duration_seconds",
             "Time one reconcile took, including webhooks and metric queries", r);
  Histogram& durationAll =
      duration.Add({}, Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                   0.25, 0.5, 1, 2.5, 5, 10});
  prometheus::Gauge& queueDepth = family(prometheus::BuildGauge(), "canaryd_workqueue_depth",
                                         "Canaries ready to be reconciled, waiting for a worker", r)
                                      .Add({});
  Histogram& queueWait =
      family(prometheus::BuildHistogram(), "canaryd_workqueue_wait_seconds",
             "Time a Canary waited ready in the work queue before a worker took it", r)
          .Add({}, kDefaultBuckets);
  prometheus::Family<prometheus::Counter>& kubeRequests =
      family(prometheus::BuildCounter(), "canaryd_kube_api_requests_total",
             "Kubernetes API requests by method and HTTP status (none: no answer)", r);
  prometheus::Family<Histogram>& kubeLatency =
      family(prometheus::BuildHistogram(), "canaryd_kube_api_request_duration_seconds",
             "Kubernetes API request latency by method", r);
  prometheus::Family<prometheus::Counter>& promRequests =
      family(prometheus::BuildCounter(), "canaryd_prometheus_requests_total",
             "Metric provider (Prometheus) requests by HTTP status (none: no answer)", r);
  Histogram& promLatency =
      family(prometheus::BuildHistogram(), "canaryd_prometheus_request_duration_seconds",
             "Metric provider (Prometheus) request latency", r)
          .Add({}, kDefaultBuckets);
  prometheus::Family<prometheus::Counter>& notifications =
      family(prometheus::BuildCounter(), "canaryd_notifications_total",
             "Alert deliveries by provider type and result: sent, failed", r);
  prometheus::Family<prometheus::Counter>& refusals =
      family(prometheus::BuildCounter(), "canaryd_address_refusals_total",
             "Requests refused by the --allow-address list, by purpose: metric, webhook, alert", r);
  prometheus::Gauge& leader = family(prometheus::BuildGauge(), "canaryd_leader",
                                     "1 while this replica holds the leader Lease", r)
                                  .Add({});
  std::mutex mu;
  std::map<std::string, std::map<std::string, std::string>> known;  // ns -> canary -> target
};

ControllerMetrics::ControllerMetrics(const std::string& meshProvider)
    : impl_(std::make_unique<Impl>()) {
  impl_->info.Add({{"version", kVersion}, {"mesh_provider", meshProvider}}).Set(1);
}
ControllerMetrics::~ControllerMetrics() = default;

void ControllerMetrics::recordReconcile(const cluster::ObjectRef& canary,
                                        const Result<ReconcileOutcome>& outcome, double seconds) {
  Impl& m = *impl_;
  m.durationAll.Observe(seconds);
  std::string result = "ok";
  if (!outcome) {
    const ErrorKind kind = outcome.error().kind();
    result = kind == ErrorKind::kConflict       ? "conflict"
             : kind == ErrorKind::kInvalidInput ? "invalid"
                                                : "error";
  }
  m.reconciles.Add({{"result", result}}).Increment();
  if (!outcome) return;
  const std::string& ns = canary.namespace_;
  std::lock_guard lock(m.mu);
  std::map<std::string, std::string>& names = m.known[ns];
  if (!outcome->exists) {
    auto it = names.find(canary.name);
    if (it != names.end()) {
      const prometheus::Labels labels{{"name", it->second}, {"namespace", ns}};
      if (m.status.Has(labels)) m.status.Remove(&m.status.Add(labels));
      names.erase(it);
    }
  } else {
    // Flagger labels the Canary's series with its target's name.
    const std::string& target = outcome->target.empty() ? canary.name : outcome->target;
    names[canary.name] = target;
    const prometheus::Labels labels{{"name", target}, {"namespace", ns}};
    const std::string& phase = outcome->phase;
    m.status.Add(labels).Set(phase == "Progressing" ? 0 : phase == "Failed" ? 2 : 1);
    m.canaryDuration.Add(labels, kDefaultBuckets).Observe(seconds);
    if (!outcome->target.empty()) {
      m.weight.Add({{"workload", target + "-primary"}, {"namespace", ns}})
          .Set(static_cast<double>(100 - outcome->canaryWeight));
      m.weight.Add({{"workload", target}, {"namespace", ns}})
          .Set(static_cast<double>(outcome->canaryWeight));
    }
    for (const auto& [metric, value] : outcome->metricValues) {
      m.analysis.Add({{"name", target}, {"namespace", ns}, {"metric", metric}}).Set(value);
    }
    if (!outcome->finished.empty()) {
      const prometheus::Labels run{
          {"name", target},
          {"namespace", ns},
          {"deployment_strategy", outcome->strategy},
          {"analysis_status", outcome->analysisSkipped ? "skipped" : "completed"}};
      (outcome->finished == "succeeded" ? m.successes : m.failures).Add(run).Increment();
    }
  }
  m.total.Add({{"namespace", ns}}).Set(static_cast<double>(names.size()));
}

void ControllerMetrics::observeQueue(Duration waited, std::size_t depth) {
  impl_->queueWait.Observe(std::chrono::duration<double>(waited).count());
  impl_->queueDepth.Set(static_cast<double>(depth));
}

void ControllerMetrics::recordNotification(const std::string& providerType, bool delivered) {
  impl_->notifications.Add({{"provider", providerType}, {"result", delivered ? "sent" : "failed"}})
      .Increment();
}

void ControllerMetrics::recordAddressRefusal(const std::string& purpose) {
  impl_->refusals.Add({{"purpose", purpose}}).Increment();
}

void ControllerMetrics::setLeader(bool leading) {
  impl_->leader.Set(leading ? 1 : 0);
}

HttpObserver ControllerMetrics::kubeApiObserver() {
  Impl* m = impl_.get();
  return [m](const HttpRequest& request, int status, double seconds) {
    m->kubeRequests.Add({{"method", request.method}, {"code", codeLabel(status)}}).Increment();
    m->kubeLatency.Add({{"method", request.method}}, kDefaultBuckets).Observe(seconds);
  };
}

HttpObserver ControllerMetrics::prometheusObserver() {
  Impl* m = impl_.get();
  return [m](const HttpRequest&, int status, double seconds) {
    m->promRequests.Add({{"code", codeLabel(status)}}).Increment();
    m->promLatency.Observe(seconds);
  };
}

std::string ControllerMetrics::render() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace canaryd::controller
