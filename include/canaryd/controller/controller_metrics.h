// ControllerMetrics: what canaryd tells Prometheus about itself and the Canaries it drives,
// served at /metrics of `canaryd run --listen`. Flagger's names, labels and values are kept so
// that existing dashboards and alerts keep working (`name` is the target's name, as Flagger
// labels it):
//   flagger_info{version,mesh_provider}                         1
//   flagger_canary_total{namespace}                             Canaries known
//   flagger_canary_status{name,namespace}                       0 Progressing, 2 Failed, else 1
//   flagger_canary_weight{workload,namespace}                   the primary's and the canary's
//   flagger_canary_duration_seconds{name,namespace}             histogram, per reconcile
//   flagger_canary_metric_analysis{name,namespace,metric}       the last value of each metric
//   flagger_canary_successes_total{name,namespace,deployment_strategy,analysis_status}
//   flagger_canary_failures_total{...same}                      runs promoted / rolled back
// and canaryd's own:
//   canaryd_reconciles_total{result}                            ok, conflict, invalid, error
//   canaryd_reconcile_duration_seconds                          histogram
//   canaryd_workqueue_depth, canaryd_workqueue_wait_seconds     ready keys; time ready->taken
//   canaryd_kube_api_requests_total{method,code}, canaryd_kube_api_request_duration_seconds{method}
//   canaryd_prometheus_requests_total{code}, canaryd_prometheus_request_duration_seconds
//   canaryd_notifications_total{provider,result}                sent, failed
//   canaryd_leader                                              1 while this replica leads
// `code` is the HTTP status, or "none" when no answer came (connection failure, timeout).
// Thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "canaryd/controller/reconciler.h"
#include "canaryd/core/http.h"

namespace canaryd::controller {

inline constexpr const char* kVersion = "0.1.0";

class ControllerMetrics {
 public:
  explicit ControllerMetrics(const std::string& meshProvider = "kubernetes");
  ~ControllerMetrics();
  void recordReconcile(const cluster::ObjectRef& canary, const Result<ReconcileOutcome>& outcome,
                       double seconds);
  void observeQueue(Duration waited, std::size_t depth);
  void recordNotification(const std::string& providerType, bool delivered);
  // A request refused by the address allow-list (canaryd_address_refusals_total{purpose}).
  void recordAddressRefusal(const std::string& purpose);
  void setLeader(bool leading);
  // Observers for the Kubernetes API client's and the Prometheus providers' requests.
  HttpObserver kubeApiObserver();
  HttpObserver prometheusObserver();
  // The Prometheus text exposition format (version 0.0.4).
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace canaryd::controller
