#include "canaryd/controller/rollout.h"

#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/controller/primary.h"
#include "canaryd/core/digest.h"
#include "canaryd/core/text.h"

namespace canaryd::controller {
namespace {

using api::CanaryStatus;

// Windows without data before a statistical judge rolls back, when noDataLimit is unset.
constexpr std::int64_t kDefaultNoDataLimit = 3;
using api::Strategy;

// Builds one step: the status being written and the actions, in order.
class Stepper {
 public:
  Stepper(const api::Canary& canary, const Observation& observed, Gates& gates, TimePoint now,
          Duration minInterval)
      : canary_(canary),
        analysis_(*canary.spec.analysis),
        observed_(observed),
        gates_(gates),
        now_(now),
        interval_(api::effectiveInterval(analysis_, minInterval)) {
    out_.status = canary.status.value_or(CanaryStatus{});
    out_.requeueAfter = interval_;
  }

  Step run() {
    advance();
    if (out_.status.phase == "Progressing") {
      // Come back for the judge between steps (judge.checkInterval).
      if (std::optional<Duration> every = api::judgeCheckInterval(analysis_, interval_)) {
        out_.requeueAfter = std::min(out_.requeueAfter, *every);
      }
    }
    gitopsStatus();
    return std::move(out_);
  }

 private:
  std::string name() const {
    return canary_.metadata.name.value_or("") + "." + canary_.metadata.namespace_.value_or("");
  }
  void advance() {
    const std::string phase = out_.status.phase.value_or("");
    if (canary_.spec.suspend.value_or(false)) return;
    if (phase.empty() || phase == "Initializing") {
      initialize();
    } else if (phase == "Initialized" || phase == "Succeeded" || phase == "Failed" ||
               phase == "Waiting") {
      idleOrStart(phase);
    } else if (phase == "Progressing" || phase == "WaitingPromotion") {
      if (restartOnNewRevision()) return;
      if (!intervalDue()) {
        if (phase == "Progressing") judgeBetweenSteps();
        return;
      }
      markStep();
      progress();
    } else if (phase == "Promoting") {
      if (!intervalDue()) return;
      markStep();
      promoting();
    } else if (phase == "Finalising") {
      if (!intervalDue()) return;
      finalise();
    }
  }

  // The kstatus conditions and observedGeneration (see rollout.h), from the step's outcome.
  void gitopsStatus() {
    CanaryStatus& s = out_.status;
    const std::string phase = s.phase.value_or("");
    if (phase.empty()) return;
    const std::optional<std::int64_t> generation = canary_.metadata.generation;
    s.observedGeneration = generation;
    const bool inFlight = phase == "Initializing" || phase == "Waiting" || phase == "Progressing" ||
                          phase == "WaitingPromotion" || phase == "Promoting" ||
                          phase == "Finalising";
    const bool primaryStuck = phase == "Initializing" && observed_.primaryDeadlineExceeded;
    const bool stalled = phase == "Failed" || primaryStuck;
    const bool promoted = (phase == "Initialized" || phase == "Succeeded") &&
                          observed_.revision == s.lastPromotedSpec.value_or("");
    const std::string revision = s.lastAppliedRevision.value_or(observed_.images);
    std::string stalledWhy = "Nothing is stuck.";
    if (phase == "Failed") {
      stalledWhy = "Rolled back " + revision;
      if (s.lastFailedCheck && s.lastFailedCheck->message) {
        stalledWhy += ": " + *s.lastFailedCheck->message;
      } else if (s.judge && s.judge->explanation) {
        stalledWhy += ": " + *s.judge->explanation;
      }
      stalledWhy += "; the primary serves " +
                    s.lastPromotedRevision.value_or("the last promoted revision") +
                    ". A new revision of the target starts a new analysis.";
    } else if (primaryStuck) {
      stalledWhy = "The primary Deployment is not ready within the progress deadline.";
    }
    setCondition("Reconciling", inFlight, phase,
                 inFlight ? "Rolling out " + revision + ": " + conditionMessage(phase) +
                                " Canary weight " + std::to_string(weight()) + "%."
                          : "No rollout in flight.");
    setCondition("Stalled", stalled,
                 stalled ? (primaryStuck ? "ProgressDeadlineExceeded" : "RolledBack") : phase,
                 stalledWhy);
    setCondition("Ready", promoted, phase,
                 promoted ? revision + " is promoted and serves all traffic."
                          : "The target's current revision is not promoted (" + phase + ").");
  }

