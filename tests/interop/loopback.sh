# Shared by the interop scripts that start a real server on loopback and
# hold scimcheck's outcome against it to an expectation. Source it.

# A venv at $1 (made once, kept under target/) holding the pinned requirements file $2.
venv_with() {
  [ -x "$1/bin/python" ] || python3 -m venv "$1"
  "$1/bin/pip" install --quiet --disable-pip-version-check -r "$2"
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (10 s at most) until something listens on 127.0.0.1:$1.
wait_for_port() {
  for _ in $(seq 1 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
}

# Judges a run: scimcheck must have exited 1 (the known deviations), and its
# JSON report must hold exactly the expected outcome.
# Arguments: exit status, out dir (run.txt, server.log, report.json), expectation file.
judge_run() {
  local status=$1 out=$2 expected=$3
  if [ "$status" -ne 1 ]; then
    echo "scimcheck exited $status, expected 1 (the known deviations):"
    cat "$out/run.txt"
    echo "--- server log:"; tail -20 "$out/server.log"
    return 1
  fi
  if ! python3 tests/interop/scim2_server_check.py "$out/report.json" "$expected"; then
    grep -E '^(FAIL|SKIP)' -A12 "$out/run.txt" || true
    return 1
  fi
}

# What every interop run needs before its server starts: the venv $1 (kept
# under target/) with the pinned requirements $2, a debug scimcheck, a free
# port in $port and a scratch folder in $out (the caller removes it on exit,
# with the server it starts).
interop_setup() {
  venv=$1
  venv_with "$venv" "$2"
  cargo build --locked --quiet --bin scimcheck
  port=$(free_port)
  out=$(mktemp -d)
}
