# The demo's stack, for scripts/demo and tests/e2e: kubesim running the workloads, Debian's
# Prometheus (1 s scrapes of every pod, file_sd from kubesim), Alertmanager delivering to a
# loopback webhook receiver, HAProxy in front of the primary and the canary, steady load, and
# canaryd. Every process runs on 127.0.0.1 with a free port and is stopped by PID.
# Source after `set -uo pipefail` with: src (the source tree), bin (the build directory),
# dir (an empty working directory).
source "$src/tests/support/shell.sh"

stack_pids=()
canaryd_pid=""

# Stops everything by PID: canaryd, then the stack (kubesim stops the processes it runs). Then
# checks that none of kubesim's workload processes is left; any that is gets SIGKILL and the
# function fails.
stack_stop() {
  local p workloads=()
  [[ -n ${kubesim_pid:-} ]] && mapfile -t workloads < <(pgrep -P "$kubesim_pid")
  [[ -n $canaryd_pid ]] && kill "$canaryd_pid" 2>/dev/null
  for p in "${stack_pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${stack_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  stack_pids=()
  canaryd_pid=""
  local left=0
  for p in "${workloads[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      echo "workload process $p outlived kubesim" >&2
      kill -9 "$p" 2>/dev/null
      left=1
    fi
  done
  return $left
}

# start NAME COMMAND...: runs it in the background, output in $dir/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"$dir/$name.log" 2>&1 &
  stack_pids+=($!)
}

# What Prometheus says a query is now ("" when it has no value).
prom_value() {
  curl -sf -G "$prom_url/api/v1/query" --data-urlencode "query=$1" |
    sed -n 's/.*"value":\[[0-9.e+-]*,"\([^"]*\)"\].*/\1/p'
}

