#!/usr/bin/env bash
# `canaryd run` against kubesim and a real Prometheus, driven with the real kubectl:
#   1. an image change goes 10, 20, 30, 40, 50 through the HTTPRoute to Succeeded, and the
#      primary runs the new image;
#   2. a failing metric ends in Failed after `threshold` failed checks, the primary untouched;
#   3. the daemon killed (SIGKILL) mid-rollout and restarted ends Succeeded with every weight
#      step applied exactly once;
#   4. revertOnDeletion gives the target back its traffic and replicas;
#   5. a tracked ConfigMap and an HPA are copied to -primary, and a ConfigMap change alone is
#      a new revision;
#   6. SIGTERM lets the daemon finish and exit 0.
# Usage: run_test.sh CANARYD KUBESIM SOURCE_DIR
set -uo pipefail
canaryd=$1
kubesim=$2
src=$3
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

# Bad flags and a missing kubeconfig: a clear message and exit 2 or 1, before anything starts.
"$canaryd" run --listen foo >/dev/null 2>"$tmp/err"
[[ $? == 2 ]] && grep -q 'must be HOST:PORT, got foo' "$tmp/err" || fail "--listen foo: $(cat "$tmp/err")"
"$canaryd" run --kubeconfig "$tmp/missing" >/dev/null 2>"$tmp/err"
[[ $? == 1 ]] && grep -q "kubeconfig $tmp/missing does not exist" "$tmp/err" ||
  fail "missing kubeconfig: $(cat "$tmp/err")"

# kubesim, with Deployments and HTTPRoutes converging after 200ms.
start_kubesim "$kubesim"
k() { kubectl "$@"; }

# Prometheus (Debian's), answering the MetricTemplates' queries.
start_prometheus

k apply -f "$src/crds/" -f "$src/crds/kubesim/gateway.networking.k8s.io_httproutes.yaml" >/dev/null || exit 1

daemon_pid=""
# Git write-back is fenced by the operator's file: bad and gitfail may write their paths (local
# file:// remotes, hence insecure: true); thief, which names bad's repository and file, may not.
cat >"$tmp/write-back.yaml" <<EOF
namespaces:
  bad:
    - {repository: "file://$tmp/apps.git", paths: [bad/], commit: true, insecure: true}
  gitfail:
    - {repository: "file://$tmp/missing.git", paths: [podinfo.yaml], commit: true, insecure: true}
EOF
start_daemon() {
  "$canaryd" run --min-interval 1s --listen 127.0.0.1:0 --git-write-back-config "$tmp/write-back.yaml" \
    --metrics-server "http://127.0.0.1:$prom_port" >>"$tmp/canaryd.out" 2>&1 &
  daemon_pid=$!
  pids+=($daemon_pid)
}

# One namespace per scenario: Deployment, MetricTemplate, Canary (interval 2s, steps of 10 to
# 50, threshold 2). $2 is the template's query: vector(0.5) passes max 1, vector(5) fails it.
make_app() {
  local ns=$1 query=$2 revert=${3:-false} annotations=${4:-"{}"}
  cat <<EOF | k apply -f - >/dev/null
apiVersion: v1
kind: Namespace
metadata: {name: $ns}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: podinfo, namespace: $ns}
spec:
  replicas: 2
  selector: {matchLabels: {app: podinfo}}
  template:
    metadata: {labels: {app: podinfo}}
    spec:
      containers: [{name: podinfo, image: "ghcr.io/stefanprodan/podinfo:6.0.0"}]
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: error-rate, namespace: $ns}
spec:
  provider: {type: prometheus}
  query: $query
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: $ns, annotations: $annotations}
spec:
  provider: gatewayapi:v1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  progressDeadlineSeconds: 60
  revertOnDeletion: $revert
  service:
    port: 9898
    gatewayRefs: [{name: public-gateway, namespace: gateway}]
  analysis:
    interval: 2s
    threshold: 2
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: error-rate
        templateRef: {name: error-rate}
        thresholdRange: {max: 1}
        interval: 1m
