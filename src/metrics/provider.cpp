#include "canaryd/metrics/provider.h"

namespace canaryd::metrics {

Result<std::map<std::string, double>> Provider::queryByLabel(const std::string& query,
                                                             const std::string& label) {
  (void)query;
  return Error::invalidInput("this metric provider does not answer queries by " + label +
                             " (a vector of series)");
}

}  // namespace canaryd::metrics
