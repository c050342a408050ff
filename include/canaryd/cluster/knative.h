// Knative Serving's resources canaryd reads and writes for a Knative Service target
// (api/knative.h): the Service (its spec.traffic and primary-revision annotation) and its
// Revisions (their readiness). Constants; thread-safe.
#pragma once

#include "canaryd/cluster/client.h"

namespace canaryd::cluster {

inline const Resource kKnativeServices{"serving.knative.dev", "v1", "services", true, "Service"};
inline const Resource kKnativeRevisions{"serving.knative.dev", "v1", "revisions", true, "Revision"};

}  // namespace canaryd::cluster
