#!/usr/bin/env bash
# `canaryd run` with tenants that misbehave, against kubesim and Debian's Prometheus:
#   - namespace evil: its MetricTemplate names a server that answers Prometheus-shaped JSON of
#     the wrong shape (the answer that aborted canaryd before): its checks fail with a message
#     naming that server, and the Canary is rolled back;
#   - namespace corpus: its MetricTemplate names a server that answers each request with the
#     next answer of tests/hostile/corpus/prometheus/ (every one of them, in turn): each check
#     fails with a message, and canaryd keeps running;
#   - namespace nosy: its pre-rollout webhook names an address outside --allow-address (the
#     Kubernetes API's Secrets): refused with an event and canaryd_address_refusals_total,
#     never called; its Canary is rolled back;
#   - namespace slow: four Canaries whose confirm-rollout gate is a listener that never answers
#     (each call costs its 5s timeout, every interval, for as long as the gate holds);
#   - namespace good: an ordinary Canary goes 10..50 and is promoted on its schedule meanwhile,
#     though canaryd has only two workers (the slow namespace may hold one of them at most);
#   - canaryd keeps running throughout, and logs no defect.
# Usage: run_hostile_test.sh CANARYD KUBESIM HOSTILE_SERVER SOURCE_DIR
set -uo pipefail
canaryd=$1
kubesim=$2
hostile=$3
src=$4
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  jobs -p | xargs -r kill 2>/dev/null
  [[ -n ${KEEP_TMP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT
source "$(dirname "$0")/../support/shell.sh"

start_kubesim "$kubesim"
k() { kubectl "$@"; }

start_prometheus

"$hostile" "$src/tests/hostile/corpus/prometheus/result-one-array.json" >"$tmp/hostile.out" 2>&1 &
pids+=($!)
wait_for 10 grep -q '^listening on ' "$tmp/hostile.out" || { echo "hostile-server did not start"; exit 1; }
hostile_url=$(sed -n 's/^listening on //p' "$tmp/hostile.out")
"$hostile" "$src/tests/hostile/corpus/prometheus" >"$tmp/corpus.out" 2>&1 &
pids+=($!)
wait_for 10 grep -q '^listening on ' "$tmp/corpus.out" || { echo "hostile-server DIR did not start"; exit 1; }
corpus_url=$(sed -n 's/^listening on //p' "$tmp/corpus.out")
"$hostile" --silent >"$tmp/silent.out" 2>&1 &
pids+=($!)
wait_for 10 grep -q '^listening on ' "$tmp/silent.out" || { echo "hostile-server --silent did not start"; exit 1; }
silent_url=$(sed -n 's/^listening on //p' "$tmp/silent.out")

k apply -f "$src/crds/" -f "$src/crds/kubesim/gateway.networking.k8s.io_httproutes.yaml" >/dev/null || exit 1

metrics_port=$(free_port)
"$canaryd" run --min-interval 1s --listen "127.0.0.1:$metrics_port" --max-concurrent-canaries 2 \
  --metrics-server "http://127.0.0.1:$prom_port" --allow-address "$hostile_url/" \
  --allow-address "$silent_url/" --allow-address "$corpus_url/" \
  >"$tmp/canaryd.out" 2>&1 &
daemon=$!
pids+=($daemon)

# $2: the template's address; $3: the Canary's webhooks (YAML flow list); $4: the name of
# the Deployment and the Canary (default podinfo).
make_app() {
  local ns=$1 address=$2 webhooks=$3 name=${4:-podinfo}
  cat <<EOF2 | k apply -f - >/dev/null
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: $name, namespace: $ns}
spec:
  replicas: 1
  selector: {matchLabels: {app: $name}}
  template:
    metadata: {labels: {app: $name}}
    spec:
      containers: [{name: podinfo, image: "ghcr.io/stefanprodan/podinfo:6.0.0"}]
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: error-rate, namespace: $ns}
spec:
  provider: {type: prometheus, address: "$address"}
  query: vector(0.5)
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: $name, namespace: $ns}
spec:
  provider: gatewayapi:v1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: $name}
  progressDeadlineSeconds: 60
  service:
    port: 9898
    gatewayRefs: [{name: public-gateway, namespace: gateway}]
  analysis:
    interval: 2s
    threshold: 2
    maxWeight: 50
    stepWeight: 10
    webhooks: $webhooks
    metrics:
      - name: error-rate
        templateRef: {name: error-rate}
        thresholdRange: {max: 1}
        interval: 1m
