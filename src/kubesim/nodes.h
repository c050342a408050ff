// The nodes kubesim pretends to have. kubesim runs no kubelet and serves no Node objects; a
// fixed number of simulated nodes (`kubesim --nodes N`) is what the DaemonSet controller
// schedules onto. Node i (from 0) is named kubesim-node-<i> and carries exactly the labels
// kubernetes.io/os: linux and kubernetes.io/hostname: kubesim-node-<i>, so a pod template whose
// nodeSelector names any other label (Flagger's flagger.app/scale-to-zero: "true") fits on no
// node. Node affinity, taints and tolerations are not modelled. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace canaryd::kubesim {

std::string simulatedNodeName(std::int64_t index);
nlohmann::json simulatedNodeLabels(std::int64_t index);

// How many of `nodes` simulated nodes the pod spec `podSpec` (a template's spec) fits on by
// its spec.nodeSelector. A nodeSelector that is not an object of strings fits on none.
std::int64_t nodesFitting(const nlohmann::json& podSpec, std::int64_t nodes);

}  // namespace canaryd::kubesim
