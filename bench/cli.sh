#!/usr/bin/env bash
# kctl vs kubectl, side by side, against one local server: `version --client`,
# then with 10 and 10,000 pods `get pods` (table) and `get pods -o json`.
# Prints mean times and the kctl/kubectl ratios. Uses hyperfine when installed,
# else a Python timing loop.
#
#   bash bench/cli.sh            # needs kubectl on PATH
#   PYTHON=/path/to/python RUNS=10 bash bench/cli.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The interpreter itself, not a shim on PATH (one here adds 150 ms a start):
# the repo's .venv when there is one.
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python
    else PYTHON=$(python3 -c 'import sys; print(sys.executable)'); fi
fi
if ! PYTHONPATH="$ROOT" "$PYTHON" -c 'import aiohttp, click, kctl' 2>/dev/null; then
    echo "bench/cli.sh: $PYTHON cannot import kctl and its dependencies;" \
         "set PYTHON to the interpreter of a venv with kctl installed" >&2
    exit 1
fi
RUNS=${RUNS:-10}
WORK=$(mktemp -d)
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export KUBECONFIG="$WORK/data/kubeconfig" XDG_CACHE_HOME="$WORK/cache" HOME="$WORK"
export PYTHONPATH="$ROOT"

# An installed package has its bytecode compiled; a checkout under
# PYTHONDONTWRITEBYTECODE would compile kctl again at every start.
"$PYTHON" -m compileall -q "$ROOT/kctl" "$ROOT/server" >/dev/null

mkdir -p "$WORK/data"
"$PYTHON" -m server --port "$PORT" --data-dir "$WORK/data" --no-node \
    >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do
    [ -f "$KUBECONFIG" ] && curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
if ! curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then
    echo "bench/cli.sh: the server did not start; its log:" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi

KCTL="$PYTHON -m kctl.main"

create_pods() {  # create pods p<from>..p<to> over one kept-alive connection
    "$PYTHON" - "$PORT" "$1" "$2" <<'PY'
import sys
from kctl.client import Client
from kctl.config import Connection
client = Client(Connection(server=f"http://127.0.0.1:{sys.argv[1]}"))
for i in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
    client.request("POST", "/api/v1/namespaces/default/pods", body={
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
PY
}

mean_ms() {  # mean wall time of a command in ms
    local cmd=$1
    if command -v hyperfine >/dev/null; then
        hyperfine -N -w 2 -r "$RUNS" --export-json "$WORK/h.json" "$cmd" >/dev/null 2>&1
        "$PYTHON" -c "import json; print(round(json.load(open('$WORK/h.json'))['results'][0]['mean']*1000))"
    else
        # No hyperfine (nor, on slim images, /usr/bin/time): time it in Python.
        # shellcheck disable=SC2086
        "$PYTHON" - "$RUNS" $cmd <<'PY'
import subprocess, sys, time
runs, command = int(sys.argv[1]), sys.argv[2:]
total = 0.0
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total += time.perf_counter() - start
print(round(total / runs * 1000))
PY
    fi
}

compare() {  # label, arguments
    local label=$1; shift
    $KCTL "$@" >/dev/null; kubectl "$@" >/dev/null  # warm both caches
    local ours theirs
    ours=$(mean_ms "$KCTL $*")
    theirs=$(mean_ms "kubectl $*")
    printf '%-28s kctl %6s ms   kubectl %6s ms   ratio %s\n' "$label" "$ours" \
        "$theirs" "$("$PYTHON" -c "print(round($ours / $theirs, 2))")"
}

compare "version --client" version --client
create_pods 1 10
compare "get pods (10 pods)" get pods
create_pods 11 10000
compare "get pods (10,000 pods)" get pods
RUNS=$(( RUNS < 3 ? RUNS : 3 )) compare "get pods -o json (10,000)" get pods -o json