  void setCondition(const std::string& type, bool value, const std::string& reason,
                    const std::string& message) {
    CanaryStatus& s = out_.status;
    api::CanaryCondition* c = nullptr;
    for (api::CanaryCondition& existing : s.conditions) {
      if (existing.type == type) c = &existing;
    }
    if (c == nullptr) {
      s.conditions.push_back({});
      c = &s.conditions.back();
      c->type = type;
    }
    const std::string status = value ? "True" : "False";
    if (c->status.value_or("") != status) c->lastTransitionTime = formatRfc3339(now_);
    c->status = status;
    c->reason = reason;
    c->message = message;
    c->observedGeneration = canary_.metadata.generation;
  }

  std::int64_t weight() const { return out_.status.canaryWeight.value_or(0); }
  std::int64_t failedChecks() const { return out_.status.failedChecks.value_or(0); }

  api::CanaryCondition* promotedCondition() {
    for (api::CanaryCondition& c : out_.status.conditions) {
      if (c.type == "Promoted") return &c;
    }
    return nullptr;
  }

  // Analysis steps are one interval apart, however often the Canary is reconciled (its own
  // status writes and the Deployments' changes wake it too). The time of the last step is the
  // Promoted condition's lastUpdateTime: status stays the only memory, and a restarted daemon
  // neither repeats a step early nor skips one. Timestamps have second precision, so a step
  // can come up to a second early, never late.
  bool intervalDue() {
    const api::CanaryCondition* promoted = promotedCondition();
    if (promoted == nullptr || !promoted->lastUpdateTime) return true;
    const std::optional<TimePoint> last = parseRfc3339(*promoted->lastUpdateTime);
    if (!last) return true;
    const Duration elapsed = now_ - *last;
    if (elapsed >= interval_) return true;
    out_.requeueAfter = interval_ - elapsed;
    return false;
  }
  void markStep() {
    if (api::CanaryCondition* promoted = promotedCondition()) {
      promoted->lastUpdateTime = formatRfc3339(now_);
    }
  }

  void act(Action::Type type, std::string severity = {}, std::string message = {}) {
    out_.actions.push_back({type, 0, 0, false, std::move(severity), std::move(message), {}});
  }
  void setWeights(std::int64_t canaryWeight, bool mirror = false) {
    out_.actions.push_back(
        {Action::Type::kSetWeights, 100 - canaryWeight, canaryWeight, mirror, {}, {}, {}});
    out_.status.canaryWeight = canaryWeight;
  }
  // Flagger's muteAlert: a gate hook that asks for it silences its "waiting for approval" alert.
  bool muted(const std::string& hookType) const {
    for (const api::CanaryWebhook& hook : analysis_.webhooks) {
      if (hook.type.value_or("") == hookType && hook.muteAlert.value_or(false)) return true;
    }
    return false;
  }
  void event(const std::string& type, const std::string& message) {
    act(Action::Type::kEvent, type, message);
  }
  // An alert says what happened, the numbers behind it, and what happens next.
  void alert(const std::string& severity, const std::string& message, const std::string& next,
             Facts facts = {}) {
    facts.emplace_back("next", next);
    out_.actions.push_back(
        {Action::Type::kAlert, 0, 0, false, severity, message, std::move(facts)});
  }
  std::string intervalText() const { return formatDuration(interval_); }

  // Flagger: a phase other than Progressing, Waiting or Promoting resets weight and iterations;
  // Initialized and Succeeded record the promoted revision; the Promoted condition mirrors it.
  void setPhase(const std::string& phase) {
    CanaryStatus& s = out_.status;
    if (s.phase.value_or("") != phase) s.lastTransitionTime = formatRfc3339(now_);
    s.phase = phase;
    if (phase != "Progressing" && phase != "Waiting" && phase != "Promoting" &&
        phase != "WaitingPromotion") {
      s.canaryWeight = 0;
      s.iterations = 0;
    }
    if (phase == "Initialized" || phase == "Succeeded") {
      s.lastPromotedSpec = s.lastAppliedSpec;
      s.lastPromotedRevision = s.lastAppliedRevision;
    }
    const std::string status = phase == "Initialized" || phase == "Succeeded" ? "True"
                               : phase == "Failed"                            ? "False"
                                                                              : "Unknown";
    api::CanaryCondition* promoted = promotedCondition();
    if (promoted == nullptr) {
      s.conditions.push_back({});
      promoted = &s.conditions.back();
      promoted->type = "Promoted";
    }
    if (promoted->status.value_or("") != status) promoted->lastTransitionTime = formatRfc3339(now_);
    promoted->status = status;
    promoted->reason = phase;
    promoted->lastUpdateTime = formatRfc3339(now_);
    promoted->message = conditionMessage(phase);
  }

