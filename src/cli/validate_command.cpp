#include "cli/validate_command.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/api/document.h"
#include "canaryd/api/validate.h"
#include "canaryd/core/text.h"
#include "canaryd/plugins/builtin.h"

#include "cli/inputs.h"

namespace canaryd::cli {
namespace {

using api::DocumentReport;
using api::DocumentVerdict;
using api::Problem;
using api::Severity;

struct FileResult {
  std::string file;
  std::vector<api::Document> documents;
  std::string parseError;  // malformed YAML: the whole file is invalid
};

std::string severityName(Severity s) {
  return s == Severity::kError ? "error" : "warning";
}

std::string verdictName(DocumentVerdict v) {
  switch (v) {
    case DocumentVerdict::kValid:
      return "valid";
    case DocumentVerdict::kInvalid:
      return "invalid";
    case DocumentVerdict::kSkipped:
      return "skipped";
  }
  return "invalid";
}

std::string describeRange(const api::ThresholdRange& r) {
  if (r.min && r.max) return "between " + formatNumber(*r.min) + " and " + formatNumber(*r.max);
  if (r.min) return ">= " + formatNumber(*r.min);
  if (r.max) return "<= " + formatNumber(*r.max);
  return "(no range)";
}

// A short account of what the rollout of a valid Canary will do, with Flagger's defaults.
void explain(const api::Canary& input, const std::string& defaultProvider, std::ostream& out) {
  api::Canary c = api::withDefaults(input);
  const api::CanaryAnalysis& a = *c.spec.analysis;
  const api::CanaryService& s = *c.spec.service;
  api::Strategy strategy = api::strategyOf(a);
  out << "    strategy: " << api::toString(strategy) << " via provider "
      << c.spec.provider.value_or(defaultProvider + " (default)") << "\n";
  out << "    target: " << c.spec.targetRef->kind.value_or("") << "/"
      << c.spec.targetRef->name.value_or("") << "; services " << s.name.value_or("") << ", "
      << s.name.value_or("") << "-primary, " << s.name.value_or("") << "-canary on port " << *s.port
      << "\n";
  out << "    every " << formatDuration(api::effectiveInterval(a)) << ": run " << a.metrics.size()
      << " metric check(s); roll back after " << *a.threshold
      << " failed check(s); progress deadline " << *c.spec.progressDeadlineSeconds << "s\n";
  if (strategy == api::Strategy::kCanary) {
    out << "    canary weight steps:";
    for (std::int64_t w : api::weightSteps(a))
      out << " " << w << "%";
    out << ", then promote\n";
  } else {
    out << "    " << *a.iterations << " iteration(s), then promote\n";
  }
  for (const api::CanaryMetric& m : a.metrics) {
    out << "    metric " << *m.name << " "
        << (m.thresholdRange ? describeRange(*m.thresholdRange) : std::string("(no range)"))
        << " over " << *m.interval;
    if (m.templateRef) out << " (template " << m.templateRef->name.value_or("") << ")";
    out << "\n";
  }
  for (const api::CanaryWebhook& w : a.webhooks) {
    out << "    webhook " << w.name.value_or("") << " (" << *w.type << ") -> " << w.url.value_or("")
        << ", timeout " << *w.timeout << "\n";
  }
  for (const api::CanaryAlert& al : a.alerts) {
    out << "    alert " << al.name.value_or("") << " (" << *al.severity << ") -> AlertProvider "
        << (al.providerRef ? al.providerRef->name.value_or("") : "") << "\n";
  }
}

void printText(const FileResult& file, const std::vector<DocumentReport>& reports, bool wantExplain,
               const std::string& defaultProvider, std::ostream& out) {
  if (!file.parseError.empty()) {
    out << "error  " << file.parseError << "\n";
    return;
  }
  for (const DocumentReport& r : reports) {
    switch (r.verdict) {
      case DocumentVerdict::kValid:
        out << "ok  " << r.kind << " " << r.name << "\n";
        break;
      case DocumentVerdict::kSkipped:
        out << "skipped  " << (r.kind.empty() ? "(no kind)" : r.kind) << " " << r.name
            << " (not a Canary, MetricTemplate or AlertProvider)\n";
        continue;
      case DocumentVerdict::kInvalid:
        out << "invalid  " << r.kind << " " << r.name << "\n";
        break;
    }
    for (const Problem& p : r.problems) {
      out << "  " << file.file << ":" << p.line << ":" << p.column << ": "
          << severityName(p.severity) << ": " << r.kind << " " << r.name << ": "
          << (p.path.empty() ? "" : p.path + ": ") << p.message << "\n";
    }
    if (wantExplain && r.verdict == DocumentVerdict::kValid && r.kind == "Canary") {
      api::Decoded<api::Canary> decoded = api::decodeCanary(*r.document);
      explain(decoded.value, defaultProvider, out);
    }
  }
}

nlohmann::json toJson(const FileResult& file, const std::vector<DocumentReport>& reports) {
  nlohmann::json items = nlohmann::json::array();
  if (!file.parseError.empty()) {
    items.push_back(
        {{"file", file.file},
         {"verdict", "invalid"},
         {"problems", {{{"severity", "error"}, {"path", ""}, {"message", file.parseError}}}}});
    return items;
  }
  for (const DocumentReport& r : reports) {
    nlohmann::json problems = nlohmann::json::array();
    for (const Problem& p : r.problems) {
      problems.push_back({{"severity", severityName(p.severity)},
                          {"path", p.path},
                          {"message", p.message},
                          {"line", p.line},
                          {"column", p.column}});
    }
    items.push_back({{"file", file.file},
                     {"index", r.document->index},
                     {"kind", r.kind},
                     {"name", r.name},
                     {"verdict", verdictName(r.verdict)},
                     {"problems", std::move(problems)}});
  }
  return items;
}

}  // namespace

int runValidate(const ValidateOptions& options, std::istream& in, std::ostream& out,
                std::ostream& err) {
  if (options.output != "text" && options.output != "json") {
    err << "canaryd validate: unknown --output \"" << options.output
        << "\"; must be one of: text, json\n";
    return 2;
  }
  if (options.files.empty()) {
    err << "canaryd validate: no input; give one or more files, or - for standard input\n";
    return 2;
  }
  Result<std::vector<std::string>> names = expandInputs(options.files, options.recursive);
  if (!names) {
    err << "canaryd validate: " << names.error().message() << "\n";
    return 2;
  }
  std::vector<FileResult> files;
  for (const std::string& name : *names) {
    Result<std::string> text = readInput(name, in);
    if (!text) {
      err << "canaryd validate: " << text.error().message() << "\n";
      return 2;
    }
    FileResult result{name, {}, {}};
    Result<std::vector<api::Document>> docs = api::parseYamlDocuments(*text, name);
    if (docs) {
      result.documents = std::move(docs).value();
    } else {
      result.parseError = docs.error().message();
    }
    files.push_back(std::move(result));
  }

  // Cross-document checks (a Deployment beside its Canary) look across all inputs.
  std::vector<api::Document> all;
  for (const FileResult& f : files)
    all.insert(all.end(), f.documents.begin(), f.documents.end());
  const bool parseErrors = std::any_of(files.begin(), files.end(),
                                       [](const FileResult& f) { return !f.parseError.empty(); });
  if (all.empty() && !parseErrors) {
    // Nothing to check is not a pass: a directory without manifests, an empty pipe.
    err << "canaryd validate: no manifests in " << join(options.files, ", ")
        << (options.recursive ? "" : " (a directory's subdirectories are read with -R)") << "\n";
    return 1;
  }
  std::vector<DocumentReport> reports =
      api::validateDocuments(all, plugins::builtin().catalog(options.provider));

  bool anyInvalid = false;
  nlohmann::json jsonOut = nlohmann::json::array();
  std::size_t next = 0;
  for (const FileResult& f : files) {
    std::vector<DocumentReport> mine(
        reports.begin() + static_cast<std::ptrdiff_t>(next),
        reports.begin() + static_cast<std::ptrdiff_t>(next + f.documents.size()));
    next += f.documents.size();
    anyInvalid = anyInvalid || !f.parseError.empty();
    for (const DocumentReport& r : mine)
      anyInvalid = anyInvalid || r.verdict == DocumentVerdict::kInvalid;
    if (options.output == "json") {
      for (auto& item : toJson(f, mine))
        jsonOut.push_back(item);
    } else {
      printText(f, mine, options.explain, options.provider, out);
    }
  }
  if (options.output == "json") out << jsonOut.dump(2) << "\n";
  return anyInvalid ? 1 : 0;
}

}  // namespace canaryd::cli
