#include "canaryd/controller/judging.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "canaryd/analysis/mann_whitney.h"
#include "canaryd/analysis/sequential.h"
#include "canaryd/core/text.h"
#include "canaryd/metrics/builtin_queries.h"
#include "canaryd/metrics/query_template.h"
#include "canaryd/router/router.h"

namespace canaryd::controller {
namespace {

using analysis::Verdict;

constexpr const char* kErrorsState = "errors";
// The counters' totals at the end of the last window judged: "canary requests,canary errors,
// primary requests,primary errors".
constexpr const char* kTotalsState = "errors totals";

std::optional<std::array<double, 4>> parseTotals(const std::string& text) {
  std::array<double, 4> out{};
  std::stringstream in(text);
  char comma = 0;
  if (!(in >> out[0] >> comma >> out[1] >> comma >> out[2] >> comma >> out[3])) return std::nullopt;
  for (double v : out)
    if (!std::isfinite(v) || v < 0) return std::nullopt;
  return out;
}

std::string formatTotals(const std::array<double, 4>& totals) {
  std::string out;
  for (double v : totals) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    out += (out.empty() ? "" : ",") + std::string(text);
  }
  return out;
}
// The shortest sub-window of the rank-sum judge: a rate needs two scrapes in it.
constexpr Duration kMannWhitneyStep = std::chrono::seconds(30);

std::string seconds(Duration d) {
  return std::to_string(std::max<std::int64_t>(
             1, std::chrono::duration_cast<std::chrono::seconds>(d).count())) +
         "s";
}

std::string primaryOf(const api::Canary& canary) {
  return canary.spec.targetRef->name.value_or("") + "-primary";
}

// The count queries' keys for one side: {{ target }} is its workload (the target or
// <target>-primary) and {{ backend }} the Service in front of it (<apex>-canary or
// <apex>-primary), for providers whose metrics are labelled by Service (Envoy clusters, ...).
void forWorkload(metrics::QueryContext& keys, const api::Canary& canary,
                 const std::string& workload) {
  keys.values["target"] = workload;
  keys.values["backend"] =
      router::apexServiceName(canary) + (workload == primaryOf(canary) ? "-primary" : "-canary");
}

analysis::Judgement noData(std::string why) {
  analysis::Judgement j;
  j.verdict = Verdict::kNoData;
  j.evidence.explanation = std::move(why);
  return j;
}

// "cr,ce,pr,pe;...": the windows' counts, as canaryd before the saved test kept them.
std::vector<analysis::IntervalCounts> parseWindows(const std::string& text) {
  std::vector<analysis::IntervalCounts> out;
  std::stringstream windows(text);
  std::string window;
  while (std::getline(windows, window, ';')) {
    analysis::IntervalCounts c;
    char comma = 0;
    std::stringstream in(window);
    if (in >> c.canaryRequests >> comma >> c.canaryBad >> comma >> c.primaryRequests >> comma >>
        c.primaryBad) {
      out.push_back(c);
    }
  }
  return out;
}

// The latency half of the sequential judge: requests slower than a bucket boundary of the
// provider's histogram, canary against primary, with the rate-ratio test the errors use.
//
// The boundaries are fixed once per run, from the first window with kBoundaryRequests
// requests on both sides together: the smallest `le` that 90% and the smallest that 99% of
// those requests were at or below (near the p90 and the p99; one test when they are the same).
// Chosen from the pooled counts, they do not depend on how the requests split between canary
// and primary, which is all the test looks at, so choosing them costs no error rate.
// maxLatencyIncrease (percent) allows the canary's share above a boundary B to grow by
// S(B / (1 + increase)) / S(B), S the pooled share above a latency read from the same histogram
// (linear within a bucket, as histogram_quantile): what a slowdown of that much would give.
constexpr double kBoundaryRequests = 50;
constexpr double kBoundaryQuantiles[] = {0.90, 0.99};
constexpr const char* kLatencyBoundaries = "latency boundaries";

struct Bucket {
  double bound;  // in the histogram's unit; infinity for +Inf
  double atOrBelow;
  std::string le;
};

// The histogram's buckets by bound; +Inf's count is the total.
std::vector<Bucket> bucketsOf(const std::map<std::string, double>& byLe) {
  std::vector<Bucket> out;
  for (const auto& [le, count] : byLe) {
    char* end = nullptr;
    const double bound = std::strtod(le.c_str(), &end);
    if (le.empty() || end != le.c_str() + le.size() || std::isnan(bound) || !(count >= 0)) continue;
    out.push_back({bound, std::round(count), le});
  }
  std::sort(out.begin(), out.end(),
            [](const Bucket& a, const Bucket& b) { return a.bound < b.bound; });
  return out;
}

double countAtOrBelow(const std::vector<Bucket>& buckets, const std::string& le) {
  for (const Bucket& b : buckets)
    if (b.le == le) return b.atOrBelow;
  return std::numeric_limits<double>::quiet_NaN();
}

double totalOf(const std::vector<Bucket>& buckets) {
  return buckets.empty() || !std::isinf(buckets.back().bound) ? 0.0 : buckets.back().atOrBelow;
}

// Requests above `latency` (the histogram's unit), interpolated linearly within its bucket.
double countAbove(const std::vector<Bucket>& buckets, double latency) {
  const double total = totalOf(buckets);
  double lowerBound = 0;
  double lowerCount = 0;
  for (const Bucket& b : buckets) {
    if (latency <= b.bound) {
      if (std::isinf(b.bound)) return total - lowerCount;
      const double share = (latency - lowerBound) / (b.bound - lowerBound);
      return total - (lowerCount + share * (b.atOrBelow - lowerCount));
    }
    lowerBound = b.bound;
    lowerCount = b.atOrBelow;
  }
  return 0;
}

struct LatencyBoundary {
  std::string le;
  double ratio = 1;  // the allowed ratio of the shares above it
};

// "le ratio;le ratio" in status.judge.state.
std::vector<LatencyBoundary> parseBoundaries(const std::string& text) {
  std::vector<LatencyBoundary> out;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ';')) {
    std::stringstream fields(part);
    LatencyBoundary b;
    if (fields >> b.le >> b.ratio && std::isfinite(b.ratio) && b.ratio >= 1) out.push_back(b);
  }
  return out;
}

