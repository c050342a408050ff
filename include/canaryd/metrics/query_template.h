// MetricTemplate queries as Flagger renders them: `{{ name }}`, `{{ namespace }}`,
// `{{ target }}`, `{{ service }}`, `{{ ingress }}`, `{{ route }}`, `{{ interval }}` and
// `{{ variables.<key> }}`; `{{ key | word }}` replaces non-word characters with "_" (for the
// built-in Skipper queries). A key that is not defined is an error that names the defined ones,
// so a typo never becomes an empty label matcher that silently matches everything.
#pragma once

#include <map>
#include <string>

#include "canaryd/core/result.h"

namespace canaryd::metrics {

struct QueryContext {
  std::map<std::string, std::string> values;     // name, namespace, target, ...
  std::map<std::string, std::string> variables;  // the Canary metric's templateVariables
};

Result<std::string> renderQuery(const std::string& query, const QueryContext& context);

}  // namespace canaryd::metrics
