# Helpers for the shell tests; source it after `set -uo pipefail`.
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect_exit WANT GOT WHAT
expect_exit() { [[ $2 -eq $1 ]] || fail "$3: exit $2, want $1"; }
# expect_line FILE REGEX WHAT: some line of FILE matches REGEX (ERE); prints FILE otherwise.
expect_line() { grep -Eq -- "$2" "$1" || { fail "$3: no line matching /$2/ in:"; sed 's/^/    /' "$1"; }; }
# wait_for SECONDS COMMAND...: polls the command until it succeeds; 1 after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.1
  done
}
# A port that was free a moment ago, for servers that cannot pick their own (Prometheus).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# start_kubesim KUBESIM: kubesim on a free port with objects converging after 200ms (pid in
# pids), its URL in $server, and $KUBECONFIG pointing at it. Exits the test if it cannot start.
start_kubesim() {
  "$1" --listen 127.0.0.1:0 --ready-delay 200ms >"$tmp/kubesim.out" 2>&1 &
  pids+=($!)
  wait_for 10 grep -q '^listening on http://127.0.0.1:' "$tmp/kubesim.out" || {
    echo "kubesim did not start"; cat "$tmp/kubesim.out"; exit 1; }
  server=$(sed -n 's/^listening on //p' "$tmp/kubesim.out" | head -1)
  printf '%s\n' "apiVersion: v1" "kind: Config" \
    "clusters: [{name: sim, cluster: {server: \"$server\"}}]" \
    "contexts: [{name: sim, context: {cluster: sim, user: sim}}]" \
    "users: [{name: sim, user: {}}]" "current-context: sim" >"$tmp/kubeconfig"
  export KUBECONFIG=$tmp/kubeconfig
}
# start_prometheus: Debian's Prometheus on a free port ($prom_port, pid in pids), scraping
# nothing, for MetricTemplates whose queries need no series (vector(0.5)).
start_prometheus() {
  prom_port=$(free_port)
  echo 'global: {scrape_interval: 1s}' >"$tmp/prometheus.yml"
  prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus" \
    --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.out" 2>&1 &
  pids+=($!)
  wait_for 20 curl -sf "http://127.0.0.1:$prom_port/-/ready" || {
    echo "prometheus did not start"; tail "$tmp/prometheus.out"; exit 1; }
}