  static std::string conditionMessage(const std::string& phase) {
    if (phase == "Initialized") return "Deployment initialization completed.";
    if (phase == "Succeeded") return "Canary analysis completed successfully, promotion finished.";
    if (phase == "Failed") return "Canary analysis failed, Deployment scaled to zero.";
    if (phase == "Progressing") return "New revision detected, progressing canary analysis.";
    if (phase == "Promoting") return "Canary analysis completed, starting primary rolling update.";
    if (phase == "Finalising") return "Canary analysis completed, routing all traffic to primary.";
    if (phase == "Waiting") return "Waiting for approval to start the canary analysis.";
    if (phase == "WaitingPromotion") return "Waiting for approval to promote the canary.";
    return "Initializing.";
  }

  void initialize() {
    if (!observed_.primaryReady) {
      if (out_.status.phase.value_or("").empty()) act(Action::Type::kInitializePrimary);
      setPhase("Initializing");
      if (observed_.primaryDeadlineExceeded) {
        event("Warning", "Halt advancement " + name() +
                             ": primary deployment is not ready within "
                             "the progress deadline");
      }
      return;
    }
    // The first revision is adopted without analysis.
    out_.status.lastAppliedSpec = observed_.revision;
    out_.status.lastAppliedRevision = observed_.images;
    act(Action::Type::kScaleTargetToZero);
    setPhase("Initialized");
    event("Normal", "Initialization done! " + name());
    alert("info", "Initialization done! " + name(),
          "a change of the target's pod template or tracked configs starts a canary analysis");
  }

  void idleOrStart(const std::string& phase) {
    CanaryStatus& s = out_.status;
    if (observed_.revision == s.lastAppliedSpec.value_or("")) return;
    // Reverting the target to the promoted revision is not a new rollout.
    if (phase != "Waiting" && observed_.revision == s.lastPromotedSpec.value_or("")) {
      s.lastAppliedSpec = observed_.revision;
      s.lastAppliedRevision = observed_.images;
      return;
    }
    if (!gates_.confirmRollout()) {
      if (phase != "Waiting") {
        setPhase("Waiting");
        event("Normal", "Waiting for approval " + name());
        if (!muted("confirm-rollout")) {
          alert("warn", "Canary is waiting for approval " + name(),
                "the analysis starts once the confirm-rollout hooks approve");
        }
      }
      return;
    }
    s.lastAppliedSpec = observed_.revision;
    s.lastAppliedRevision = observed_.images;
    s.failedChecks = 0;
    s.iterations = 0;
    s.canaryWeight = 0;
    s.judge.reset();
    s.lastFailedCheck.reset();
    setPhase("Progressing");
    act(Action::Type::kScaleCanaryUp);
    event("Normal", "New revision detected! Scaling up " + name());
    alert("info", "New revision detected, progressing canary analysis " + name(), firstStep());
  }

  // What the first analysis step will do, for the new-revision alert.
  std::string firstStep() const {
    if (api::strategyOf(analysis_) != Strategy::kCanary) {
      return std::to_string(analysis_.iterations.value_or(1)) + " iterations of " + intervalText() +
             " once the canary is ready, then promotion";
    }
    const std::vector<std::int64_t> steps = api::weightSteps(analysis_);
    if (steps.empty()) return "promotion once the canary is ready";
    return "canary weight " + std::to_string(steps.front()) + "% once the canary is ready, up to " +
           std::to_string(steps.back()) + "% in " + std::to_string(steps.size()) + " steps of " +
           intervalText() + ", then promotion";
  }

  void rollback(RollbackCause cause, const std::string& why, Facts evidence = {}) {
    out_.rolledBackBy = cause;
    setWeights(0);
    act(Action::Type::kScaleCanaryToZero);
    out_.status.failedChecks = 0;
    setPhase("Failed");
    event("Warning", "Rolling back " + name() + ": " + why);
    // canaryd alerts on every rollback, whatever the cause (Flagger can roll back silently).
    alert("error", "Canary " + name() + " rolled back: " + why,
          "the primary keeps serving the last promoted revision and the canary is scaled to "
          "zero; a new revision of the target (a fix, or the revert in Git) starts a new "
          "analysis",
          std::move(evidence));
    act(Action::Type::kRunPostRolloutHooks);
  }

