// The one place routers are registered by provider name.
#include "canaryd/router/gateway_api.h"
#include "canaryd/router/haproxy.h"
#include "canaryd/router/kubernetes.h"
#include "canaryd/router/router.h"

namespace canaryd::router {

std::string apexServiceName(const api::Canary& canary) {
  if (canary.spec.service && canary.spec.service->name) return *canary.spec.service->name;
  return canary.spec.targetRef ? canary.spec.targetRef->name.value_or("") : "";
}

Result<std::unique_ptr<Router>> makeRouter(std::string_view provider, cluster::Client& client,
                                           std::shared_ptr<const AddressPolicy> addresses) {
  if (provider.empty() || provider == "kubernetes")
    return std::unique_ptr<Router>(std::make_unique<KubernetesRouter>(client));
  if (provider == "gatewayapi:v1") {
    return std::unique_ptr<Router>(
        std::make_unique<GatewayApiRouter>(client, "gateway.networking.k8s.io/v1"));
  }
  if (provider == "gatewayapi:v1beta1") {
    return std::unique_ptr<Router>(
        std::make_unique<GatewayApiRouter>(client, "gateway.networking.k8s.io/v1beta1"));
  }
  if (provider == "haproxy")
    return std::unique_ptr<Router>(std::make_unique<HaproxyRouter>(client, std::move(addresses)));
  return Error::invalidInput("provider \"" + std::string(provider) +
                             "\" has no router in canaryd yet; supported: kubernetes, "
                             "gatewayapi:v1, gatewayapi:v1beta1, haproxy");
}

}  // namespace canaryd::router
