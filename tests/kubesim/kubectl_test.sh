#!/usr/bin/env bash
# Drives kubesim with the real kubectl (default settings: client validation on) through apply,
# get, patch, delete and watch, and asserts the results.
# Usage: kubectl_test.sh KUBESIM SOURCE_DIR
set -uo pipefail
kubesim=$1
src=$2
tmp=$(mktemp -d)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$(dirname "$0")/../support/shell.sh"
expect_line() { grep -Eq -- "$2" "$1" || { fail "$3: no line matching /$2/ in:"; sed 's/^/    /' "$1"; }; }

start_kubesim() {
  # Emptied here, not only by the background redirect, which may come after the wait below
  # reads the previous run's "listening on" (a restart then talks to no server).
  : >"$tmp/kubesim.out"
  "$kubesim" --listen 127.0.0.1:0 --data "$tmp/data" --ready-delay 200ms --nodes 2 \
    --kubeconfig-out "$tmp/kubeconfig" >"$tmp/kubesim.out" 2>&1 &
  pid=$!
  wait_for 10 grep -q '^kubeconfig written to ' "$tmp/kubesim.out" || {
    echo "kubesim did not start"; cat "$tmp/kubesim.out"; exit 1; }
  server=$(sed -n 's/^listening on //p' "$tmp/kubesim.out" | head -1)
}
start_kubesim
export KUBECONFIG=/dev/null
k() { kubectl --server "$server" "$@"; }

# CRDs, namespaces and every example.
k apply -f "$src/crds/" >"$tmp/out" 2>&1 || fail "apply crds: $(cat "$tmp/out")"
expect_line "$tmp/out" 'customresourcedefinition.apiextensions.k8s.io/canaries.flagger.app created' "crd created"
k wait --for condition=established crd/canaries.flagger.app --timeout=10s >/dev/null 2>&1 || fail "crd established"
k apply -f "$src/examples/" >"$tmp/out" 2>&1 || fail "apply examples: $(cat "$tmp/out")"
expect_line "$tmp/out" '^namespace/test created$' "the examples' namespaces come first"
expect_line "$tmp/out" '^canary.flagger.app/my-app created$' "seed canary created"
expect_line "$tmp/out" '^deployment.apps/podinfo created$' "deployment created"
# The kubeconfig kubesim wrote works as any kubeconfig.
KUBECONFIG="$tmp/kubeconfig" kubectl get namespace shop >"$tmp/out" 2>&1 || fail "kubeconfig-out: $(cat "$tmp/out")"
KUBECONFIG="$tmp/kubeconfig" kubectl config current-context 2>&1 | grep -qx kubesim || fail "kubeconfig-out context"