  // The last failed check's numbers, kept in status (the threshold rollback comes one interval
  // after the failure that reached it).
  Facts lastFailureEvidence() const {
    Facts out;
    const auto& last = out_.status.lastFailedCheck;
    if (!last) return out;
    out.emplace_back("last failed check", last->message.value_or(""));
    for (const api::CanaryEvidence& e : last->evidence) {
      out.emplace_back(e.name.value_or(""), e.value.value_or(""));
    }
    return out;
  }

  void promote() {
    act(Action::Type::kPromoteToPrimary);
    setPhase("Promoting");
    event("Normal", "Copying " + name() + " template spec to the primary");
  }

  // A new revision during the run restarts the analysis, at once.
  bool restartOnNewRevision() {
    CanaryStatus& s = out_.status;
    if (observed_.revision == s.lastAppliedSpec.value_or("")) return false;
    s.lastAppliedSpec = observed_.revision;
    s.lastAppliedRevision = observed_.images;
    s.failedChecks = 0;
    s.iterations = 0;
    s.judge.reset();
    s.lastFailedCheck.reset();
    setWeights(0);
    setPhase("Progressing");
    markStep();
    event("Normal", "New revision detected! Restarting analysis for " + name());
    alert("info", "New revision detected, restarting analysis " + name(), firstStep());
    return true;
  }

  void progress() {
    CanaryStatus& s = out_.status;
    if (!observed_.canaryReady) {
      if (observed_.canaryDeadlineExceeded) {
        rollback(RollbackCause::kDeadline,
                 "canary deployment is not ready within the progress deadline");
      } else {
        event("Normal", "Halt advancement " + name() + ": waiting for the canary to be ready");
      }
      return;
    }
    if (canary_.spec.skipAnalysis.value_or(false)) {
      promote();
      return;
    }
    if (gates_.rollbackRequested()) {
      rollback(RollbackCause::kWebhook, "a rollback webhook requested it");
      return;
    }
    const std::int64_t threshold = analysis_.threshold.value_or(api::kDefaultThreshold);
    if (failedChecks() >= threshold) {
      // Counted under what failed last: the gate's webhooks or the metrics.
      const bool hooks = s.lastFailedCheck && s.lastFailedCheck->source == "webhook";
      rollback(hooks ? RollbackCause::kWebhook : RollbackCause::kThreshold,
               "failed checks threshold reached " + std::to_string(failedChecks()),
               lastFailureEvidence());
      return;
    }
    if (weight() == 0 && s.iterations.value_or(0) == 0) {
      // Flagger: no traffic reaches the canary yet, so there is nothing to analyse; the
      // pre-rollout hooks run instead, and their success takes the first step.
      if (!gates_.preRollout()) {
        const std::string why = gates_.lastHookFailure();
        failCheck(why.empty() ? "pre-rollout hooks failed" : why, {}, "webhook");
        return;
      }
      if (api::strategyOf(analysis_) == Strategy::kCanary) {
        advanceWeight();
      } else {
        advanceIterations();
      }
      return;
    }
    const CheckOutcome checks = gates_.runChecks();
    keepJudgeStatus(checks);
    if (checks.verdict) {
      judged(*checks.verdict, checks.failure, checks.evidence, checks.detectableIncrease,
             checks.judgedRequests, checks.dispersion);
      return;
    }
    if (!checks.passed) {
      failCheck(checks.failure, checks.evidence, checks.webhook ? "webhook" : "metric");
      return;
    }
    if (api::strategyOf(analysis_) == Strategy::kCanary) {
      advanceWeight();
    } else {
      advanceIterations();
    }
  }

  // The judge reports its evidence; the run's counters are the state machine's.
  void keepJudgeStatus(const CheckOutcome& checks) {
    if (!checks.judge) return;
    CanaryStatus& s = out_.status;
    api::CanaryJudgeStatus next = *checks.judge;
    // noDataLimit counts consecutive windows without data: one with data starts it over.
    next.noDataChecks = s.judge ? s.judge->noDataChecks : std::nullopt;
    if (checks.verdict && *checks.verdict != analysis::Verdict::kNoData && next.noDataChecks) {
      next.noDataChecks = 0;
    }
    next.inconclusiveChecks = s.judge ? s.judge->inconclusiveChecks : std::nullopt;
    s.judge = next;
  }

