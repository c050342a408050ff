#!/usr/bin/env bash
# End-to-end checks of `canaryd simulate`: the live timeline, the JSON of one run and of many,
# the progress bar, bad scenario files and exit codes.
# Usage: simulate_test.sh CANARYD SOURCE_DIR
set -uo pipefail
canaryd=$1
scenarios=$2/simulations/scenarios
source "$(dirname "$0")/../support/shell.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One run as text: each step, the judge's numbers, the alert, the final phase.
"$canaryd" simulate "$scenarios/error-plus-5pp.yaml" --seed 1 >"$tmp/out" 2>"$tmp/err"
expect_exit 0 $? "one run"
expect_line "$tmp/out" '^\+1m0s +Progressing +weight 10 ' "the first step"
expect_line "$tmp/out" 'judge (inconclusive|fail): (errors: 5xx rate|latency: share slower)' "the judge's numbers"
expect_line "$tmp/out" 'alert error: Canary shop.sim rolled back: the sequential judge failed' "the alert"
expect_line "$tmp/out" '^final phase Failed at \+3m0s: rolledBack by judge after 180s' "the final phase"
[[ -s "$tmp/err" ]] && fail "one run wrote to stderr: $(cat "$tmp/err")"

# One run as JSON, with Flagger's thresholds instead: slower than the scenario expects (exit 3).
"$canaryd" simulate "$scenarios/error-plus-5pp.yaml" --judge threshold -o json >"$tmp/out" 2>&1
expect_exit 3 $? "one run json"
python3 - "$tmp/out" <<'PY' || fail "one run json fields"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["phase"] == "Failed" and r["outcome"] == "rolledBack" and r["judge"] == "threshold", r
assert r["durationSeconds"] == 420 and r["expectationsMet"] is False, r
assert r["unmetExpectations"] == ["took 7m0s, expected at most 5m0s"], r
steps = r["timeline"]
assert all({"t", "phase", "canaryWeight", "failedChecks"} <= set(e) for e in steps), steps[0]
assert [e["canaryWeight"] for e in steps][:2] == [0, 10], steps[:2]
assert max(e["failedChecks"] for e in steps) == 5, steps
assert "request-success-rate" in steps[2]["metrics"], steps[2]
PY

# Many runs: a progress bar on stderr and the summary.
"$canaryd" simulate "$scenarios/error-plus-1pp.yaml" --runs 40 -o json >"$tmp/out" 2>"$tmp/err"
expect_exit 0 $? "many runs"
expect_line "$tmp/err" '^.*\[#{40}\] 40/40$' "the progress bar"
python3 - "$tmp/out" <<'PY' || fail "many runs json fields"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["runs"] == 40 and r["promoted"] + r["rolledBack"] + r["undecided"] == 40, r
# Counted as the user sees them: every rollback has its cause, and they add up.
assert sum(r["rolledBackBy"].values()) == r["rolledBack"], r
assert set(r["rolledBackBy"]) <= {"judge", "threshold", "inconclusive", "noData", "webhook", "deadline"}, r
rate = r["rollbackRate"]
assert rate["lower95"] <= rate["value"] <= rate["upper95"], rate
assert rate["value"] > 0.8, rate  # +1 pp at 10 rps: detected in most runs
assert r["secondsToDecision"]["median"] <= r["secondsToDecision"]["p90"], r
assert r["badRequestsServed"]["meanPerRun"] > 0, r
floor = r["waldFloor"]
assert floor["canaryRequests"] > floor["knownBaselineRequests"] > 0 and floor["medianRatio"] > 1, floor
PY
# The same seeds give the same summary.
"$canaryd" simulate "$scenarios/error-plus-1pp.yaml" --runs 40 --jobs 1 -o json --no-progress \
  >"$tmp/again" 2>&1
cmp -s "$tmp/out" "$tmp/again" || fail "40 runs on 1 thread differ from 40 on all cores"

# A run that misses its expect exits 3 and says what it missed.
sed 's/expect: .*/expect: {phase: Succeeded}/' "$scenarios/error-plus-5pp.yaml" >"$tmp/miss.yaml"
cp "$scenarios/canary.yaml" "$tmp/"
"$canaryd" simulate "$tmp/miss.yaml" >"$tmp/out" 2>&1
expect_exit 3 $? "missed expect"
expect_line "$tmp/out" '^expectation not met: phase Failed, expected Succeeded' "what was missed"

# Bad scenario files: the file, line, field path and what is allowed; exit 1.
cat >"$tmp/bad.yaml" <<'YAML'
apiVersion: canaryd.dev/v1alpha1
kind: Scenario
metadata: {name: bad}
spec:
  canaryFile: canary.yaml
  traffic: {requestsPerSecond: 10, pattern: weekly}
  primary: {errorRate: 5}
  durationLimit: 30m
YAML
"$canaryd" simulate "$tmp/bad.yaml" >"$tmp/out" 2>&1
expect_exit 1 $? "bad scenario"
expect_line "$tmp/out" "bad.yaml:6:[0-9]+: error: spec.traffic.pattern: must be one of: constant, diurnal, bursty" "pattern"
expect_line "$tmp/out" "bad.yaml:7:[0-9]+: error: spec.primary.errorRate: must be between 0 and 1" "error rate"
"$canaryd" simulate "$tmp/none.yaml" >"$tmp/out" 2>&1
expect_exit 1 $? "missing file"
expect_line "$tmp/out" "cannot read .*none.yaml" "missing file message"
"$canaryd" simulate "$scenarios/healthy-aa.yaml" --judge bayes >"$tmp/out" 2>&1
expect_exit 2 $? "unknown judge"

# --check-interval: the sequential judge also between steps; named in the summary.
"$canaryd" simulate "$scenarios/error-plus-5pp.yaml" --check-interval 15s --runs 20 \
  --no-progress >"$tmp/out" 2>&1
expect_exit 0 $? "check interval"
expect_line "$tmp/out" '^scenario error-plus-5pp, judge sequential, checks every 15s, 20 runs' \
  "the judge's cadence"
expect_line "$tmp/out" 'the first check after it, at [0-9]+m(0|15|30|45)s' "the floor's first check"
"$canaryd" simulate "$scenarios/error-plus-5pp.yaml" --judge threshold --check-interval 15s \
  >"$tmp/out" 2>&1
expect_exit 2 $? "check interval with thresholds"
expect_line "$tmp/out" 'check-interval: applies to the sequential judge only' "why not"

[[ $failures -eq 0 ]] && echo "simulate: all checks passed"
exit $((failures > 0))
