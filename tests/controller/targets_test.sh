#!/usr/bin/env bash
# `canaryd run` against kubesim, driven with the real kubectl: what issue 17 asks of targets
# and of Canaries the daemon cannot act on.
#   1. a DaemonSet target goes blue/green to Succeeded: agent-primary runs the new image, the
#      target is scaled to zero by Flagger's nodeSelector flagger.app/scale-to-zero;
#   2. a Deployment selected by app.kubernetes.io/name gets a primary and Services selecting
#      its pods by that label (web-primary), and rolls out to Succeeded;
#   3. an unsupported provider, an invalid spec and a missing target each get, within seconds,
#      Ready=False / Stalled=True naming the problem and observedGeneration, one event; fixing
#      each one starts the rollout (Initialized);
#   4. a Service target on gatewayapi:v1 goes to Succeeded through its copies.
# Usage: targets_test.sh CANARYD KUBESIM CRDS_DIR
set -uo pipefail
canaryd=$1
kubesim=$2
crds=$3
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [[ -n ${KEEP_TMP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT
source "$(dirname "$0")/../support/shell.sh"

start_kubesim "$kubesim"
k() { kubectl "$@"; }
k apply -f "$crds" >/dev/null || exit 1
"$canaryd" run --min-interval 1s --listen 127.0.0.1:0 >"$tmp/canaryd.out" 2>&1 &
pids+=($!)

phase() { k -n "$1" get canary "$2" -o jsonpath='{.status.phase}'; }
phase_is() { [[ $(phase "$1" "$2") == "$3" ]]; }
# condition NS NAME TYPE: "status reason observedGeneration message"
condition() {
  k -n "$1" get canary "$2" -o jsonpath="{range .status.conditions[?(@.type==\"$3\")]}{.status} {.reason} {.observedGeneration} {.message}{end}"
}
# stalled_with NS NAME REASON GENERATION TEXT
stalled_with() {
  local c
  c=$(condition "$1" "$2" Stalled)
  [[ $c == "True $3 $4 "*"$5"* ]] && [[ $(condition "$1" "$2" Ready) == "False $3 $4 "* ]] &&
    [[ $(k -n "$1" get canary "$2" -o jsonpath='{.status.observedGeneration}') == "$4" ]]
}
# kubesim speaks JSON only: `kubectl create namespace` sends protobuf, apply does not.
namespace() { printf '%s\n' "apiVersion: v1" "kind: Namespace" "metadata: {name: $1}" | k apply -f - >/dev/null; }
# canary NS NAME KIND PROVIDER [EXTRA ANALYSIS LINE]: a blue/green Canary of two iterations.
canary() {
  printf '%s\n' "apiVersion: flagger.app/v1beta1" "kind: Canary" \
    "metadata: {name: $2, namespace: $1}" "spec:" "  provider: $4" \
    "  targetRef: {apiVersion: apps/v1, kind: $3, name: $2}" "  service: {port: 80}" \
    "  analysis:" "    interval: 1s" "    threshold: 2" "    iterations: 2" "    ${5:-}"
}
# workload KIND NS NAME LABEL: a one-container DaemonSet or Deployment selected by LABEL=NAME.
workload() {
  printf '%s\n' "apiVersion: apps/v1" "kind: $1" "metadata: {name: $3, namespace: $2}" "spec:" \
    "  selector: {matchLabels: {$4: $3}}" "  template:" "    metadata: {labels: {$4: $3}}" \
    "    spec:" "      containers: [{name: $3, image: \"example.com/$3:1\"}]"
}

# 1. A DaemonSet target, blue/green on the kubernetes provider.
namespace ds
workload DaemonSet ds agent app | k apply -f - >/dev/null
canary ds agent DaemonSet kubernetes | k apply -f - >/dev/null
wait_for 30 phase_is ds agent Initialized ||
  fail "ds: not Initialized: $(phase ds agent) $(condition ds agent Stalled)"
selector_of() { k -n "$1" get ds "$2" -o jsonpath='{.spec.template.spec.nodeSelector.flagger\.app/scale-to-zero}'; }
scaled_to_zero() { [[ $(selector_of ds agent) == true ]]; }
scaled_to_zero || fail "ds: the target is not scaled to zero: '$(selector_of ds agent)'"
[[ $(k -n ds get ds agent-primary -o jsonpath='{.spec.template.metadata.labels.app}') == agent-primary ]] ||
  fail "ds: agent-primary's pods are not labelled app=agent-primary"
[[ -z $(selector_of ds agent-primary) ]] || fail "ds: the primary inherited the scale-to-zero selector"
k -n ds set image ds/agent agent=example.com/agent:2 >/dev/null
wait_for 60 phase_is ds agent Succeeded || fail "ds: not Succeeded: $(phase ds agent)"
primary_image=$(k -n ds get ds agent-primary -o jsonpath='{.spec.template.spec.containers[0].image}')
[[ $primary_image == example.com/agent:2 ]] || fail "ds: agent-primary runs $primary_image"
wait_for 10 scaled_to_zero || fail "ds: the target was not scaled back to zero"
[[ $(k -n ds get svc agent -o jsonpath='{.spec.selector.app}') == agent-primary ]] ||
  fail "ds: the apex Service does not select the primary"

# 2. A Deployment selected by app.kubernetes.io/name (Flagger's -selector-labels default).
namespace lbl
workload Deployment lbl web app.kubernetes.io/name | k apply -f - >/dev/null
canary lbl web Deployment kubernetes | k apply -f - >/dev/null
wait_for 30 phase_is lbl web Initialized ||
  fail "lbl: not Initialized: $(phase lbl web) $(condition lbl web Stalled)"
label='app\.kubernetes\.io/name'
for svc in web web-primary; do
  got=$(k -n lbl get svc "$svc" -o jsonpath="{.spec.selector.$label}")
  [[ $got == web-primary ]] || fail "lbl: Service $svc selects '$got', not the primary's pods"
done
got=$(k -n lbl get svc web-canary -o jsonpath="{.spec.selector.$label}")
[[ $got == web ]] || fail "lbl: Service web-canary selects '$got'"
got=$(k -n lbl get deploy web-primary -o jsonpath="{.spec.template.metadata.labels.$label}")
[[ $got == web-primary ]] || fail "lbl: web-primary's pods are labelled '$got'"
got=$(k -n lbl get deploy web-primary -o jsonpath="{.spec.selector.matchLabels.$label}")
[[ $got == web-primary ]] || fail "lbl: web-primary selects '$got'"
k -n lbl set image deploy/web web=example.com/web:2 >/dev/null
wait_for 60 phase_is lbl web Succeeded || fail "lbl: not Succeeded: $(phase lbl web)"

# 3. Canaries the daemon cannot act on: a status that says why, then recovery once fixed.
namespace stuck
workload Deployment stuck mesh app | k apply -f - >/dev/null
workload Deployment stuck steps app | k apply -f - >/dev/null
# Mirroring on the kubernetes provider, which cannot mirror (the CRD lets no provider without a
# router through).
canary stuck mesh Deployment kubernetes "mirror: true" | k apply -f - >/dev/null
# An invalid spec the CRD schema lets through: iterations and stepWeights together.
canary stuck steps Deployment kubernetes "stepWeights: [10, 20]" | k apply -f - >/dev/null
canary stuck ghost Deployment kubernetes | k apply -f - >/dev/null
wait_for 10 stalled_with stuck mesh UnsupportedFeature 1 'spec.analysis.mirror: provider kubernetes cannot mirror traffic' ||
  fail "mesh: $(condition stuck mesh Stalled)"
wait_for 10 stalled_with stuck steps InvalidSpec 1 'spec.analysis.iterations: cannot be used together with stepWeights' ||
  fail "steps: $(condition stuck steps Stalled)"
wait_for 10 stalled_with stuck ghost TargetNotFound 1 'target deployment stuck/ghost not found' ||
  fail "ghost: $(condition stuck ghost Stalled)"
events=$(k -n stuck get events -o jsonpath='{range .items[*]}{.reason} {.involvedObject.name} {.count}{"\n"}{end}')
[[ $(grep -c '^UnsupportedFeature mesh ' <<<"$events") == 1 ]] ||
  fail "mesh: not exactly one UnsupportedFeature event: $events"
k -n stuck patch canary mesh --type json -p '[{"op":"remove","path":"/spec/analysis/mirror"}]' >/dev/null
k -n stuck patch canary steps --type json -p '[{"op":"remove","path":"/spec/analysis/stepWeights"}]' >/dev/null
workload Deployment stuck ghost app | k apply -f - >/dev/null
wait_for 30 phase_is stuck mesh Initialized || fail "mesh: not started once fixed: $(phase stuck mesh)"
wait_for 30 phase_is stuck steps Initialized || fail "steps: not started once fixed: $(phase stuck steps)"
wait_for 30 phase_is stuck ghost Initialized || fail "ghost: not started once created: $(phase stuck ghost)"

# 4. A Service target (Flagger's ServiceController) on the Gateway API: the Service's copies
#    web-primary and web-canary, the HTTPRoute between them, the user's Service never written.
k apply -f "$(dirname "$0")/../../crds/kubesim/gateway.networking.k8s.io_httproutes.yaml" >/dev/null || fail "HTTPRoute CRD"
namespace svc
printf '%s\n' "apiVersion: v1" "kind: Service" "metadata: {name: web, namespace: svc}" "spec:" \
  "  selector: {app: web, track: v1}" "  ports: [{name: http, port: 80}]" | k apply -f - >/dev/null
printf '%s\n' "apiVersion: flagger.app/v1beta1" "kind: Canary" "metadata: {name: web, namespace: svc}" \
  "spec:" "  provider: gatewayapi:v1" "  targetRef: {apiVersion: v1, kind: Service, name: web}" \
  "  service: {port: 80, gatewayRefs: [{name: edge, namespace: svc}]}" \
  "  analysis: {interval: 1s, threshold: 2, stepWeight: 50, maxWeight: 50}" | k apply -f - >/dev/null
wait_for 30 phase_is svc web Initialized ||
  fail "svc: not Initialized: $(phase svc web) $(condition svc web Stalled)"
track() { k -n svc get svc "$1" -o jsonpath='{.spec.selector.track}'; }
[[ $(track web-primary) == v1 && $(track web-canary) == v1 ]] ||
  fail "svc: the copies select '$(track web-primary)' and '$(track web-canary)'"
backends=$(k -n svc get httproute web -o jsonpath='{range .spec.rules[*].backendRefs[*]}{.name}={.weight} {end}')
[[ $backends == "web-primary=100 web-canary=0 " ]] || fail "svc: HTTPRoute backends '$backends'"
k -n svc patch svc web --type merge -p '{"spec":{"selector":{"track":"v2"}}}' >/dev/null
version=$(k -n svc get svc web -o jsonpath='{.metadata.resourceVersion}')
wait_for 60 phase_is svc web Succeeded || fail "svc: not Succeeded: $(phase svc web)"
[[ $(track web-primary) == v2 ]] || fail "svc: web-primary selects track '$(track web-primary)' after the promotion"
[[ $(k -n svc get svc web -o jsonpath='{.metadata.resourceVersion}') == "$version" ]] ||
  fail "svc: canaryd wrote the user's Service"
[[ -z $(k -n svc get svc web -o jsonpath='{.metadata.ownerReferences}') ]] ||
  fail "svc: the user's Service got an owner"

if grep -l 'AddressSanitizer\|runtime error:' "$tmp/canaryd.out" "$tmp/kubesim.out"; then
  fail "a sanitizer report (above files)"
fi
if ((failures > 0)); then
  echo "--- canaryd log"
  tail -60 "$tmp/canaryd.out"
  echo "$failures failure(s)"
  exit 1
fi
echo "ok: DaemonSet blue/green Succeeded, app.kubernetes.io/name selectors, Stalled conditions and recovery, a Service target Succeeded"
