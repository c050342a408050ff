#include "canaryd/sim/run.h"

#include <algorithm>
#include <mutex>

#include <nlohmann/json.hpp>

#include "canaryd/api/codec.h"
#include "canaryd/api/defaults.h"
#include "canaryd/api/knative.h"
#include "canaryd/cluster/knative.h"
#include "canaryd/cluster/typed.h"
#include "canaryd/controller/canary_controller.h"
#include "canaryd/controller/judging.h"
#include "canaryd/controller/reconciler.h"
#include "canaryd/core/clock.h"
#include "canaryd/notify/notifier.h"
#include "canaryd/plugins/builtin.h"
#include "canaryd/router/router.h"
#include "canaryd/sim/cluster.h"
#include "canaryd/sim/metrics.h"
#include "canaryd/sim/traffic.h"

namespace canaryd::sim {
namespace {

using nlohmann::json;

constexpr Duration kTick = std::chrono::seconds(5);
constexpr Duration kReadinessDelay = std::chrono::seconds(10);
// Reconciles of the initialisation before the run gives up (the Canary never initialises).
constexpr int kInitialReconciles = 50;
// Immediate re-reconciles (conflicts, requeue 0) before the clock is moved anyway.
constexpr int kImmediateRetries = 3;

// Alerts and webhook calls of the current reconcile, for the timeline. The Reconciler calls in
// from its own thread only, but a lock keeps the contract of Notifier (thread-safe).
class Notes {
 public:
  void add(std::string note) {
    std::lock_guard lock(mu_);
    notes_.push_back(std::move(note));
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mu_);
    return std::exchange(notes_, {});
  }

 private:
  std::mutex mu_;
  std::vector<std::string> notes_;
};

class RecordingNotifier final : public notify::Notifier {
 public:
  explicit RecordingNotifier(Notes& notes) : notes_(notes) {}
  Status notify(const api::Canary&, const notify::Alert& alert) override {
    std::string note = "alert " + alert.severity + ": " + alert.message;
    notes_.add(std::move(note));
    return Status();
  }

 private:
  Notes& notes_;
};

bool active(const Scenario& s, std::string_view type, Duration t) {
  return std::any_of(s.faults.begin(), s.faults.end(),
                     [&](const Fault& f) { return f.type == type && t >= f.from && t < f.until; });
}

const cluster::Resource kIngresses{"networking.k8s.io", "v1", "ingresses", true, "Ingress"};
const cluster::Resource kApisixRoutes{"apisix.apache.org", "v2", "apisixroutes", true,
                                      "ApisixRoute"};

// The objects an ingress router copies from, as the user keeps them in Git: the Ingress of
// spec.ingressRef and the ApisixRoute of spec.routeRef, each sending `/` of <name>.example.com
// to the apex Service.
std::vector<std::pair<const cluster::Resource*, json>> userRouting(const api::Canary& canary,
                                                                   const std::string& ns) {
  std::vector<std::pair<const cluster::Resource*, json>> out;
  const std::string apex = router::apexServiceName(canary);
  const std::int64_t port =
      canary.spec.service ? canary.spec.service->port.value_or(80) : std::int64_t{80};
  if (canary.spec.ingressRef && canary.spec.ingressRef->name) {
    const std::string name = *canary.spec.ingressRef->name;
    json path = {{"path", "/"},
                 {"pathType", "Prefix"},
                 {"backend", {{"service", {{"name", apex}, {"port", {{"number", port}}}}}}}};
    out.emplace_back(
        &kIngresses,
        json{{"apiVersion", "networking.k8s.io/v1"},
             {"kind", "Ingress"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"spec",
              {{"rules", {{{"host", name + ".example.com"}, {"http", {{"paths", {path}}}}}}}}}});
  }
  if (canary.spec.routeRef && canary.spec.routeRef->name) {
    const std::string name = *canary.spec.routeRef->name;
    json route = {{"name", "main"},
                  {"match", {{"hosts", {name + ".example.com"}}, {"paths", {"/*"}}}},
                  {"backends", {{{"serviceName", apex}, {"servicePort", port}}}}};
    out.emplace_back(&kApisixRoutes, json{{"apiVersion", "apisix.apache.org/v2"},
                                          {"kind", "ApisixRoute"},
                                          {"metadata", {{"name", name}, {"namespace", ns}}},
                                          {"spec", {{"http", {route}}}}});
  }
  return out;
}

json targetDeployment(const std::string& ns, const std::string& name) {
  const json labels = {{"app", name}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
          {"spec",
           {{"replicas", 2},
            {"selector", {{"matchLabels", labels}}},
            {"template",
             {{"metadata", {{"labels", labels}}},
              {"spec",
               {{"containers",
                 {{{"name", name},
                   {"image", "registry.example/" + name + ":1.0.0"},
                   {"ports", {{{"name", "http"}, {"containerPort", 8080}}}}}}}}}}}}}};
}

// A Knative Service target (provider knative) as the user keeps it in Git: one container.
json targetKnativeService(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "serving.knative.dev/v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"template",
             {{"spec",
               {{"containers",
                 {{{"name", name},
                   {"image", "registry.example/" + name + ":1.0.0"},
                   {"ports", {{{"containerPort", 8080}}}}}}}}}}}}}};
}

}  // namespace

