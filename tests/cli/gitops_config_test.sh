#!/usr/bin/env bash
# `canaryd gitops-config`: the snippets for Argo CD and Flux name the target's replicas, the
# routing object when it is in Git, and the Canaries to wait for; bad input exits 1 or 2.
# Usage: gitops_config_test.sh CANARYD SOURCE_DIR
set -uo pipefail
canaryd=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/support/shell.sh"

sed 's/namespace: .*/namespace: test/' "$src/examples/canary-gatewayapi.yaml" >"$tmp/canary.yaml"
cat >"$tmp/app.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: podinfo, namespace: test}
spec:
  replicas: 2
  selector: {matchLabels: {app: podinfo}}
  template:
    metadata: {labels: {app: podinfo}}
    spec: {containers: [{name: podinfo, image: podinfo:1}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: podinfo, namespace: test}
spec: {}
YAML

"$canaryd" gitops-config --engine argocd "$tmp/canary.yaml" "$tmp/app.yaml" >"$tmp/argo" 2>&1 ||
  fail "argocd: exit $?: $(cat "$tmp/argo")"
for want in '  ignoreDifferences:' '        - /spec/replicas' '      kind: HTTPRoute' \
  '        - canaryd' '      - RespectIgnoreDifferences=true'; do
  grep -qxF -- "$want" "$tmp/argo" || fail "argocd: no line '$want' in: $(cat "$tmp/argo")"
done

"$canaryd" gitops-config --engine flux "$tmp/canary.yaml" "$tmp/app.yaml" >"$tmp/flux" 2>&1 ||
  fail "flux: exit $?: $(cat "$tmp/flux")"
for want in '          path: /spec/replicas' '  healthChecks:' '      kind: Canary' \
  '      name: podinfo'; do
  grep -qxF -- "$want" "$tmp/flux" || fail "flux: no line '$want' in: $(cat "$tmp/flux")"
done
grep -q 'canaryd generates and owns this HTTPRoute; remove it from Git' "$tmp/flux" ||
  fail "flux: the HTTPRoute in Git is not pointed out"

# Without replicas in Git, Flux needs no patch (Argo CD still ignores what canaryd scales).
sed '/replicas: 2/d' "$tmp/app.yaml" >"$tmp/app-no-replicas.yaml"
"$canaryd" gitops-config --engine flux "$tmp/canary.yaml" "$tmp/app-no-replicas.yaml" >"$tmp/flux2"
grep -q 'patches:' "$tmp/flux2" && fail "flux: a patch although Git sets no replicas"

"$canaryd" gitops-config --engine helm "$tmp/canary.yaml" >/dev/null 2>"$tmp/err"
[[ $? == 2 ]] && grep -q 'must be argocd or flux' "$tmp/err" || fail "--engine helm: $(cat "$tmp/err")"
"$canaryd" gitops-config --engine argocd "$tmp/app.yaml" >/dev/null 2>"$tmp/err"
[[ $? == 1 ]] && grep -q 'no Canary' "$tmp/err" || fail "no Canary: $(cat "$tmp/err")"

exit $((failures > 0))