k get canaries -A >"$tmp/out" 2>&1 || fail "get canaries -A"
expect_line "$tmp/out" '^NAMESPACE +NAME +STATUS +WEIGHT +FAILEDCHECKS +LASTTRANSITIONTIME +AGE' "printer columns"
want=$(cat "$src"/examples/*.yaml | grep -c '^kind: Canary$')
[[ $(grep -cE '^(production|shop|test|edge) ' "$tmp/out") -eq $want ]] || fail "$want canaries listed: $(cat "$tmp/out")"

# The Deployment simulator makes podinfo available; kubectl wait watches for it.
k wait --for condition=available deploy/podinfo -n test --timeout=10s >/dev/null 2>&1 || fail "deployment available"
k get deploy podinfo -n test -o yaml >"$tmp/out" 2>&1
expect_line "$tmp/out" '^  readyReplicas: 1$' "readyReplicas"
expect_line "$tmp/out" '^  observedGeneration: 1$' "observedGeneration"
expect_line "$tmp/out" '^  generation: 1$' "generation"

# Re-apply with a new image: strategic merge patch, generation bumped, status converges again.
sed 's/podinfo:6.7.0/podinfo:6.7.1/' "$src/examples/deployment.yaml" >"$tmp/dep.yaml"
k apply -f "$tmp/dep.yaml" >"$tmp/out" 2>&1
expect_line "$tmp/out" '^deployment.apps/podinfo configured$' "deployment configured"
[[ $(k get deploy podinfo -n test -o jsonpath='{.metadata.generation} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}') == "2 ghcr.io/stefanprodan/podinfo:6.7.1 9898" ]] ||
  fail "apply merged the container by name"
wait_for 10 bash -c "[[ \$(kubectl --server $server get deploy podinfo -n test -o jsonpath='{.status.observedGeneration}') == 2 ]]" ||
  fail "status converged to generation 2"

# DaemonSets: a pod on each of the 2 simulated nodes; Flagger's scale-to-zero nodeSelector
# matches no node, and removing it brings the pods back.
cat >"$tmp/ds.yaml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: test}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: "ghcr.io/example/agent:1.0"}]
YAML
k apply -f "$tmp/ds.yaml" >"$tmp/out" 2>&1 || fail "apply daemonset: $(cat "$tmp/out")"
expect_line "$tmp/out" '^daemonset.apps/agent created$' "daemonset created"
k rollout status ds/agent -n test --timeout=10s >"$tmp/out" 2>&1 || fail "daemonset rollout: $(cat "$tmp/out")"
k get ds -n test >"$tmp/out" 2>&1 || fail "get ds"
expect_line "$tmp/out" '^NAME +DESIRED +CURRENT +READY +UP-TO-DATE +AVAILABLE +NODE SELECTOR +AGE$' "ds columns"
expect_line "$tmp/out" '^agent +2 +2 +2 +2 +2 +<none> +[0-9]+s$' "ds on 2 nodes"
k patch ds agent -n test -p '{"spec":{"template":{"spec":{"nodeSelector":{"flagger.app/scale-to-zero":"true"}}}}}' >/dev/null 2>&1 ||
  fail "patch scale-to-zero selector"
wait_for 10 bash -c "[[ \$(kubectl --server $server get ds agent -n test -o jsonpath='{.status.observedGeneration}') == 2 ]]" ||
  fail "ds status converged to generation 2"
k get ds agent -n test >"$tmp/out" 2>&1
expect_line "$tmp/out" '^agent +0 +0 +0 +0 +0 +flagger.app/scale-to-zero=true +[0-9]+s$' "ds scaled to zero"
k patch ds agent -n test -p '{"spec":{"template":{"spec":{"nodeSelector":{"flagger.app/scale-to-zero":null}}}}}' >/dev/null 2>&1 ||
  fail "patch selector away"
wait_for 10 bash -c "[[ \$(kubectl --server $server get ds agent -n test -o jsonpath='{.status.observedGeneration} {.status.numberAvailable}') == '3 2' ]]" ||
  fail "ds back on 2 nodes: $(k get ds agent -n test -o jsonpath='{.metadata.generation} {.status}')"

# Ingresses and IngressClasses are stored as in a cluster (no ingress controller).
cat >"$tmp/ingress.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: podinfo, namespace: test}
spec:
  ingressClassName: nginx
  rules:
  - host: podinfo.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: podinfo, port: {number: 9898}}}
YAML
k apply -f "$tmp/ingress.yaml" >"$tmp/out" 2>&1 || fail "apply ingress: $(cat "$tmp/out")"
expect_line "$tmp/out" '^ingressclass.networking.k8s.io/nginx created$' "ingressclass created"
expect_line "$tmp/out" '^ingress.networking.k8s.io/podinfo created$' "ingress created"
k apply -f "$tmp/ingress.yaml" >"$tmp/out" 2>&1
expect_line "$tmp/out" '^ingress.networking.k8s.io/podinfo unchanged$' "ingress re-applied unchanged"
k get ingress -n test >"$tmp/out" 2>&1 || fail "get ingress"
expect_line "$tmp/out" '^NAME +CLASS +HOSTS +ADDRESS +PORTS +AGE$' "ingress columns"
expect_line "$tmp/out" '^podinfo +nginx +podinfo\.example +80 +[0-9]+s$' "ingress row"
[[ $(k get ing podinfo -n test -o jsonpath='{.spec.rules[0].http.paths[0].backend.service.port.number}') == 9898 ]] ||
  fail "get ing (short name)"
k get ingressclass >"$tmp/out" 2>&1 || fail "get ingressclass"
expect_line "$tmp/out" '^nginx +k8s.io/ingress-nginx +<none> +[0-9]+s$' "ingressclass row"

# A CRD with several versions: one object, served at the version asked for; v1alpha1 is not
# served.
cat >"$tmp/widgets.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
  - name: v1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
  - name: v1alpha1
    served: false
    storage: false
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
YAML
cat >"$tmp/widget.yaml" <<'YAML'
apiVersion: example.com/v1beta1
kind: Widget
metadata: {name: w, namespace: test}
spec: {size: 3}
YAML
k apply -f "$tmp/widgets.yaml" >"$tmp/out" 2>&1 || fail "apply widgets crd: $(cat "$tmp/out")"
k wait --for condition=established crd/widgets.example.com --timeout=10s >/dev/null 2>&1 || fail "widgets crd established"
k apply -f "$tmp/widget.yaml" >"$tmp/out" 2>&1 || fail "apply widget: $(cat "$tmp/out")"
expect_line "$tmp/out" '^widget.example.com/w created$' "widget created"
[[ $(k get widgets.v1.example.com w -n test -o jsonpath='{.apiVersion} {.spec.size}') == "example.com/v1 3" ]] ||
  fail "widget served at v1"
[[ $(k get widgets.v1beta1.example.com w -n test -o jsonpath='{.apiVersion}') == "example.com/v1beta1" ]] ||
  fail "widget served at v1beta1"
k get --raw /apis/example.com >"$tmp/out" 2>&1
expect_line "$tmp/out" '"preferredVersion":\{"groupVersion":"example.com/v1","version":"v1"\}' "preferred version v1"
k get --raw /apis/example.com/v1alpha1/namespaces/test/widgets/w >"$tmp/out" 2>&1 && fail "v1alpha1 served"
expect_line "$tmp/out" 'NotFound|not found' "v1alpha1 is not found"

# Merge patch; the status is untouched and generation counts spec changes only.
k patch canary podinfo -n test --type merge -p '{"spec":{"analysis":{"threshold":7}}}' >/dev/null 2>&1 || fail "merge patch"
[[ $(k get canary podinfo -n test -o jsonpath='{.spec.analysis.threshold} {.metadata.generation}') == "7 2" ]] || fail "patched threshold and generation"
k patch canary podinfo -n test --type merge -p '{"metadata":{"labels":{"team":"a"}}}' >/dev/null 2>&1
[[ $(k get canary podinfo -n test -o jsonpath='{.metadata.generation}') == "2" ]] || fail "label change keeps generation"

# The CRD schema is enforced: 422 with the field, and unknown fields rejected (strict).
k patch canary podinfo -n test --type merge -p '{"spec":{"analysis":{"stepWeight":500}}}' >"$tmp/out" 2>&1 && fail "stepWeight 500 accepted"
expect_line "$tmp/out" 'spec.analysis.stepWeight: Invalid value: 500' "range enforced"
sed 's/type: rollout/type: rolout/' "$src/examples/canary-gatewayapi.yaml" >"$tmp/bad.yaml"
k apply -f "$tmp/bad.yaml" >"$tmp/out" 2>&1 && fail "unknown webhook type accepted"
expect_line "$tmp/out" 'Unsupported value: "rolout"' "enum enforced"
sed 's/stepWeight: 5/stepWeigth: 5/' "$src/examples/canary-gatewayapi.yaml" >"$tmp/unknown.yaml"
k apply -f "$tmp/unknown.yaml" >"$tmp/out" 2>&1 && fail "unknown field accepted"
expect_line "$tmp/out" 'unknown field "spec.analysis.stepWeigth"' "strict field validation"

# Watch: a patch and a delete arrive as events.
k get canaries -n test -w --output-watch-events >"$tmp/watch" 2>&1 &
watcher=$!
wait_for 10 grep -q podinfo "$tmp/watch" || fail "watch lists the canary"
k patch canary podinfo -n test --type merge -p '{"spec":{"analysis":{"threshold":8}}}' >/dev/null 2>&1
k delete canary podinfo -n test >"$tmp/out" 2>&1 || fail "delete canary"
expect_line "$tmp/out" 'canary.flagger.app "podinfo" deleted' "delete message"
wait_for 10 grep -q '^MODIFIED' "$tmp/watch" || fail "watch saw MODIFIED"
wait_for 10 grep -q '^DELETED' "$tmp/watch" || fail "watch saw DELETED: $(cat "$tmp/watch")"
kill "$watcher" 2>/dev/null
k get canary podinfo -n test >"$tmp/out" 2>&1 && fail "deleted canary still found"
expect_line "$tmp/out" 'canaries.flagger.app "podinfo" not found' "NotFound after delete"

# State survives a restart with --data.
kill "$pid"; wait "$pid" 2>/dev/null; pid=""
start_kubesim
k get canary my-app -n production -o jsonpath='{.spec.analysis.stepWeight}' >"$tmp/out" 2>&1
[[ $(cat "$tmp/out") == "10" ]] || fail "canary survived restart: $(cat "$tmp/out")"

# Deleting a namespace deletes its contents.
k delete namespace shop >/dev/null 2>&1 || fail "delete namespace"
k get canaries -n shop >"$tmp/out" 2>&1
expect_line "$tmp/out" 'No resources found' "namespace contents deleted"

# kubectl create sends built-in kinds as protobuf; kubesim decodes them and answers JSON.
k create namespace made >"$tmp/out" 2>&1 || fail "create namespace: $(cat "$tmp/out")"
expect_line "$tmp/out" '^namespace/made created$' "namespace created"
[[ $(k get namespace made -o jsonpath='{.status.phase}') == Active ]] || fail "created namespace is Active"
printf 'line one\nline two\n' >"$tmp/file.txt"
k create secret generic creds -n made --from-literal=user=admin --from-file=conf="$tmp/file.txt" >"$tmp/out" 2>&1 ||
  fail "create secret: $(cat "$tmp/out")"
expect_line "$tmp/out" '^secret/creds created$' "secret created"
[[ $(k get secret creds -n made -o jsonpath='{.data.user}') == "$(printf admin | base64)" ]] ||
  fail "secret --from-literal data: $(k get secret creds -n made -o json)"
[[ $(k get secret creds -n made -o jsonpath='{.data.conf}' | base64 -d) == "$(cat "$tmp/file.txt")" ]] ||
  fail "secret --from-file data"
k create configmap settings -n made --from-literal=mode=fast --from-literal=level=3 >"$tmp/out" 2>&1 ||
  fail "create configmap: $(cat "$tmp/out")"
[[ $(k get configmap settings -n made -o jsonpath='{.data.mode} {.data.level}') == "fast 3" ]] ||
  fail "configmap data: $(k get configmap settings -n made -o json)"
k create deployment web -n made --image=ghcr.io/example/web:1.0 --replicas 2 --port 8080 >"$tmp/out" 2>&1 ||
  fail "create deployment: $(cat "$tmp/out")"
expect_line "$tmp/out" '^deployment.apps/web created$' "deployment created"
[[ $(k get deploy web -n made -o jsonpath='{.spec.replicas} {.spec.selector.matchLabels.app} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}') == "2 web ghcr.io/example/web:1.0 8080" ]] ||
  fail "created deployment's spec: $(k get deploy web -n made -o json)"
k rollout status deploy/web -n made --timeout=10s >"$tmp/out" 2>&1 || fail "created deployment rolls out: $(cat "$tmp/out")"
k set image deploy/web -n made web=ghcr.io/example/web:1.1 >"$tmp/out" 2>&1 || fail "set image: $(cat "$tmp/out")"
[[ $(k get deploy web -n made -o jsonpath='{.spec.template.spec.containers[0].image}') == ghcr.io/example/web:1.1 ]] ||
  fail "set image after create"
k create serviceaccount robot -n made >"$tmp/out" 2>&1 || fail "create serviceaccount: $(cat "$tmp/out")"
k get serviceaccount robot -n made >/dev/null 2>&1 || fail "serviceaccount not found"
k create service clusterip web -n made --tcp=80:8080 >"$tmp/out" 2>&1 || fail "create service: $(cat "$tmp/out")"
[[ $(k get service web -n made -o jsonpath='{.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app}') == "80 8080 web" ]] ||
  fail "created service's spec: $(k get service web -n made -o json)"
k label namespace made team=a >/dev/null 2>&1 || fail "label a created namespace"
k create namespace made >"$tmp/out" 2>&1 && fail "a second create namespace made succeeded"
expect_line "$tmp/out" 'AlreadyExists.*"made" already exists' "AlreadyExists after protobuf create"
# A Secret applied with stringData reads back with data (base64) and type Opaque, as from a
# real API server; a Service reads back with the API server's defaults.
cat >"$tmp/defaults.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: plain, namespace: made}
stringData: {password: "s3cret"}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: made}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
YAML
k apply -f "$tmp/defaults.yaml" >"$tmp/out" 2>&1 || fail "apply stringData secret and service: $(cat "$tmp/out")"
[[ $(k get secret plain -n made -o jsonpath='{.type} {.data.password}') == "Opaque $(printf s3cret | base64)" ]] ||
  fail "stringData read back as data: $(k get secret plain -n made -o json)"
[[ -z $(k get secret plain -n made -o jsonpath='{.stringData}') ]] || fail "stringData kept"
k apply -f "$tmp/defaults.yaml" >"$tmp/out" 2>&1
expect_line "$tmp/out" '^secret/plain (unchanged|configured)$' "re-apply the stringData secret"
[[ $(k get service api -n made -o jsonpath='{.spec.type} {.spec.sessionAffinity} {.spec.ports[0].protocol} {.spec.ports[0].targetPort} {.spec.ipFamilies} {.spec.ipFamilyPolicy} {.spec.internalTrafficPolicy}') == 'ClusterIP None TCP 80 ["IPv4"] SingleStack Cluster' ]] ||
  fail "service defaults: $(k get service api -n made -o json)"
api_ip=$(k get service api -n made -o jsonpath='{.spec.clusterIP}')
web_ip=$(k get service web -n made -o jsonpath='{.spec.clusterIP}')
[[ $api_ip =~ ^10\.96\.[0-9]+\.[0-9]+$ && $web_ip =~ ^10\.96\. && $api_ip != "$web_ip" ]] ||
  fail "cluster IPs allocated and distinct: api '$api_ip', web '$web_ip'"
[[ $(k get service api -n made -o jsonpath='{.spec.clusterIPs[0]}') == "$api_ip" ]] || fail "clusterIPs"
sed 's/port: 80}/port: 81}/' "$tmp/defaults.yaml" | k apply -f - >"$tmp/out" 2>&1 ||
  fail "re-apply the service: $(cat "$tmp/out")"
[[ $(k get service api -n made -o jsonpath='{.spec.clusterIP} {.spec.ports[0].port}') == "$api_ip 81" ]] ||
  fail "the cluster IP is kept on update: $(k get service api -n made -o json)"
k get service api -n made -o json | python3 -c 'import json,sys; o=json.load(sys.stdin); del o["spec"]["clusterIP"]; del o["spec"]["clusterIPs"]; print(json.dumps(o))' |
  k replace -f - >"$tmp/out" 2>&1 || fail "replace without clusterIP: $(cat "$tmp/out")"
[[ $(k get service api -n made -o jsonpath='{.spec.clusterIP}') == "$api_ip" ]] || fail "replace kept the cluster IP"
k get services -n made >"$tmp/out" 2>&1 || fail "get services"
expect_line "$tmp/out" '^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE$' "service columns"
expect_line "$tmp/out" "^api +ClusterIP +${api_ip//./\\.} +<none> +81/TCP +[0-9]+s$" "service row"

# Server-side apply and field ownership, as Flux's kustomize-controller and canaryd meet on a
# Deployment: the applier owns what it applied, an Update owns what it changed, a change to
# another manager's field is a conflict unless forced, and what an applier drops goes.
k apply -f - >/dev/null 2>&1 <<'EOF' || fail "namespace gitops"
apiVersion: v1
kind: Namespace
metadata: {name: gitops}
EOF
cat >"$tmp/ssa.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: gitops, labels: {app: web, team: shop}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1", ports: [{containerPort: 80}]}]
EOF
k apply --server-side --field-manager kustomize-controller -f "$tmp/ssa.yaml" >"$tmp/out" 2>&1
expect_line "$tmp/out" '^deployment.apps/web serverside-applied$' "server-side apply creates"
k get deployment web -n gitops -o jsonpath='{.metadata.managedFields[0].manager}/{.metadata.managedFields[0].operation} {.metadata.managedFields[0].fieldsV1}' >"$tmp/out"
expect_line "$tmp/out" '^kustomize-controller/Apply .*"f:replicas":\{\}.*"k:\{\\"name\\":\\"web\\"\}":\{"\.":\{\},"f:image"' \
  "the applier's managedFields"
k patch deployment web -n gitops --field-manager canaryd -p '{"spec":{"replicas":0}}' >/dev/null ||
  fail "an Update by canaryd"
[[ $(k get deployment web -n gitops -o jsonpath='{range .metadata.managedFields[*]}{.manager}/{.operation}={.fieldsV1}{"\n"}{end}' |
  grep '^canaryd/Update=') == 'canaryd/Update={"f:spec":{"f:replicas":{}}}' ]] ||
  fail "canaryd's Update owns spec.replicas alone"
k apply --server-side --field-manager kustomize-controller -f "$tmp/ssa.yaml" >"$tmp/out" 2>&1
expect_exit 1 $? "an apply that changes canaryd's replicas"
expect_line "$tmp/out" 'Apply failed with 1 conflict: conflict with "canaryd" using apps/v1: \.spec\.replicas' \
  "the conflict names the field and the manager"
sed -e '/replicas: 2/d' -e 's/, team: shop//' -e 's/nginx:1/nginx:2/' "$tmp/ssa.yaml" >"$tmp/ssa2.yaml"
k apply --server-side --field-manager kustomize-controller -f "$tmp/ssa2.yaml" >"$tmp/out" 2>&1 ||
  fail "an apply without replicas: $(cat "$tmp/out")"
[[ $(k get deployment web -n gitops -o jsonpath='{.spec.replicas} {.metadata.labels.team} {.spec.template.spec.containers[0].image}') == "0  nginx:2" ]] ||
  fail "replicas kept, the dropped label removed, the image changed: $(k get deployment web -n gitops -o json)"
k apply --server-side --force-conflicts --field-manager kustomize-controller -f "$tmp/ssa.yaml" >/dev/null 2>&1 ||
  fail "a forced apply"
[[ $(k get deployment web -n gitops -o jsonpath='{.spec.replicas} {.metadata.managedFields[*].manager}') == "2 kustomize-controller" ]] ||
  fail "a forced apply takes replicas back: $(k get deployment web -n gitops -o jsonpath='{.spec.replicas} {.metadata.managedFields[*].manager}')"

# A protobuf field kubesim does not decode is a 415 that says which and what works instead.
printf 'k8s\0' >"$tmp/unknown.pb"
printf '\x0a\x0f\x0a\x02v1\x12\x09Namespace\x12\x05\x0a\x03\xa0\x06\x01' >>"$tmp/unknown.pb"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: application/vnd.kubernetes.protobuf' \
  --data-binary @"$tmp/unknown.pb" "$server/api/v1/namespaces")
[[ $code == 415 ]] || fail "an unknown protobuf field got $code, want 415"
expect_line "$tmp/out" 'field number 100 of ObjectMeta \(metadata\) in a Namespace.*kubectl apply -f' "unknown field message"

# Hardening: kubesim has no authentication, so it listens on loopback only, answers only
# requests for a loopback Host (DNS rebinding), and takes writes only as JSON, YAML or protobuf
# (a web page's cross-origin text/plain or form POST is refused before it is read).
"$kubesim" --listen 0.0.0.0:0 >"$tmp/remote.out" 2>&1
[[ $? == 2 ]] || fail "--listen 0.0.0.0 without --allow-remote did not exit 2"
expect_line "$tmp/remote.out" 'is not a loopback address.*--allow-remote' "remote listen refused"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H 'Host: attacker.example:80' "$server/api/v1/namespaces")
[[ $code == 403 ]] || fail "a foreign Host header got $code, want 403"
expect_line "$tmp/out" 'answers only requests for localhost' "foreign Host message"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' \
  --data '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}}' \
  "$server/apis/apps/v1/namespaces/test/deployments")
[[ $code == 415 ]] || fail "a text/plain POST got $code, want 415"
k get deployment x -n test >/dev/null 2>&1 && fail "a text/plain POST created a Deployment"

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all kubectl checks passed"