std::vector<LatencyBoundary> chooseBoundaries(const std::vector<Bucket>& canary,
                                              const std::vector<Bucket>& primary,
                                              double maxIncrease) {
  std::vector<Bucket> pooled;
  for (const Bucket& b : primary) {
    const double c = countAtOrBelow(canary, b.le);
    if (!std::isnan(c)) pooled.push_back({b.bound, b.atOrBelow + c, b.le});
  }
  const double total = totalOf(pooled);
  std::vector<LatencyBoundary> out;
  if (total < kBoundaryRequests) return out;
  for (double quantile : kBoundaryQuantiles) {
    for (const Bucket& b : pooled) {
      if (std::isinf(b.bound) || b.atOrBelow < quantile * total) continue;
      if (out.empty() || out.back().le != b.le) {
        const double above = total - b.atOrBelow;
        const double ratio =
            maxIncrease > 0
                ? (countAbove(pooled, b.bound / (1 + maxIncrease)) + 0.5) / (above + 0.5)
                : 1.0;
        out.push_back({b.le, std::max(1.0, ratio)});
      }
      break;
    }
  }
  return out;
}

std::string formatBoundaries(const std::vector<LatencyBoundary>& boundaries) {
  std::string out;
  for (const LatencyBoundary& b : boundaries) {
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.17g", b.ratio);
    out += (out.empty() ? "" : ";") + b.le + " " + ratio;
  }
  return out;
}

