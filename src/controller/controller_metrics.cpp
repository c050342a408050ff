#include "canaryd/controller/controller_metrics.h"

#include <map>
#include <mutex>
#include <set>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace canaryd::controller {

struct ControllerMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Gauge>& status = prometheus::BuildGauge()
                                                      .Name("flagger_canary_status")
                                                      .Help(
                                                          "Canary status: 0 running, 1 "
                                                          "succeeded or initialized, 2 failed")
                                                      .Register(*registry);
  prometheus::Family<prometheus::Gauge>& weight =
      prometheus::BuildGauge()
          .Name("flagger_canary_weight")
          .Help("Traffic weight of the primary and canary workloads")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& total =
      prometheus::BuildGauge()
          .Name("flagger_canary_total")
          .Help("Canaries known to canaryd, per namespace")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& reconciles =
      prometheus::BuildCounter()
          .Name("canaryd_reconciles_total")
          .Help("Reconciles by result: ok, conflict, invalid, error")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& duration =
      prometheus::BuildHistogram()
          .Name("canaryd_reconcile_duration_seconds")
          .Help("Time one reconcile took, including webhooks and metric queries")
          .Register(*registry);
  prometheus::Histogram& durationAll =
      duration.Add({}, prometheus::Histogram::BucketBoundaries{
                           0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  std::mutex mu;
  std::map<std::string, std::set<std::string>> known;  // namespace -> names
};

ControllerMetrics::ControllerMetrics() : impl_(std::make_unique<Impl>()) {}
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
  std::lock_guard lock(m.mu);
  const prometheus::Labels labels{{"name", canary.name}, {"namespace", canary.namespace_}};
  std::set<std::string>& names = m.known[canary.namespace_];
  if (!outcome->exists) {
    names.erase(canary.name);
    if (m.status.Has(labels)) m.status.Remove(&m.status.Add(labels));
  } else {
    names.insert(canary.name);
    const std::string& phase = outcome->phase;
    const double code = phase == "Failed"                                ? 2
                        : phase == "Succeeded" || phase == "Initialized" ? 1
                                                                         : 0;
    m.status.Add(labels).Set(code);
    if (!outcome->target.empty()) {
      m.weight.Add({{"workload", outcome->target + "-primary"}, {"namespace", canary.namespace_}})
          .Set(static_cast<double>(100 - outcome->canaryWeight));
      m.weight.Add({{"workload", outcome->target}, {"namespace", canary.namespace_}})
          .Set(static_cast<double>(outcome->canaryWeight));
    }
  }
  m.total.Add({{"namespace", canary.namespace_}}).Set(static_cast<double>(names.size()));
}

std::string ControllerMetrics::render() const {
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace canaryd::controller