EOF
}
phase() { k -n "$1" get canary podinfo -o jsonpath='{.status.phase}'; }
phase_is() { [[ $(phase "$1") == "$2" ]]; }
image_of() { k -n "$1" get deploy "$2" -o jsonpath='{.spec.template.spec.containers[0].image}'; }
# Records every canary weight the HTTPRoute goes through (kubectl watch), one per line.
record_weights() {
  k -n "$1" get httproute podinfo --watch \
    -o jsonpath='{.spec.rules[0].backendRefs[1].weight}{"\n"}' >"$tmp/weights-$1" 2>&1 &
  pids+=($!)
}
# The distinct successive weights: 0 0 10 10 20 -> "0 10 20".
weight_steps() { uniq "$tmp/weights-$1" | tr '\n' ' ' | sed 's/ $//'; }

start_daemon
# The bad release is written back to Git on rollback: a bare repository whose manifest names
# the image the test releases.
git init -q --bare -b main "$tmp/apps.git"
git clone -q "$tmp/apps.git" "$tmp/apps" 2>/dev/null
mkdir -p "$tmp/apps/bad"
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: podinfo, namespace: bad}\nspec:\n  template:\n    spec:\n      containers:\n        - name: podinfo\n          image: ghcr.io/stefanprodan/podinfo:6.0.1\n' \
  >"$tmp/apps/bad/podinfo.yaml"
git -C "$tmp/apps" add -A
git -C "$tmp/apps" -c user.name=dev -c user.email=dev@example.com commit -q -m "podinfo 6.0.1"
git -C "$tmp/apps" push -q origin main
make_app good 'vector(0.5)'
make_app bad 'vector(5)' false "{gitops.canaryd.dev/write-back: commit, gitops.canaryd.dev/repository: 'file://$tmp/apps.git', gitops.canaryd.dev/path: bad/podinfo.yaml}"
# The same failure whose write-back cannot reach its repository: the rollback still happens,
# and a Warning event says why Git was not told.
make_app gitfail 'vector(5)' false "{gitops.canaryd.dev/write-back: commit, gitops.canaryd.dev/repository: 'file://$tmp/missing.git', gitops.canaryd.dev/path: podinfo.yaml}"
# Another namespace's Canary naming bad's repository and file: refused, nothing pushed.
make_app thief 'vector(5)' false "{gitops.canaryd.dev/write-back: branch, gitops.canaryd.dev/repository: 'file://$tmp/apps.git', gitops.canaryd.dev/path: bad/podinfo.yaml}"
wait_for 30 phase_is good Initialized || fail "good: not Initialized: $(phase good)"
wait_for 30 phase_is bad Initialized || fail "bad: not Initialized: $(phase bad)"
wait_for 30 phase_is gitfail Initialized || fail "gitfail: not Initialized: $(phase gitfail)"
wait_for 30 phase_is thief Initialized || fail "thief: not Initialized: $(phase thief)"
[[ $(k -n good get deploy podinfo -o jsonpath='{.spec.replicas}') == 0 ]] ||
  fail "good: the target was not scaled to zero"
[[ $(image_of good podinfo-primary) == "ghcr.io/stefanprodan/podinfo:6.0.0" ]] ||
  fail "good: the primary does not run the first revision"

# 1 and 2: a new image in both namespaces.
record_weights good
record_weights bad
k -n good set image deploy/podinfo podinfo=ghcr.io/stefanprodan/podinfo:6.0.1 >/dev/null
k -n bad set image deploy/podinfo podinfo=ghcr.io/stefanprodan/podinfo:6.0.1 >/dev/null
k -n gitfail set image deploy/podinfo podinfo=ghcr.io/stefanprodan/podinfo:6.0.1 >/dev/null
k -n thief set image deploy/podinfo podinfo=ghcr.io/stefanprodan/podinfo:6.0.1 >/dev/null
wait_for 60 phase_is good Succeeded || fail "good: not Succeeded: $(phase good)"
wait_for 60 phase_is bad Failed || fail "bad: not Failed: $(phase bad)"
[[ $(weight_steps good) == "0 10 20 30 40 50 0" ]] ||
  fail "good: route weights went '$(weight_steps good)', want '0 10 20 30 40 50 0'"
