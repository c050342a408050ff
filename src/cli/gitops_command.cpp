#include "cli/gitops_command.h"

#include <istream>
#include <ostream>

#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/document.h"
#include "canaryd/api/validate.h"
#include "canaryd/plugins/builtin.h"

#include "cli/inputs.h"

namespace canaryd::cli {
namespace {

struct Target {
  std::string ns;
  std::string deployment;      // the Canary's target
  bool replicasInGit = false;  // the input's Deployment sets spec.replicas
  std::string routeInGit;      // an HTTPRoute of the apex name in the input, "" if none
  std::string routeApiGroup;
  std::string canary;
};

void printArgo(const std::vector<Target>& targets, std::ostream& out) {
  out << "# Argo CD: add to the Application that syncs these manifests (spec). canaryd writes\n"
         "# with the field manager \"canaryd\"; Argo CD ignores what it owns.\n"
         "spec:\n  ignoreDifferences:\n";
  for (const Target& t : targets) {
    out << "    # Canary " << t.ns << "/" << t.canary << ": canaryd scales its target"
        << (t.replicasInGit ? " (replicas are set in Git: remove them there too)" : "") << "\n"
        << "    - group: apps\n      kind: Deployment\n      name: " << t.deployment
        << "\n      namespace: " << t.ns << "\n      jsonPointers:\n        - /spec/replicas\n";
    if (!t.routeInGit.empty()) {
      out << "    # the routing object is in Git: canaryd sets its weights\n"
          << "    - group: " << t.routeApiGroup
          << "\n      kind: HTTPRoute\n      name: " << t.routeInGit
          << "\n      namespace: " << t.ns << "\n      managedFieldsManagers:\n        - canaryd\n";
    }
  }
  out << "  syncPolicy:\n    syncOptions:\n      - RespectIgnoreDifferences=true\n"
         "# Health: Argo CD's built-in check for flagger.app/Canary reads status.phase (Failed is\n"
         "# Degraded; Progressing, Promoting and Finalising are Progressing; Succeeded and\n"
         "# Initialized are Healthy). canaryd keeps Flagger's phases.\n";
}

void printFlux(const std::vector<Target>& targets, std::ostream& out) {
  out << "# Flux: add to the Kustomization that applies these manifests (spec). Flux leaves the\n"
         "# objects canaryd generates alone (they carry kustomize.toolkit.fluxcd.io/reconcile:\n"
         "# disabled) and waits for each Canary through its kstatus conditions (Reconciling,\n"
         "# Stalled, Ready, observedGeneration).\n"
         "spec:\n";
  bool anyReplicas = false;
  for (const Target& t : targets)
    anyReplicas = anyReplicas || t.replicasInGit;
  if (anyReplicas) {
    out << "  patches:\n";
    for (const Target& t : targets) {
      if (!t.replicasInGit) continue;
      out << "    # canaryd scales " << t.ns << "/" << t.deployment
          << "; better still, remove spec.replicas from the manifest\n"
          << "    - target:\n        kind: Deployment\n        name: " << t.deployment
          << "\n        namespace: " << t.ns
          << "\n      patch: |\n        - op: remove\n          path: /spec/replicas\n";
    }
  }
  out << "  wait: false\n  healthChecks:\n";
  for (const Target& t : targets) {
    out << "    - apiVersion: flagger.app/v1beta1\n      kind: Canary\n      name: " << t.canary
        << "\n      namespace: " << t.ns << "\n";
  }
  for (const Target& t : targets) {
    if (t.routeInGit.empty()) continue;
    out << "# " << t.ns << "/" << t.routeInGit
        << ": canaryd generates and owns this HTTPRoute; remove it from Git (Flux would reset\n"
           "# its weights at every reconciliation).\n";
  }
}

}  // namespace

int runGitopsConfig(const GitopsConfigOptions& options, std::istream& in, std::ostream& out,
                    std::ostream& err) {
  if (options.engine != "argocd" && options.engine != "flux") {
    err << "canaryd gitops-config: --engine must be argocd or flux, got \"" << options.engine
        << "\"\n";
    return 2;
  }
  std::vector<api::Document> documents;
  if (int code = forEachDocument(options.files, in, err, "gitops-config",
                                 [&](const api::Document& d) { documents.push_back(d); });
      code != 0) {
    return code;
  }
  std::vector<Target> targets;
  for (const api::DocumentReport& report :
       api::validateDocuments(documents, plugins::builtin().catalog())) {
    if (report.kind != "Canary" || report.verdict == api::DocumentVerdict::kSkipped) continue;
    if (report.verdict == api::DocumentVerdict::kInvalid) {
      err << "canaryd gitops-config: Canary " << report.name
          << " is invalid; run canaryd validate for the details\n";
      return 1;
    }
    api::Canary c = api::decodeCanary(*report.document).value;
    if (!c.spec.targetRef || c.spec.targetRef->kind.value_or("Deployment") != "Deployment") {
      continue;
    }
    Target t;
    t.ns = c.metadata.namespace_.value_or("default");
    t.canary = c.metadata.name.value_or("");
    t.deployment = c.spec.targetRef->name.value_or("");
    const std::string apex =
        c.spec.service && c.spec.service->name ? *c.spec.service->name : t.deployment;
    for (const api::Document& d : documents) {
      const std::string ns = d.namespaceName().empty() ? "default" : d.namespaceName();
      if (ns != t.ns) continue;
      const nlohmann::json& body = d.body.get();
      if (d.kind() == "Deployment" && d.name() == t.deployment && body.contains("spec") &&
          body["spec"].is_object() && body["spec"].contains("replicas")) {
        t.replicasInGit = true;
      }
      if (d.kind() == "HTTPRoute" && d.name() == apex) {
        t.routeInGit = apex;
        t.routeApiGroup = d.apiVersion().substr(0, d.apiVersion().find('/'));
      }
    }
    targets.push_back(t);
  }
  if (targets.empty()) {
    err << "canaryd gitops-config: no Canary with a Deployment target in the input\n";
    return 1;
  }
  if (options.engine == "argocd") {
    printArgo(targets, out);
  } else {
    printFlux(targets, out);
  }
  return 0;
}

}  // namespace canaryd::cli
