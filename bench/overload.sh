#!/usr/bin/env bash
# bench/overload.sh: does keyhold shed load instead of queueing it? See bench/README.md.
#
# Run from anywhere (usually the repo root):   bash bench/overload.sh
#
# Builds keyhold and drives its token endpoint with wrk in three runs of DURATION seconds each
# (after a WARMUP), while one more client (bench/probe) asks for a token every 50 ms and
# times the answers it gets, as any client of an overloaded node would:
#   1. capacity:  CONNS connections against a node with keyhold's defaults (or BOUND, SHED);
#   2. overload:  FACTOR x CONNS connections against the same node: it must refuse a share of
#                 the requests (503 with Retry-After, at once) so that the admitted ones keep
#                 a bounded latency;
#   3. unbounded: the same overload against a node started with --max-in-flight 1000000
#                 --shed-delay 0s, for comparison: every request is admitted and waits
#                 behind the others.
# wrk is a closed loop (each connection sends its next request when the previous one is
# answered), so a load above capacity is expressed as connections: FACTOR times the
# concurrency at which the node is already saturated. Its clients honour Retry-After as OAuth
# libraries do (wrk/token_polite.lua): a refused connection waits before asking again.
#
# Prints a Markdown report on stdout (progress on stderr): per run, requests/s answered 200
# and 503, wrk's p50/p99 over all answers (refusals included), the p99 of the admitted (200)
# requests inside keyhold's handlers (the upper bound of its histogram bucket; the wait
# before the handler is not in it), and the probe's answers and the p50/p99/max of its 200s
# (what a client waited for an admitted request). Exits 1 if a run saw an answer other than
# 200 or 503, or a socket error. About 3 x (WARMUP + DURATION) seconds in all; every process
# it starts is stopped when it exits.
#
# Environment (all optional):
#   DURATION=10   seconds measured per run        WARMUP=2     seconds of warm-up per run
#   CONNS=32      connections of the capacity run FACTOR=5     overload = FACTOR x CONNS
#   BOUND=0       --max-in-flight of the bounded node (0: keyhold's default, 64 per CPU)
#   SHED=10ms     --shed-delay of the bounded node (keyhold's default)
#   THREADS=2     wrk threads                     WRK=wrk      the wrk binary
#   KEYHOLD_BIN=path   use this binary instead of building ./cmd/keyhold
#   KEYHOLD_PORT=18180 first port tried           KEEP_TMP=1   keep the temp dir
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-32}
FACTOR=${FACTOR:-5}
BOUND=${BOUND:-0}
SHED=${SHED:-10ms}
THREADS=${THREADS:-2}
WRK=${WRK:-wrk}
KEYHOLD_BIN=${KEYHOLD_BIN:-}
KEEP_TMP=${KEEP_TMP:-0}