[[ $(image_of good podinfo-primary) == "ghcr.io/stefanprodan/podinfo:6.0.1" ]] ||
  fail "good: the primary was not promoted"
[[ $(k -n good get canary podinfo -o jsonpath='{.status.conditions[0].reason}/{.status.conditions[0].status}') == "Succeeded/True" ]] ||
  fail "good: the Promoted condition is not Succeeded/True"
# As in Flagger, weight 0 runs only the pre-rollout hooks; the failing metric holds the
# canary at the first step (10) until the rollback.
[[ $(weight_steps bad) == "0 10 0" ]] || fail "bad: route weights went '$(weight_steps bad)', want '0 10 0'"
[[ $(image_of bad podinfo-primary) == "ghcr.io/stefanprodan/podinfo:6.0.0" ]] ||
  fail "bad: the primary was touched"
[[ $(k -n bad get deploy podinfo -o jsonpath='{.spec.replicas}') == 0 ]] ||
  fail "bad: the canary was not scaled to zero"
grep -q 'Halt podinfo.bad advancement: error-rate 5 > 1 (failed checks 2)' "$tmp/canaryd.out" ||
  fail "bad: no event naming the failing metric and its numbers"
wait_for 10 grep -q 'rolled back: failed checks threshold reached 2' "$tmp/canaryd.out" ||
  fail "bad: no rollback alert"
[[ $(k -n bad get canary podinfo -o jsonpath='{.status.lastFailedCheck.message}') == "error-rate 5 > 1" ]] ||
  fail "bad: status.lastFailedCheck does not keep the failing check"
# Git write-back: one commit that sets the image back, with the evidence in its message.
git_written() { [[ $(git --git-dir="$tmp/apps.git" rev-list --count main) == 2 ]]; }
wait_for 20 git_written || fail "bad: no write-back commit: $(git --git-dir="$tmp/apps.git" log --oneline main)"
[[ $(git --git-dir="$tmp/apps.git" log -1 --format=%s main) == "Revert bad/podinfo to podinfo=ghcr.io/stefanprodan/podinfo:6.0.0" ]] ||
  fail "bad: write-back subject: $(git --git-dir="$tmp/apps.git" log -1 --format=%s main)"
git --git-dir="$tmp/apps.git" log -1 --format=%b main | grep -q 'error-rate 5 > 1' ||
  fail "bad: the write-back message lacks the evidence"
git --git-dir="$tmp/apps.git" show main:bad/podinfo.yaml | grep -q 'image: ghcr.io/stefanprodan/podinfo:6.0.0$' ||
  fail "bad: the manifest in Git was not set back"
git_event() {
  k -n bad get events -o jsonpath='{range .items[*]}{.reason} {.message}{"\n"}{end}' |
    grep -q '^GitWriteBack Git write-back: commit [0-9a-f]* on main'
}
wait_for 10 git_event || fail "bad: no GitWriteBack event"
wait_for 60 phase_is gitfail Failed || fail "gitfail: not rolled back: $(phase gitfail)"
gitfail_event() {
  k -n gitfail get events -o jsonpath='{range .items[*]}{.type} {.reason} {.message}{"\n"}{end}' |
    grep -q "^Warning GitWriteBack Git write-back failed: cloning branch main of file://$tmp/missing.git"
}
wait_for 20 gitfail_event || fail "gitfail: no Warning event saying why Git was not told"
wait_for 60 phase_is thief Failed || fail "thief: not rolled back: $(phase thief)"
thief_event() {
  k -n thief get events -o jsonpath='{range .items[*]}{.type} {.reason} {.message}{"\n"}{end}' |
    grep -q '^Warning GitWriteBack Git write-back refused: Git write-back is not enabled for namespace thief'
}
wait_for 20 thief_event || fail "thief: no Warning event refusing the write-back"
[[ $(git --git-dir="$tmp/apps.git" for-each-ref --format='%(refname)' | wc -l) == 1 ]] ||
  fail "thief: something was pushed: $(git --git-dir="$tmp/apps.git" for-each-ref)"