  // judge.checkInterval (sequential only): between two steps the judge alone looks at the
  // window since its last one, and a fail rolls back at once — an anytime-valid test may be
  // checked as often as one likes without more false rollbacks. Nothing else happens between
  // steps: no weight change, no webhooks, no threshold checks, no counters; a pass or an
  // inconclusive window is acted on at the next step.
  void judgeBetweenSteps() {
    const std::optional<Duration> every = api::judgeCheckInterval(analysis_, interval_);
    if (!every || !observed_.canaryReady || canary_.spec.skipAnalysis.value_or(false)) return;
    if (weight() == 0 && out_.status.iterations.value_or(0) == 0) return;  // no canary traffic
    const Duration elapsed = now_ - judgeWindowStart(out_.status).value_or(now_ - *every);
    if (elapsed < *every) {
      out_.requeueAfter = std::min(out_.requeueAfter, *every - elapsed);
      return;
    }
    out_.requeueAfter = std::min(out_.requeueAfter, *every);
    const CheckOutcome checks = gates_.judgeBetweenSteps();
    keepJudgeStatus(checks);
    if (checks.verdict == analysis::Verdict::kFail) judgeFailed(checks.failure, checks.evidence);
  }

  void judgeFailed(const std::string& explanation, const Facts& evidence) {
    rollback(
        RollbackCause::kJudge,
        "the " + analysis_.judge->type.value_or("") + " judge failed the canary: " + explanation,
        evidence);
  }

  // The statistical judge's verdict (spec.analysis.judge). By default it is a harm detector: a
  // fail rolls back at once (the test already controls false rollbacks over the run); no data
  // holds the weight and counts toward noDataLimit, never toward a pass; pass or inconclusive
  // advance, and the run that reaches its planned end without evidence of harm is promoted, as
  // a healthy Flagger run is: the window at the top weight (or the last iteration), held there
  // while the requests so far would not have caught an error-rate increase of detectIncrease
  // (at most inconclusiveLimit windows, default 15).
  // `promoteOnInconclusive: false` asks for evidence of no harm instead: promotion then needs a
  // pass, and `inconclusiveLimit` (default `threshold`) windows at the top without one roll
  // back. `inconclusiveLimit` with the default waits that many windows at the top for evidence
  // either way before promoting.
  void judged(analysis::Verdict verdict, const std::string& explanation, const Facts& evidence,
              std::optional<double> detectable = std::nullopt,
              std::optional<double> judgedRequests = std::nullopt,
              std::optional<double> dispersion = std::nullopt) {
    CanaryStatus& s = out_.status;
    if (!s.judge) s.judge = api::CanaryJudgeStatus{};
    api::CanaryJudgeStatus& j = *s.judge;
    const api::CanaryJudge& judge = *analysis_.judge;
    const std::string type = judge.type.value_or("");
    switch (verdict) {
      case analysis::Verdict::kFail:
        judgeFailed(explanation, evidence);
        return;
      case analysis::Verdict::kNoData: {
        j.noDataChecks = j.noDataChecks.value_or(0) + 1;
        const std::int64_t limit = judge.noDataLimit.value_or(kDefaultNoDataLimit);
        if (*j.noDataChecks >= limit) {
          rollback(RollbackCause::kNoData,
                   "no data in " + std::to_string(*j.noDataChecks) +
                       " consecutive analysis windows (noDataLimit " + std::to_string(limit) +
                       "): " + explanation,
                   evidence);
        } else {
          event("Warning", "Halt " + name() + " advancement: " + explanation + " (no data " +
                               std::to_string(*j.noDataChecks) + "/" + std::to_string(limit) + ")");
        }
        return;
      }
      case analysis::Verdict::kPass:
      case analysis::Verdict::kInconclusive:
        break;
    }
    if (!atTop()) {
      if (api::strategyOf(analysis_) == Strategy::kCanary) {
        advanceWeight();
      } else {
        advanceIterations();
      }
      return;
    }
    const bool promoteOnInconclusive = judge.promoteOnInconclusive.value_or(true);
    // The harm detector's default hold is 15 windows of independent errors' evidence: errors
    // that come in bursts carry less per window (the judge divides it by their dispersion), so
    // the hold is as many times longer.
    const std::int64_t limit = judge.inconclusiveLimit.value_or(
        promoteOnInconclusive ? static_cast<std::int64_t>(
                                    std::ceil(static_cast<double>(api::kDefaultInconclusiveLimit) *
                                              std::max(1.0, dispersion.value_or(1))))
                              : analysis_.threshold.value_or(api::kDefaultThreshold));
    // minSamples: the canary requests the judge must have counted over the run before any
    // promotion; the run holds at the top weight for them, and rolls back without them.
    if (judge.minSamples && judgedRequests.value_or(0) < static_cast<double>(*judge.minSamples)) {
      j.inconclusiveChecks = j.inconclusiveChecks.value_or(0) + 1;
      const std::string counted =
          "the " + type + " judge has counted " + formatNumber(judgedRequests.value_or(0)) +
          " canary requests, fewer than minSamples " + std::to_string(*judge.minSamples);
      if (*j.inconclusiveChecks < limit) {
        event("Normal",
              "Halt " + name() + " promotion: " + counted + "; holding at the top weight (" +
                  std::to_string(*j.inconclusiveChecks) + "/" + std::to_string(limit) + ")");
        return;
      }
      rollback(RollbackCause::kNoData,
               counted + " after " + std::to_string(*j.inconclusiveChecks) +
                   " windows at the top weight: " + explanation,
               evidence);
      return;
    }
    if (verdict == analysis::Verdict::kPass) {
      requestPromotion();
      return;
    }
    j.inconclusiveChecks = j.inconclusiveChecks.value_or(0) + 1;
    // The planned end is reached once the requests seen would have caught the increase the
    // user cares about (detectIncrease): promoting earlier could let that harm through.
    const double wanted = judge.detectIncrease.value_or(api::kDefaultDetectIncrease) / 100.0;
    const bool enough = !detectable || *detectable <= wanted;
    if (promoteOnInconclusive && !enough && *j.inconclusiveChecks < limit) {
      const double spread = dispersion.value_or(1);
      event("Normal", "Halt " + name() + " promotion: the requests so far would not catch an " +
                          "error-rate increase of " + formatNumber(wanted * 100) +
                          " points (detectIncrease) yet" +
                          (spread > 1.05 ? " (error dispersion x" +
                                               formatNumber(std::round(spread * 10) / 10) +
                                               ": each window weighs less)"
                                         : "") +
                          "; holding at the top weight (" + std::to_string(*j.inconclusiveChecks) +
                          "/" + std::to_string(limit) + ")");
      return;
    }
    if (!promoteOnInconclusive && *j.inconclusiveChecks < limit) {
      event("Normal", "Halt " + name() + " promotion: the " + type +
                          " judge is inconclusive so far (" + explanation + "; " +
                          std::to_string(*j.inconclusiveChecks) + "/" + std::to_string(limit) +
                          ")");
      return;
    }
    if (promoteOnInconclusive) {
      event("Normal", "Promoting " + name() + ": the " + type +
                          " judge found no evidence of harm by the end of the analysis (" +
                          explanation + ")");
      requestPromotion();
      return;
    }
    rollback(RollbackCause::kInconclusive,
             "the " + type + " judge stayed inconclusive for " +
                 std::to_string(*j.inconclusiveChecks) +
                 " windows at the top weight: " + explanation,
             evidence);
  }

