// Knative Serving targets: a Canary whose spec.targetRef is a Knative Service (Flagger's
// IsKnativeService: kind Service, apiVersion serving.knative.dev/v1). Such a target has no
// primary workload: Knative keeps every Revision of the Service, the primary is the Revision the
// annotation below names, and the canary is the Service's latest created Revision
// (status.latestCreatedRevisionName). Header-only; thread-safe (constants and pure functions).
#pragma once

#include <string_view>

#include "canaryd/api/meta.h"

namespace canaryd::api {

inline constexpr std::string_view kKnativeServingGroup = "serving.knative.dev";
inline constexpr std::string_view kKnativeServingApiVersion = "serving.knative.dev/v1";

// The annotation on the Knative Service naming its primary Revision (Flagger's key).
inline constexpr const char* kKnativePrimaryRevision = "flagger.app/primary-revision";

// Whether `target` is a Knative Service that canaryd drives (serving.knative.dev/v1 only, as
// Flagger).
inline bool isKnativeService(const LocalObjectReference& target) {
  return target.kind.value_or("") == "Service" &&
         target.apiVersion.value_or("") == kKnativeServingApiVersion;
}

// Whether `target` names Knative Serving's group in any version (a Knative Service canaryd must
// not take for a core Service).
inline bool isKnativeServingRef(const LocalObjectReference& target) {
  return target.kind.value_or("") == "Service" &&
         target.apiVersion.value_or("").starts_with(std::string(kKnativeServingGroup) + "/");
}

}  // namespace canaryd::api
