#!/usr/bin/env bash
# End-to-end checks of `canaryd validate`: output lines, exit codes, stdin and JSON output.
# Usage: validate_test.sh CANARYD SOURCE_DIR
set -uo pipefail
canaryd=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_exit() {  # expect_exit WANT GOT WHAT
  [[ $2 -eq $1 ]] || fail "$3: exit $2, want $1"
}
expect_line() {  # expect_line FILE REGEX WHAT
  grep -Eq -- "$2" "$1" || { fail "$3: no line matching /$2/ in:"; sed 's/^/    /' "$1"; }
}

# 1. Every example is valid; the seed Canary prints exactly the promised line.
"$canaryd" validate "$src"/examples/*.yaml >"$tmp/out" 2>"$tmp/err"
expect_exit 0 $? "examples"
expect_line "$tmp/out" '^ok  Canary production/my-app$' "seed canary"
expect_line "$tmp/out" '^ok  MetricTemplate test/error-rate$' "metric template"
expect_line "$tmp/out" '^ok  AlertProvider test/on-call-slack$' "alert provider"
expect_line "$tmp/out" '^skipped  Deployment test/podinfo' "other kinds are skipped"

# 2. An invalid Canary: file, line, column, field path and what is allowed; exit 1.
cat >"$tmp/bad.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: web
  namespace: shop
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  service:
    port: 80
  analysis:
    interval: 1m
    threshold: 5
    stepWeight: 10
    stepWeigth: 20
    webhooks:
      - name: gate
        type: pre
        url: http://gate/
YAML
"$canaryd" validate "$tmp/bad.yaml" >"$tmp/out" 2>&1
expect_exit 1 $? "invalid canary"
expect_line "$tmp/out" '^invalid  Canary shop/web$' "invalid verdict"
expect_line "$tmp/out" "bad.yaml:20:9: error: Canary shop/web: spec.analysis.webhooks\[0\]\.type: \"pre\" is not allowed; must be one of: confirm-rollout, pre-rollout" "enum error"
expect_line "$tmp/out" "bad.yaml:17:5: error: Canary shop/web: spec.analysis.stepWeigth: unknown field \"stepWeigth\"; did you mean \"stepWeight\"\?" "unknown field"

# 3. Standard input, mixed with a valid file: still exit 1, both reported.
"$canaryd" validate "$src/examples/alert-provider.yaml" - <"$tmp/bad.yaml" >"$tmp/out" 2>&1
expect_exit 1 $? "stdin"
expect_line "$tmp/out" '^ok  AlertProvider test/on-call-slack$' "stdin: valid file"
expect_line "$tmp/out" '^  -:20:9: error:' "stdin: located problem"

# 4. Malformed YAML: line and column, exit 1.
printf 'kind: Canary\nspec:\n  analysis: [1m\n' >"$tmp/broken.yaml"
"$canaryd" validate "$tmp/broken.yaml" >"$tmp/out" 2>&1
expect_exit 1 $? "malformed yaml"
expect_line "$tmp/out" 'broken.yaml: line [0-9]+, column [0-9]+: malformed YAML' "malformed yaml message"

# 5. Usage errors exit 2: unreadable file, unknown flag, no input.
"$canaryd" validate "$tmp/does-not-exist.yaml" >"$tmp/out" 2>&1
expect_exit 2 $? "missing file"
expect_line "$tmp/out" 'cannot read .*does-not-exist.yaml' "missing file message"
"$canaryd" validate --frobnicate "$src/examples/alert-provider.yaml" >"$tmp/out" 2>&1
expect_exit 2 $? "unknown flag"
"$canaryd" validate >"$tmp/out" 2>&1
expect_exit 2 $? "no input"
"$canaryd" validate -o yaml "$src/examples/alert-provider.yaml" >"$tmp/out" 2>&1
expect_exit 2 $? "unknown output format"

# 6. JSON output: one array, verdicts and located problems.
"$canaryd" validate --output json "$src/examples/gitops-guide-canary.yaml" "$tmp/bad.yaml" \
  >"$tmp/out.json" 2>"$tmp/err"
expect_exit 1 $? "json output"
python3 - "$tmp/out.json" <<'PY' || fail "json output content"
import json, sys
items = json.load(open(sys.argv[1]))
assert isinstance(items, list) and len(items) == 2, items
seed, bad = items
assert seed["verdict"] == "valid" and seed["name"] == "production/my-app", seed
assert all(p["severity"] == "warning" for p in seed["problems"]), seed
assert bad["verdict"] == "invalid", bad
paths = {p["path"]: p for p in bad["problems"] if p["severity"] == "error"}
assert paths["spec.analysis.webhooks[0].type"]["line"] == 20, paths
assert "must be one of" in paths["spec.analysis.webhooks[0].type"]["message"], paths
PY

# 7. --explain describes the rollout with Flagger's defaults.
"$canaryd" validate --explain "$src/examples/canary-gatewayapi.yaml" >"$tmp/out" 2>&1
expect_exit 0 $? "explain"
expect_line "$tmp/out" 'canary weight steps: 5% 10% 15% .* 50%, then promote' "explain steps"
expect_line "$tmp/out" 'webhook load-test \(rollout\)' "explain webhooks"

# 8. version, also as --version
"$canaryd" version | grep -Eq '^canaryd [0-9]+\.[0-9]+\.[0-9]+' || fail "version"
"$canaryd" --version >"$tmp/out" 2>&1
expect_exit 0 $? "--version"
expect_line "$tmp/out" '^canaryd [0-9]+\.[0-9]+\.[0-9]+' "--version output"

# 9. A directory reads its manifests, as kubectl apply -f; -R its subdirectories too; a
# directory without manifests is an error, not a pass.
mkdir -p "$tmp/tree/nested" "$tmp/empty"
cp "$src/examples/gitops-guide-canary.yaml" "$tmp/tree/a.yaml"
cp "$tmp/bad.yaml" "$tmp/tree/nested/b.yml"
echo "not a manifest" >"$tmp/tree/notes.txt"
"$canaryd" validate "$tmp/tree" >"$tmp/out" 2>&1
expect_exit 0 $? "directory"
expect_line "$tmp/out" '^ok  Canary production/my-app$' "directory's manifest read"
grep -q "notes.txt\|nested" "$tmp/out" && fail "directory: only its .yaml/.yml/.json files"
"$canaryd" validate -R "$tmp/tree" >"$tmp/out" 2>&1
expect_exit 1 $? "directory -R"
expect_line "$tmp/out" 'nested/b.yml:.*error' "-R reads the subdirectory"
"$canaryd" validate "$tmp/empty" >"$tmp/out" 2>&1
expect_exit 1 $? "empty directory"
expect_line "$tmp/out" '^canaryd validate: no manifests in ' "empty directory message"
"$canaryd" validate - </dev/null >"$tmp/out" 2>&1
expect_exit 1 $? "empty standard input"

# 10. Global flags before or after the subcommand.
"$canaryd" validate --log-format json "$src/examples/gitops-guide-canary.yaml" >"$tmp/out" 2>&1
expect_exit 0 $? "--log-format after the subcommand"
"$canaryd" --log-format json validate "$src/examples/gitops-guide-canary.yaml" >"$tmp/out" 2>&1
expect_exit 0 $? "--log-format before the subcommand"
"$canaryd" validate --log-format yaml "$src/examples/gitops-guide-canary.yaml" >"$tmp/out" 2>&1
expect_exit 2 $? "a global flag's value is still checked after the subcommand"

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all validate CLI checks passed"
