#!/usr/bin/env bash
# A GitOps engine syncing beside `canaryd run`, on kubesim with server-side apply:
#   1. Flux-like: `kubectl apply --server-side --field-manager kustomize-controller -k GIT`
#      every second (without --force-conflicts, so that any conflict is reported) through a
#      promotion and a rollback. Both complete, no sync reports a conflict, the sync never
#      changes the target's replicas, and the managedFields show who owns what: the objects
#      canaryd generates only canaryd; the Canary's spec Git, its status canaryd; the target's
#      replicas canaryd, the rest Git.
#   2. The fight the README warns about: Git sets the target's replicas. A sync without force
#      reports the conflict with canaryd on .spec.replicas; Flux's forced sync puts Git's count
#      back after canaryd scaled the target to zero. With the patch `canaryd gitops-config
#      --engine flux` prints added to the kustomization, forced syncs leave it at zero.
#   The alerts go to an address in a Secret that Git writes with stringData: canaryd reads it
#   as the API server stores it (data, base64), and the receiver gets the promotion's alert.
#   3. Argo CD-like: client-side `kubectl apply -k GIT` (field manager
#      kubectl-client-side-apply) every second through a promotion: it completes and the sync
#      never changes the replicas.
# Prints what each side owns and the counts it measured.
# Usage: sync_test.sh CANARYD KUBESIM SOURCE_DIR
set -uo pipefail
canaryd=$1
kubesim=$2
src=$3
tmp=$(mktemp -d)
pids=()
cleanup() {
  rm -f "$tmp/syncing"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [[ -n ${KEEP_TMP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT
source "$(dirname "$0")/../support/shell.sh"

start_kubesim "$kubesim"
k() { kubectl "$@"; }
k apply -f "$src/crds/" -f "$src/crds/kubesim/" >/dev/null || exit 1

# The on-call's webhook: every POST body, one per line.
receiver_port=$(free_port)
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$receiver_port" "$tmp/alerts" &
pids+=($!)

git=$tmp/git
mkdir -p "$git"
# write_git IMAGE [REPLICAS] [never-ready]: the manifests in Git.
write_git() {
  local replicas="" annotations=""
  [[ -n ${2:-} ]] && replicas="  replicas: $2"
  [[ -n ${3:-} ]] && annotations='      annotations: {kubesim.canaryd.dev/never-ready: "true"}'
  cat >"$git/app.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
$replicas
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
$annotations
    spec:
      containers:
        - name: web
          image: $1
          ports: [{containerPort: 8080}]
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: web
  namespace: shop
spec:
  provider: gatewayapi:v1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  progressDeadlineSeconds: 5
  service:
    port: 8080
    gatewayRefs: [{name: public, namespace: shop}]
  analysis:
    interval: 1s
    threshold: 2
    stepWeight: 50
    maxWeight: 50
    alerts:
      - name: on-call
        severity: info
        providerRef: {name: on-call}
---
apiVersion: v1
kind: Secret
metadata:
  name: on-call
  namespace: shop
stringData:
  address: http://127.0.0.1:$receiver_port/hook
---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata:
  name: on-call
  namespace: shop
spec:
  type: slack
  secretRef: {name: on-call}
EOF
}
kustomization() { printf 'resources:\n  - app.yaml\n'; }
write_kustomization() { kustomization >"$git/kustomization.yaml"; }

# sync_loop MODE LOG: what an engine does every second until $tmp/syncing is removed; after
# each sync, a line with the target's replicas and the Canary's phase.
sync_loop() {
  local n=0
  while [[ -e $tmp/syncing ]]; do
    n=$((n + 1))
    case $1 in
      flux) k apply --server-side --field-manager kustomize-controller -k "$git" ;;
      flux-forced) k apply --server-side --force-conflicts --field-manager kustomize-controller -k "$git" ;;
      argocd) k apply -k "$git" ;;
    esac >"$tmp/sync.out" 2>&1 || { echo "sync $n FAILED:"; cat "$tmp/sync.out"; } >>"$2"
    echo "sync $n replicas=$(k get deploy web -n shop -o jsonpath='{.spec.replicas}')" \
      "phase=$(k get canary web -n shop -o jsonpath='{.status.phase}')" \
      "replicas-owner=$(replicas_owner)" >>"$2"
    sleep 1 # the engine's sync interval, not a wait for a condition
  done
}
sync_pid=""
start_sync() {
  touch "$tmp/syncing"
  : >"$2"
  sync_loop "$1" "$2" &
  sync_pid=$!
  pids+=($sync_pid)
}
stop_sync() {
  rm -f "$tmp/syncing"
  wait "$sync_pid" 2>/dev/null
}
# replicas_owner: the managers that own the target's spec.replicas. A sync that set it takes it
# (canaryd's scale is an Update that owns it otherwise); unlike the count a sync finds, this does
# not depend on when the sync looks between canaryd's status write and its scale.
replicas_owner() {
  k get deploy web -n shop -o json --show-managed-fields | python3 -c '
import json, sys
o = json.load(sys.stdin)
print(",".join(m["manager"] for m in o["metadata"].get("managedFields", [])
               if "f:replicas" in m.get("fieldsV1", {}).get("f:spec", {})) or "none")'
}
# taken_by_sync LOG: syncs after which a sync engine owned the target's replicas.
taken_by_sync() { grep -Ec 'replicas-owner=.*(kustomize-controller|kubectl-client-side-apply)' "$1"; }
# at_rest_not_zero LOG: syncs after the first rollout began that found the Canary at rest
# (Succeeded or Failed) and the target's replicas other than canaryd's 0.
at_rest_not_zero() {
  awk '/phase=Progressing/ { began = 1 } began && /phase=(Succeeded|Failed)/ && !/replicas=0 / { n++ }
       END { print n + 0 }' "$1"
}
# rest_syncs LOG: syncs after the first rollout began that found the Canary Succeeded.
rest_syncs() { awk '/phase=Progressing/ { began = 1 } began && /phase=Succeeded/ { n++ } END { print n + 0 }' "$1"; }
at_least_rest_syncs() { (($(rest_syncs "$1") >= $2)); }
# syncs LOG: how many syncs ran.
syncs() { grep -c '^sync [0-9]* replicas=' "$1"; }
phase_is() { [[ $(k get canary web -n shop -o jsonpath='{.status.phase}') == "$1" ]]; }
wait_phase() { wait_for "$2" phase_is "$1" || fail "$3: phase $(k get canary web -n shop -o jsonpath='{.status.phase}'), want $1"; }
managers() { k get "$@" -o jsonpath='{range .metadata.managedFields[*]}{.manager}/{.operation}{.subresource} {end}'; }
# owns OBJECT MANAGER [SUBRESOURCE]: the fields MANAGER's entry owns, two levels deep
# (metadata.labels spec.replicas spec.template ...).
owns() {
  k get "$1" -n shop -o json --show-managed-fields | python3 -c '
import json, sys
o = json.load(sys.stdin)
paths = set()
for m in o["metadata"].get("managedFields", []):
    if m["manager"] == sys.argv[1] and m.get("subresource", "") == sys.argv[2]:
        for top, below in m["fieldsV1"].items():
            inner = [k[2:] for k in below if k.startswith("f:")]
            paths.update(top[2:] + "." + i for i in inner) if inner else paths.add(top[2:])
print(" ".join(sorted(paths)))
' "$2" "${3:-}"
}

"$canaryd" run --min-interval 1s --listen 127.0.0.1:0 >"$tmp/canaryd.out" 2>&1 &
pids+=($!)

echo "== 1. Flux-like server-side apply every second, through a promotion and a rollback"
write_git ghcr.io/stefanprodan/podinfo:6.7.0
write_kustomization
start_sync flux "$tmp/flux.log"
wait_phase Initialized 30 "initialization under the sync"
((failures == 0)) || { cat "$tmp/flux.log"; tail -n 20 "$tmp/canaryd.out"; exit 1; }
write_git ghcr.io/stefanprodan/podinfo:6.7.1
wait_for 30 grep -q 'phase=Progressing' "$tmp/flux.log" || fail "the sync did not start a rollout"
wait_phase Succeeded 60 "promotion under the sync"
write_git ghcr.io/stefanprodan/podinfo:6.7.2 "" never-ready
wait_phase Failed 60 "rollback under the sync"
stop_sync
n=$(syncs "$tmp/flux.log")
conflicts=$(grep -c 'conflict' "$tmp/flux.log")
failed=$(grep -c 'FAILED' "$tmp/flux.log")
reverted=$(at_rest_not_zero "$tmp/flux.log")
echo "syncs $n, failed $failed, conflicts $conflicts, syncs that found the target's replicas not canaryd's 0 at rest: $reverted"
((n >= 5)) || fail "only $n syncs ran"
[[ $failed == 0 && $conflicts == 0 ]] || { fail "a sync failed or reported a conflict"; cat "$tmp/flux.log"; }
taken=$(taken_by_sync "$tmp/flux.log")
echo "syncs after which the sync owned the target's replicas: $taken"
[[ $taken == 0 ]] || { fail "the sync changed the target's replicas"; cat "$tmp/flux.log"; }
grep -q 'Promotion completed' "$tmp/canaryd.out" || fail "no promotion in canaryd's log"
grep -q 'Rolling back web.shop' "$tmp/canaryd.out" || fail "no rollback in canaryd's log"
wait_for 10 grep -q 'Promotion completed' "$tmp/alerts" ||
  fail "no alert at the address the stringData Secret names: $(grep -i secret "$tmp/canaryd.out" | tail -n 3)"
echo "alerts received at the Secret's address: $(wc -l <"$tmp/alerts" 2>/dev/null)"

echo "-- who owns what (managedFields)"
for o in deployment/web-primary service/web service/web-primary service/web-canary httproute/web; do
  m=$(managers "$o" -n shop)
  echo "$o: $m"
  [[ $m == "canaryd/Update " ]] || fail "$o is managed by '$m', not canaryd alone"
done
echo "deployment/web: $(managers deployment/web -n shop)"
git_spec=$(owns deployment/web kustomize-controller)
canaryd_spec=$(owns deployment/web canaryd)
echo "  Git (kustomize-controller, Apply) owns: $git_spec"
echo "  canaryd (Update) owns: $canaryd_spec"
[[ $canaryd_spec == *"spec.replicas"* ]] || fail "canaryd does not own the target's replicas: $canaryd_spec"
[[ $git_spec == "metadata.labels spec.selector spec.template" ]] ||
  fail "Git's fields of the target: $git_spec"
echo "canary/web: $(managers canary/web -n shop)"
echo "  Git owns: $(owns canary/web kustomize-controller)"
echo "  canaryd owns (status subresource): $(owns canary/web canaryd status)"
[[ $(owns canary/web kustomize-controller) == "spec.analysis spec.progressDeadlineSeconds spec.provider spec.service spec.targetRef" ]] ||
  fail "Git should own the Canary's spec"
[[ $(owns canary/web canaryd status) == status.* ]] || fail "canaryd should own the Canary's status"
[[ $(owns canary/web canaryd) != *spec* ]] || fail "canaryd owns part of the Canary's spec"

echo "== 2. Git sets the target's replicas: the fight, then the fix gitops-config prints"
write_git ghcr.io/stefanprodan/podinfo:6.7.1 2
k apply --server-side --field-manager kustomize-controller -k "$git" >"$tmp/conflict.out" 2>&1
expect_exit 1 $? "a sync of replicas: 2 without force"
expect_line "$tmp/conflict.out" 'conflict with "canaryd" using apps/v1: \.spec\.replicas' \
  "the conflict names canaryd and .spec.replicas"
start_sync flux-forced "$tmp/fight.log"
wait_phase Succeeded 60 "the revert of the failed revision promoted under forced syncs"
wait_for 60 at_least_rest_syncs "$tmp/fight.log" 5 || fail "fewer than 5 syncs after the promotion"
stop_sync
fight=$(at_rest_not_zero "$tmp/fight.log")
echo "forced syncs after the promotion that found Git's replicas, not canaryd's 0: $fight of $(rest_syncs "$tmp/fight.log")"
((fight > 0)) || fail "forced syncs did not put Git's replicas back"
"$canaryd" gitops-config --engine flux "$git/app.yaml" >"$tmp/flux-config.yaml" || fail "gitops-config"
# The Kustomization's spec.patches, as Flux passes them to kustomize.
{
  kustomization
  awk '/^  patches:/ { on = 1; print "patches:"; next } on && /^  [a-z]/ { on = 0 }
       on { print substr($0, 3) }' "$tmp/flux-config.yaml"
} >"$tmp/kustomization.yaml"
mv "$tmp/kustomization.yaml" "$git/kustomization.yaml"
grep -q 'path: /spec/replicas' "$git/kustomization.yaml" ||
  { fail "no replicas patch in what gitops-config printed"; cat "$tmp/flux-config.yaml"; }
start_sync flux-forced "$tmp/fixed.log"
write_git ghcr.io/stefanprodan/podinfo:6.7.3 2
wait_for 30 grep -q 'phase=Progressing' "$tmp/fixed.log" || fail "no rollout under the fixed sync"
wait_phase Succeeded 60 "promotion under the fixed forced sync"
wait_for 60 at_least_rest_syncs "$tmp/fixed.log" 5 || fail "fewer than 5 syncs after the promotion"
stop_sync
reverted=$(at_rest_not_zero "$tmp/fixed.log")
failed=$(grep -c 'FAILED' "$tmp/fixed.log")
echo "with the patch: syncs $(syncs "$tmp/fixed.log"), failed $failed; after the promotion, syncs that found replicas other than canaryd's 0: $reverted of $(rest_syncs "$tmp/fixed.log")"
taken=$(awk '/phase=Progressing/ { began = 1 } began' "$tmp/fixed.log" | taken_by_sync /dev/stdin)
echo "  syncs after the rollout began after which the sync owned the replicas: $taken"
[[ $taken == 0 && $failed == 0 ]] || { fail "the fixed sync still changed the replicas"; cat "$tmp/fixed.log"; }

echo "== 3. Argo CD-like client-side apply every second, replicas left out of Git"
write_kustomization
write_git ghcr.io/stefanprodan/podinfo:6.7.3
k apply -k "$git" >/dev/null 2>&1 # adopts the objects, as Argo CD's first sync
start_sync argocd "$tmp/argocd.log"
write_git ghcr.io/stefanprodan/podinfo:6.7.4
wait_for 30 grep -q 'phase=Progressing' "$tmp/argocd.log" || fail "no rollout under the Argo CD-like sync"
wait_phase Succeeded 60 "promotion under the Argo CD-like sync"
wait_for 60 at_least_rest_syncs "$tmp/argocd.log" 5 || fail "fewer than 5 syncs after the promotion"
stop_sync
failed=$(grep -c 'FAILED' "$tmp/argocd.log")
reverted=$(at_rest_not_zero "$tmp/argocd.log")
echo "syncs $(syncs "$tmp/argocd.log"), failed $failed; after the promotion, syncs that found replicas other than canaryd's 0: $reverted of $(rest_syncs "$tmp/argocd.log")"
echo "deployment/web: $(managers deployment/web -n shop)"
taken=$(taken_by_sync "$tmp/argocd.log")
echo "syncs after which the sync owned the target's replicas: $taken"
[[ $failed == 0 && $taken == 0 ]] || { fail "the Argo CD-like sync fought canaryd"; cat "$tmp/argocd.log"; }

if ((failures > 0)); then
  echo "--- canaryd"
  tail -n 30 "$tmp/canaryd.out"
  exit 1
fi
echo PASS