// The latency tests' judgements after this window (one per boundary; none before the
// boundaries are known), updating their memory in `state`. `why` says why the window added
// nothing to them, when it did not.
std::vector<analysis::Judgement> judgeLatency(
    const metrics::BuiltinQueries& queries, const api::CanaryJudge& judge, double alpha,
    const std::function<Result<std::map<std::string, double>>(const std::string& target)>& buckets,
    const std::string& target, const std::string& primary, api::StringMap& state,
    std::string& why) {
  Result<std::map<std::string, double>> canaryByLe = buckets(target);
  Result<std::map<std::string, double>> primaryByLe = buckets(primary);
  std::vector<Bucket> canary;
  std::vector<Bucket> primaryBuckets;
  if (!canaryByLe || !primaryByLe) {
    why = "latency not judged in this window: " +
          (!canaryByLe ? canaryByLe.error() : primaryByLe.error()).message();
  } else {
    canary = bucketsOf(*canaryByLe);
    primaryBuckets = bucketsOf(*primaryByLe);
  }
  std::vector<LatencyBoundary> boundaries = parseBoundaries(state[kLatencyBoundaries]);
  const bool counted = why.empty() && totalOf(canary) > 0 && totalOf(primaryBuckets) > 0;

  if (boundaries.empty() && counted) {
    boundaries =
        chooseBoundaries(canary, primaryBuckets, judge.maxLatencyIncrease.value_or(0) / 100);
    state[kLatencyBoundaries] = formatBoundaries(boundaries);
  }
  if (boundaries.empty() && why.empty()) {
    why =
        "latency not judged yet: the boundaries are chosen once the canary and the primary "
        "served " +
        formatNumber(kBoundaryRequests) + " requests in a window";
  }
  std::vector<analysis::Judgement> out;
  for (const LatencyBoundary& b : boundaries) {
    analysis::SequentialPolicy policy;
    policy.alpha = alpha / static_cast<double>(boundaries.size());
    policy.minRatio = b.ratio;
    char bound[32];
    std::snprintf(bound, sizeof bound, "%.4g",
                  std::strtod(b.le.c_str(), nullptr) * queries.latencyBucketMs);
    policy.what = "latency: share slower than " + std::string(bound) + " ms";
    analysis::RateRatioTest test(policy);
    std::string& memory = state["latency " + b.le];
    test.restore(memory);
    const double canaryBelow = countAtOrBelow(canary, b.le);
    const double primaryBelow = countAtOrBelow(primaryBuckets, b.le);
    if (counted && !std::isnan(canaryBelow) && !std::isnan(primaryBelow)) {
      const double canaryTotal = totalOf(canary);
      const double primaryTotal = totalOf(primaryBuckets);
      test.update({canaryTotal, std::max(0.0, canaryTotal - canaryBelow), primaryTotal,
                   std::max(0.0, primaryTotal - primaryBelow)});
    }
    memory = test.save();
    out.push_back(test.judgement());
  }
  return out;
}