# Events are recorded after the status write: wait for them.
rollback_event() {
  k -n bad get events -o jsonpath='{range .items[*]}{.type} {.message}{"\n"}{end}' |
    grep -q '^Warning Rolling back podinfo.bad: failed checks threshold reached 2'
}
wait_for 10 rollback_event || fail "bad: no Warning event about the rollback"

# 3: kill -9 at weight 20, restart, and the rollout ends the same way.
make_app restart 'vector(0.5)'
wait_for 30 phase_is restart Initialized || fail "restart: not Initialized: $(phase restart)"
record_weights restart
k -n restart set image deploy/podinfo podinfo=ghcr.io/stefanprodan/podinfo:6.0.1 >/dev/null
weight_is() { [[ $(k -n restart get canary podinfo -o jsonpath='{.status.canaryWeight}') == "$1" ]]; }
wait_for 60 weight_is 20 || fail "restart: weight 20 not reached"
# /metrics during the rollout: Flagger's series with the rollout's values (the weight read at
# 20 may have stepped on to 30 by the time of the scrape: either, with the primary at the rest).
first_health=$(sed -n 's/.*health on \([0-9.:]*\);.*/\1/p' "$tmp/canaryd.out" | head -1)
mid_rollout_metrics() {
  curl -sf "http://$first_health/metrics" >"$tmp/metrics-mid" || return 1
  local canary primary
  canary=$(sed -n 's/^flagger_canary_weight{namespace="restart",workload="podinfo"} //p' "$tmp/metrics-mid")
  primary=$(sed -n 's/^flagger_canary_weight{namespace="restart",workload="podinfo-primary"} //p' "$tmp/metrics-mid")
  [[ ($canary == 20 || $canary == 30) && $((canary + primary)) == 100 ]] &&
    grep -q '^flagger_canary_status{name="podinfo",namespace="restart"} 0' "$tmp/metrics-mid"
}
wait_for 10 mid_rollout_metrics || fail "/metrics during the rollout: $(grep restart "$tmp/metrics-mid")"
# The same daemon saw good promoted and bad rolled back, each metric's last value, and its own
# requests to the API server and Prometheus.
expect_series() {
  grep -Eq "$1" "$tmp/metrics-mid" || fail "/metrics: no line matching $1"
}
expect_series '^flagger_info\{mesh_provider="kubernetes",version="[0-9.]+"\} 1'
expect_series '^flagger_canary_successes_total\{analysis_status="completed",deployment_strategy="canary",name="podinfo",namespace="good"\} 1'
expect_series '^flagger_canary_failures_total\{analysis_status="completed",deployment_strategy="canary",name="podinfo",namespace="bad"\} 1'
expect_series '^flagger_canary_metric_analysis\{metric="error-rate",name="podinfo",namespace="bad"\} 5'
expect_series '^flagger_canary_metric_analysis\{metric="error-rate",name="podinfo",namespace="restart"\} 0.5'
expect_series '^flagger_canary_duration_seconds_count\{name="podinfo",namespace="restart"\} [1-9]'
expect_series '^canaryd_kube_api_requests_total\{code="200",method="GET"\} [1-9]'
expect_series '^canaryd_prometheus_requests_total\{code="200"\} [1-9]'
expect_series '^canaryd_workqueue_wait_seconds_count [1-9]'
expect_series '^canaryd_leader 1'
kill -9 "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
start_daemon
wait_for 60 phase_is restart Succeeded || fail "restart: not Succeeded: $(phase restart)"
[[ $(weight_steps restart) == "0 10 20 30 40 50 0" ]] ||
  fail "restart: route weights went '$(weight_steps restart)', want '0 10 20 30 40 50 0'"
