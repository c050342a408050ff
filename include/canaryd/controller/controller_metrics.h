// ControllerMetrics: what canaryd tells Prometheus about itself and the Canaries it drives,
// served at /metrics of `canaryd run --listen`. Flagger's names are kept so that existing
// dashboards keep working:
//   flagger_canary_status{name,namespace}        0 running, 1 succeeded/initialized, 2 failed
//   flagger_canary_weight{workload,namespace}    the primary's and the canary's weights
//   flagger_canary_total{namespace}              Canaries known
// and canaryd's own:
//   canaryd_reconciles_total{result}             ok, conflict, invalid, error
//   canaryd_reconcile_duration_seconds           histogram
// Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "canaryd/controller/reconciler.h"

namespace canaryd::controller {

class ControllerMetrics {
 public:
  ControllerMetrics();
  ~ControllerMetrics();
  void recordReconcile(const cluster::ObjectRef& canary, const Result<ReconcileOutcome>& outcome,
                       double seconds);
  // The Prometheus text exposition format (version 0.0.4).
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace canaryd::controller