JudgeRun sequential(const api::Canary& canary, const api::CanaryJudge& judge,
                    const MetricCheckContext& context, TimePoint now, Duration interval) {
  JudgeRun run;
  if (canary.status && canary.status->judge) run.status = *canary.status->judge;
  const std::string provider = canary.spec.provider.value_or(context.defaultProvider);
  Result<metrics::BuiltinQueries> queries = metrics::builtinQueries(provider);
  // Errors and latency share alpha: half each when the provider has a latency histogram.
  const bool judgesLatency = queries && !queries->latencyBuckets.empty();
  const double alpha = judge.alpha.value_or(0.01);
  analysis::SequentialPolicy policy;
  policy.alpha = judgesLatency ? alpha / 2 : alpha;
  policy.maxIncrease = judge.maxErrorIncrease.value_or(0) / 100.0;
  policy.minRatio = judge.maxErrorRatio.value_or(1);
  policy.what = "errors: 5xx rate";
  analysis::RateRatioTest test(policy);
  std::string& state = run.status.state[kErrorsState];
  if (!test.restore(state)) {
    // A run judged by an earlier canaryd kept its windows' counts: replay them.
    for (const analysis::IntervalCounts& c : parseWindows(state))
      test.update(c);
  }

  // This window's counts, canary and primary.
  analysis::Judgement window;
  analysis::IntervalCounts counts;
  std::vector<analysis::Judgement> latency;
  std::string latencyNote;
  if (!queries || queries->requests.empty()) {
    window = noData(queries ? "the " + provider +
                                  " provider's metrics do not tell the canary's and the "
                                  "primary's requests apart; the sequential judge needs one of " +
                                  join(metrics::countingProviders(), ", ")
                            : queries.error().message());
  } else {
    metrics::ProviderConfig config;
    config.address = canary.spec.metricsServer.value_or(context.defaultAddress);
    Result<std::unique_ptr<metrics::Provider>> source = context.providers(config);
    metrics::QueryContext keys = queryContext(canary, api::CanaryMetric{});
    keys.values["interval"] = seconds(interval);
    auto value = [&](const std::string& query, const std::string& target) -> Result<double> {
      if (!source) return source.error();
      forWorkload(keys, canary, target);
      Result<std::string> rendered = metrics::renderQuery(query, keys);
      if (!rendered) return rendered.error();
      Result<double> v = (*source)->query(*rendered);
      // No 5xx at all is a count of zero, not missing data; no requests is missing data.
      if (!v && v.error().kind() == ErrorKind::kNotFound && &query == &queries->errors) return 0.0;
      return v;
    };
    const std::string target = canary.spec.targetRef->name.value_or("");
    if (judgesLatency) {
      auto buckets = [&](const std::string& workload) -> Result<std::map<std::string, double>> {
        if (!source) return source.error();
        forWorkload(keys, canary, workload);
        Result<std::string> rendered = metrics::renderQuery(queries->latencyBuckets, keys);
        if (!rendered) return rendered.error();
        return (*source)->queryByLabel(*rendered, "le");
      };
      latency = judgeLatency(*queries, judge, alpha / 2, buckets, target, primaryOf(canary),
                             run.status.state, latencyNote);
    }
    // The counters' totals now: the window is their difference from the last read, so the
    // windows tile exactly. The first window, and one after a counter went down (a pod
    // restarted or went away), fall back to increase() over the window.
    std::optional<std::array<double, 4>> totals;
    if (!queries->requestsTotal.empty() && !queries->errorsTotal.empty()) {
      auto total = [&](const std::string& query, const std::string& workload) -> Result<double> {
        if (!source) return source.error();
        forWorkload(keys, canary, workload);
        Result<std::string> rendered = metrics::renderQuery(query, keys);
        if (!rendered) return rendered.error();
        Result<double> v = (*source)->query(*rendered);
        if (!v && v.error().kind() == ErrorKind::kNotFound) return 0.0;  // no series yet
        return v;
      };
      Result<double> t[] = {total(queries->requestsTotal, target),
                            total(queries->errorsTotal, target),
                            total(queries->requestsTotal, primaryOf(canary)),
                            total(queries->errorsTotal, primaryOf(canary))};
      if (t[0] && t[1] && t[2] && t[3]) totals = {{*t[0], *t[1], *t[2], *t[3]}};
    }
    const std::optional<std::array<double, 4>> before = parseTotals(run.status.state[kTotalsState]);
    bool tiled = totals && before &&
                 std::equal(before->begin(), before->end(), totals->begin(), std::less_equal<>());
    // A pod restarted in place since the last read lost its count, which the sum hides when
    // the other pods' counts grew more: resets() per side tells, and that window counts with
    // increase() too. A resets query that fails leaves the difference as it is.
    if (tiled && !queries->requestsResets.empty()) {
      for (const std::string& workload : {target, primaryOf(canary)}) {
        forWorkload(keys, canary, workload);
        Result<std::string> rendered = metrics::renderQuery(queries->requestsResets, keys);
        Result<double> resets = rendered ? (*source)->query(*rendered) : rendered.error();
        if (resets && *resets > 0) tiled = false;
      }
    }
    Result<double> cr = 0.0, ce = 0.0, pr = 0.0, pe = 0.0;
    if (tiled) {
      cr = (*totals)[0] - (*before)[0];
      ce = (*totals)[1] - (*before)[1];
      pr = (*totals)[2] - (*before)[2];
      pe = (*totals)[3] - (*before)[3];
    } else {
      cr = value(queries->requests, target);
      ce = value(queries->errors, target);
      pr = value(queries->requests, primaryOf(canary));
      pe = value(queries->errors, primaryOf(canary));
    }
    for (const Result<double>* r : {&cr, &ce, &pr, &pe}) {
      if (!*r && window.evidence.explanation.empty()) {
        window = noData("no data: " + r->error().message());
      }
    }
    if (window.evidence.explanation.empty()) {
      counts = {std::round(*cr), std::round(*ce), std::round(*pr), std::round(*pe)};
      if (counts.canaryRequests < 1 || counts.primaryRequests < 1) {
        window = noData(std::string("no data: the ") +
                        (counts.canaryRequests < 1 ? "canary" : "primary") +
                        " served no requests in the window");
      } else {
        // Every window with requests counts, however few (the test is valid for any window);
        // minSamples is the run's total before a promotion (rollout.cpp).
        test.update(counts);
        // The next window starts here; a window without requests is not consumed, so the next
        // one covers its time too.
        if (totals) run.status.state[kTotalsState] = formatTotals(*totals);
        if (judge.checkInterval) run.status.lastCheckTime = formatRfc3339(now);
      }
    }
  }

  run.judgement = test.judgement();
  if (run.judgement.verdict != Verdict::kPass && run.judgement.verdict != Verdict::kFail &&
      window.verdict == Verdict::kNoData && !window.evidence.explanation.empty()) {
    window.evidence.detectableIncrease = run.judgement.evidence.detectableIncrease;
    window.evidence.dispersion = run.judgement.evidence.dispersion;
    run.judgement = window;  // nothing new to decide on
  }
  state = test.save();
  // Latency: its failure rolls back as the errors' does; a pass needs both to pass. Otherwise
  // the errors' verdict stands (no data, or inconclusive with what it could have caught), and
  // the explanation says where latency is.
  for (const analysis::Judgement& j : latency) {
    if (j.verdict == Verdict::kFail && run.judgement.verdict != Verdict::kFail) {
      run.judgement = j;
      return run;
    }
  }
  if (!judgesLatency || run.judgement.verdict == Verdict::kFail) return run;
  const bool latencyPassed =
      !latency.empty() && std::all_of(latency.begin(), latency.end(),
                                      [](const auto& j) { return j.verdict == Verdict::kPass; });
  if (run.judgement.verdict == Verdict::kPass && !latencyPassed) {
    run.judgement.verdict = Verdict::kInconclusive;
  }
  for (const analysis::Judgement& j : latency)
    run.judgement.evidence.explanation += "; " + j.evidence.explanation;
  if (!latencyNote.empty()) run.judgement.evidence.explanation += "; " + latencyNote;
  return run;
}

