// The statistical judgement of spec.analysis.judge (canaryd's extension): the canary against
// the primary over the window that just ended, instead of Flagger's fixed thresholds.
//
// - sequential: the request and 5xx counter increments of the canary and of the primary over
//   the analysis interval (the provider's built-in count queries, rendered once with target =
//   the canary and once with `<target>-primary`) feed an anytime-valid rate-ratio test
//   (analysis/sequential.h) at `alpha` / 2 with the allowed `maxErrorIncrease`. Latency gets
//   the other half: the provider's histogram buckets by `le` (queryByLabel) give each side's
//   requests slower than the boundaries near the pooled p90 and p99 (fixed once per run, kept
//   in status.judge.state "latency boundaries" with the ratio `maxLatencyIncrease` allows), and
//   the same test compares the canary's share of them with the primary's. The tests' memory
//   (RateRatioTest::save) is kept in status.judge.state, so a restarted daemon continues
//   exactly where it was; a status written by an earlier canaryd (each window's counts) is
//   replayed. A window with a query error, no data, or no canary or primary request is no data
//   and adds nothing (`minSamples` is the run's total before a promotion: rollout.cpp); a window
//   whose histograms cannot be read adds nothing to latency and says so. Either test's fail fails;
//   a pass needs both.
// - mann-whitney: each metric of analysis.metrics is queried over the metric's interval as a
//   range (every interval/12, at least 1s) for the canary and for the primary, and the two
//   samples go to the rank-sum judge (analysis/mann_whitney.h) at `confidence`; a metric with
//   only a `min` (success rates) fails on a decrease, others on an increase. Stateless: each
//   window is judged on its own, as Kayenta does.
// The verdict is pass, fail, inconclusive or nodata, with the numbers behind it.
#pragma once

#include "canaryd/analysis/judgement.h"
#include "canaryd/api/canary.h"
#include "canaryd/controller/metric_checks.h"

namespace canaryd::controller {

struct JudgeRun {
  analysis::Judgement judgement;
  api::CanaryJudgeStatus status;  // what to keep in status.judge (verdict, explanation, state)
};

// The judgement's numbers for alerts and status: judge, verdict, e-value or p-value, the
// effect with its interval, and the counts behind it.
Facts evidenceOf(const std::string& judgeType, const analysis::Judgement& judgement);

// Whether the Canary is judged statistically (a judge block whose type is not threshold).
bool usesStatisticalJudge(const api::Canary& canary);

// The window the judge looks at now: the analysis interval; with judge.checkInterval (see
// api::judgeCheckInterval) the time since the later of the judge's last window and the last
// analysis step (both read from the status as it was before this reconcile).
Duration judgeWindow(const api::Canary& canary, TimePoint now, Duration interval);

// `canary` must have Flagger's defaults applied; its status.judge is the run so far. `window`:
// what judgeWindow() says. With judge.checkInterval the returned status records `now` as the
// end of the window judged (lastCheckTime) when the window had data (requests on both sides);
// otherwise the next window starts where this one did.
JudgeRun runJudge(const api::Canary& canary, const MetricCheckContext& context, TimePoint now,
                  Duration window);

}  // namespace canaryd::controller