  bool atTop() const {
    if (api::strategyOf(analysis_) == Strategy::kCanary) {
      const std::vector<std::int64_t> steps = api::weightSteps(analysis_);
      return weight() >= (steps.empty() ? 100 : steps.back());
    }
    return out_.status.iterations.value_or(0) >= analysis_.iterations.value_or(1);
  }

  void failCheck(const std::string& why, const Facts& evidence = {},
                 const std::string& source = "metric") {
    out_.status.failedChecks = failedChecks() + 1;
    api::CanaryFailedCheck& last = out_.status.lastFailedCheck.emplace();
    last.message = why;
    last.source = source;
    last.time = formatRfc3339(now_);
    for (const auto& [factName, value] : evidence)
      last.evidence.push_back({factName, value});
    event("Warning", "Halt " + name() + " advancement: " + why + " (failed checks " +
                         std::to_string(failedChecks()) + ")");
  }

  void advanceWeight() {
    const std::vector<std::int64_t> steps = api::weightSteps(analysis_);
    const std::int64_t max = steps.empty() ? 100 : steps.back();
    if (weight() < max) {
      if (!gates_.confirmTrafficIncrease()) {
        event("Normal",
              "Halt advancement " + name() + ": waiting for approval to increase traffic");
        return;
      }
      std::int64_t next = max;
      for (std::int64_t w : steps) {
        if (w > weight()) {
          next = w;
          break;
        }
      }
      setWeights(next);
      event("Normal", "Advance " + name() + " canary weight " + std::to_string(next));
      return;
    }
    requestPromotion();
  }

