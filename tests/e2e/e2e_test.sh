#!/usr/bin/env bash
# The demo's stack as the end-to-end test: kubesim running the demo's processes, Debian's
# Prometheus, Alertmanager and HAProxy, real load, and `canaryd run`.
#   1. v2 (healthy) is promoted: the primary process serves v2, HAProxy's weights are back to
#      primary 256 / canary 0 — although canaryd is killed with SIGKILL at weight 20 and
#      restarted;
#   2. v3 (5% errors) is rolled back by the sequential judge with its defaults: the
#      primary still serves v2, the canary has 0 replicas, and the alert reaches the webhook
#      receiver through Alertmanager with the judge's numbers;
#   3. stopping the stack leaves no process behind.
# Everything is stopped and removed even when a step fails.
# Usage: e2e_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1
bin=$2
dir=$(mktemp -d)
source "$src/scripts/lib/demo-stack.sh"
cleanup() {
  stack_stop
  if ((failures > 0)); then
    for f in canaryd kubesim haproxy; do
      echo "--- $f.log (tail)"
      tail -n 15 "$dir/$f.log" 2>/dev/null
    done
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

stack_start || { fail "the stack did not start"; exit 1; }
canaryd_start
wait_for 60 phase_is Initialized || { fail "not Initialized: $(phase)"; exit 1; }
[[ $(primary_version) == v1 ]] || fail "the primary does not serve v1: '$(primary_version)'"

# 1: v2, with canaryd killed mid-rollout.
release v2 0.005
weight_at_least() {
  local w
  w=$(kubectl -n demo get canary demo -o jsonpath='{.status.canaryWeight}')
  [[ -n $w ]] && ((w >= $1))
}
wait_for 90 weight_at_least 20 || fail "v2: weight 20 not reached: $(phase)"
kill -9 "$canaryd_pid"
wait "$canaryd_pid" 2>/dev/null
canaryd_pid=""
canaryd_start
wait_for 240 phase_is Succeeded || fail "v2: not promoted: $(phase)"
wait_for 10 eval '[[ $(primary_version) == v2 ]]' || fail "v2: the primary serves '$(primary_version)'"
haproxy_back() { [[ $(haproxy_weight primary) == 256 && $(haproxy_weight canary) == 0 ]]; }
wait_for 10 haproxy_back ||
  fail "v2: HAProxy weights primary $(haproxy_weight primary), canary $(haproxy_weight canary)"
[[ $(grep -c 'Advance demo.demo canary weight 30' "$dir/canaryd.log") == 1 ]] ||
  fail "v2: the step to 30 was not taken exactly once across the restart"

# 2: v3, rolled back with an alert that carries the numbers.
release v3 0.05
wait_for 180 phase_is Failed || fail "v3: not rolled back: $(phase)"
[[ $(primary_version) == v2 ]] || fail "v3: the primary serves '$(primary_version)', want v2"
[[ $(kubectl -n demo get deploy demo -o jsonpath='{.spec.replicas}') == 0 ]] ||
  fail "v3: the canary was not scaled to zero"
# The judge with its defaults failed v3 on its own evidence (not the threshold checks).
[[ $(kubectl -n demo get canary demo -o jsonpath='{.status.judge.verdict}') == fail ]] ||
  fail "v3: the judge's verdict is not fail: $(kubectl -n demo get canary demo -o jsonpath='{.status.judge}')"
# ... and judged latency too, from the demo-app's histogram in Prometheus: its boundaries are
# kept in the status, and the last explanation reports the share of slow requests.
judge_status=$(kubectl -n demo get canary demo -o jsonpath='{.status.judge}')
grep -q '"latency boundaries":"[0-9.e+-]* [0-9.]*' <<<"$judge_status" ||
  fail "v3: the judge chose no latency boundary: $judge_status"
wait_for 20 grep -q '"alertname":"CanaryRolledBack"' "$dir/alerts.jsonl" ||
  fail "v3: no CanaryRolledBack alert reached the receiver: $(cat "$dir/alerts.jsonl")"
alert=$(grep '"alertname":"CanaryRolledBack"' "$dir/alerts.jsonl" | head -1)
for want in '"canary":"demo"' '"namespace":"demo"' 'demo-app:v3' 'judge: sequential' \
  'verdict: fail' 'e-value: ' 'bad-rate ratio canary/primary: ' 'canary: [0-9]+ requests'; do
  grep -Eq "$want" <<<"$alert" || fail "v3: the alert lacks $want: $alert"
done

# 3: nothing left behind.
stack_stop || fail "processes outlived the stack"
exit $((failures > 0))
