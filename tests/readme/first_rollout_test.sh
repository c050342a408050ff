#!/usr/bin/env bash
# Runs the README's "Your first rollout, by hand" commands as written (the `$ ` lines between
# <!-- first-rollout:begin --> and <!-- first-rollout:end -->), from a directory laid out as
# the checkout (build/, crds/, examples/), and checks that they promote one revision and roll
# back the next. The commands run in their own network and PID namespaces: the fixed ports
# they use (canaryd's default 127.0.0.1:8080) cannot clash with other tests, and every
# process they leave running (kubesim in the background, canaryd) dies with the namespace,
# even when the test fails.
# Usage: first_rollout_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- what the commands printed ---"
  cat "$tmp/out" 2>/dev/null
  echo "--- canaryd.log ---"
  tail -n 40 "$tmp/checkout/canaryd.log" 2>/dev/null
  exit 1
}

# The block, exactly: the `$ ` lines, prompt removed.
awk '/<!-- first-rollout:begin -->/ { on = 1; next }
     /<!-- first-rollout:end -->/ { on = 0 }
     on && /^\$ / { print substr($0, 3) }' "$src/README.md" >"$tmp/commands"
[ "$(wc -l <"$tmp/commands")" -ge 8 ] || fail "the README's first-rollout block has too few commands"
grep -q 'kubectl set image' "$tmp/commands" || fail "the block no longer releases a revision"

mkdir "$tmp/checkout"
ln -s "$build" "$tmp/checkout/build"
ln -s "$src/crds" "$tmp/checkout/crds"
ln -s "$src/examples" "$tmp/checkout/examples"
{
  echo 'set -eo pipefail'
  echo 'ip link set lo up'
  echo "cd '$tmp/checkout'"
  while IFS= read -r command; do
    printf 'echo %q\n' "\$ $command"
    printf '%s\n' "$command"
  done <"$tmp/commands"
} >"$tmp/walkthrough.sh"

timeout 600 unshare --net --pid --fork --kill-child bash "$tmp/walkthrough.sh" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "the walk-through exited $rc"

grep -q 'condition met' "$tmp/out" || fail "no kubectl wait was met"
grep -q 'Promotion completed' "$tmp/out" || fail "no 'Promotion completed' in what the commands printed"
grep -q 'Rolling back hello.tour' "$tmp/out" || fail "no rollback in what the commands printed"
grep -q 'httproute.gateway.networking.k8s.io/hello' "$tmp/out" || fail "no generated HTTPRoute listed"
echo "--- what the commands printed ---"
cat "$tmp/out"
echo PASS
