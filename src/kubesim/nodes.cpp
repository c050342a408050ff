#include "kubesim/nodes.h"

namespace canaryd::kubesim {

using nlohmann::json;

std::string simulatedNodeName(std::int64_t index) {
  return "kubesim-node-" + std::to_string(index);
}

json simulatedNodeLabels(std::int64_t index) {
  return {{"kubernetes.io/os", "linux"}, {"kubernetes.io/hostname", simulatedNodeName(index)}};
}

std::int64_t nodesFitting(const json& podSpec, std::int64_t nodes) {
  if (!podSpec.is_object() || !podSpec.contains("nodeSelector")) return nodes;
  const json& selector = podSpec["nodeSelector"];
  if (selector.is_null()) return nodes;
  if (!selector.is_object()) return 0;
  std::int64_t fitting = 0;
  for (std::int64_t i = 0; i < nodes; ++i) {
    const json labels = simulatedNodeLabels(i);
    bool fits = true;
    for (auto it = selector.begin(); it != selector.end() && fits; ++it) {
      fits = it->is_string() && labels.contains(it.key()) && labels[it.key()] == *it;
    }
    if (fits) ++fitting;
  }
  return fitting;
}

}  // namespace canaryd::kubesim