stack_start() {
  export PATH="$bin:$PATH"  # kubesim finds demo-app through the container's command
  mkdir -p "$dir/pods"
  echo '[]' >"$dir/targets.json"

  start kubesim "$bin/kubesim" --listen 127.0.0.1:0 --run-workloads --ready-delay 500ms \
    --workload-logs "$dir/pods" --workload-targets "$dir/targets.json"
  kubesim_pid=${stack_pids[-1]}
  wait_for 10 grep -q '^listening on http://127.0.0.1:' "$dir/kubesim.log" ||
    { echo "kubesim did not start:"; cat "$dir/kubesim.log"; return 1; }
  kube_url=$(sed -n 's/^listening on //p' "$dir/kubesim.log" | head -1)
  cat >"$dir/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: demo, cluster: {server: "$kube_url"}}]
contexts: [{name: demo, context: {cluster: demo, user: demo, namespace: demo}}]
users: [{name: demo, user: {}}]
current-context: demo
YAML
  export KUBECONFIG=$dir/kubeconfig

  receiver_port=$(free_port)
  : >"$dir/alerts.jsonl"
  start receiver "$bin/demo-receiver" --port "$receiver_port" --output "$dir/alerts.jsonl"

  am_port=$(free_port)
  cat >"$dir/alertmanager.yml" <<YAML
route:
  receiver: on-call
  group_by: [alertname, namespace, canary]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: on-call
    webhook_configs:
      - url: http://127.0.0.1:$receiver_port/
        send_resolved: true
YAML
  start alertmanager prometheus-alertmanager --config.file="$dir/alertmanager.yml" \
    --storage.path="$dir/alertmanager" --web.listen-address="127.0.0.1:$am_port" \
    --cluster.listen-address=
  am_url=http://127.0.0.1:$am_port

  haproxy_port=$(free_port)
  haproxy_health=$(free_port)
  cat >"$dir/haproxy.cfg" <<CFG
global
  stats socket $dir/haproxy.sock mode 600 level admin
defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 10s
  retries 2
  option redispatch
frontend demo
  bind 127.0.0.1:$haproxy_port
  default_backend demo
frontend health
  bind 127.0.0.1:$haproxy_health
  monitor-uri /ready
  http-request use-service prometheus-exporter if { path /metrics }
backend demo
  balance roundrobin
  server primary 127.0.0.1:9 weight 256 check inter 500ms
  server canary 127.0.0.1:9 weight 0 check inter 500ms
CFG
  start haproxy haproxy -f "$dir/haproxy.cfg" -db
  haproxy_url=http://127.0.0.1:$haproxy_port

  canaryd_port=$(free_port)
  prom_port=$(free_port)
  cat >"$dir/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: pods
    file_sd_configs: [{files: ["$dir/targets.json"], refresh_interval: 1s}]
  - job_name: canaryd
    static_configs: [{targets: ["127.0.0.1:$canaryd_port"]}]
  - job_name: haproxy
    static_configs: [{targets: ["127.0.0.1:$haproxy_health"]}]
YAML
  start prometheus prometheus --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/prometheus" --web.listen-address="127.0.0.1:$prom_port"
  prom_url=http://127.0.0.1:$prom_port

  wait_for 30 curl -sf "$prom_url/-/ready" || { echo "prometheus did not start"; return 1; }
  wait_for 30 curl -sf "$am_url/-/ready" || { echo "alertmanager did not start"; return 1; }
  wait_for 10 curl -sf "http://127.0.0.1:$haproxy_health/ready" ||
    { echo "haproxy did not start:"; cat "$dir/haproxy.log"; return 1; }

  # The CRDs and the demo's manifests, pointed at this stack's socket and Alertmanager.
  kubectl apply -f "$src/crds/" >/dev/null || return 1
  mkdir -p "$dir/manifests"
  for f in "$src"/examples/demo/*.yaml; do
    sed -e "s|unix:/tmp/canaryd-demo/haproxy.sock|unix:$dir/haproxy.sock|" \
      -e "s|http://127.0.0.1:9093|$am_url|" "$f" >"$dir/manifests/$(basename "$f")"
  done
  kubectl apply -f "$dir/manifests/00-namespace.yaml" >/dev/null || return 1
  kubectl apply -f "$dir/manifests/" >/dev/null || return 1
  start load "$bin/demo-load" "$haproxy_url/" --rps 200 --connections 16 --report 1
}

# canaryd itself, separate so that the e2e test can kill it with SIGKILL and restart it.
canaryd_start() {
  "$bin/canaryd" run --kubeconfig "$dir/kubeconfig" --metrics-server "$prom_url" \
    --listen "127.0.0.1:$canaryd_port" >>"$dir/canaryd.log" 2>&1 &
  canaryd_pid=$!
}

# A release as a GitOps sync applies it: the whole Deployment manifest, with this version's
# image, DEMO_VERSION and error rate.
release() {
  local version=$1 errors=$2
  sed -e "s|demo-app:v1|demo-app:$version|" \
    -e "/name: DEMO_VERSION/{n;s|value: v1|value: $version|}" \
    -e "/name: DEMO_ERROR_RATE/{n;s|value: \"0.005\"|value: \"$errors\"|}" \
    "$dir/manifests/deployment.yaml" >"$dir/deployment-$version.yaml"
  kubectl apply -f "$dir/deployment-$version.yaml" >/dev/null
}

phase() { kubectl -n demo get canary demo -o jsonpath='{.status.phase}' 2>/dev/null; }
phase_is() { [[ $(phase) == "$1" ]]; }
# What the primary serves now (its process answers /version through its Endpoints).
primary_version() {
  local port
  port=$(kubectl -n demo get endpoints demo-primary -o jsonpath='{.subsets[0].ports[0].port}')
  [[ -n $port ]] && curl -sf "http://127.0.0.1:$port/version"
}
# A server's weight in HAProxy now, from HAProxy's own Prometheus exporter.
haproxy_weight() {
  curl -sf "http://127.0.0.1:$haproxy_health/metrics" |
    sed -n "s/^haproxy_server_weight{proxy=\"demo\",server=\"$1\"} //p"
}