EOF2
}
phase() { k -n "$1" get canary "${3:-podinfo}" -o jsonpath='{.status.phase}'; }
phase_is() { [[ $(phase "$1" "$2" "${3:-podinfo}") == "$2" ]]; }
events_of() { k -n "$1" get events -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'; }

make_app good "http://127.0.0.1:$prom_port" '[]'
make_app evil "$hostile_url" '[]'
make_app corpus "$corpus_url" '[]'
# One check a second, and failures never reach the threshold while the corpus is gone through.
k -n corpus patch canary podinfo --type merge \
  -p '{"spec":{"analysis":{"interval":"1s","threshold":1000}}}' >/dev/null
make_app nosy "http://127.0.0.1:$prom_port" \
  "[{name: steal, type: pre-rollout, url: '$server/api/v1/secrets', timeout: 5s}]"
gate="[{name: gate, type: confirm-rollout, url: '$silent_url/gate', timeout: 5s}]"
for name in one two three four; do
  make_app slow "http://127.0.0.1:$prom_port" "$gate" $name
done
for ns in good evil nosy corpus; do
  wait_for 30 phase_is $ns Initialized || fail "$ns: not Initialized: $(phase $ns)"
done
for name in one two three four; do
  wait_for 30 phase_is slow Initialized $name || fail "slow/$name: not Initialized"
  k -n slow set image deploy/$name podinfo=ghcr.io/stefanprodan/podinfo:6.0.1 >/dev/null
done
wait_for 30 phase_is slow Waiting one || fail "slow/one: not Waiting at its gate: $(phase slow x one)"
k -n good get httproute podinfo --watch \
  -o jsonpath='{.spec.rules[0].backendRefs[1].weight}{"\n"}' >"$tmp/weights-good" 2>&1 &
pids+=($!)
for ns in good evil nosy corpus; do
  k -n $ns set image deploy/podinfo podinfo=ghcr.io/stefanprodan/podinfo:6.0.1 >/dev/null
done

released=$SECONDS
wait_for 60 phase_is good Succeeded || fail "good: not Succeeded: $(phase good)"
took=$((SECONDS - released))
# Seven analysis steps two seconds apart, about 16 s; with the slow namespace holding both
# workers (no fair share) it took 56 s.
((took <= 35)) || fail "good took ${took}s to promote beside the slow namespace"
echo "good promoted ${took}s after its release, beside four Canaries at a silent gate"
steps=$(uniq "$tmp/weights-good" | tr '\n' ' ' | sed 's/ $//')
[[ $steps == "0 10 20 30 40 50 0" ]] || fail "good: route weights went '$steps', want '0 10 20 30 40 50 0'"
wait_for 60 phase_is evil Failed || fail "evil: not rolled back: $(phase evil)"
wait_for 60 phase_is nosy Failed || fail "nosy: not rolled back: $(phase nosy)"
kill -0 $daemon 2>/dev/null || fail "canaryd is not running: $(tail -5 "$tmp/canaryd.out")"

# Every answer of the corpus reached canaryd run; each failed the check, none stopped it.
answered_all() {
  local f
  for f in "$src"/tests/hostile/corpus/prometheus/*; do
    grep -qx "answered $(basename "$f")" "$tmp/corpus.out" || return 1
  done
}
wait_for 120 answered_all || fail "corpus: not every answer was asked for: $(grep -c answered "$tmp/corpus.out") requests"
kill -0 $daemon 2>/dev/null || fail "canaryd is not running after the corpus: $(tail -5 "$tmp/canaryd.out")"
[[ $(phase corpus) == Progressing ]] || fail "corpus: phase $(phase corpus), want Progressing"
failed_checks=$(k -n corpus get canary podinfo -o jsonpath='{.status.failedChecks}')
((failed_checks >= 30)) || fail "corpus: only $failed_checks failed checks"
echo "corpus: $(grep -c '^answered ' "$tmp/corpus.out") answers served, $failed_checks failed checks, canaryd running"
events_of evil >"$tmp/events-evil"
expect_line "$tmp/events-evil" "error-rate: Prometheus $hostile_url answered a series that is not an object" \
  "evil: the failed check names the hostile server"
events_of nosy >"$tmp/events-nosy"
expect_line "$tmp/events-nosy" "pre-rollout webhook steal failed: ${server//./\\.}/\.\.\. is not an allowed address \(canaryd run --allow-address" \
  "nosy: the refusal is an event"
curl -s "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics"
expect_line "$tmp/metrics" '^canaryd_address_refusals_total\{purpose="webhook"\} [1-9]' "refusals counted"
grep -q 'defect' "$tmp/canaryd.out" && fail "canaryd logged a defect: $(grep defect "$tmp/canaryd.out" | head -3)"
grep -q "may reach only: $hostile_url/, $silent_url/, $corpus_url/, http://127.0.0.1:$prom_port" "$tmp/canaryd.out" ||
  fail "the allow-list is not logged at start"

if ((failures)); then
  echo "--- canaryd log (tail)"; tail -40 "$tmp/canaryd.out"
  exit 1
fi
echo "ok: run_hostile_test"