// The samples of one metric kept across the run's windows: "c=1.5,2;p=1,1.25".
std::pair<std::vector<double>, std::vector<double>> parseSamples(const std::string& text) {
  std::pair<std::vector<double>, std::vector<double>> out;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ';')) {
    if (part.size() < 2 || part[1] != '=') continue;
    std::vector<double>& into = part[0] == 'c' ? out.first : out.second;
    std::stringstream values(part.substr(2));
    std::string v;
    while (std::getline(values, v, ',')) {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (!v.empty() && end == v.c_str() + v.size() && std::isfinite(x)) into.push_back(x);
    }
  }
  return out;
}

std::string formatSamples(const std::vector<double>& canary, const std::vector<double>& primary) {
  std::string out;
  for (const auto& [tag, values] : {std::pair{"c=", &canary}, std::pair{";p=", &primary}}) {
    out += tag;
    for (std::size_t i = 0; i < values->size(); ++i) {
      char text[32];
      std::snprintf(text, sizeof text, "%.17g", (*values)[i]);
      out += (i > 0 ? "," : "") + std::string(text);
    }
  }
  return out;
}

// The rank-sum judge, made to control false rollbacks over the whole run: each window adds
// non-overlapping points (the metric's query over sub-windows of kMannWhitneyStep or more, each
// point its own requests, not a rate looking back over the points before it) to the samples of
// the run so far, kept in status.judge.state; the k-th look tests them at
// alpha_k = (1 - confidence) / (k (k + 1)), so the looks together spend at most
// 1 - confidence however many there are, and each metric gets its share of it (Bonferroni).
JudgeRun mannWhitney(const api::Canary& canary, const api::CanaryJudge& judge,
                     const MetricCheckContext& context, TimePoint now) {
  JudgeRun run;
  if (canary.status && canary.status->judge) run.status = *canary.status->judge;
  std::vector<analysis::Judgement> perMetric;
  const std::string target = canary.spec.targetRef->name.value_or("");
  const std::vector<api::CanaryMetric>& metrics = canary.spec.analysis->metrics;
  std::string& looksText = run.status.state["mann-whitney looks"];
  const double look = std::max(0.0, std::strtod(looksText.c_str(), nullptr)) + 1;
  looksText = formatNumber(look);
  const double alpha = (1 - judge.confidence.value_or(0.95)) / (look * (look + 1)) /
                       static_cast<double>(std::max<std::size_t>(1, metrics.size()));
  for (const api::CanaryMetric& metric : metrics) {
    const std::string name = metric.name.value_or("metric");
    std::string query;
    Result<std::unique_ptr<metrics::Provider>> provider =
        providerFor(canary, metric, context, query);
    if (!provider) {
      perMetric.push_back(noData(name + ": " + provider.error().message()));
      continue;
    }
    const Duration window =
        parseDuration(metric.interval.value_or("1m")).valueOr(std::chrono::minutes(1));
    // Sub-windows that do not overlap: each point's lookback is its own step.
    const Duration step = std::max<Duration>(kMannWhitneyStep, window / 2);
    metrics::QueryContext keys = queryContext(canary, metric);
    keys.values["interval"] = seconds(step);
    auto samples = [&](const std::string& workload) -> Result<std::vector<double>> {
      forWorkload(keys, canary, workload);
      Result<std::string> rendered = metrics::renderQuery(query, keys);
      if (!rendered) return rendered.error();
      return (*provider)->queryRange(*rendered, now - window + step, now, step);
    };
    Result<std::vector<double>> canarySamples = samples(target);
    Result<std::vector<double>> primarySamples = samples(primaryOf(canary));
    if (!canarySamples || !primarySamples) {
      perMetric.push_back(
          noData(name + ": no data: " +
                 (!canarySamples ? canarySamples.error() : primarySamples.error()).message()));
      continue;
    }
    std::string& kept = run.status.state["mann-whitney " + name];
    auto [canaryRun, primaryRun] = parseSamples(kept);
    for (double v : *canarySamples)
      if (std::isfinite(v)) canaryRun.push_back(v);
    for (double v : *primarySamples)
      if (std::isfinite(v)) primaryRun.push_back(v);
    kept = formatSamples(canaryRun, primaryRun);
    analysis::MannWhitneyPolicy policy;
    policy.confidence = 1 - alpha;
    policy.allowedIncrease = judge.allowedIncrease;
    const bool lowerIsWorse =
        metric.thresholdRange && metric.thresholdRange->min && !metric.thresholdRange->max;
    policy.direction =
        lowerIsWorse ? analysis::MetricDirection::kDecrease : analysis::MetricDirection::kIncrease;
    analysis::Judgement j = analysis::judgeMannWhitney(canaryRun, primaryRun, policy);
    j.evidence.explanation = name + ": " + j.evidence.explanation + " (look " + formatNumber(look) +
                             ", at confidence " +
                             formatNumber(std::round((1 - alpha) * 1e5) / 1e5) + ")";
    perMetric.push_back(j);
  }
  run.judgement = perMetric.empty() ? noData("no metrics to judge") : analysis::combine(perMetric);
  return run;
}

}  // namespace