  void advanceIterations() {
    CanaryStatus& s = out_.status;
    const std::int64_t wanted = analysis_.iterations.value_or(1);
    if (s.iterations.value_or(0) == 0) {
      // A/B testing sends the matched traffic to the canary for the iterations; mirroring
      // copies the primary's traffic to it; plain blue/green tests the canary's own Service.
      const Strategy strategy = api::strategyOf(analysis_);
      if (strategy == Strategy::kABTesting) setWeights(100);
      if (strategy == Strategy::kBlueGreenMirroring) setWeights(0, /*mirror=*/true);
    }
    if (s.iterations.value_or(0) < wanted) {
      s.iterations = s.iterations.value_or(0) + 1;
      event("Normal", "Advance " + name() + " canary iteration " + std::to_string(*s.iterations) +
                          "/" + std::to_string(wanted));
      return;
    }
    requestPromotion();
  }

  void requestPromotion() {
    if (!gates_.confirmPromotion()) {
      if (out_.status.phase != "WaitingPromotion") {
        setPhase("WaitingPromotion");
        if (!muted("confirm-promotion")) {
          alert("warn", "Canary is waiting for promotion approval " + name(),
                "promotion once the confirm-promotion hooks approve");
        }
      }
      return;
    }
    if (api::strategyOf(analysis_) != Strategy::kCanary) {
      setWeights(100);  // blue/green and A/B: all traffic to the new version before promoting
    }
    promote();
  }

  void promoting() {
    // The primary is rolling out the new template; traffic stays where it is until it is ready.
    if (!observed_.primaryReady) {
      if (observed_.primaryDeadlineExceeded) {
        // Flagger: with the primary broken mid-promotion, keep all traffic on the canary.
        setWeights(100);
        out_.rolledBackBy = RollbackCause::kDeadline;  // Failed: the user sees a failed release
        setPhase("Failed");
        event("Warning", "Primary " + name() +
                             " is not ready within the progress deadline; "
                             "all traffic stays on the canary");
        alert("error", "Promotion of " + name() + " failed: the primary did not become ready",
              "all traffic stays on the canary until the primary Deployment becomes ready");
      }
      return;
    }
    const std::int64_t stepBack = analysis_.stepWeightPromotion.value_or(0);
    if (stepBack > 0 && weight() > stepBack) {
      setWeights(weight() - stepBack);
      return;
    }
    setWeights(0);
    setPhase("Finalising");
  }

  void finalise() {
    act(Action::Type::kScaleCanaryToZero);
    setPhase("Succeeded");
    event("Normal", "Promotion completed! Scaling down " + name());
    alert("info", "Promotion completed! " + name(),
          "none: the primary serves this revision; the next one starts a new analysis");
    act(Action::Type::kRunPostRolloutHooks);
  }