std::string_view toString(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPromoted:
      return "promoted";
    case Outcome::kRolledBack:
      return "rolledBack";
    case Outcome::kUndecided:
      return "undecided";
  }
  return "";
}

Result<api::Canary> withJudge(const api::Canary& canary, const std::string& judge) {
  if (judge != "threshold" && judge != "mann-whitney" && judge != "sequential") {
    return Error::invalidInput("unknown judge \"" + judge +
                               "\"; allowed: threshold, mann-whitney, sequential");
  }
  api::Canary out = canary;
  if (!out.spec.analysis) return Error::invalidInput("the Canary has no analysis to judge");
  std::optional<api::CanaryJudge>& j = out.spec.analysis->judge;
  if (judge == "threshold") {
    j.reset();
  } else {
    if (!j) j.emplace();
    j->type = judge;
  }
  return out;
}

Result<api::Canary> withCheckInterval(const api::Canary& canary, const std::string& every) {
  Result<Duration> parsed = parseDuration(every);
  if (!parsed) return parsed.error();
  if (*parsed < api::kMinJudgeCheckInterval) {
    return Error::invalidInput("must be at least " + formatDuration(api::kMinJudgeCheckInterval) +
                               ", got " + every);
  }
  if (!canary.spec.analysis || !canary.spec.analysis->judge ||
      canary.spec.analysis->judge->type.value_or("") != "sequential") {
    return Error::invalidInput(
        "applies to the sequential judge only (the scenario's Canary, or --judge sequential)");
  }
  api::Canary out = canary;
  out.spec.analysis->judge->checkInterval = every;
  return out;
}

std::vector<std::string> unmetExpectations(const Expect& expect, const RunResult& result) {
  std::vector<std::string> unmet;
  if (expect.phase && *expect.phase != result.phase) {
    unmet.push_back("phase " + result.phase + ", expected " + *expect.phase);
  }
  if (expect.outcome && *expect.outcome != toString(result.outcome)) {
    unmet.push_back("outcome " + std::string(toString(result.outcome)) + ", expected " +
                    *expect.outcome);
  }
  if (expect.maxDuration && result.duration > *expect.maxDuration) {
    unmet.push_back("took " + formatDuration(result.duration) + ", expected at most " +
                    formatDuration(*expect.maxDuration));
  }
  if (expect.minDuration && result.duration < *expect.minDuration) {
    unmet.push_back("took " + formatDuration(result.duration) + ", expected at least " +
                    formatDuration(*expect.minDuration));
  }
  return unmet;
}