// Three significant digits for people (whole numbers from 100 up): 247, 10.1, 0.0123.
static std::string shortNumber(double x) {
  if (!std::isfinite(x)) return formatNumber(x);
  if (std::fabs(x) >= 100) return formatNumber(std::round(x));
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", x);
  return text;
}

Facts evidenceOf(const std::string& judgeType, const analysis::Judgement& judgement) {
  const analysis::Evidence& e = judgement.evidence;
  Facts out{{"judge", judgeType}, {"verdict", std::string(analysis::toString(judgement.verdict))}};
  if (e.eValue) {
    std::string v = shortNumber(*e.eValue);
    if (e.threshold) v += " (decides at " + shortNumber(*e.threshold) + ")";
    out.emplace_back("e-value", v);
  }
  if (e.pValue) out.emplace_back("p-value", shortNumber(*e.pValue));
  if (e.estimate) {
    std::string v = shortNumber(*e.estimate);
    if (e.lower && e.upper) {
      v += " [" + shortNumber(*e.lower) + ", " + shortNumber(*e.upper) + "]";
    }
    out.emplace_back(judgeType == "sequential" ? "bad-rate ratio canary/primary" : "shift", v);
  }
  if (e.effectSize) out.emplace_back("effect size", shortNumber(*e.effectSize));
  const char* unit = judgeType == "sequential" ? " requests" : " samples";
  if (e.canaryCount > 0 || e.baselineCount > 0) {
    out.emplace_back("canary", std::to_string(e.canaryCount) + unit);
    out.emplace_back("primary", std::to_string(e.baselineCount) + unit);
  }
  return out;
}

bool usesStatisticalJudge(const api::Canary& canary) {
  return canary.spec.analysis && canary.spec.analysis->judge &&
         canary.spec.analysis->judge->type.value_or("threshold") != "threshold";
}

Duration judgeWindow(const api::Canary& canary, TimePoint now, Duration interval) {
  if (!api::judgeCheckInterval(*canary.spec.analysis, interval) || !canary.status) return interval;
  const std::optional<TimePoint> start = judgeWindowStart(*canary.status);
  if (!start || *start >= now) return interval;
  return now - *start;
}

JudgeRun runJudge(const api::Canary& canary, const MetricCheckContext& context, TimePoint now,
                  Duration window) {
  const api::CanaryJudge& judge = *canary.spec.analysis->judge;
  JudgeRun run = judge.type.value_or("") == "sequential"
                     ? sequential(canary, judge, context, now, window)
                     : mannWhitney(canary, judge, context, now);
  run.status.verdict = std::string(analysis::toString(run.judgement.verdict));
  run.status.explanation = run.judgement.evidence.explanation;
  return run;
}

}  // namespace canaryd::controller