  const api::Canary& canary_;
  const api::CanaryAnalysis& analysis_;
  const Observation& observed_;
  Gates& gates_;
  TimePoint now_;
  Duration interval_;
  Step out_;
};

}  // namespace

std::optional<TimePoint> judgeWindowStart(const api::CanaryStatus& status) {
  std::optional<TimePoint> start;
  for (const api::CanaryCondition& c : status.conditions) {
    if (c.type == "Promoted" && c.lastUpdateTime) start = parseRfc3339(*c.lastUpdateTime);
  }
  if (status.judge && status.judge->lastCheckTime) {
    if (std::optional<TimePoint> last = parseRfc3339(*status.judge->lastCheckTime)) {
      start = start ? std::max(*start, *last) : *last;
    }
  }
  return start;
}

std::string_view toString(RollbackCause cause) {
  switch (cause) {
    case RollbackCause::kNone:
      return "";
    case RollbackCause::kJudge:
      return "judge";
    case RollbackCause::kThreshold:
      return "threshold";
    case RollbackCause::kInconclusive:
      return "inconclusive";
    case RollbackCause::kNoData:
      return "noData";
    case RollbackCause::kWebhook:
      return "webhook";
    case RollbackCause::kDeadline:
      return "deadline";
  }
  return "";
}

Observation observe(const api::Canary& canary, const api::JsonValue& target,
                    const std::optional<api::JsonValue>& primary,
                    const std::map<std::string, std::string>& trackedConfigs, TimePoint now,
                    const std::optional<api::JsonValue>& canaryRevision) {
  Observation o;
  o.revision = revisionOf(target, trackedConfigs);
  o.images = imagesOf(target);
  const api::CanaryAnalysis analysis = canary.spec.analysis.value_or(api::CanaryAnalysis{});
  const std::optional<api::CanaryStatus>& status = canary.status;
  const TimePoint since = status && status->lastTransitionTime
                              ? parseRfc3339(*status->lastTransitionTime).value_or(now)
                              : now;
  const auto deadline = std::chrono::seconds(
      canary.spec.progressDeadlineSeconds.value_or(api::kDefaultProgressDeadlineSeconds));
  auto pastDeadline = [&](const Readiness& r) {
    return !r.ready && (now - since > deadline ||
                        r.reason.find("exceeded its progress deadline") != std::string::npos);
  };
  const bool knative = isKnativeService(target);
  if (target.get().value("kind", "") == "Service" && !knative) {
    // A Service target has no pods to wait for (Flagger's ServiceController: always ready).
    o.primaryReady = o.canaryReady = true;
    return o;
  }
  if (primary) {
    Readiness r = workloadReadiness(
        *primary, analysis.primaryReadyThreshold.value_or(api::kDefaultReadyThreshold));
    o.primaryReady = r.ready;
    o.primaryDeadlineExceeded = pastDeadline(r);
  } else {
    o.primaryDeadlineExceeded = now - since > deadline;
  }
  Readiness c;
  if (knative) {
    c = canaryRevision ? revisionReadiness(*canaryRevision)
                       : Readiness{false, "Knative has not created the canary's Revision yet"};
  } else {
    c = workloadReadiness(target,
                          analysis.canaryReadyThreshold.value_or(api::kDefaultReadyThreshold));
    // A canary scaled to zero is not ready, whatever its status says.
    if (scaleOf(target) == 0) c = {false, "the canary is scaled to zero"};
  }
  o.canaryReady = c.ready;
  o.canaryDeadlineExceeded = pastDeadline(c);
  return o;
}

Step step(const api::Canary& canary, const Observation& observed, Gates& gates, TimePoint now,
          Duration minInterval) {
  if (!canary.spec.analysis) {
    Step idle;
    idle.status = canary.status.value_or(api::CanaryStatus{});
    idle.requeueAfter = api::kDefaultAnalysisInterval;
    return idle;
  }
  return Stepper(canary, observed, gates, now, minInterval).run();
}

namespace {

// Ten letters from a keyed digest of the Canary's uid and the revision, as Flagger's cookies
// have ten random letters.
std::string cookieLetters(const api::Canary& canary, const std::string& revision,
                          std::string_view side) {
  static constexpr std::string_view kLetters =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const std::string digest =
      hmacSha256Hex(canary.metadata.uid.value_or(canary.metadata.name.value_or("")),
                    std::string(side) + "/" + revision);
  std::string out;
  for (std::size_t i = 0; i + 1 < digest.size() && out.size() < 10; i += 2) {
    const int byte = std::stoi(digest.substr(i, 2), nullptr, 16);
    out.push_back(kLetters[static_cast<std::size_t>(byte) % kLetters.size()]);
  }
  return out;
}

}  // namespace

void trackSessionCookies(api::CanaryStatus& status, const api::Canary& canary,
                         std::int64_t canaryWeight, const std::string& revision) {
  if (!canary.spec.analysis || !canary.spec.analysis->sessionAffinity) return;
  const api::SessionAffinity& affinity = *canary.spec.analysis->sessionAffinity;
  if (canaryWeight != 0) {
    // This revision's cookie; one of an earlier run (a run that ended without going back to
    // weight 0, such as a promotion whose primary missed its deadline) is retired first.
    const std::string cookie =
        affinity.cookieName.value_or("") + "=" + cookieLetters(canary, revision, "canary");
    const std::string current = status.sessionAffinityCookie.value_or("");
    if (!current.empty() && current != cookie) status.previousSessionAffinityCookie = current;
    status.sessionAffinityCookie = cookie;
    if (!affinity.primaryCookieName.value_or("").empty() &&
        status.primarySessionAffinityCookie.value_or("").empty()) {
      status.primarySessionAffinityCookie =
          *affinity.primaryCookieName + "=" + cookieLetters(canary, revision, "primary");
    }
    return;
  }
  if (!status.sessionAffinityCookie.value_or("").empty()) {
    status.previousSessionAffinityCookie = status.sessionAffinityCookie;
    status.sessionAffinityCookie.reset();
  }
}

}  // namespace canaryd::controller
