#include "cli/simulate_command.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <boost/math/distributions/binomial.hpp>
#include <nlohmann/json.hpp>

#include "canaryd/api/defaults.h"
#include "canaryd/api/problem.h"
#include "canaryd/sim/run.h"
#include "canaryd/sim/scenario.h"
#include "canaryd/sim/wald.h"

#include "cli/inputs.h"

namespace canaryd::cli {
namespace {

using nlohmann::json;

std::string number(double v) {
  std::ostringstream s;
  s << std::setprecision(4) << v;
  return s.str();
}

// "+1m30s" for the timeline.
std::string at(Duration t) {
  return "+" + formatDuration(std::chrono::duration_cast<std::chrono::seconds>(t));
}

// A metric's verdict against the Canary's thresholdRange, if it has one.
std::string verdictOf(const api::Canary& canary, const std::string& metric, double value) {
  if (!canary.spec.analysis) return "";
  for (const api::CanaryMetric& m : canary.spec.analysis->metrics) {
    if (m.name.value_or("") != metric || !m.thresholdRange) continue;
    const bool low = m.thresholdRange->min && value < *m.thresholdRange->min;
    const bool high = m.thresholdRange->max && value > *m.thresholdRange->max;
    return low || high ? " (out of range)" : " (ok)";
  }
  return "";
}

void printEntry(const api::Canary& canary, const sim::TimelineEntry& e, std::ostream& out) {
  std::ostringstream line;
  line << std::left << std::setw(10) << at(e.t) << std::setw(18) << e.phase << "weight "
       << std::setw(4) << e.canaryWeight << "failed checks " << e.failedChecks;
  for (const auto& [name, value] : e.metrics)
    line << "  " << name << " " << number(value) << verdictOf(canary, name, value);
  out << line.str() << "\n";
  if (!e.judge.empty()) out << std::string(10, ' ') << "judge " << e.judge << "\n";
  for (const std::string& note : e.notes)
    out << std::string(10, ' ') << note << "\n";
  out.flush();
}

json entryJson(const sim::TimelineEntry& e) {
  json metrics = json::object();
  for (const auto& [name, value] : e.metrics)
    metrics[name] = value;
  return {{"t", toSeconds(e.t)},
          {"phase", e.phase},
          {"canaryWeight", e.canaryWeight},
          {"failedChecks", e.failedChecks},
          {"metrics", metrics},
          {"judge", e.judge},
          {"notes", e.notes}};
}

// The judge and, when it checks between steps, how often ("sequential, checks every 15s").
std::string judgeName(const api::Canary& canary) {
  const auto& analysis = canary.spec.analysis;
  if (!analysis || !analysis->judge || !analysis->judge->type) return "threshold";
  std::string name = *analysis->judge->type;
  if (std::optional<Duration> every =
          api::judgeCheckInterval(*analysis, api::effectiveInterval(*analysis))) {
    name += ", checks every " + formatDuration(*every);
  }
  return name;
}

int single(const sim::Scenario& scenario, const SimulateOptions& options, std::ostream& out) {
  sim::RunOptions run;
  run.seed = options.seed;
  const bool text = options.output == "text";
  const api::Canary canary = scenario.canary;
  if (text) {
    out << "scenario " << scenario.name << ", judge " << judgeName(canary) << ", seed "
        << options.seed << "; t is virtual time since the release\n";
    run.onEntry = [&](const sim::TimelineEntry& e) { printEntry(canary, e, out); };
  }
  const sim::RunResult r = sim::runScenario(scenario, run);
  const std::vector<std::string> unmet = sim::unmetExpectations(scenario.expect, r);
  if (text) {
    out << "final phase " << r.phase << " at " << at(r.duration) << ": "
        << sim::toString(r.outcome);
    if (!r.rolledBackBy.empty()) out << " by " << r.rolledBackBy;
    if (r.decided) out << " after " << toSeconds(r.decisionTime) << "s";
    if (!r.reason.empty() && r.outcome != sim::Outcome::kPromoted) out << " (" << r.reason << ")";
    out << "; bad canary requests served " << r.badRequestsServed << " of " << r.canaryRequests
        << "\n";
    for (const std::string& u : unmet)
      out << "expectation not met: " << u << "\n";
  } else {
    json timeline = json::array();
    for (const sim::TimelineEntry& e : r.timeline)
      timeline.push_back(entryJson(e));
    json doc = {{"scenario", scenario.name},
                {"judge", judgeName(canary)},
                {"seed", options.seed},
                {"phase", r.phase},
                {"outcome", sim::toString(r.outcome)},
                {"rolledBackBy", r.rolledBackBy.empty() ? json() : json(r.rolledBackBy)},
                {"verdict", r.verdict.empty() ? json() : json(r.verdict)},
                {"durationSeconds", toSeconds(r.duration)},
                {"secondsToDecision", r.decided ? json(toSeconds(r.decisionTime)) : json()},
                {"badRequestsServed", r.badRequestsServed},
                {"canaryRequests", r.canaryRequests},
                {"reason", r.reason},
                {"expectationsMet", unmet.empty()},
                {"unmetExpectations", unmet},
                {"timeline", timeline}};
    out << doc.dump(2) << "\n";
  }
  return unmet.empty() ? 0 : 3;
}

// " (judge 3, threshold 1)": the counts by cause, or nothing.
std::string by(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [cause, n] : counts)
    out += (out.empty() ? " (" : ", ") + cause + " " + std::to_string(n);
  return out.empty() ? out : out + ")";
}

// The value at quantile q of sorted `v` (nearest rank); NaN when empty.
double quantile(const std::vector<double>& v, double q) {
  if (v.empty()) return std::nan("");
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

int many(const sim::Scenario& scenario, const SimulateOptions& options, std::ostream& out,
         std::ostream& err) {
  const int runs = options.runs;
  std::vector<sim::RunResult> results(static_cast<std::size_t>(runs));
  std::atomic<int> next{0};
  std::atomic<int> done{0};
  std::mutex progressMu;
  auto progress = [&](int finished) {
    if (!options.progress) return;
    std::lock_guard lock(progressMu);
    constexpr int kWidth = 40;
    const int filled = finished * kWidth / runs;
    err << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
        << std::string(static_cast<std::size_t>(kWidth - filled), '.') << "] " << finished << "/"
        << runs << (finished == runs ? "\n" : "") << std::flush;
  };
  auto worker = [&] {
    for (int i = next++; i < runs; i = next++) {
      sim::RunOptions run;
      run.seed = options.seed + static_cast<std::uint64_t>(i);
      run.keepTimeline = false;
      results[static_cast<std::size_t>(i)] = sim::runScenario(scenario, run);
      const int finished = ++done;
      if (finished == runs || finished % std::max(1, runs / 100) == 0) progress(finished);
    }
  };
  const int jobs = std::max(
      1, std::min(runs, options.jobs > 0 ? options.jobs
                                         : static_cast<int>(std::thread::hardware_concurrency())));
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j)
    threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads)
    t.join();

