#include <algorithm>

#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/validate.h"

namespace canaryd::api {
namespace {

bool isUnder(const std::string& p, const std::string& prefix) {
  if (prefix.empty()) return true;
  if (!p.starts_with(prefix)) return false;
  return p.size() == prefix.size() || p[prefix.size()] == '.' || p[prefix.size()] == '[';
}

// Validation problems about a field the decoder already reported add nothing but noise:
// errors under it, and warnings about the object that holds it (a range whose max did not
// decode "has neither min nor max").
void merge(std::vector<Problem>& into, std::vector<Problem> decodeProblems,
           std::vector<Problem> validationProblems) {
  for (Problem& p : validationProblems) {
    bool shadowed = false;
    for (const Problem& d : decodeProblems) {
      if (d.severity != Severity::kError) continue;
      shadowed = shadowed || isUnder(p.path, d.path) ||
                 (p.severity == Severity::kWarning && isUnder(d.path, p.path));
    }
    if (!shadowed) into.push_back(std::move(p));
  }
  for (Problem& p : decodeProblems)
    into.push_back(std::move(p));
}

template <typename T>
void decodeAndValidate(DocumentReport& report, Decoded<T> (*decode)(const Document&),
                       const Catalog& catalog, T* out = nullptr) {
  Decoded<T> decoded = decode(*report.document);
  std::vector<Problem> problems;
  merge(problems, std::move(decoded.problems), validate(decoded.value, catalog));
  report.problems.insert(report.problems.end(), problems.begin(), problems.end());
  if (out != nullptr) *out = std::move(decoded.value);
}

std::string displayName(const Document& doc) {
  std::string ns = doc.namespaceName();
  return ns.empty() ? doc.name() : ns + "/" + doc.name();
}

struct CanaryInput {
  std::size_t report;
  Canary canary;
};

// A Deployment managed from Git that sets replicas fights canaryd, which scales the target to
// zero after each promotion and up for each analysis (and fights the autoscaler, if any): every
// sync from Git resets the count.
void warnReplicasInGit(std::vector<DocumentReport>& reports,
                       const std::vector<CanaryInput>& canaries) {
  for (const CanaryInput& in : canaries) {
    const Canary& c = in.canary;
    if (!c.spec.targetRef || !c.spec.targetRef->name) continue;
    if (c.spec.targetRef->kind.value_or("Deployment") != "Deployment") continue;
    std::string ns = c.metadata.namespace_.value_or("");
    for (const DocumentReport& other : reports) {
      const Document& d = *other.document;
      if (d.kind() != "Deployment" || d.name() != *c.spec.targetRef->name ||
          d.namespaceName() != ns) {
        continue;
      }
      const nlohmann::json& body = d.body.get();
      if (!body.contains("spec") || !body["spec"].is_object() ||
          !body["spec"].contains("replicas") || body["spec"]["replicas"].is_null()) {
        continue;
      }
      SourcePosition at = locate(d, "spec.replicas");
      std::string where = d.source + (at.line > 0 ? ":" + std::to_string(at.line) : "");
      if (c.spec.autoscalerRef) {
        reports[in.report].problems.push_back(
            {Severity::kWarning, "spec.autoscalerRef",
             "Deployment " + displayName(d) + " sets spec.replicas (" + where +
                 ") while this Canary references " + c.spec.autoscalerRef->kind.value_or("an") +
                 " " + c.spec.autoscalerRef->name.value_or("") +
                 ": every sync from Git resets the replicas the autoscaler chose and the zero "
                 "canaryd scales the target to; remove spec.replicas from the Deployment",
             0, 0});
        continue;
      }
      reports[in.report].problems.push_back(
          {Severity::kWarning, "spec.targetRef",
           "Deployment " + displayName(d) + " sets spec.replicas (" + where +
               "): canaryd scales its target to zero after each promotion and up for each "
               "analysis, and every sync from Git (Flux, Argo CD) puts the count back; remove "
               "spec.replicas from the Deployment in Git (the primary keeps the count canaryd "
               "copies to it), or have the sync engine ignore it: canaryd gitops-config "
               "--engine argocd|flux FILE prints the snippet",
           0, 0});
    }
  }
}

}  // namespace

std::vector<DocumentReport> validateDocuments(const std::vector<Document>& documents,
                                              const Catalog& catalog) {
  std::vector<DocumentReport> reports;
  std::vector<CanaryInput> canaries;
  for (const Document& doc : documents) {
    DocumentReport report;
    report.document = &doc;
    report.kind = doc.kind();
    report.name = displayName(doc);
    const nlohmann::json& body = doc.body.get();
    const std::string apiVersion = doc.apiVersion();
    const bool flaggerKind = report.kind == "Canary" || report.kind == "MetricTemplate" ||
                             report.kind == "AlertProvider";
    if (!body.is_object()) {
      report.problems.push_back({Severity::kError, "",
                                 "a manifest must be a mapping with apiVersion, kind, metadata "
                                 "and spec",
                                 0, 0});
    } else if (report.kind.empty() || apiVersion.empty()) {
      report.problems.push_back(
          {Severity::kError, report.kind.empty() ? "kind" : "apiVersion",
           "required field is missing: every manifest needs apiVersion and kind", 0, 0});
    } else if (!flaggerKind || (!apiVersion.starts_with("flagger.app/"))) {
      report.verdict = DocumentVerdict::kSkipped;
    } else if (apiVersion != kFlaggerApiVersion) {
      report.problems.push_back(
          {Severity::kError, "apiVersion",
           "\"" + apiVersion + "\" is not supported; must be " + kFlaggerApiVersion, 0, 0});
    } else if (report.kind == "Canary") {
      Canary canary;
      decodeAndValidate(report, &decodeCanary, catalog, &canary);
      canaries.push_back({reports.size(), std::move(canary)});
    } else if (report.kind == "MetricTemplate") {
      decodeAndValidate<MetricTemplate>(report, &decodeMetricTemplate, catalog);
    } else {
      decodeAndValidate<AlertProvider>(report, &decodeAlertProvider, catalog);
    }
    reports.push_back(std::move(report));
  }
  warnReplicasInGit(reports, canaries);
  for (DocumentReport& report : reports) {
    for (Problem& p : report.problems) {
      if (p.line == 0) {
        SourcePosition at = locate(*report.document, p.path);
        p.line = at.line;
        p.column = at.column;
      }
    }
    std::stable_sort(report.problems.begin(), report.problems.end(),
                     [](const Problem& a, const Problem& b) {
                       return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                     });
    if (report.verdict != DocumentVerdict::kSkipped && hasErrors(report.problems)) {
      report.verdict = DocumentVerdict::kInvalid;
    }
  }
  return reports;
}

}  // namespace canaryd::api
