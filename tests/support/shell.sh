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