  int promoted = 0;
  int rolledBack = 0;
  int undecided = 0;
  std::map<std::string, int> rolledBackBy;  // what failed the rolled-back runs
  std::map<std::string, int> verdicts;      // the judge's verdict when each run was decided
  std::vector<double> decision;
  std::vector<double> toRollback;          // seconds to the rollback, infinite without one
  std::vector<double> requestsToRollback;  // canary requests served until then
  double bad = 0;
  // Runs without a rollback count as never reaching one (Wald's bound is about all runs).
  constexpr double kNever = std::numeric_limits<double>::infinity();
  for (const sim::RunResult& r : results) {
    const bool back = r.outcome == sim::Outcome::kRolledBack;
    toRollback.push_back(back ? toSeconds(r.decisionTime) : kNever);
    requestsToRollback.push_back(back ? static_cast<double>(r.canaryRequests) : kNever);
    promoted += r.outcome == sim::Outcome::kPromoted ? 1 : 0;
    rolledBack += back ? 1 : 0;
    undecided += r.outcome == sim::Outcome::kUndecided ? 1 : 0;
    if (back) ++rolledBackBy[r.rolledBackBy.empty() ? "unknown" : r.rolledBackBy];
    if (!r.verdict.empty()) ++verdicts[r.verdict];
    if (r.decided) decision.push_back(toSeconds(r.decisionTime));
    bad += static_cast<double>(r.badRequestsServed);
  }
  for (std::vector<double>* v : {&decision, &toRollback, &requestsToRollback})
    std::sort(v->begin(), v->end());
  using boost::math::binomial_distribution;
  const double rate = static_cast<double>(rolledBack) / runs;
  const double lower = binomial_distribution<>::find_lower_bound_on_p(runs, rolledBack, 0.025);
  const double upper = binomial_distribution<>::find_upper_bound_on_p(runs, rolledBack, 0.025);
  const double median = quantile(decision, 0.5);
  const double p90 = quantile(decision, 0.9);
  const double badMean = bad / runs;
  const std::string judge = judgeName(scenario.canary);
  const std::optional<sim::WaldFloor> floor = sim::waldFloor(scenario);
  const double medianToRollback = quantile(requestsToRollback, 0.5);
  const double knownEffect =
      floor ? sim::knownEffectMedian(scenario, runs, options.seed).value_or(kNever) : kNever;
  if (options.output == "json") {
    auto orNull = [](double v) { return std::isfinite(v) ? json(v) : json(); };
    json doc = {
        {"scenario", scenario.name},
        {"judge", judge},
        {"seeds", {options.seed, options.seed + static_cast<std::uint64_t>(runs) - 1}},
        {"runs", runs},
        {"promoted", promoted},
        {"rolledBack", rolledBack},
        {"rolledBackBy", rolledBackBy},
        {"undecided", undecided},
        {"verdicts", verdicts},
        {"rollbackRate", {{"value", rate}, {"lower95", lower}, {"upper95", upper}}},
        {"secondsToDecision", {{"median", orNull(median)}, {"p90", orNull(p90)}}},
        {"secondsToRollback",
         {{"median", orNull(quantile(toRollback, 0.5))},
          {"p90", orNull(quantile(toRollback, 0.9))}}},
        {"canaryRequestsToRollback", {{"median", orNull(quantile(requestsToRollback, 0.5))}}},
        {"badRequestsServed", {{"meanPerRun", badMean}, {"total", bad}}}};
    if (floor) {
      doc["waldFloor"] = {
          {"canaryRequests", floor->canaryRequests},
          {"seconds", toSeconds(floor->time)},
          {"knownBaselineRequests", floor->knownBaselineRequests},
          {"firstCheckSeconds", toSeconds(floor->firstCheck)},
          {"canaryRequestsAtFirstCheck", floor->canaryRequestsAtFirstCheck},
          {"medianRatioToFirstCheck", orNull(medianToRollback / floor->canaryRequestsAtFirstCheck)},
          {"withinDurationLimit", floor->time <= scenario.durationLimit},
          {"medianRatio", orNull(medianToRollback / floor->canaryRequests)},
          {"knownEffectMedian", orNull(knownEffect)},
          {"knownEffectRatio", orNull(knownEffect / floor->canaryRequests)}};
    }
    out << doc.dump(2) << "\n";
    return 0;
  }
  out << "scenario " << scenario.name << ", judge " << judge << ", " << runs << " runs (seeds "
      << options.seed << ".." << options.seed + static_cast<std::uint64_t>(runs) - 1 << ")\n"
      << "  promoted           " << promoted << "\n"
      << "  rolledBack         " << rolledBack << by(rolledBackBy) << "\n"
      << "  undecided          " << undecided << "\n"
      << "  rollbackRate       " << number(100 * rate) << "% (95% interval " << number(100 * lower)
      << "% to " << number(100 * upper) << "%)\n"
      << "  secondsToDecision  median " << number(median) << ", p90 " << number(p90) << "\n"
      << "  badRequestsServed  " << number(badMean) << " per run (" << number(bad) << " in all)\n";
  if (floor) {
    out << "  Wald's floor       " << number(floor->canaryRequests) << " canary requests ("
        << formatDuration(std::chrono::duration_cast<std::chrono::seconds>(floor->time))
        << " into the rollout; the first check after it, at "
        << formatDuration(std::chrono::duration_cast<std::chrono::seconds>(floor->firstCheck))
        << ", has " << number(floor->canaryRequestsAtFirstCheck) << "); median to a rollback "
        << (std::isfinite(medianToRollback)
                ? number(medianToRollback) + " (" +
                      number(medianToRollback / floor->canaryRequests) + "x)"
                : std::string("never: fewer than half the runs rolled back"))
        << "\n";
    out << "  told the effect    the probability ratio test at the true ratio, checked at the "
           "same moments: median "
        << (std::isfinite(knownEffect)
                ? number(knownEffect) + " (" + number(knownEffect / floor->canaryRequests) + "x)"
                : std::string("never"))
        << "\n";
  }
  return 0;
}

}  // namespace

