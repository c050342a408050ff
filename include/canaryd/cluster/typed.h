// Typed access to the kinds canaryd owns (Canary, MetricTemplate, AlertProvider) over any
// cluster::Client: objects are decoded with the api layer's codec, so a malformed object from
// the server is an error naming the field, never a crash. Other kinds (Deployment, Service,
// ConfigMap, Secret, HorizontalPodAutoscaler, Lease, Event, HTTPRoute...) are used as JSON
// with the Resource constants of canaryd/cluster/client.h.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "canaryd/api/alert_provider.h"
#include "canaryd/api/canary.h"
#include "canaryd/api/metric_template.h"
#include "canaryd/cluster/client.h"

namespace canaryd::cluster {

Result<api::Canary> getCanary(Client& client, const ObjectRef& ref);
Result<std::vector<api::Canary>> listCanaries(Client& client, const std::string& ns);
// Writes `canary.status` through the status subresource; metadata.resourceVersion is the
// precondition (kConflict when someone wrote in between). Returns the new resourceVersion (the
// object written is not decoded again: a reconcile never needs it).
Result<std::string> updateCanaryStatus(Client& client, const api::Canary& canary);
Result<api::MetricTemplate> getMetricTemplate(Client& client, const ObjectRef& ref);
Result<api::AlertProvider> getAlertProvider(Client& client, const ObjectRef& ref);

// The given keys of a Secret's data, base64-decoded; keys the Secret lacks are left out. Errors
// name the Secret (and the key that is not valid base64), never a value.
Result<std::map<std::string, std::string>> readSecret(Client& client, const ObjectRef& ref,
                                                      const std::vector<std::string>& keys);

}  // namespace canaryd::cluster
