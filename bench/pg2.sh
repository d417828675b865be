#!/usr/bin/env bash
# pg2.sh: token issuance and AuthZEN decisions on PostgreSQL with two keyhold nodes.
#
#   bash bench/pg2.sh            # from the repository root; needs wrk, psql and a PostgreSQL
#
# It creates a fresh database on PG_ADMIN_URL, starts one node to create the first workspace,
# bulk-loads the AuthZEN data set (WORKSPACES x 100 role assignments, bench/loadiam), starts two
# nodes on that database, and drives both at once with one wrk each (-t1 -cCONNS). The figures
# are the sums over both nodes. Two nodes, both wrk processes and PostgreSQL share the machine's
# cores, so this measures the cost of the shared database, not the scaling of extra machines.
set -euo pipefail

PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
WORKSPACES=${WORKSPACES:-1000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/keyhold-pg2.XXXXXX")
DB=keyhold_bench_$$
PIDS=()

log() { printf 'pg2: %s\n' "$*" >&2; }
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
field() { python3 -c "import json,sys;print(json.loads(sys.stdin.readline())['$1'])"; }
wait_ready() {
	for _ in $(seq 1 600); do
		curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0
		sleep 0.1
	done
	log "node on port $1 did not become ready"; exit 1
}
start_node() { # port
	"$TMP/keyhold" serve --database "$DB_URL" --listen "127.0.0.1:$1" --base-url http://keyhold.bench \
		>>"$TMP/node-$1.out" 2>"$TMP/node-$1.err" &
	PIDS+=($!)
	wait_ready "$1"
}
# rate SCRIPT PATH VAR=... : both nodes at once; prints "requests/s p99_ms_max errors"
rate() {
	local script=$1 path=$2 i
	shift 2
	for i in 1 2; do
		env "$@" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$ROOT/bench/wrk/$script" \
			"http://127.0.0.1:${PORTS[$i]}$path" >"$TMP/wrk-$i.out" 2>&1 &
	done
	wait %1 %2 2>/dev/null || wait
	python3 - "$TMP/wrk-1.out" "$TMP/wrk-2.out" <<'PY'
import re, sys
rps = p99 = errs = 0.0
for f in sys.argv[1:]:
    t = open(f).read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
    v = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    p99 = max(p99, v)
    e = re.search(r"non-2xx responses: (\d+)", t)
    errs += int(e.group(1)) if e else 0
print(f"{rps:.0f} {p99:.2f} {errs:.0f}")
PY
}

command -v wrk >/dev/null || { log "wrk is missing: apt-get install -y wrk"; exit 1; }
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $DB" >/dev/null
DB_URL=${PG_ADMIN_URL%/*}/$DB?sslmode=disable
(cd "$ROOT" && go build -o "$TMP/keyhold" ./cmd/keyhold)
(cd "$ROOT/bench" && go build -o "$TMP/loadiam" ./loadiam)
PORTS=(unused "$(free_port)" "$(free_port)")

log "first start (bootstrap)"
start_node "${PORTS[1]}"
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; PIDS=()
CLIENT_ID=$(field clientId <"$TMP/node-${PORTS[1]}.out")
CLIENT_SECRET=$(field clientSecret <"$TMP/node-${PORTS[1]}.out")
WS_HEX=$(field workspaceId <"$TMP/node-${PORTS[1]}.out" | tr -d -)
log "loading $WORKSPACES workspaces ($((WORKSPACES * 100)) assignments)"
"$TMP/loadiam" -database "$DB_URL" -workspaces "$WORKSPACES" >&2
log "starting two nodes"
start_node "${PORTS[1]}"
start_node "${PORTS[2]}"
TOKEN_PATH=/authorization/v2/oauth2/$WS_HEX/token
TOKEN=$(curl -sf -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials "http://127.0.0.1:${PORTS[1]}$TOKEN_PATH" | field access_token)

log "token issuance on both nodes"
read -r tok_rps tok_p99 tok_err < <(rate token.lua "$TOKEN_PATH" CLIENT_ID="$CLIENT_ID" CLIENT_SECRET="$CLIENT_SECRET")
log "AuthZEN evaluations on both nodes"
read -r az_rps az_p99 az_err < <(rate authzen.lua /access/v1/evaluation TOKEN="$TOKEN" WORKSPACES="$WORKSPACES" BATCH=0)

printf '## keyhold on PostgreSQL, two nodes\n\n'
printf -- '- %s, %s cores, %s workspaces (%s role assignments), wrk -t1 -c%s per node for %ss\n\n' \
	"$(go env GOVERSION)" "$(nproc)" "$WORKSPACES" "$((WORKSPACES * 100))" "$CONNS" "$DURATION"
printf '| scenario | requests/s (both nodes) | p99 (ms, worse node) | errors |\n| --- | ---: | ---: | ---: |\n'
printf '| client_credentials tokens | %s | %s | %s |\n' "$tok_rps" "$tok_p99" "$tok_err"
printf '| AuthZEN evaluation | %s | %s | %s |\n' "$az_rps" "$az_p99" "$az_err"
