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

// Exit codes: 0 every check passed; kMetricsOutOfRange (1) every query returned a value and at
// least one is outside its range (the analysis would count a failed check); kMetricsNoData (3)
// a query failed or returned no data, or a Canary is invalid (the analysis could not judge);
// 2 usage errors (unreadable file, no Canary selected).
inline constexpr int kMetricsOutOfRange = 1;
inline constexpr int kMetricsNoData = 3;
int runMetrics(const MetricsOptions& options, std::istream& in, std::ostream& out,
               std::ostream& err);

}  // namespace canaryd::cli