[[ $(image_of restart podinfo-primary) == "ghcr.io/stefanprodan/podinfo:6.0.1" ]] ||
  fail "restart: the primary was not promoted"
[[ $(grep -c 'Advance podinfo.restart canary weight 30' "$tmp/canaryd.out") == 1 ]] ||
  fail "restart: the step to 30 was not taken exactly once"

# 4: revertOnDeletion: deleting the Canary gives the target back its replicas and keeps the
# apex Service, pointing at the target's pods; the generated objects go with the Canary.
make_app revert 'vector(0.5)' true
wait_for 30 phase_is revert Initialized || fail "revert: not Initialized: $(phase revert)"
[[ $(k -n revert get canary podinfo -o jsonpath='{.metadata.finalizers}') == *finalizer.flagger.app* ]] ||
  fail "revert: no finalizer"
k -n revert delete canary podinfo --wait=false >/dev/null
gone() { ! k -n revert get canary podinfo >/dev/null 2>&1; }
wait_for 30 gone || fail "revert: the Canary was not deleted: $(phase revert)"
[[ $(k -n revert get deploy podinfo -o jsonpath='{.spec.replicas}') == 2 ]] ||
  fail "revert: the target was not scaled back to 2 replicas"
[[ $(k -n revert get svc podinfo -o jsonpath='{.spec.selector.app}') == podinfo ]] ||
  fail "revert: the apex Service does not select the target's pods"
primary_gone() { ! k -n revert get deploy podinfo-primary >/dev/null 2>&1; }
wait_for 30 primary_gone || fail "revert: the primary was not garbage-collected"

# A Canary canaryd cannot act on (mirroring on the kubernetes provider, which cannot mirror; the
# CRD lets no provider without a router through) says so in its status within seconds (kstatus
# Stalled with the reason, observedGeneration); fixing it starts the rollout.
make_app stuck 'vector(0.5)'
k -n stuck patch canary podinfo --type merge -p '{"spec":{"provider":"kubernetes","analysis":{"mirror":true}}}' >/dev/null
stalled_reason() {
  k -n stuck get canary podinfo \
    -o jsonpath='{.status.conditions[?(@.type=="Stalled")].reason}/{.status.observedGeneration}/{.metadata.generation}'
}
stalled_shows() { [[ $(stalled_reason) =~ ^UnsupportedFeature/([0-9]+)/([0-9]+)$ && ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]]; }
wait_for 10 stalled_shows || fail "stuck: no Stalled condition for the generation: $(stalled_reason)"
k -n stuck patch canary podinfo --type merge -p '{"spec":{"provider":"gatewayapi:v1","analysis":{"mirror":null}}}' >/dev/null
wait_for 30 phase_is stuck Initialized || fail "stuck: not Initialized once fixed: $(phase stuck)"
recovered() {
  [[ $(k -n stuck get canary podinfo -o jsonpath='{.status.conditions[?(@.type=="Stalled")].status}/{.status.observedGeneration}/{.metadata.generation}') =~ ^False/([0-9]+)/([0-9]+)$ &&
     ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]]
}
wait_for 30 recovered || fail "stuck: still Stalled after the fix: $(stalled_reason)"

