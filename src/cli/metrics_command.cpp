#include "cli/metrics_command.h"

#include <map>
#include <ostream>

#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/api/document.h"
#include "canaryd/cluster/null_client.h"
#include "canaryd/controller/metric_checks.h"
#include "canaryd/core/text.h"
#include "canaryd/plugins/builtin.h"

#include "cli/inputs.h"

namespace canaryd::cli {
namespace {

using nlohmann::json;

// The MetricTemplates of the input files, served as a cluster would serve them; nothing else
// exists in it (a templateRef to anything else is "not found" and says so).
class FileTemplates final : public cluster::NullClient {
 public:
  FileTemplates() : NullClient("canaryd metrics reads only the input files") {}
  void add(const api::MetricTemplate& t) {
    templates_[t.metadata.namespace_.value_or("default") + "/" + t.metadata.name.value_or("")] =
        api::toJsonValue(t);
  }
  Result<api::JsonValue> get(const cluster::Resource& resource,
                             const cluster::ObjectRef& ref) override {
    if (resource == cluster::kMetricTemplates) {
      auto it = templates_.find(ref.namespace_ + "/" + ref.name);
      if (it != templates_.end()) return it->second;
      return Error::notFound("not in the input files (give the file that defines it)");
    }
    return NullClient::get(resource, ref);
  }

 private:
  std::map<std::string, api::JsonValue> templates_;
};

std::string verdictOf(const controller::MetricCheck& check) {
  if (check.passed) return "pass";
  if (!check.error) return "fail";  // a value out of range
  return *check.error == ErrorKind::kNotFound ? "nodata" : "error";
}

std::string rangeOf(const controller::MetricCheck& check) {
  if (check.min && check.max) {
    return formatNumber(*check.min) + " .. " + formatNumber(*check.max);
  }
  if (check.min) return ">= " + formatNumber(*check.min);
  if (check.max) return "<= " + formatNumber(*check.max);
  return "any";
}

}  // namespace

int runMetrics(const MetricsOptions& options, std::istream& in, std::ostream& out,
               std::ostream& err) {
  if (options.output != "text" && options.output != "json") {
    err << "canaryd metrics: unknown --output \"" << options.output
        << "\"; must be one of: text, json\n";
    return 2;
  }
  FileTemplates templates;
  std::vector<api::Canary> canaries;
  bool invalid = false;
  const int code =
      forEachDocument(options.files, in, err, "metrics", [&](const api::Document& doc) {
        if (doc.kind() == "MetricTemplate") {
          api::Decoded<api::MetricTemplate> t = api::decodeMetricTemplate(doc);
          if (!t.value.metadata.namespace_) t.value.metadata.namespace_ = "default";
          templates.add(t.value);
        } else if (doc.kind() == "Canary") {
          api::Decoded<api::Canary> c = api::decodeCanary(doc);
          if (!c.ok()) {
            err << "canaryd metrics: " << doc.source << ": Canary " << doc.name()
                << " is invalid; run canaryd validate " << doc.source << "\n";
            invalid = true;
            return;
          }
          if (!options.canary.empty() && c.value.metadata.name != options.canary) return;
          if (!c.value.metadata.namespace_) c.value.metadata.namespace_ = "default";
          canaries.push_back(api::withDefaults(c.value));
        }
      });
  if (code != 0) return code;
  if (canaries.empty() && !invalid) {
    err << "canaryd metrics: no Canary"
        << (options.canary.empty() ? "" : " named " + quote(options.canary)) << " in the input\n";
    return 2;
  }

  controller::ProviderFactory providers = [&](const metrics::ProviderConfig& config) {
    metrics::ProviderConfig c = config;
    if (!options.prometheus.empty()) c.address = options.prometheus;
    return plugins::builtin().makeMetricProvider(c);
  };
  controller::MetricCheckContext context{
      templates, providers,
      options.prometheus.empty() ? "http://prometheus:9090" : options.prometheus, options.provider};
  bool anyMissing = invalid;
  bool anyFailed = false;  // a value outside its range
  json report = json::array();
  for (const api::Canary& canary : canaries) {
    const std::string id =
        canary.metadata.namespace_.value_or("default") + "/" + canary.metadata.name.value_or("");
    if (options.output == "text") {
      out << "Canary " << id << " (provider " << canary.spec.provider.value_or(options.provider)
          << ")\n";
    }
    if (!canary.spec.analysis || canary.spec.analysis->metrics.empty()) {
      if (options.output == "text") out << "  no metrics\n";
      continue;
    }
    for (const api::CanaryMetric& metric : canary.spec.analysis->metrics) {
      const controller::MetricCheck check = controller::checkMetric(canary, metric, context);
      const std::string verdict = verdictOf(check);
      anyMissing = anyMissing || verdict == "nodata" || verdict == "error";
      anyFailed = anyFailed || verdict == "fail";
      if (options.output == "json") {
        json row = {{"canary", id},
                    {"metric", check.name},
                    {"query", check.query},
                    {"range", rangeOf(check)},
                    {"verdict", verdict}};
        row["value"] = check.value ? json(*check.value) : json(nullptr);
        if (!check.passed) row["message"] = check.failure;
        report.push_back(row);
        continue;
      }
      out << "  " << verdict << std::string(8 - std::min<std::size_t>(7, verdict.size()), ' ')
          << check.name << " = " << (check.value ? formatNumber(*check.value) : "(none)")
          << "  allowed: " << rangeOf(check) << "\n";
      if (!check.query.empty()) out << "          query: " << check.query << "\n";
      if (!check.passed) out << "          " << check.failure << "\n";
    }
  }
  if (options.output == "json") out << report.dump(2) << "\n";
  // A missing answer says more than a failed range (the check could not be made at all).
  return anyMissing ? kMetricsNoData : anyFailed ? kMetricsOutOfRange : 0;
}

}  // namespace canaryd::cli
