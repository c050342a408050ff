#include "canaryd/metrics/builtin_queries.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "canaryd/core/text.h"

#include "metrics/builtin_queries_data.h"

namespace canaryd::metrics {
namespace {

// `sum(resets(<selector>[{{ interval }}]))` from a total `sum(<selector>)` whose argument is a
// plain vector selector (a metric name and its matchers); "" for anything else (a range cannot
// follow an expression such as label_replace()).
std::string_view trimmed(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\n") - first + 1);
}

std::string resetsOf(const std::string& total) {
  const std::string text(trimmed(total));
  if (!text.starts_with("sum(") || !text.ends_with(")")) return "";
  const std::string selector(trimmed(std::string_view(text).substr(4, text.size() - 5)));
  const std::size_t brace = selector.find('{');
  const std::string name(trimmed(std::string_view(selector).substr(0, brace)));
  const bool plainName = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  });
  if (!plainName || (brace != std::string::npos && !selector.ends_with("}"))) return "";
  return "sum(resets(" + selector + "[{{ interval }}]))";
}

struct Library {
  std::map<std::string, BuiltinQueries> byProvider;
  std::vector<std::string> providers;
};

// Parsed once from the embedded files; a malformed file is a build defect that the tests catch.
const Library& library() {
  static const Library lib = [] {
    Library out;
    for (const auto& [name, text] : embeddedQueryFiles()) {
      const YAML::Node doc = YAML::Load(std::string(text));
      const YAML::Node q = doc["queries"];
      BuiltinQueries queries;
      queries.requestSuccessRate = q["request-success-rate"].as<std::string>("");
      queries.requestDuration = q["request-duration"].as<std::string>("");
      queries.requests = q["requests"].as<std::string>("");
      queries.errors = q["errors"].as<std::string>("");
      queries.source = std::string(name);
      queries.latencyBuckets = q["latency-buckets"].as<std::string>("");
      queries.requestsTotal = q["requests-total"].as<std::string>("");
      queries.errorsTotal = q["errors-total"].as<std::string>("");
      queries.requestsResets = resetsOf(queries.requestsTotal);
      queries.latencyBucketMs =
          doc["latency-unit"].as<std::string>("milliseconds") == "seconds" ? 1000.0 : 1.0;
      for (const YAML::Node& provider : doc["providers"]) {
        out.byProvider[provider.as<std::string>()] = queries;
        out.providers.push_back(provider.as<std::string>());
      }
    }
    return out;
  }();
  return lib;
}

}  // namespace

Result<BuiltinQueries> builtinQueries(std::string_view provider) {
  const Library& lib = library();
  auto it = lib.byProvider.find(std::string(provider));
  if (it == lib.byProvider.end()) {
    return Error::invalidInput(
        "built-in metrics for provider " + quote(provider) +
        " are not available yet (available for: " + join(lib.providers, ", ") +
        "); define the metric with a MetricTemplate (templateRef)");
  }
  return it->second;
}

}  // namespace canaryd::metrics

namespace canaryd::metrics {

std::vector<std::string> builtinProviders() {
  return library().providers;
}

std::vector<std::string> countingProviders() {
  std::vector<std::string> out;
  for (const std::string& provider : builtinProviders()) {
    Result<BuiltinQueries> q = builtinQueries(provider);
    if (q && !q->requests.empty() && !q->errors.empty()) out.push_back(provider);
  }
  return out;
}

}  // namespace canaryd::metrics
