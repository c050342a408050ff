#!/usr/bin/env bash
# The image starts: every shared library canaryd links directly (its ELF NEEDED entries) comes
# from a package that the Dockerfile's runtime stage installs, or from the base image itself
# (libc6, libstdc++6, libgcc-s1 are in debian:12-slim). Then `kubectl apply -k deploy/base`
# on kubesim, and the RBAC rules cover every resource canaryd's code reaches.
# Usage: image_deps_test.sh CANARYD KUBESIM SOURCE_DIR
set -uo pipefail
canaryd=$1
kubesim=$2
src=$3
tmp=$(mktemp -d)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$(dirname "$0")/../support/shell.sh"

# The runtime stage: the packages of the apt-get install after the last FROM.
runtime=$(awk '/^FROM /{stage=""} {stage=stage"\n"$0} END{print stage}' "$src/Dockerfile" |
  tr '\\' ' ' | sed -n '/apt-get install/,/rm -rf/p' | tr ' ' '\n' |
  grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|update|RUN|-y)$' | sort -u)
base="libc6 libstdc++6 libgcc-s1"
package_of() {
  local lib=$1 p
  for candidate in "$lib" "${lib/#\/lib\//\/usr\/lib\/}" "${lib/#\/usr\/lib\//\/lib\/}" "$(readlink -f "$lib")"; do
    p=$(dpkg -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1) && [[ -n $p ]] && { echo "$p"; return; }
  done
}
needed=$(objdump -p "$canaryd" | awk '/NEEDED/{print $2}')
[[ -n $needed ]] || fail "no NEEDED entries read from $canaryd"
for soname in $needed; do
  path=$(ldd "$canaryd" | awk -v s="$soname" '$1 == s {print $3}')
  pkg=$(package_of "$path")
  [[ -n $pkg ]] || { fail "$soname ($path): no Debian package owns it"; continue; }
  grep -qx "$pkg" <<<"$runtime" || [[ " $base " == *" $pkg "* ]] ||
    fail "$soname comes from $pkg, which the Dockerfile's runtime stage does not install"
done

# deploy/base applies to an API server (kubesim), as `kubectl apply -k` would to a cluster.
"$kubesim" --listen 127.0.0.1:0 >"$tmp/kubesim.out" 2>&1 &
pid=$!
wait_for 10 grep -q '^listening on ' "$tmp/kubesim.out" || { echo "kubesim did not start"; exit 1; }
server=$(sed -n 's/^listening on //p' "$tmp/kubesim.out")
kubectl --server "$server" apply -k "$src/deploy/base" >"$tmp/apply.out" 2>&1 ||
  fail "kubectl apply -k deploy/base: $(cat "$tmp/apply.out")"
expect_line "$tmp/apply.out" 'deployment.apps/canaryd created' "the Deployment was created"
expect_line "$tmp/apply.out" 'clusterrole.rbac.authorization.k8s.io/canaryd created' "the ClusterRole was created"
mounts=$(kubectl --server "$server" -n canaryd-system get deploy canaryd \
  -o jsonpath='{.spec.template.spec.containers[0].volumeMounts[0].mountPath} {.spec.template.spec.volumes[0].emptyDir.sizeLimit}')
[[ $mounts == "/tmp 256Mi" ]] || fail "no writable emptyDir on /tmp: '$mounts'"
# Every core resource the code reads or writes has a rule (the haproxy router reads endpoints).
for resource in endpoints services configmaps secrets events; do
  rules=$(kubectl --server "$server" get clusterrole canaryd -o jsonpath='{range .rules[*]}{.resources}{"\n"}{end}')
  grep -q "\"$resource\"" <<<"$rules" || fail "the ClusterRole has no rule for $resource"
done

# deploy/namespaced: the same rights granted in one namespace only, no ClusterRoleBinding.
kubectl kustomize "$src/deploy/namespaced" >"$tmp/namespaced.yaml" 2>&1 || fail "kustomize deploy/namespaced"
grep -q '^kind: ClusterRoleBinding' "$tmp/namespaced.yaml" && fail "deploy/namespaced binds cluster-wide"
grep -q -- '--namespace=team-a' "$tmp/namespaced.yaml" || fail "deploy/namespaced does not watch only team-a"
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n' |
  kubectl --server "$server" apply -f - >/dev/null 2>&1 || fail "namespace team-a"
kubectl --server "$server" apply -k "$src/deploy/namespaced" >"$tmp/apply2.out" 2>&1 ||
  fail "kubectl apply -k deploy/namespaced: $(cat "$tmp/apply2.out")"
kubectl --server "$server" -n team-a get rolebinding canaryd >/dev/null 2>&1 ||
  fail "deploy/namespaced: no RoleBinding in team-a"

((failures)) && exit 1
echo "ok: image_deps_test"
