// What canaryd does so that GitOps engines (Flux, Argo CD) leave its objects alone and do not
// adopt them: the opt-out annotations Flagger puts on generated objects, and the tracking
// labels and annotations that must not be copied from the target onto them.
#pragma once

#include <array>
#include <string_view>
#include <utility>

namespace canaryd::cluster {

// On every object canaryd generates: Flux neither reconciles nor drift-corrects it.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kGitopsOptOut = {{
    {"kustomize.toolkit.fluxcd.io/reconcile", "disabled"},
    {"helm.toolkit.fluxcd.io/driftDetection", "disabled"},
}};

// A label or annotation by which Flux or Argo CD recognise the objects of an application
// (copied onto a generated object, it would be adopted, then pruned or fought over).
inline bool isGitopsTrackingKey(std::string_view key) {
  return key.find("toolkit.fluxcd.io") != std::string_view::npos ||
         key.starts_with("argocd.argoproj.io/") || key == "app.kubernetes.io/instance";
}

}  // namespace canaryd::cluster