namespace {

RunResult run(const Scenario& scenario, const RunOptions& options) {
  RunResult result;
  api::Canary canary = scenario.canary;
  if (options.judge) {
    Result<api::Canary> judged = withJudge(canary, *options.judge);
    if (judged) canary = *judged;
  }
  const std::string ns = canary.metadata.namespace_.value_or("default");
  const std::string name = canary.metadata.name.value_or("");
  const std::string target = canary.spec.targetRef->name.value_or("");
  const bool knative = api::isKnativeService(*canary.spec.targetRef);
  const cluster::Resource& targetResource =
      knative ? cluster::kKnativeServices : cluster::kDeployments;

  VirtualClock clock;
  std::optional<TimePoint> release;  // set at the release
  auto sinceRelease = [&](TimePoint at) { return release ? at - *release : Duration::min() / 2; };
  Notes notes;
  std::string lastWarning;
  ClusterOptions clusterOptions;
  clusterOptions.readinessDelay = kReadinessDelay;
  clusterOptions.readyAt = [&](TimePoint changed) {
    TimePoint ready = changed + kReadinessDelay;
    for (const Fault& f : scenario.faults) {
      const Duration t = sinceRelease(changed);
      if (f.type == "slow-readiness" && t >= f.from && t < f.until && release) {
        ready = std::max(ready, *release + f.until);
      }
    }
    return ready;
  };
  clusterOptions.onEvent = [&](const api::JsonValue& event) {
    const json& e = event.get();
    const std::string type = e.value("type", "Normal");
    const std::string message = e.value("message", "");
    if (type == "Warning") lastWarning = message;
    notes.add("event " + type + " " + e.value("reason", "") + ": " + message);
  };
  Cluster cluster(clock, clusterOptions);

  std::optional<TrafficLedger> ledger;  // from the release
  MetricsSource source;
  source.provider = canary.spec.provider.value_or("kubernetes");
  source.namespace_ = ns;
  source.target = target;
  source.name = name;
  source.apex = router::apexServiceName(canary);
  if (canary.spec.ingressRef) source.ingress = canary.spec.ingressRef->name.value_or("");
  if (canary.spec.routeRef) source.route = canary.spec.routeRef->name.value_or("");
  source.extrapolate = scenario.prometheus.extrapolate;
  source.scrapeInterval = scenario.prometheus.scrapeInterval;
  source.outage = [&](TimePoint at) {
    return release && active(scenario, "metrics-outage", sinceRelease(at));
  };

  controller::ReconcilerOptions reconcilerOptions;
  reconcilerOptions.metricsServer = "http://prometheus.sim:9090";
  reconcilerOptions.webhookTransport = [&](const HttpRequest& request) -> Result<HttpResponse> {
    const Duration t = sinceRelease(clock.now());
    std::string phase;
    const json body = json::parse(request.body, nullptr, false);
    if (body.is_object()) phase = body.value("phase", "");
    if (release && active(scenario, "webhook-failure", t)) {
      notes.add("webhook " + request.url + " (" + phase + "): timed out (webhook-failure fault)");
      return Error::unavailable("simulated webhook failure: " + request.url + " timed out");
    }
    HttpResponse response;
    response.status = 200;
    if (release && active(scenario, "webhook-refusal", t)) {
      response.status = 403;
      response.body = "refused by the simulated gate";
    }
    notes.add("webhook " + request.url + " (" + phase + "): " + std::to_string(response.status));
    return response;
  };
  RecordingNotifier notifier(notes);
  controller::ProviderFactory metricsFactory =
      [&](const metrics::ProviderConfig&) -> Result<std::unique_ptr<metrics::Provider>> {
    if (!ledger) return Error::notFound("no traffic before the release");
    if (knative) {
      // The built-in queries' {{ route }} is the Knative Service's latest created Revision.
      MetricsSource current = source;
      Result<api::JsonValue> service = cluster.get(cluster::kKnativeServices, {ns, target});
      if (service) {
        current.route =
            service->get().value("status", json::object()).value("latestCreatedRevisionName", "");
      }
      return makeProvider(clock, *ledger, current);
    }
    return makeProvider(clock, *ledger, source);
  };
  const plugins::Registry& registry = plugins::builtin();
  reconcilerOptions.routers = registry.routerFactory(nullptr);
  reconcilerOptions.catalog = registry.catalog();
  controller::Reconciler reconciler(cluster, clock, notifier, reconcilerOptions, metricsFactory,
                                    [](Duration) {});
  Result<std::unique_ptr<router::Router>> router =
      registry.makeRouter(canary.spec.provider.value_or("kubernetes"), {cluster, nullptr, {}});

  // Install the target and the Canary, and let the controller initialise them.
  api::Canary installed = canary;
  installed.status.reset();
  const json nsObject = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
  for (const auto& [resource, object] :
       {std::pair{&cluster::kNamespaces, api::JsonValue(nsObject)},
        std::pair{&targetResource, api::JsonValue(knative ? targetKnativeService(ns, target)
                                                          : targetDeployment(ns, target))},
        std::pair{&cluster::kCanaries, api::toJsonValue(installed)}}) {
    Result<api::JsonValue> created =
        cluster.create(*resource, resource->namespaced ? ns : "", object);
    if (!created) {
      result.reason = "installing the " + resource->kind + ": " + created.error().message();
      return result;
    }
  }
  for (const auto& [resource, object] : userRouting(canary, ns)) {
    Result<api::JsonValue> created = cluster.create(*resource, ns, api::JsonValue(object));
    if (!created) {
      result.reason = "installing the " + resource->kind + ": " + created.error().message();
      return result;
    }
  }
  const cluster::ObjectRef ref{ns, name};
  auto status = [&]() -> api::CanaryStatus {
    Result<api::Canary> current = cluster::getCanary(cluster, ref);
    return current && current->status ? *current->status : api::CanaryStatus{};
  };

  // The daemon's scheduler, on the simulated cluster and clock: its work queue decides when the
  // Canary is reconciled next (the requeue after a reconcile, at once after a conflict, backoff
  // after an error). Its informers are not run (the run is single-threaded and deterministic):
  // the run puts the Canary's key on the queue itself where they would, at the Canary's creation
  // and at the release (its target Deployment changed).
  controller::ControllerOptions controllerOptions;
  controllerOptions.workers = 1;
  // A Canary the reconciler stalls (a wrong manifest) is retried a tick later, not a minute:
  // the run moves in ticks, and this is how often it retried before it used the controller.
  controllerOptions.invalidRetry = kTick;
  std::optional<Result<controller::ReconcileOutcome>> reconciled;  // the last reconcile's
  controllerOptions.onReconciled = [&](const cluster::ObjectRef&,
                                       const Result<controller::ReconcileOutcome>& outcome) {
    reconciled = outcome;
  };
  controller::CanaryController canaryController(cluster, clock, reconciler, controllerOptions);
  const std::string key = ns + "/" + name;
  int atThisInstant = 0;  // reconciles since the clock last moved
  // Whether the controller may reconcile again before the clock moves: at most
  // kImmediateRetries re-reconciles at one instant, so a requeue 0 (or conflicts) cannot spin.
  auto processNext = [&] {
    if (atThisInstant > kImmediateRetries || !canaryController.processNext()) return false;
    ++atThisInstant;
    return true;
  };
  // How long until the queue hands the key out again (at least a second): a tick when it is
  // ready now (only once kImmediateRetries is reached); nothing when the controller forgot the
  // Canary (it is gone).
  auto nextWakeUp = [&]() -> std::optional<Duration> {
    if (canaryController.queue().length() > 0) return kTick;
    const std::optional<TimePoint> next = canaryController.queue().nextReadyTime();
    if (!next) return std::nullopt;
    return std::max(*next - clock.now(), Duration(std::chrono::seconds(1)));
  };

  canaryController.queue().add(key);  // the Canary's creation
  for (int reconciles = 0; reconciles < kInitialReconciles;) {
    cluster.settle();
    if (processNext()) {
      ++reconciles;
      if (status().phase.value_or("") == "Initialized") break;
      if (reconciles < kInitialReconciles) continue;
    }
    const std::optional<Duration> wait = nextWakeUp();
    if (!wait) break;
    clock.advance(*wait);
    atThisInstant = 0;
  }
  notes.take();
  lastWarning.clear();

  // The release: a new image, as a CI pipeline or a Git commit would bring.
  const std::string image = "registry.example/" + target + ":2.0.0";
  const json patch = {
      {"spec",
       {{"template", {{"spec", {{"containers", {{{"name", target}, {"image", image}}}}}}}}}}};
  // A Knative Service is a custom resource: a merge patch (its one container replaced).
  (void)cluster.patch(targetResource, {ns, target},
                      knative ? cluster::PatchType::kMerge : cluster::PatchType::kStrategicMerge,
                      patch.dump());
  release = clock.now();
  ledger.emplace(*release, kTick);
  canaryController.queue().add(key);  // the target Deployment changed
  atThisInstant = 0;
  const TrafficModel model(scenario, options.seed);

  const bool judged = controller::usesStatisticalJudge(canary);
  std::string lastJudge;
  TimelineEntry last;
  bool first = true;
  for (;;) {
    cluster.settle();
    if (!processNext()) {
      const std::optional<Duration> wait = nextWakeUp();
      if (!wait) {  // the Canary is gone: nothing will reconcile it again
        result.duration = sinceRelease(clock.now());
        break;
      }
      atThisInstant = 0;
      // The next reconcile, on the tick grid; the traffic up to it flows at the router's weights.
      const Duration since = sinceRelease(clock.now()) + *wait;
      const std::int64_t ticks = (since + kTick - Duration(1)) / kTick;
      double weight = 0;
      if (router) {
        Result<router::Weights> w = (*router)->getRoutes(canary);
        if (w) weight = static_cast<double>(w->canary);
      }
      // A load tester sends its requests to the canary while it is analysed.
      const bool testing = result.phase == "Progressing";
      while (ledger->size() < ticks) {
        IntervalTraffic traffic = model.interval(ledger->size(), kTick, weight);
        if (!result.decided) {  // harm: users' requests, not the load tester's
          result.badRequestsServed += traffic.canary.bad;
          result.canaryRequests += traffic.canary.requests;
        }
        if (testing) accumulate(traffic.canary, model.testTraffic(ledger->size(), kTick));
        ledger->append(traffic);
      }
      clock.set(*release + ticks * kTick);
      continue;
    }
    const Result<controller::ReconcileOutcome>& out = *reconciled;
    const api::CanaryStatus s = status();
    TimelineEntry entry;
    entry.t = sinceRelease(clock.now());
    entry.phase = s.phase.value_or("");
    entry.canaryWeight = s.canaryWeight.value_or(0);
    entry.failedChecks = s.failedChecks.value_or(0);
    if (out) entry.metrics = out->metricValues;
    if (s.judge && s.judge->verdict && s.judge->explanation && *s.judge->explanation != lastJudge) {
      lastJudge = *s.judge->explanation;
      entry.judge = *s.judge->verdict + ": " + lastJudge;
    }
    entry.notes = notes.take();
    if (!out) entry.notes.push_back("reconcile error: " + out.error().message());
    const bool changed = first || entry.phase != last.phase ||
                         entry.canaryWeight != last.canaryWeight ||
                         entry.failedChecks != last.failedChecks || !entry.metrics.empty() ||
                         !entry.judge.empty() || !entry.notes.empty();
    first = false;
    if (changed) {
      if (options.onEntry) options.onEntry(entry);
      if (options.keepTimeline) result.timeline.push_back(entry);
      last = entry;
    }
    result.phase = entry.phase;
    // The outcome is what the user sees: a run that ended Succeeded was promoted, one that
    // ended Failed was rolled back (whatever failed it: rolledBackBy says what), one still
    // running at the duration limit is undecided. The judge's verdict when the run was decided
    // is kept beside it.
    const bool promoting =
        entry.phase == "Promoting" || entry.phase == "Finalising" || entry.phase == "Succeeded";
    if (!result.decided && (promoting || entry.phase == "Failed")) {
      result.decided = true;
      result.decisionTime = entry.t;
      if (judged && s.judge) result.verdict = s.judge->verdict.value_or("");
    }
    if (out && !out->rolledBackBy.empty()) result.rolledBackBy = out->rolledBackBy;
    if (entry.phase == "Failed" || entry.phase == "Succeeded" ||
        entry.t >= scenario.durationLimit) {
      result.duration = entry.t;
      if (entry.phase == "Succeeded") {
        result.outcome = Outcome::kPromoted;
      } else if (entry.phase == "Failed") {
        result.outcome = Outcome::kRolledBack;
        result.reason = lastWarning;
      } else {
        result.outcome = Outcome::kUndecided;
      }
      break;
    }
  }
  return result;
}

}  // namespace

RunResult runScenario(const Scenario& scenario, const RunOptions& options) {
  // A bug must end one run with a message, not a benchmark of thousands with a crash.
  try {
    return run(scenario, options);
  } catch (const std::exception& e) {
    RunResult failed;
    failed.reason = std::string("the simulation failed: ") + e.what();
    return failed;
  }
}

}  // namespace canaryd::sim
