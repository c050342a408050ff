// canaryd: the command-line entry point. Only this file knows the concrete commands.
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "canaryd/core/log.h"
#include "canaryd/core/text.h"
#include "canaryd/plugins/builtin.h"

#include "cli/gitops_command.h"
#include "cli/judge_command.h"
#include "cli/metrics_command.h"
#include "cli/run_command.h"
#include "cli/simulate_command.h"
#include "cli/validate_command.h"

#ifndef CANARYD_VERSION
#define CANARYD_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "canaryd: progressive delivery and canary analysis for Kubernetes, Flagger-compatible"};
  app.require_subcommand(1);
  // Global flags may come before or after the subcommand (`canaryd run --log-format json`):
  // subcommands pass what they do not know up to the app.
  app.fallthrough();
  app.set_version_flag("--version", std::string("canaryd ") + CANARYD_VERSION,
                       "Print canaryd's version and exit");
  std::string logFormat = "text";
  std::string logLevel = "info";
  app.add_option("--log-format", logFormat, "Log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error, critical or off");

  // The routers canaryd was built with: the choices of every --provider.
  const std::vector<std::string> routers = canaryd::plugins::builtin().catalog().routerNames();
  const std::string providerHelp =
      "Router for Canaries that name no spec.provider: " + canaryd::join(routers, ", ") +
      " (default kubernetes)";
  canaryd::cli::ValidateOptions validate;
  CLI::App* validateCmd =
      app.add_subcommand("validate", "Validate Canary, MetricTemplate and AlertProvider manifests");
  validateCmd
      ->add_option("files", validate.files,
                   "YAML or JSON files or directories; - reads standard input")
      ->required();
  validateCmd->add_flag("-R,--recursive", validate.recursive,
                        "Also read the directories' subdirectories, as kubectl apply -R");
  validateCmd->add_option("-o,--output", validate.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  validateCmd->add_option("--provider", validate.provider, providerHelp)
      ->check(CLI::IsMember(routers));
  validateCmd->add_flag("--explain", validate.explain,
                        "Also describe what each valid Canary's rollout will do");

  CLI::App* judgeCmd = app.add_subcommand("judge", "Run a judge on numbers from files");
  judgeCmd->require_subcommand(1);
  canaryd::cli::JudgeMannWhitneyOptions mw;
  CLI::App* mwCmd = judgeCmd->add_subcommand(
      "mann-whitney", "Rank-sum test of canary against baseline values (Kayenta's classifier)");
  mwCmd->add_option("--baseline", mw.baselineFile, "File of baseline numbers")->required();
  mwCmd->add_option("--canary", mw.canaryFile, "File of canary numbers")->required();
  mwCmd->add_option("--confidence", mw.confidence, "Confidence level of the interval")
      ->check(CLI::Range(0.5, 0.9999));
  mwCmd->add_option("--allowed-increase", mw.allowedIncrease,
                    "Effect size at or above which a significant increase fails");
  mwCmd->add_option("--allowed-decrease", mw.allowedDecrease,
                    "Effect size at or below which a significant decrease fails");
  mwCmd->add_option("--effect-size", mw.effectSize, "mean-ratio or cles")
      ->check(CLI::IsMember({"mean-ratio", "cles"}));
  mwCmd->add_option("--nan-strategy", mw.nanStrategy, "remove or replace (with 0)")
      ->check(CLI::IsMember({"remove", "replace"}));
  mwCmd->add_option("-o,--output", mw.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  canaryd::cli::JudgeSequentialOptions seq;
  CLI::App* seqCmd = judgeCmd->add_subcommand(
      "sequential", "Anytime-valid test of canary against primary error counts per interval");
  seqCmd
      ->add_option("--input", seq.input,
                   "CSV: stream,canary_weight,canary_requests,canary_errors,primary_requests,"
                   "primary_errors")
      ->required();
  seqCmd->add_option("--alpha", seq.alpha, "False-alarm rate over the whole run")
      ->check(CLI::Range(1e-9, 0.5));
  seqCmd
      ->add_option("--max-increase", seq.maxIncrease,
                   "Allowed increase of the canary's error rate, in percentage points")
      ->check(CLI::Range(0.0, 100.0));
  seqCmd
      ->add_option("--max-ratio", seq.maxRatio,
                   "Allowed ratio of the canary's error rate to the primary's (exact)")
      ->check(CLI::Range(1.0, 1000.0));

  canaryd::cli::MetricsOptions metricsOptions;
  CLI::App* metricsCmd = app.add_subcommand(
      "metrics", "Run every metric query of Canaries against Prometheus, before a rollout");
  metricsCmd
      ->add_option("files", metricsOptions.files,
                   "Canaries and their MetricTemplates; - reads standard input")
      ->required();
  metricsCmd->add_option("--prometheus", metricsOptions.prometheus,
                         "Prometheus to ask, overriding every address (e.g. a port-forward)");
  metricsCmd->add_option("--canary", metricsOptions.canary, "Only the Canary of this name");
  metricsCmd->add_option("--provider", metricsOptions.provider,
                         "Router for Canaries that name no spec.provider (built-in queries)");
  metricsCmd->add_option("-o,--output", metricsOptions.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));

  canaryd::cli::GitopsConfigOptions gitops;
  CLI::App* gitopsCmd = app.add_subcommand(
      "gitops-config",
      "Print what Argo CD or Flux must ignore so as not to fight canaryd over its fields");
  gitopsCmd->add_option("--engine", gitops.engine, "argocd or flux")->required();
  gitopsCmd->add_option("files", gitops.files, "Canaries and their targets; - reads stdin")
      ->required();

  canaryd::cli::RunOptions run;
  CLI::App* runCmd = app.add_subcommand("run", "Run the controller: drive Canaries' rollouts");
  runCmd->add_option("--kubeconfig", run.kubeconfig,
                     "Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else in-cluster)");
  runCmd->add_option("--namespace", run.namespaces,
                     "Namespace to watch; repeat for several (default: all)");
  runCmd->add_option("--metrics-server", run.metricsServer,
                     "Prometheus address for metrics whose template names none");
  runCmd->add_option("--provider", run.provider, providerHelp)->check(CLI::IsMember(routers));
  runCmd->add_option("--selector-labels", run.selectorLabels,
                     "Labels a target may select its pods by, comma-separated, first found wins "
                     "(Flagger's default: app,name,app.kubernetes.io/name)");
  runCmd->add_option("--ingress-class", run.ingressClass,
                     "Ingress class of the objects an ingress router writes (Flagger's "
                     "-ingress-class; contour: the HTTPProxy's spec.ingressClassName)");
  runCmd->add_option("--listen", run.listen, "HOST:PORT of /healthz and /readyz");
  runCmd->add_flag("--leader-elect", run.leaderElect,
                   "Take a Lease so that only one replica drives rollouts");
  runCmd->add_option("--lease-name", run.leaseName, "Name of the leader Lease");
  runCmd->add_option("--lease-namespace", run.leaseNamespace, "Namespace of the leader Lease");
  runCmd->add_option("--git-write-back-config", run.gitWriteBackConfig,
                     "File listing the Git repositories and paths each namespace may write back "
                     "to (default: write-back off)");
  runCmd->add_option("--digest-key-secret", run.digestKeySecret,
                     "NAMESPACE/NAME of the Secret with the key of status digests (created when "
                     "missing)");
  runCmd->add_option("--git-credentials-secret", run.gitCredentialsSecret,
                     "Refused (replaced by --git-write-back-config and per-namespace Secrets)");
  runCmd
      ->add_option("--max-concurrent-canaries", run.maxConcurrentCanaries,
                   "Canaries reconciled at once (worker threads)")
      ->check(CLI::Range(1, 256));
  runCmd->add_option("--allow-address", run.allowAddresses,
                     "HOST, CIDR or URL prefix that MetricTemplates, webhooks and alert providers "
                     "may reach; repeat for several (default: any address)");
  runCmd->add_flag("--no-cross-namespace-refs", run.noCrossNamespaceRefs,
                   "Refuse templateRef and providerRef to another namespace than the Canary's");
  runCmd->add_option("--min-interval", run.minInterval,
                     "Floor of analysis intervals (Flagger's 10s; lower only for tests and demos)");

  canaryd::cli::SimulateOptions simulate;
  CLI::App* simulateCmd = app.add_subcommand(
      "simulate",
      "Run the controller against a simulated cluster, traffic and Prometheus (a Scenario file)");
  simulateCmd->add_option("scenario", simulate.file, "Scenario file (YAML)")->required();
  simulateCmd->add_option("--seed", simulate.seed, "Seed of the first run");
  simulateCmd->add_option("--judge", simulate.judge, "threshold, mann-whitney or sequential")
      ->check(CLI::IsMember({"threshold", "mann-whitney", "sequential"}));
  simulateCmd->add_option("--check-interval", simulate.checkInterval,
                          "Sequential judge: also judge between steps this often (e.g. 15s)");
  simulateCmd->add_option("--runs", simulate.runs, "Runs (seeds seed, seed+1, ...): a summary")
      ->check(CLI::Range(1, 1'000'000));
  simulateCmd->add_option("--jobs", simulate.jobs, "Threads for many runs (default: one per core)")
      ->check(CLI::Range(0, 256));
  simulateCmd->add_option("-o,--output", simulate.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  simulateCmd->add_flag("!--no-progress", simulate.progress, "No progress bar on stderr");

  app.add_subcommand("version", "Print canaryd's version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  canaryd::Result<canaryd::LogFormat> format = canaryd::parseLogFormat(logFormat);
  canaryd::Status logging = format ? canaryd::setupLogging({*format, logLevel, nullptr})
                                   : canaryd::Status(format.error());
  if (!logging) {
    std::cerr << "canaryd: " << logging.error().message() << "\n";
    return 2;
  }

  if (simulateCmd->parsed()) {
    // The controller's own log lines would drown the timeline: off unless asked for.
    if (app.get_option("--log-level")->count() == 0) spdlog::set_level(spdlog::level::off);
    return canaryd::cli::runSimulate(simulate, std::cout, std::cerr);
  }
  if (validateCmd->parsed()) {
    return canaryd::cli::runValidate(validate, std::cin, std::cout, std::cerr);
  }
  if (mwCmd->parsed()) return canaryd::cli::runJudgeMannWhitney(mw, std::cout, std::cerr);
  if (seqCmd->parsed()) return canaryd::cli::runJudgeSequential(seq, std::cout, std::cerr);
  if (runCmd->parsed()) return canaryd::cli::runDaemon(run, std::cerr);
  if (gitopsCmd->parsed()) {
    return canaryd::cli::runGitopsConfig(gitops, std::cin, std::cout, std::cerr);
  }
  if (metricsCmd->parsed()) {
    return canaryd::cli::runMetrics(metricsOptions, std::cin, std::cout, std::cerr);
  }
  if (app.got_subcommand("version")) {
    std::cout << "canaryd " << CANARYD_VERSION << "\n";
    return 0;
  }
  return 2;
}
