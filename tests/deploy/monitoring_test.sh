#!/usr/bin/env bash
# deploy/monitoring/prometheus-rule.yaml: its rules load in Debian's Prometheus (promtool
# check rules) and fire and resolve as tests/deploy/rules_test.yml expects (promtool test rules).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The PrometheusRule's spec is a plain rules file, one indentation level in.
sed -n '/^spec:/,$p' "$root/deploy/monitoring/prometheus-rule.yaml" | sed '1d; s/^  //' \
  >"$tmp/canaryd-rules.yml"
cp "$root/tests/deploy/rules_test.yml" "$tmp/"
cd "$tmp" || exit 1
promtool check rules canaryd-rules.yml || exit 1
promtool test rules rules_test.yml || exit 1
