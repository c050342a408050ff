// The composition root's registrations: one line per plugin file.
#include "canaryd/plugins/builtin.h"

#include "canaryd/metrics/prometheus.h"
#include "canaryd/notify/alert_providers.h"
#include "canaryd/router/appmesh.h"
#include "canaryd/router/gateway_api.h"
#include "canaryd/router/haproxy.h"
#include "canaryd/router/istio.h"
#include "canaryd/router/kubernetes.h"
#include "canaryd/router/kuma.h"
#include "canaryd/router/smi.h"

namespace canaryd::plugins {

const Registry& builtin() {
  static const Registry registry = [] {
    Registry r;
    // Routers (spec.provider).
    r.add(router::kubernetesRouters());
    r.add(router::gatewayApiRouters());
    r.add(router::haproxyRouters());
    r.add(router::smiRouters());
    r.add(router::istioRouters());
    r.add(router::kumaRouters());
    r.add(router::appMeshRouters());
    // Metric providers (MetricTemplate spec.provider.type).
    r.add(metrics::prometheusProviders());
    // Alert notifiers (AlertProvider spec.type).
    r.add(notify::slackNotifiers());
    r.add(notify::teamsNotifiers());
    r.add(notify::gchatNotifiers());
    r.add(notify::webhookNotifiers());
    r.add(notify::alertmanagerNotifiers());
    r.add(notify::pagerdutyNotifiers());
    return r;
  }();
  return registry;
}

}  // namespace canaryd::plugins