int runSimulate(const SimulateOptions& options, std::ostream& out, std::ostream& err) {
  Result<std::string> text = readInput(options.file, std::cin);
  if (!text) {
    err << "canaryd simulate: " << text.error().message() << "\n";
    return 1;
  }
  const std::string dir = options.file.find('/') == std::string::npos
                              ? std::string(".")
                              : options.file.substr(0, options.file.rfind('/'));
  sim::ScenarioRead read = sim::readScenario(*text, options.file, [&](const std::string& name) {
    return readInput(name.starts_with('/') ? name : dir + "/" + name, std::cin);
  });
  for (const api::Problem& p : read.problems) {
    err << options.file << ":" << p.line << ":" << p.column << ": "
        << (p.severity == api::Severity::kError ? "error" : "warning") << ": "
        << (p.path.empty() ? "" : p.path + ": ") << p.message << "\n";
  }
  if (!read.scenario) return 1;
  // The overrides are applied once, to the scenario's Canary; the runs take it as it is.
  sim::Scenario scenario = *read.scenario;
  if (!options.judge.empty()) {
    Result<api::Canary> judged = sim::withJudge(scenario.canary, options.judge);
    if (!judged) {
      err << "canaryd simulate: " << judged.error().message() << "\n";
      return 1;
    }
    scenario.canary = *judged;
  }
  if (!options.checkInterval.empty()) {
    Result<api::Canary> often = sim::withCheckInterval(scenario.canary, options.checkInterval);
    if (!often) {
      err << "canaryd simulate: --check-interval: " << often.error().message() << "\n";
      return 2;
    }
    scenario.canary = *often;
  }
  SimulateOptions applied = options;
  applied.judge.clear();
  applied.checkInterval.clear();
  if (applied.runs <= 1) return single(scenario, applied, out);
  return many(scenario, applied, out, err);
}

}  // namespace canaryd::cli