# 5: a tracked ConfigMap and an HPA: copied to -primary on first sight; a change of the
# ConfigMap alone is a new revision, promoted with the new data.
cat <<EOF | k apply -f - >/dev/null
apiVersion: v1
kind: Namespace
metadata: {name: config}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: podinfo-env, namespace: config}
data: {COLOR: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: podinfo, namespace: config}
spec:
  selector: {matchLabels: {app: podinfo}}
  template:
    metadata: {labels: {app: podinfo}}
    spec:
      containers:
        - name: podinfo
          image: "ghcr.io/stefanprodan/podinfo:6.0.0"
          envFrom: [{configMapRef: {name: podinfo-env}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: podinfo, namespace: config}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  minReplicas: 2
  maxReplicas: 4
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: config}
spec:
  provider: gatewayapi:v1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  autoscalerRef: {apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, name: podinfo}
  service:
    port: 9898
    gatewayRefs: [{name: public-gateway, namespace: gateway}]
  analysis: {interval: 2s, threshold: 2, maxWeight: 20, stepWeight: 10}
EOF
wait_for 30 phase_is config Initialized || fail "config: not Initialized: $(phase config)"
[[ $(k -n config get cm podinfo-env-primary -o jsonpath='{.data.COLOR}') == blue ]] ||
  fail "config: no podinfo-env-primary copy"
[[ $(k -n config get deploy podinfo-primary -o jsonpath='{.spec.template.spec.containers[0].envFrom[0].configMapRef.name}') == podinfo-env-primary ]] ||
  fail "config: the primary does not use the copy"
[[ $(k -n config get hpa podinfo-primary -o jsonpath='{.spec.scaleTargetRef.name}') == podinfo-primary ]] ||
  fail "config: no podinfo-primary HPA aimed at the primary"
k -n config patch cm podinfo-env --type merge -p '{"data":{"COLOR":"green"}}' >/dev/null
wait_for 30 phase_is config Progressing || fail "config: a ConfigMap change started no run"
wait_for 60 phase_is config Succeeded || fail "config: not Succeeded: $(phase config)"
[[ $(k -n config get cm podinfo-env-primary -o jsonpath='{.data.COLOR}') == green ]] ||
  fail "config: the promoted copy does not have the new data"
[[ $(image_of config podinfo-primary) == "ghcr.io/stefanprodan/podinfo:6.0.0" ]] ||
  fail "config: the image changed"

# /metrics on the health port: Flagger's gauges, canaryd's reconcile counter.
health=$(sed -n 's/.*health on \([0-9.:]*\);.*/\1/p' "$tmp/canaryd.out" | tail -1)
curl -sf "http://$health/metrics" >"$tmp/metrics" || fail "no /metrics on $health"
grep -q '^flagger_canary_status{name="podinfo",namespace="restart"} 1' "$tmp/metrics" ||
  fail "/metrics: no status 1 for restart/podinfo"
grep -q '^flagger_canary_weight{namespace="restart",workload="podinfo-primary"} 100' "$tmp/metrics" ||
  fail "/metrics: no primary weight 100 for restart/podinfo"
grep -Eq '^canaryd_reconciles_total\{result="ok"\} [1-9]' "$tmp/metrics" ||
  fail "/metrics: no successful reconciles counted"
curl -sf "http://$health/healthz" >/dev/null || fail "/healthz does not answer"

# SIGTERM: in-flight reconciles finish, the process exits 0.
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
[[ $rc == 0 ]] || fail "canaryd exited $rc after SIGTERM"
grep -q 'received SIGTERM' "$tmp/canaryd.out" || fail "no SIGTERM message"

# Under scripts/sanitize the daemons are instrumented: any report is a failure.
if grep -l 'AddressSanitizer\|runtime error:' "$tmp/canaryd.out" "$tmp/kubesim.out"; then
  fail "a sanitizer report (above files)"
fi

if ((failures > 0)); then
  echo "--- kubesim log"
  tail -40 "$tmp/kubesim.out"
  echo "--- canaryd log"
  tail -60 "$tmp/canaryd.out"
  echo "$failures failure(s)"
  exit 1
fi
echo "ok: Succeeded through 10..50, Failed with the primary untouched, kill -9 and restart, revertOnDeletion, config tracking, SIGTERM"
