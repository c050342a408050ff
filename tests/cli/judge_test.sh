#!/usr/bin/env bash
# End-to-end checks of `canaryd judge`: verdicts, JSON fields, bad input and exit codes.
# Usage: judge_test.sh CANARYD
set -uo pipefail
canaryd=$1
source "$(dirname "$0")/../support/shell.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Mann-Whitney: Kayenta's published reference point.
printf '# baseline latencies\n1 2\n3\n4\n' >"$tmp/baseline.txt"
printf '10 20 30 40  # canary\n' >"$tmp/canary.txt"
"$canaryd" judge mann-whitney --baseline "$tmp/baseline.txt" --canary "$tmp/canary.txt" \
  --output json >"$tmp/out" 2>&1
expect_exit 0 $? "mann-whitney json"
python3 - "$tmp/out" <<'PY' || fail "mann-whitney json fields"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "high", r
assert r["estimate"] == 22.5 and r["confidenceInterval"] == [6, 39], r
assert abs(r["pValue"] - 0.030382821976577493) < 1e-12, r
assert r["baselineCount"] == 4 and r["canaryCount"] == 4 and r["effectSize"] == 10, r
PY

# Lower canary with the CLES effect size; NaN removed by default, replaced on request.
printf '0.5 0.6 NaN 0.7 0.4 0.5 0.6\n' >"$tmp/low.txt"
printf '5 6 7 8 9 5 6 7 8\n' >"$tmp/base2.txt"
"$canaryd" judge mann-whitney --baseline "$tmp/base2.txt" --canary "$tmp/low.txt" \
  --effect-size cles -o json >"$tmp/out" 2>&1
expect_exit 0 $? "mann-whitney low"
expect_line "$tmp/out" '"verdict":"low"' "low verdict"
expect_line "$tmp/out" '"canaryCount":6' "NaN removed"
"$canaryd" judge mann-whitney --baseline "$tmp/base2.txt" --canary "$tmp/low.txt" \
  --nan-strategy replace -o json >"$tmp/out" 2>&1
expect_line "$tmp/out" '"canaryCount":7' "NaN replaced"
"$canaryd" judge mann-whitney --baseline "$tmp/base2.txt" --canary "$tmp/base2.txt" >"$tmp/out" 2>&1
expect_exit 0 $? "mann-whitney text"
expect_line "$tmp/out" '^verdict: pass$' "identical samples pass"

# Mann-Whitney bad input: file and line named, exit 1; usage errors exit 2.
printf '1 2\n3 x4\n' >"$tmp/bad.txt"
"$canaryd" judge mann-whitney --baseline "$tmp/baseline.txt" --canary "$tmp/bad.txt" >"$tmp/out" 2>&1
expect_exit 1 $? "non-numeric token"
expect_line "$tmp/out" 'bad.txt:2: "x4" is not a number' "non-numeric message"
"$canaryd" judge mann-whitney --baseline "$tmp/missing.txt" --canary "$tmp/bad.txt" >"$tmp/out" 2>&1
expect_exit 1 $? "missing file"
expect_line "$tmp/out" 'missing.txt: cannot read' "missing file message"
"$canaryd" judge mann-whitney --baseline "$tmp/baseline.txt" >"$tmp/out" 2>&1
expect_exit 2 $? "missing --canary"
"$canaryd" judge mann-whitney --baseline "$tmp/baseline.txt" --canary "$tmp/canary.txt" \
  --effect-size median >"$tmp/out" 2>&1
expect_exit 2 $? "unknown effect size"

# Sequential: a regression fails early (the first row only calibrates), a healthy canary does
# not, an empty stream is nodata, and a healthy canary whose errors come in bursts stays
# inconclusive with the dispersion measured (its evidence divided by it) in the explanation.
{
  echo "stream,canary_weight,canary_requests,canary_errors,primary_requests,primary_errors"
  echo "bad,10,600,7,5400,55"
  echo "good,10,600,6,5400,55"
  echo "bursty,50,3000,15,3000,15"
  echo "bad,20,1200,40,4800,47"
  echo "good,20,1200,11,4800,50"
  echo "bursty,50,3000,16,3000,9"
  echo "bad,30,1800,60,4200,41"
  echo "bursty,50,3000,30,3000,16"
  echo "bursty,50,3000,14,3000,30"
  echo "bursty,50,3000,13,3000,14"
  echo "idle,10,0,0,0,0"
} >"$tmp/runs.csv"
"$canaryd" judge sequential --input "$tmp/runs.csv" --alpha 0.01 >"$tmp/out" 2>&1
expect_exit 0 $? "sequential"
python3 - "$tmp/out" <<'PY' || fail "sequential output"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
by = {l["stream"]: l for l in lines}
assert [l["stream"] for l in lines] == ["bad", "good", "bursty", "idle"], lines
assert by["bad"]["verdict"] == "fail" and by["bad"]["decisionRow"] == 3, by["bad"]
assert by["bursty"]["verdict"] == "inconclusive", by["bursty"]
assert "(dispersion x" in by["bursty"]["explanation"], by["bursty"]
assert by["bad"]["eValue"] >= 100, by["bad"]
assert by["good"]["verdict"] == "inconclusive" and by["good"]["decisionRow"] is None, by["good"]
assert by["idle"]["verdict"] == "nodata", by["idle"]
PY

# Sequential bad input: line named, exit 1.
check_bad_csv() {  # check_bad_csv ROW MESSAGE-REGEX WHAT
  printf 'stream,canary_weight,canary_requests,canary_errors,primary_requests,primary_errors\n%s\n' \
    "$1" >"$tmp/bad.csv"
  "$canaryd" judge sequential --input "$tmp/bad.csv" >"$tmp/out" 2>&1
  expect_exit 1 $? "$3"
  expect_line "$tmp/out" "$2" "$3 message"
}
check_bad_csv "s,10,100,-1,900,9" 'bad.csv:2: "-1" must be a non-negative number' "negative count"
check_bad_csv "s,10,100,101,900,9" 'bad.csv:2: canary_errors 101 exceed canary_requests 100' "errors above requests"
check_bad_csv "s,150,100,1,900,9" 'bad.csv:2: canary_weight 150 must be between 0 and 100' "weight out of range"
check_bad_csv "s,10,lots,1,900,9" 'bad.csv:2: "lots" is not a number' "non-numeric"
check_bad_csv "s,10,100" 'bad.csv:2: expected 6 comma-separated values, got 3' "short row"
printf 'a,b\n' >"$tmp/header.csv"
"$canaryd" judge sequential --input "$tmp/header.csv" >"$tmp/out" 2>&1
expect_exit 1 $? "bad header"
expect_line "$tmp/out" 'header.csv:1: expected the header stream,canary_weight' "bad header message"
"$canaryd" judge sequential --input "$tmp/runs.csv" --alpha 2 >"$tmp/out" 2>&1
expect_exit 2 $? "alpha out of range"

if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all judge CLI checks passed"
