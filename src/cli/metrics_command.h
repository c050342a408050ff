// `canaryd metrics FILE...`: the dry run of a Canary's analysis. For each Canary in the files
// (MetricTemplates in the same files are used for its templateRefs), render every metric's
// query for the current revision, run it against Prometheus and show the metric, the rendered
// query, the value, the allowed range and the verdict — "will my analysis see data before I
// roll out?".
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace canaryd::cli {

struct MetricsOptions {
  std::vector<std::string> files;       // "-" reads standard input
  std::string prometheus;               // overrides every address (a port-forward, say)
  std::string canary;                   // only the Canary of that name
  std::string provider = "kubernetes";  // for Canaries that name none (as canaryd run)
  std::string output = "text";          // text | json
};

// Exit codes: 0 every query returned a value (in range or not), 1 a query failed or returned
// no data, or an input is invalid, 2 usage errors (unreadable file, no Canary selected).
int runMetrics(const MetricsOptions& options, std::istream& in, std::ostream& out,
               std::ostream& err);

}  // namespace canaryd::cli