log() { printf 'overload: %s\n' "$*" >&2; }
die() {
	printf 'overload: error: %s\n' "$*" >&2
	exit 1
}
for v in DURATION WARMUP CONNS FACTOR BOUND THREADS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v=${!v}: want a whole number"
done
((DURATION <= 300)) || die "DURATION=$DURATION: at most 300 s per run (this script is meant to be short)"
((CONNS >= THREADS && FACTOR >= 2)) || die "want CONNS >= THREADS, FACTOR >= 2"
command -v "$WRK" >/dev/null || die "$WRK not found (Debian: apt-get install -y wrk)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/keyhold-overload.XXXXXX")
PIDS=()
stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	if [[ $KEEP_TMP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
	local p=$1
	while port_in_use "$p"; do
		p=$((p + 1))
		((p < 65536)) || die "no free port from $1 up"
	done
	printf '%s' "$p"
}

log "building keyhold, jsonfield and probe"
mkdir -p "$TMP/bin"
(cd "$BENCH_DIR" && go build -o "$TMP/bin/" ./jsonfield ./probe) || die "building bench/jsonfield and bench/probe failed"
if [[ -z $KEYHOLD_BIN ]]; then
	(cd "$ROOT" && go build -o "$TMP/bin/keyhold" ./cmd/keyhold) || die "building ./cmd/keyhold failed"
	KEYHOLD_BIN=$TMP/bin/keyhold
fi

# start NAME MAXINFLIGHT SHEDDELAY: a keyhold node on a fresh data directory; sets BASE,
# TOKEN_URL, CLIENT_ID, CLIENT_SECRET and PID.
start() {
	local name=$1 bound=$2 shed=$3 port deadline fields
	port=$(pick_port "${KEYHOLD_PORT:-18180}")
	mkdir -p "$TMP/$name"
	"$KEYHOLD_BIN" serve --listen "127.0.0.1:$port" --data-dir "$TMP/$name/data" --max-in-flight "$bound" \
		--shed-delay "$shed" --log-level warn >"$TMP/$name/stdout" 2>"$TMP/$name/stderr" &
	PID=$!
	PIDS+=("$PID")
	BASE=http://127.0.0.1:$port
	deadline=$((SECONDS + 60))
	until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/readyz" || true) == 200 ]]; do
		kill -0 "$PID" 2>/dev/null || {
			tail -n 20 "$TMP/$name/stderr" >&2
			die "keyhold ($name) exited"
		}
		((SECONDS < deadline)) || die "keyhold ($name) not ready within 60 s"
		sleep 0.2
	done
	fields=$("$TMP/bin/jsonfield" -first-object clientId clientSecret tokenUrl <"$TMP/$name/stdout") ||
		die "keyhold's first-start line lacks a field"
	mapfile -t f <<<"$fields"
	CLIENT_ID=${f[0]} CLIENT_SECRET=${f[1]} TOKEN_URL=${f[2]}
	[[ $TOKEN_URL =~ ^http://127\.0\.0\.1:[0-9]+/ ]] || die "tokenUrl $TOKEN_URL is not on 127.0.0.1; refusing to load it"
	log "keyhold ($name, --max-in-flight $bound --shed-delay $shed) ready at $BASE"
}

# admitted_p99 BEFORE AFTER: the upper bound (ms) of the histogram bucket holding the 99th
# percentile of the 200 answers of the token route between two /metrics scrapes.
admitted_p99() {
	awk '
		/^keyhold_http_request_duration_seconds_bucket/ && /token/ && /status="200"/ {
			match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
			if (FILENAME == ARGV[1]) before[le] = $NF; else { after[le] = $NF; order[++n] = le }
		}
		END {
			total = after["+Inf"] - before["+Inf"]
			if (total <= 0) { print "n/a"; exit }
			for (i = 1; i <= n; i++) {
				le = order[i]
				if (after[le] - before[le] >= 0.99 * total) {
					if (le == "+Inf") print "> 1000"; else printf "<= %g\n", le * 1000
					exit
				}
			}
		}' "$1" "$2"
}

declare -A OK_RPS=() SHED_RPS=() P50=() P99=() ADMITTED_P99=() CONNS_OF=() OTHER=() PROBE=() NODE_OF=()
RUNS=()

# run NAME CONNS: warm-up, scrape, measure, scrape; fills the tables for NAME.
run() {
	local name=$1 conns=$2 out=$TMP/$1.wrk.txt
	if ((WARMUP > 0)); then
		CLIENT_ID=$CLIENT_ID CLIENT_SECRET=$CLIENT_SECRET "$WRK" -t"$THREADS" -c"$conns" -d"${WARMUP}s" \
			-s "$BENCH_DIR/wrk/token_polite.lua" "$TOKEN_URL" >/dev/null 2>&1 || die "wrk warm-up failed"
	fi
	curl -s --max-time 5 "$BASE/metrics" >"$TMP/$name.before" || die "GET /metrics failed"
	log "$name: ${DURATION}s, wrk -t$THREADS -c$conns, and one probing client"
	CLIENT_ID=$CLIENT_ID CLIENT_SECRET=$CLIENT_SECRET "$TMP/bin/probe" -url "$TOKEN_URL" -duration "${DURATION}s" \
		>"$TMP/$name.probe" 2>&1 &
	local probe_pid=$!
	CLIENT_ID=$CLIENT_ID CLIENT_SECRET=$CLIENT_SECRET "$WRK" -t"$THREADS" -c"$conns" -d"${DURATION}s" --latency \
		-s "$BENCH_DIR/wrk/token_polite.lua" "$TOKEN_URL" >"$out" 2>&1 || {
		cat "$out" >&2
		die "wrk failed"
	}
	wait "$probe_pid" || die "probe failed: $(cat "$TMP/$name.probe")"
	PROBE[$name]=$(cat "$TMP/$name.probe")
	NODE_OF[$name]=$NODE
	curl -s --max-time 5 "$BASE/metrics" >"$TMP/$name.after" || die "GET /metrics failed"
	local total non2xx shed sock statuses
	total=$(awk '/requests in/ { print $1 }' "$out")
	non2xx=$(awk '/^bench: non-2xx responses:/ { print $4 }' "$out")
	statuses=$(sed -n 's/^bench: non-2xx by status: //p' "$out")
	shed=$(tr ' ' '\n' <<<"$statuses" | awk -F= '$1 == "503" { print $2 }')
	sock=$(awk '/^[[:space:]]*Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")
	OK_RPS[$name]=$(awk -v t="$total" -v n="${non2xx:-0}" -v d="$DURATION" 'BEGIN { printf "%.0f", (t - n) / d }')
	SHED_RPS[$name]=$(awk -v s="${shed:-0}" -v d="$DURATION" 'BEGIN { printf "%.0f", s / d }')
	P50[$name]=$(awk '/Latency Distribution/ { d = 1; next } d && $1 == "50%" { print $2; exit }' "$out")
	P99[$name]=$(awk '/Latency Distribution/ { d = 1; next } d && $1 == "99%" { print $2; exit }' "$out")
	ADMITTED_P99[$name]=$(admitted_p99 "$TMP/$name.before" "$TMP/$name.after")
	CONNS_OF[$name]=$conns
	OTHER[$name]=$(($((${non2xx:-0} - ${shed:-0})) + ${sock:-0}))
	if ((OTHER[$name] > 0)); then
		log "$name: unexpected answers or socket errors: $statuses $(sed -n 's/^[[:space:]]*Socket errors: //p' "$out")"
	fi
	RUNS+=("$name")
	log "$name: ${OK_RPS[$name]} answered 200/s, ${SHED_RPS[$name]} shed (503)/s, p99 ${P99[$name]}, admitted p99 ${ADMITTED_P99[$name]} ms"
}

NODE="--max-in-flight $BOUND --shed-delay $SHED"
start bounded "$BOUND" "$SHED"
run capacity "$CONNS"
run overload $((FACTOR * CONNS))
stop_pid "$PID"
NODE="--max-in-flight 1000000 --shed-delay 0s"
start unbounded 1000000 0s
run unbounded $((FACTOR * CONNS))

printf '## keyhold overload (bench/overload.sh)\n\n'
printf -- '- commit %s, %s, %s cores; wrk -t%s shares the cores with keyhold; %ss per run after %ss warm-up\n' \
	"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(go env GOVERSION)" "$(nproc)" \
	"$THREADS" "$DURATION" "$WARMUP"
printf -- '- token endpoint (client_credentials); the probe is one more client sending one request at a time every 50 ms\n\n'
printf '| run | node | wrk connections | 200/s | 503/s | wrk p50 (all) | wrk p99 (all) | p99 of 200s in the handler | other errors | probe: 200s | probe: other | probe p50 ms | probe p99 ms | probe max ms |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n'
for name in "${RUNS[@]}"; do
	printf '| %s | `%s` | %s | %s | %s | %s | %s | %s ms | %s | %s |\n' "$name" "${NODE_OF[$name]}" "${CONNS_OF[$name]}" "${OK_RPS[$name]}" \
		"${SHED_RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "${ADMITTED_P99[$name]}" "${OTHER[$name]}" "${PROBE[$name]}"
done
for name in "${RUNS[@]}"; do
	((OTHER[$name] == 0)) || exit 1
done
