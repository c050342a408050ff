// The composition root's registrations: one line per plugin file.
#include "canaryd/plugins/builtin.h"

#include "canaryd/metrics/prometheus.h"
#include "canaryd/notify/alert_providers.h"
#include "canaryd/router/apisix.h"
#include "canaryd/router/appmesh.h"
#include "canaryd/router/contour.h"
#include "canaryd/router/gateway_api.h"
#include "canaryd/router/gloo.h"
#include "canaryd/router/haproxy.h"
#include "canaryd/router/istio.h"
#include "canaryd/router/knative.h"
#include "canaryd/router/kubernetes.h"
#include "canaryd/router/kuma.h"
#include "canaryd/router/nginx.h"
#include "canaryd/router/skipper.h"
#include "canaryd/router/smi.h"
#include "canaryd/router/traefik.h"

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
    r.add(router::contourRouters());
    r.add(router::glooRouters());
    r.add(router::knativeRouters());
    r.add(router::traefikRouters());
    r.add(router::apisixRouters());
    r.add(router::nginxRouters());
    r.add(router::skipperRouters());
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
