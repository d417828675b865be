#!/usr/bin/env bash
# bench/run.sh: keyhold's load harness. See bench/README.md.
#
# Run from anywhere (usually the repo root):   bash bench/run.sh
#
# Builds keyhold and the minimal signer, starts both on 127.0.0.1, drives each scenario with
# wrk (a 2 s warm-up, then DURATION seconds with --latency; bench/authload for the requests wrk
# cannot make, each carrying a fresh signed JWT: j, k), and prints a Markdown report
# on stdout; progress goes to stderr. Exits 1 if any scenario saw errors (non-2xx responses
# or socket errors), after printing the report. Every process it starts is stopped on exit.
#
# Environment (all optional):
#   DURATION=10        seconds measured per scenario
#   CONNS=64           wrk connections (-c)
#   CONNS_<scenario>=N connections for one scenario, e.g. CONNS_keyhold_authzen=8 (latency at
#                      a load the cores can serve without a queue; see bench/README.md)
#   THREADS=2          wrk threads (-t)
#   THREADS_<scenario>=N  wrk threads for one scenario (g and i: 1 unless set; see bench/README.md)
#   WARMUP=2           seconds of warm-up before each scenario (0 disables it)
#   SCENARIOS="..."    which scenarios, in order (default: all; see ALL_SCENARIOS)
#   MINSIGNER_ALG=ES256   ES256 or EdDSA for the minimal signer
#   KEYHOLD_BIN=path   use this keyhold binary instead of building ./cmd/keyhold
#   KEYHOLD_PORT=18080 MINSIGNER_PORT=18090   first port tried (the next free one is used)
#   READY_TIMEOUT=60   seconds to wait for GET /readyz
#   KEEP_TMP=1         keep the temp dir (wrk outputs, server logs) and print its path
#   WRK=wrk            the wrk binary
#   IAM_WORKSPACES=10000  workspaces of the AuthZEN scenarios' data set (100 assignments each)
#   AUTHZEN_BATCH=10   evaluations per request in keyhold_authzen_batch
#   AUTHLOAD_ALG=ES256 ES256 or EdDSA: the client's key in the private_key_jwt and DPoP scenarios
#   BACKEND=sqlite     sqlite (a fresh data directory) or postgres (a fresh database created on
#                      PG_ADMIN_URL with psql, dropped at the end)
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)

DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2}
MINSIGNER_ALG=${MINSIGNER_ALG:-ES256}
KEYHOLD_BIN=${KEYHOLD_BIN:-}
READY_TIMEOUT=${READY_TIMEOUT:-60}
KEEP_TMP=${KEEP_TMP:-0}
WRK=${WRK:-wrk}
IAM_WORKSPACES=${IAM_WORKSPACES:-10000}
AUTHZEN_BATCH=${AUTHZEN_BATCH:-10}
AUTHLOAD_ALG=${AUTHLOAD_ALG:-ES256}
BACKEND=${BACKEND:-sqlite}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}

# ----------------------------------------------------------------------------------------
# Scenario registry. Order here is the default run order and the table order.
# ----------------------------------------------------------------------------------------
ALL_SCENARIOS=(minsigner keyhold_token keyhold_token_go keyhold_token_private_key_jwt keyhold_token_dpop keyhold_credentials_get keyhold_token_exchange keyhold_authzen keyhold_authzen_batch keyhold_authzen_latency keyhold_authzen_condition keyhold_authzen_condition_latency)
declare -A SCENARIO_LABEL=(
	[minsigner]="a. minimal signer: POST /token (${MINSIGNER_ALG}, no auth, no storage)"
	[keyhold_token]="b. keyhold: POST tokenUrl (client_credentials, client_secret_post)"
	[keyhold_token_go]="b2. keyhold: b sent by bench/authload instead of wrk (the generator of j and k)"
	[keyhold_token_private_key_jwt]="j. keyhold: POST tokenUrl (client_credentials, private_key_jwt: a fresh ${AUTHLOAD_ALG} client assertion per request, jti recorded)"
	[keyhold_token_dpop]="k. keyhold: POST tokenUrl (client_credentials, client_secret_post + a fresh ${AUTHLOAD_ALG} DPoP proof per request, jti recorded)"
	[keyhold_credentials_get]="c. keyhold: GET /workspaces/v1/credentials (Bearer)"
	[keyhold_token_exchange]="d. keyhold: POST tenant tokenUrl (RFC 8693 token exchange of an MSP token)"
	[keyhold_authzen]="e. keyhold: POST /access/v1/evaluation (AuthZEN, 1 decision per request, IAM data set)"
	[keyhold_authzen_batch]="f. keyhold: POST /access/v1/evaluations (AuthZEN, ${AUTHZEN_BATCH} decisions per request, IAM data set)"
	[keyhold_authzen_latency]="g. keyhold: POST /access/v1/evaluation as e, with few connections (latency without a queue)"
	[keyhold_authzen_condition]="h. keyhold: POST /access/v1/evaluation allowed only by a conditional assignment (CEL over request properties and stored attributes)"
	[keyhold_authzen_condition_latency]="i. keyhold: h with few connections (latency without a queue)"
)
# Connections of a scenario when CONNS_<scenario> is not set (otherwise CONNS).
declare -A SCENARIO_CONNS=(
	[keyhold_authzen_latency]=2
	[keyhold_authzen_condition_latency]=2
)
# wrk threads of a scenario when THREADS_<scenario> is not set (otherwise THREADS). One thread
# drives two request-response connections with time to spare; a second one only competes with
# the server for the same two cores (bench/README.md, "g. evaluation latency").
declare -A SCENARIO_THREADS=(
	[keyhold_authzen_latency]=1
	[keyhold_authzen_condition_latency]=1
)
# Scenarios that need keyhold running. keyhold is started before any scenario runs, so the
# minimal signer can sign with keyhold's issuer and workspace id (same token size).
declare -A SCENARIO_NEEDS_KEYHOLD=(
	[keyhold_token]=1
	[keyhold_token_go]=1
	[keyhold_token_private_key_jwt]=1
	[keyhold_token_dpop]=1
	[keyhold_credentials_get]=1
	[keyhold_token_exchange]=1
	[keyhold_authzen]=1
	[keyhold_authzen_batch]=1
	[keyhold_authzen_latency]=1
	[keyhold_authzen_condition]=1
	[keyhold_authzen_condition_latency]=1
)
read -r -a SELECTED <<<"${SCENARIOS:-${ALL_SCENARIOS[*]}}"

# ----------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------
log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/keyhold-bench.XXXXXX")
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

# forget_pid PID: drop a reaped process from PIDS, so cleanup never signals a reused pid.
forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	if [[ $KEEP_TMP == 1 ]]; then
		log "kept $TMP"
		[[ -n ${PG_DB:-} ]] && log "kept database $PG_DB"
	else
		rm -rf "$TMP"
		if [[ -n ${PG_DB:-} ]]; then
			psql "$PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 ||
				log "could not drop database $PG_DB"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port FIRST: the first port from FIRST on that nothing listens on.
pick_port() {
	local p=$1
	while port_in_use "$p"; do
		p=$((p + 1))
		((p < 65536)) || die "no free port from $1 up"
	done
	printf '%s' "$p"
}

# is_loopback_url URL: only 127.0.0.0/8, localhost and [::1] may be loaded.
is_loopback_url() {
	[[ $1 =~ ^https?://(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\])(:[0-9]+)?(/|$) ]]
}

# urlencode S: percent-encodes S for a form body (RFC 3986 unreserved characters stay).
urlencode() {
	local LC_ALL=C s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[a-zA-Z0-9.~_-]) out+=$c ;;
		*)
			printf -v c '%%%02X' "'$c"
			out+=$c
			;;
		esac
	done
	printf '%s' "$out"
}

# token_request URL ID SECRET OUTFILE: one client_credentials request with
# client_secret_post; prints the HTTP status, the body goes to OUTFILE. The secret goes
# through stdin, not curl's argv.
token_request() {
	local url=$1 id=$2 secret=$3 out=$4
	printf 'grant_type=client_credentials&client_id=%s&client_secret=%s' \
		"$(urlencode "$id")" "$(urlencode "$secret")" |
		curl -sS --max-time 10 -o "$out" -w '%{http_code}' \
			-H 'Content-Type: application/x-www-form-urlencoded' -H 'Accept: application/json' \
			--data-binary @- "$url"
}

# wait_ready NAME URL PID LOG: waits until URL answers 200, or fails if PID dies first.
wait_ready() {
	local name=$1 url=$2 pid=$3 logf=$4 deadline code
	deadline=$((SECONDS + READY_TIMEOUT))
	while :; do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "$name exited before it was ready; last lines of its log:"
			tail -n 30 "$logf" >&2 || true
			die "$name did not start"
		fi
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
		[[ $code == 200 ]] && return 0
		if ((SECONDS >= deadline)); then
			tail -n 30 "$logf" >&2 || true
			die "$name: GET $url did not answer 200 within ${READY_TIMEOUT}s (last status: ${code:-none})"
		fi
		sleep 0.2
	done
}

# ----------------------------------------------------------------------------------------
# Build and start
# ----------------------------------------------------------------------------------------
# keyhold runs with shedding by delay off (KEYHOLD_SHED_DELAY=0s; an environment variable, so
# that a binary older than the setting ignores it): these scenarios load it to saturation on
# purpose, to measure capacity, and a refused request would count as an error. overload.sh
# measures shedding.
build_tools() {
	log "building bench tools (minsigner, jsonfield, authload)"
	mkdir -p "$TMP/bin"
	(cd "$BENCH_DIR" && go build -o "$TMP/bin/" ./minsigner ./jsonfield ./authload) ||
		die "building the bench module failed"
	JSONFIELD=$TMP/bin/jsonfield
}

# The store of every keyhold command of the run: a fresh SQLite data directory, or with
# BACKEND=postgres a fresh database created on PG_ADMIN_URL (dropped at exit unless KEEP_TMP=1).
STORE_ARGS=()
LOADIAM_STORE=()
PG_DB=''
setup_store() {
	case $BACKEND in
	sqlite)
		mkdir -p "$TMP/data"
		STORE_ARGS=(--data-dir "$TMP/data")
		LOADIAM_STORE=(-data-dir "$TMP/data")
		;;
	postgres)
		command -v psql >/dev/null || die "BACKEND=postgres needs psql"
		local db=keyhold_bench_$$_$RANDOM base query=''
		psql "$PG_ADMIN_URL" -qAtc "CREATE DATABASE $db" >/dev/null || die "cannot create database $db on $PG_ADMIN_URL"
		PG_DB=$db
		base=${PG_ADMIN_URL%%\?*}
		[[ $PG_ADMIN_URL == *\?* ]] && query=?${PG_ADMIN_URL#*\?}
		STORE_ARGS=(--database "${base%/*}/$db$query")
		LOADIAM_STORE=(-database "${base%/*}/$db$query")
		log "store: PostgreSQL database $db"
		;;
	*) die "BACKEND=$BACKEND: want sqlite or postgres" ;;
	esac
}

KEYHOLD_BASE=''
start_keyhold() {
	if [[ -z $KEYHOLD_BIN ]]; then
		log "building keyhold (./cmd/keyhold)"
		(cd "$ROOT" && go build -o "$TMP/keyhold" ./cmd/keyhold) ||
			die "building ./cmd/keyhold failed (KEYHOLD_BIN=path runs a binary you built)"
		KEYHOLD_BIN=$TMP/keyhold
		KEYHOLD_DESC="built from $ROOT"
	fi
	local port
	port=$(pick_port "${KEYHOLD_PORT:-18080}")
	setup_store
	log "starting keyhold on 127.0.0.1:$port"
	KEYHOLD_SHED_DELAY=0s "$KEYHOLD_BIN" serve --listen "127.0.0.1:$port" "${STORE_ARGS[@]}" \
		>"$TMP/keyhold.stdout" 2>"$TMP/keyhold.stderr" &
	KEYHOLD_PID=$!
	PIDS+=("$KEYHOLD_PID")
	KEYHOLD_BASE=http://127.0.0.1:$port
	wait_ready keyhold "$KEYHOLD_BASE/readyz" "$KEYHOLD_PID" "$TMP/keyhold.stderr"

	# The first start prints one JSON line with the bootstrap workspace and API client.
	local deadline=$((SECONDS + 10)) fields
	until grep -q '^[[:space:]]*{' "$TMP/keyhold.stdout" 2>/dev/null; do
		((SECONDS < deadline)) || die "keyhold printed no JSON line on stdout (see $TMP/keyhold.stdout; KEEP_TMP=1 keeps it)"
		sleep 0.1
	done
	fields=$("$JSONFIELD" -first-object workspaceId workspaceName workspaceType userId \
		clientId clientSecret issuer tokenUrl <"$TMP/keyhold.stdout") ||
		die "keyhold's first-start line lacks a field (see above)"
	local f
	mapfile -t f <<<"$fields"
	WORKSPACE_ID=${f[0]} WORKSPACE_NAME=${f[1]} WORKSPACE_TYPE=${f[2]} USER_ID=${f[3]}
	CLIENT_ID=${f[4]} CLIENT_SECRET=${f[5]} ISSUER=${f[6]} TOKEN_URL=${f[7]}
	is_loopback_url "$TOKEN_URL" || die "tokenUrl $TOKEN_URL is not a loopback address; refusing to load it"
	log "keyhold ready: workspace $WORKSPACE_NAME ($WORKSPACE_TYPE, $WORKSPACE_ID), user $USER_ID, client $CLIENT_ID"
	log "  issuer $ISSUER, tokenUrl $TOKEN_URL"
}

MINSIGNER_URL=''
start_minsigner() {
	local port args ws
	port=$(pick_port "${MINSIGNER_PORT:-18090}")
	args=(-listen "127.0.0.1:$port" -alg "$MINSIGNER_ALG")
	# Same iss and hpe_workspace_id as keyhold's tokens, when keyhold runs: same token size.
	if [[ -n ${ISSUER:-} ]]; then
		args+=(-issuer "$ISSUER")
	fi
	ws=${WORKSPACE_ID:-}
	ws=${ws//-/}
	ws=${ws,,}
	if [[ $ws =~ ^[0-9a-f]{32}$ ]]; then
		args+=(-workspace-id "$ws")
	fi
	log "starting minimal signer on 127.0.0.1:$port (${MINSIGNER_ALG})"
	"$TMP/bin/minsigner" "${args[@]}" >"$TMP/minsigner.log" 2>&1 &
	MINSIGNER_PID=$!
	PIDS+=("$MINSIGNER_PID")
	wait_ready minsigner "http://127.0.0.1:$port/readyz" "$MINSIGNER_PID" "$TMP/minsigner.log"
	MINSIGNER_URL=http://127.0.0.1:$port/token
}

# ----------------------------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------------------------
declare -A RPS=() P50=() P90=() P99=() ERRORS=() ERROR_DETAIL=() CONNS_OF=() THREADS_OF=()
RAN=()

# to_ms VALUE: wrk's time ("412.00us", "1.41ms", "2.03s", "1.50m") in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") f = 0.001; else if (u == "ms") f = 1; else if (u == "s") f = 1000
		else if (u == "m") f = 60000; else if (u == "h") f = 3600000; else exit 1
		printf "%.2f", n * f }'
}

# parse_wrk NAME FILE: fills RPS, P50, P90, P99, ERRORS, ERROR_DETAIL for NAME from wrk's output
# (or bench/authload's, which prints the same lines).
parse_wrk() {
	local name=$1 file=$2 rps p50 p90 p99 sock non2xx detail=''
	rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$file")
	p50=$(awk '/Latency Distribution/ { d = 1; next } d && $1 == "50%" { print $2; exit }' "$file")
	p90=$(awk '/Latency Distribution/ { d = 1; next } d && $1 == "90%" { print $2; exit }' "$file")
	p99=$(awk '/Latency Distribution/ { d = 1; next } d && $1 == "99%" { print $2; exit }' "$file")
	if [[ -z $rps || -z $p50 || -z $p90 || -z $p99 ]]; then
		log "cannot read wrk's output for $name:"
		cat "$file" >&2
		die "unparseable wrk output"
	fi
	# "Socket errors: connect 0, read 2, write 0, timeout 7" appears only when there are some.
	sock=$(awk '/^[[:space:]]*Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$file")
	sock=${sock:-0}
	# Our Lua scripts print the exact non-2xx count; wrk's own line counts >= 400 only.
	non2xx=$(awk '/^bench: non-2xx responses:/ { print $4 }' "$file")
	if [[ -z $non2xx ]]; then
		non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$file")
	fi
	non2xx=${non2xx:-0}
	if ((non2xx > 0)); then
		detail+="non-2xx $non2xx ($(sed -n 's/^bench: non-2xx by status: //p' "$file")); "
		detail+="first: $(sed -n 's/^bench: first non-2xx: //p' "$file" | cut -c1-160); "
	fi
	if ((sock > 0)); then
		detail+="$(sed -n 's/^[[:space:]]*Socket errors: //p' "$file"); "
	fi
	RPS[$name]=$(printf '%.0f' "$rps")
	P50[$name]=$(to_ms "$p50") || die "unknown time unit in $p50"
	P90[$name]=$(to_ms "$p90") || die "unknown time unit in $p90"
	P99[$name]=$(to_ms "$p99") || die "unknown time unit in $p99"
	ERRORS[$name]=$((non2xx + sock))
	ERROR_DETAIL[$name]=${detail%; }
}

# threads_for NAME: the wrk threads of scenario NAME: THREADS_<NAME> if set, else the
# scenario's own default, else THREADS.
threads_for() {
	local v="THREADS_$1"
	v=${!v:-${SCENARIO_THREADS[$1]:-$THREADS}}
	is_uint "$v" && ((v > 0)) || die "THREADS_$1=$v: want a whole number > 0"
	printf '%s' "$v"
}

# conns_for NAME: the wrk connections of scenario NAME: CONNS_<NAME> if set, else the
# scenario's own default, else CONNS.
conns_for() {
	local v="CONNS_$1" t
	v=${!v:-${SCENARIO_CONNS[$1]:-$CONNS}}
	t=$(threads_for "$1")
	is_uint "$v" && ((v >= t)) || die "CONNS_$1=$v: want a whole number >= the scenario's wrk threads ($t)"
	printf '%s' "$v"
}

# wrk_once OUTFILE SECONDS URL SCRIPT CONNS THREADS [NAME=VALUE...]: one wrk run in the
# background (so the traps can stop it), the NAME=VALUE pairs exported to it only (not on its
# command line).
wrk_once() {
	local out=$1 secs=$2 url=$3 script=$4 conns=$5 threads=$6
	shift 6
	is_loopback_url "$url" || die "$url is not a loopback address; refusing to load it"
	(
		for kv in "$@"; do export "${kv?}"; done
		exec "$WRK" -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$script" "$url"
	) >"$out" 2>&1 &
	local pid=$! rc=0
	PIDS+=("$pid")
	wait "$pid" || rc=$?
	forget_pid "$pid"
	if ((rc != 0)); then
		cat "$out" >&2
		die "wrk failed (exit $rc)"
	fi
}

# run_wrk NAME URL SCRIPT [NAME=VALUE...]: warm-up, then the measured run, then parse.
run_wrk() {
	local name=$1 url=$2 script=$3 conns threads
	shift 3
	conns=$(conns_for "$name")
	threads=$(threads_for "$name")
	CONNS_OF[$name]=$conns
	THREADS_OF[$name]=$threads
	if ((WARMUP > 0)); then
		log "$name: warm-up ${WARMUP}s"
		wrk_once "$TMP/$name.warmup.txt" "$WARMUP" "$url" "$script" "$conns" "$threads" "$@"
	fi
	log "$name: measuring ${DURATION}s (wrk -t$threads -c$conns) against $url"
	wrk_once "$TMP/$name.wrk.txt" "$DURATION" "$url" "$script" "$conns" "$threads" "$@"
	parse_wrk "$name" "$TMP/$name.wrk.txt"
	RAN+=("$name")
	log "$name: ${RPS[$name]} req/s, p50 ${P50[$name]} ms, p90 ${P90[$name]} ms, p99 ${P99[$name]} ms, errors ${ERRORS[$name]}"
}

# preflight_token NAME URL: one token request must succeed before the scenario is loaded.
preflight_token() {
	local name=$1 url=$2 code
	code=$(token_request "$url" "$CLIENT_ID" "$CLIENT_SECRET" "$TMP/$name.preflight.json") || true
	if [[ $code != 200 ]]; then
		log "$name: preflight POST $url answered ${code:-nothing}:"
		head -c 1000 "$TMP/$name.preflight.json" >&2 2>/dev/null || true
		echo >&2
		die "$name: preflight failed"
	fi
}

# ----------------------------------------------------------------------------------------
# Scenarios. Each: preflight one request with curl, then run_wrk.
# ----------------------------------------------------------------------------------------

# a. The practical limit: parse the form, sign the same claims, encode. Nothing else.
scenario_minsigner() {
	[[ -n $MINSIGNER_URL ]] || start_minsigner
	# The minimal signer checks no credentials; keyhold's client id when there is one keeps
	# the sub and client_id claims the same length as keyhold's.
	CLIENT_ID=${CLIENT_ID:-bench-client} CLIENT_SECRET=${CLIENT_SECRET:-unchecked} \
		preflight_token minsigner "$MINSIGNER_URL"
	run_wrk minsigner "$MINSIGNER_URL" "$BENCH_DIR/wrk/token.lua" \
		"CLIENT_ID=${CLIENT_ID:-bench-client}" "CLIENT_SECRET=${CLIENT_SECRET:-unchecked}"
}

# b. keyhold's token endpoint: client authentication, storage lookups, audit, signing.
scenario_keyhold_token() {
	preflight_token keyhold_token "$TOKEN_URL"
	run_wrk keyhold_token "$TOKEN_URL" "$BENCH_DIR/wrk/token.lua" \
		"CLIENT_ID=$CLIENT_ID" "CLIENT_SECRET=$CLIENT_SECRET"
}

# run_authload NAME MODE: bench/authload (its own warm-up, the signing of its pool, the
# measured run) instead of wrk; its output has wrk's lines, read by parse_wrk. Its lines about
# the pool and DPoP nonces go to the notes. It preflights one request itself and exits 2 with
# the server's answer when that fails, 3 when the server lacks the feature (then skipped).
run_authload() {
	local name=$1 mode=$2 conns out pid rc=0 line
	conns=$(conns_for "$name")
	CONNS_OF[$name]=$conns
	THREADS_OF[$name]=- # not wrk: a Go program on GOMAXPROCS threads
	out=$TMP/$name.wrk.txt
	is_loopback_url "$TOKEN_URL" || die "$TOKEN_URL is not a loopback address; refusing to load it"
	log "$name: bench/authload -mode $mode, ${WARMUP}s warm-up, measuring ${DURATION}s on $conns connections"
	CLIENT_ID=$CLIENT_ID CLIENT_SECRET=$CLIENT_SECRET "$TMP/bin/authload" -mode "$mode" -url "$TOKEN_URL" \
		-api "$KEYHOLD_BASE" -alg "$AUTHLOAD_ALG" -c "$conns" -d "${DURATION}s" -warmup "${WARMUP}s" \
		>"$out" 2>"$TMP/$name.authload.log" &
	pid=$!
	PIDS+=("$pid")
	wait "$pid" || rc=$?
	forget_pid "$pid"
	if ((rc == 3)); then
		# The binary lacks what the scenario measures (KEYHOLD_BIN older than private_key_jwt or
		# DPoP): noted and skipped, so that a run comparing such a binary gives its other rows.
		line=$(sed -n 's/^authload: //p' "$TMP/$name.authload.log" | tail -n 1)
		log "$name: skipped: $line"
		NOTES+=("${SCENARIO_LABEL[$name]%%.*}: not measured: ${line:0:200}")
		return 0
	fi
	if ((rc != 0)); then
		cat "$TMP/$name.authload.log" "$out" >&2
		die "$name: bench/authload failed (exit $rc)"
	fi
	parse_wrk "$name" "$out"
	RAN+=("$name")
	line=$(sed -n 's/^bench: pool: //p' "$out")
	[[ -n $line ]] && NOTES+=("${SCENARIO_LABEL[$name]%%.*}: $line")
	line=$(sed -n 's/^bench: dpop nonce: //p' "$out")
	[[ -n $line ]] && NOTES+=("${SCENARIO_LABEL[$name]%%.*}: DPoP nonce $line")
	log "$name: ${RPS[$name]} req/s, p50 ${P50[$name]} ms, p90 ${P90[$name]} ms, p99 ${P99[$name]} ms, errors ${ERRORS[$name]}"
}

# b2. b's request from bench/authload: the baseline j and k are compared with.
scenario_keyhold_token_go() {
	run_authload keyhold_token_go secret
}

# j. private_key_jwt: authload makes a credential with an inline JWKS of its key (through the
# API, as the bootstrap client) and sends a fresh client assertion per request: signature
# verification, claim checks, and the jti's insert into the store (one SQL write per token).
scenario_keyhold_token_private_key_jwt() {
	run_authload keyhold_token_private_key_jwt private_key_jwt
}

# k. DPoP: the bootstrap client with client_secret_post and a fresh proof per request: proof
# verification, the jti's insert into the store, a token bound to the key (cnf.jkt). Server
# nonces are followed when the server asks for them (see bench/README.md).
scenario_keyhold_token_dpop() {
	run_authload keyhold_token_dpop dpop
}

# c. A read behind keyhold's bearer-token check: token verification + authorization + list.
scenario_keyhold_credentials_get() {
	local code token url=$KEYHOLD_BASE/workspaces/v1/credentials
	if ((WARMUP + DURATION >= 840)); then
		log "warning: WARMUP+DURATION approaches the 900 s token lifetime; late requests may get 401"
	fi
	code=$(token_request "$TOKEN_URL" "$CLIENT_ID" "$CLIENT_SECRET" "$TMP/token.json") || true
	[[ $code == 200 ]] || {
		head -c 1000 "$TMP/token.json" >&2 || true
		echo >&2
		die "keyhold_credentials_get: getting a token answered ${code:-nothing}"
	}
	token=$("$JSONFIELD" access_token <"$TMP/token.json") || die "no access_token in token response"
	code=$(curl -sS --max-time 10 -o "$TMP/credentials.json" -w '%{http_code}' \
		-H "Authorization: Bearer $token" -H 'Accept: application/json' "$url") || true
	if [[ $code != 200 ]]; then
		log "keyhold_credentials_get: preflight GET $url answered ${code:-nothing}:"
		head -c 1000 "$TMP/credentials.json" >&2 || true
		echo >&2
		die "keyhold_credentials_get: preflight failed"
	fi
	run_wrk keyhold_credentials_get "$url" "$BENCH_DIR/wrk/bearer_get.lua" "TOKEN=$token"
}

# d. Token exchange: an MSP workspace (made with `keyhold workspace create --type MSP` beside
# the running server), one tenant made through the API, and the MSP administrator's token
# exchanged at the tenant's token endpoint: subject verification (cached), the MSP rules, signing.
scenario_keyhold_token_exchange() {
	local code msp_token tenant_id tenant_url hex
	"$KEYHOLD_BIN" workspace create "${STORE_ARGS[@]}" --name bench-msp --type MSP \
		--admin-email bench@msp.example --base-url "$KEYHOLD_BASE" >"$TMP/msp.json" ||
		die "keyhold_token_exchange: workspace create failed"
	code=$(token_request "$("$JSONFIELD" tokenUrl <"$TMP/msp.json")" "$("$JSONFIELD" clientId <"$TMP/msp.json")" \
		"$("$JSONFIELD" clientSecret <"$TMP/msp.json")" "$TMP/msp-token.json") || true
	[[ $code == 200 ]] || die "keyhold_token_exchange: MSP token answered ${code:-nothing}"
	msp_token=$("$JSONFIELD" access_token <"$TMP/msp-token.json")
	code=$(curl -sS --max-time 10 -o "$TMP/tenant.json" -w '%{http_code}' -H "Authorization: Bearer $msp_token" \
		-H 'Content-Type: application/json' -d '{"workspaceName":"bench tenant"}' "$KEYHOLD_BASE/workspaces/v1/msp-tenants") || true
	[[ $code == 201 ]] || die "keyhold_token_exchange: creating a tenant answered ${code:-nothing}: $(head -c 500 "$TMP/tenant.json")"
	tenant_id=$("$JSONFIELD" id <"$TMP/tenant.json")
	hex=${tenant_id//-/}
	tenant_url=$KEYHOLD_BASE/authorization/v2/oauth2/$hex/token
	code=$(curl -sS --max-time 10 -o "$TMP/exchange.json" -w '%{http_code}' \
		--data-urlencode grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
		--data-urlencode "subject_token=$msp_token" \
		--data-urlencode subject_token_type=urn:ietf:params:oauth:token-type:access_token "$tenant_url") || true
	[[ $code == 200 ]] || die "keyhold_token_exchange: preflight exchange answered ${code:-nothing}: $(head -c 500 "$TMP/exchange.json")"
	run_wrk keyhold_token_exchange "$tenant_url" "$BENCH_DIR/wrk/exchange.lua" "SUBJECT_TOKEN=$msp_token"
}

# e, f. AuthZEN decisions over the IAM data set (bench/loadiam: IAM_WORKSPACES workspaces of
# 100 role assignments, 1,000,000 by default), asked by the bootstrap administrator (who may
# ask about every workspace): token verification (cached), the caller's own authorization,
# then one decision per evaluation, from memory.
IAM_LOADED=0
NOTES=()

# load_iam_data: stops keyhold, bulk-loads the data set into its data directory, and starts
# it again on the same address: a node builds its decision engine from the store when it
# starts. Notes the load and start times and the node's memory.
load_iam_data() {
	((IAM_LOADED)) && return 0
	local port=${KEYHOLD_BASE##*:} t0 rss heap
	log "building bench/loadiam"
	(cd "$BENCH_DIR" && go build -o "$TMP/bin/" ./loadiam) || die "building bench/loadiam failed"
	stop_pid "$KEYHOLD_PID"
	forget_pid "$KEYHOLD_PID"
	log "loading the IAM data set: $IAM_WORKSPACES workspaces, $((IAM_WORKSPACES * 100)) role assignments"
	"$TMP/bin/loadiam" "${LOADIAM_STORE[@]}" -workspaces "$IAM_WORKSPACES" >"$TMP/loadiam.json" || die "loadiam failed"
	log "loaded: $(cat "$TMP/loadiam.json")"
	t0=$SECONDS
	KEYHOLD_SHED_DELAY=0s "$KEYHOLD_BIN" serve --listen "127.0.0.1:$port" "${STORE_ARGS[@]}" \
		>"$TMP/keyhold-iam.stdout" 2>"$TMP/keyhold-iam.stderr" &
	KEYHOLD_PID=$!
	PIDS+=("$KEYHOLD_PID")
	READY_TIMEOUT=$((READY_TIMEOUT > 300 ? READY_TIMEOUT : 300)) \
		wait_ready keyhold "$KEYHOLD_BASE/readyz" "$KEYHOLD_PID" "$TMP/keyhold-iam.stderr"
	curl -sS --max-time 10 "$KEYHOLD_BASE/metrics" >"$TMP/metrics.txt" || true
	rss=$(awk '$1 == "process_resident_memory_bytes" { printf "%.0f", $2 / 1048576 }' "$TMP/metrics.txt")
	heap=$(awk '$1 == "go_memstats_heap_inuse_bytes" { printf "%.0f", $2 / 1048576 }' "$TMP/metrics.txt")
	NOTES+=("IAM data set: $(cat "$TMP/loadiam.json"); keyhold restarted and ready in $((SECONDS - t0)) s; after start: RSS ${rss:-?} MiB, Go heap in use ${heap:-?} MiB")
	IAM_LOADED=1
}

# authzen_preflight NAME TOKEN: one evaluation that must be allowed.
authzen_preflight() {
	local name=$1 token=$2 code body
	# User 2 of workspace 0 holds the custom role on servers/2 (ids as package iamload makes them).
	body='{"subject":{"type":"user","id":"00000000-0001-4000-8000-000000000002"},"action":{"name":"svc.servers.view"},'
	body+='"resource":{"type":"svc/nics","id":"grn:glp/workspaces/00000000000040008000000000000000/regions/default/providers/svc/servers/2/nics/0"}}'
	code=$(curl -sS --max-time 10 -o "$TMP/$name.preflight.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' -d "$body" "$KEYHOLD_BASE/access/v1/evaluation") || true
	if [[ $code != 200 ]] || ! grep -q '"decision":true' "$TMP/$name.preflight.json"; then
		log "$name: preflight evaluation answered ${code:-nothing}: $(head -c 500 "$TMP/$name.preflight.json")"
		die "$name: preflight failed"
	fi
}

# authzen_token: a fresh token of the bootstrap administrator.
authzen_token() {
	local code
	code=$(token_request "$TOKEN_URL" "$CLIENT_ID" "$CLIENT_SECRET" "$TMP/authzen-token.json") || true
	[[ $code == 200 ]] || die "AuthZEN scenarios: getting a token answered ${code:-nothing}"
	"$JSONFIELD" access_token <"$TMP/authzen-token.json"
}

# run_authzen NAME PATH BATCH: the AuthZEN scenarios: data set, token, one preflight, wrk.
run_authzen() {
	local name=$1 path=$2 batch=$3 token
	load_iam_data
	token=$(authzen_token)
	authzen_preflight "$name" "$token"
	run_wrk "$name" "$KEYHOLD_BASE$path" "$BENCH_DIR/wrk/authzen.lua" \
		"TOKEN=$token" "WORKSPACES=$IAM_WORKSPACES" "BATCH=$batch"
}

scenario_keyhold_authzen() {
	run_authzen keyhold_authzen /access/v1/evaluation 0
	NOTES+=("e: ${RPS[keyhold_authzen]} evaluations/s (one per request), p99 ${P99[keyhold_authzen]} ms")
}

scenario_keyhold_authzen_batch() {
	is_uint "$AUTHZEN_BATCH" && ((AUTHZEN_BATCH > 0)) || die "AUTHZEN_BATCH=$AUTHZEN_BATCH: want a whole number > 0"
	run_authzen keyhold_authzen_batch /access/v1/evaluations "$AUTHZEN_BATCH"
	NOTES+=("f: $((RPS[keyhold_authzen_batch] * AUTHZEN_BATCH)) evaluations/s (${RPS[keyhold_authzen_batch]} requests/s of $AUTHZEN_BATCH), p99 ${P99[keyhold_authzen_batch]} ms per request")
}

# g. e with few connections: what one evaluation costs a caller when requests do not queue
# behind each other (with 64 connections, latency is mostly queueing; see bench/README.md).
scenario_keyhold_authzen_latency() {
	run_authzen keyhold_authzen_latency /access/v1/evaluation 0
	NOTES+=("g: ${RPS[keyhold_authzen_latency]} evaluations/s with ${CONNS_OF[keyhold_authzen_latency]} connections, p50 ${P50[keyhold_authzen_latency]} ms, p99 ${P99[keyhold_authzen_latency]} ms")
}

# h, i. A decision that only a conditional assignment allows: a user of the bootstrap
# workspace holds the workspace observer role there under the condition that the resource's
# ownerID is the user's stored email; every request names that user and a resource owned by
# it, so every decision evaluates the compiled CEL program (the IAM data set is loaded too,
# so the engine is as large as in e). Made through keyhold's API, once per run.
COND_BODY=
COND_TOKEN=
setup_condition() {
	[[ -n $COND_BODY ]] && return 0
	local token code user hex email=cond-bench@example.test
	load_iam_data
	token=$(authzen_token)
	hex=${TOKEN_URL%/token}
	hex=${hex##*/}
	code=$(curl -sS --max-time 10 -o "$TMP/cond-user.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' -d "{\"email\":\"$email\"}" "$KEYHOLD_BASE/identity/v1/users") || true
	[[ $code == 201 || $code == 200 ]] || die "conditions: inviting a user answered ${code:-nothing}: $(head -c 500 "$TMP/cond-user.json")"
	user=$("$JSONFIELD" id <"$TMP/cond-user.json")
	code=$(curl -sS --max-time 10 -o "$TMP/cond-assign.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' \
		-d "{\"subject\":\"user:$user\",\"role\":\"grn:glp/providers/authorization/roles/glp.workspace-observer\",\"scope\":[\"grn:glp/workspaces/$hex\"],\"condition\":\"resource.properties.ownerID == subject.attributes.email\"}" \
		"$KEYHOLD_BASE/authorization/v2alpha2/role-assignments") || true
	[[ $code == 201 || $code == 200 ]] || die "conditions: the conditional assignment answered ${code:-nothing}: $(head -c 500 "$TMP/cond-assign.json")"
	COND_BODY="{\"subject\":{\"type\":\"user\",\"id\":\"$user\"},\"action\":{\"name\":\"glp.workspace.view\"},\"resource\":{\"type\":\"workspace\",\"id\":\"grn:glp/workspaces/$hex\",\"properties\":{\"ownerID\":\"$email\"}}}"
	COND_TOKEN=$token
	# Preflight: allowed with the owner, denied with another owner (the condition decides).
	for want in true false; do
		local body=$COND_BODY
		[[ $want == false ]] && body=${COND_BODY/$email\"\}\}\}/someone-else@example.test\"\}\}\}}
		code=$(curl -sS --max-time 10 -o "$TMP/cond-preflight.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
			-H 'Content-Type: application/json' -d "$body" "$KEYHOLD_BASE/access/v1/evaluation") || true
		[[ $code == 200 ]] && grep -q "\"decision\":$want" "$TMP/cond-preflight.json" ||
			die "conditions: preflight (want $want) answered ${code:-nothing}: $(head -c 500 "$TMP/cond-preflight.json")"
	done
}

scenario_keyhold_authzen_condition() {
	setup_condition
	run_wrk keyhold_authzen_condition "$KEYHOLD_BASE/access/v1/evaluation" "$BENCH_DIR/wrk/authzen_body.lua" \
		"TOKEN=$COND_TOKEN" "BODY=$COND_BODY"
	NOTES+=("h: ${RPS[keyhold_authzen_condition]} evaluations/s through a conditional assignment, p99 ${P99[keyhold_authzen_condition]} ms")
}

scenario_keyhold_authzen_condition_latency() {
	setup_condition
	run_wrk keyhold_authzen_condition_latency "$KEYHOLD_BASE/access/v1/evaluation" "$BENCH_DIR/wrk/authzen_body.lua" \
		"TOKEN=$COND_TOKEN" "BODY=$COND_BODY"
	NOTES+=("i: ${RPS[keyhold_authzen_condition_latency]} evaluations/s with ${CONNS_OF[keyhold_authzen_condition_latency]} connections through a conditional assignment, p50 ${P50[keyhold_authzen_condition_latency]} ms, p99 ${P99[keyhold_authzen_condition_latency]} ms")
}

# ----------------------------------------------------------------------------------------
# EXTENSION POINT: further scenarios go here. To add one:
#   1. write bench/wrk/<name>.lua; require("report") as token.lua does, so non-2xx
#      responses are counted and printed;
#   2. write scenario_<name>() here: get what it needs (a token, ids), preflight ONE request
#      with curl and die unless it succeeds, then call run_wrk <name> URL SCRIPT VAR=value...
#      (or run_authload <name> MODE, when every request must carry a fresh signed JWT);
#   3. add <name> to ALL_SCENARIOS, SCENARIO_LABEL and, if it needs keyhold,
#      SCENARIO_NEEDS_KEYHOLD at the top of this file;
#   4. describe it in bench/README.md.
# Add no scenario before its endpoint exists: a run that measures 404s is worse than none.
# ----------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------
print_report() {
	local name commit total_errors=0
	commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [[ -n $(git -C "$ROOT" status --porcelain 2>/dev/null) ]]; then
		commit+=" (dirty)"
	fi
	printf '## keyhold load test\n\n'
	printf -- '- commit %s, %s, %s cores, %s\n' "$commit" "$(go env GOVERSION)" "$(nproc)" "$(uname -sm)"
	printf -- '- %ss measured after %ss warm-up, on 127.0.0.1; wrk shares the cores with the server\n' \
		"$DURATION" "$WARMUP"
	printf -- '- keyhold %s, store %s, load average %s\n\n' "${KEYHOLD_DESC:-${KEYHOLD_BIN:-(not run)}}" "$BACKEND" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
	printf '| scenario | wrk threads | connections | requests/s | p50 (ms) | p90 (ms) | p99 (ms) | errors |\n'
	printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
	for name in "${RAN[@]}"; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "${SCENARIO_LABEL[$name]}" "${THREADS_OF[$name]}" "${CONNS_OF[$name]}" "${RPS[$name]}" \
			"${P50[$name]}" "${P90[$name]}" "${P99[$name]}" "${ERRORS[$name]}"
		total_errors=$((total_errors + ERRORS[$name]))
	done
	echo
	if [[ -n ${RPS[minsigner]:-} && -n ${RPS[keyhold_token]:-} && ${RPS[minsigner]} -gt 0 ]]; then
		printf '**b/a: %s %%**: keyhold'"'"'s token endpoint serves that share of the minimal signer'"'"'s requests/s (%s of %s).\n' \
			"$(awk -v b="${RPS[keyhold_token]}" -v a="${RPS[minsigner]}" 'BEGIN { printf "%.1f", 100 * b / a }')" \
			"${RPS[keyhold_token]}" "${RPS[minsigner]}"
	else
		printf 'b/a: n/a (needs scenarios minsigner and keyhold_token).\n'
	fi
	# j and k against b2: the same generator (bench/authload), so the ratio is the price of the
	# assertion or proof (verification, the jti's SQL write), not of wrk against Go.
	for name in keyhold_token_private_key_jwt keyhold_token_dpop; do
		if [[ -n ${RPS[$name]:-} && -n ${RPS[keyhold_token_go]:-} && ${RPS[keyhold_token_go]} -gt 0 ]]; then
			printf '\n**%s/b2: %s %%** (%s of %s requests/s).\n' "${SCENARIO_LABEL[$name]%%.*}" \
				"$(awk -v x="${RPS[$name]}" -v y="${RPS[keyhold_token_go]}" 'BEGIN { printf "%.1f", 100 * x / y }')" \
				"${RPS[$name]}" "${RPS[keyhold_token_go]}"
		fi
	done
	if ((${#NOTES[@]} > 0)); then
		printf '\n'
		for name in "${NOTES[@]}"; do
			printf -- '- %s\n' "$name"
		done
	fi
	if ((total_errors > 0)); then
		printf '\n**ERRORS: these figures measured failures, not work.**\n\n'
		for name in "${RAN[@]}"; do
			((ERRORS[$name] > 0)) && printf -- '- %s: %s\n' "$name" "${ERROR_DETAIL[$name]}"
		done
		return 1
	fi
	return 0
}

# ----------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------
main() {
	local v name needs_keyhold=0
	for v in DURATION CONNS THREADS WARMUP READY_TIMEOUT; do
		is_uint "${!v}" || die "$v=${!v}: want a whole number"
	done
	((DURATION > 0 && CONNS > 0 && THREADS > 0)) || die "DURATION, CONNS and THREADS must be > 0"
	case $MINSIGNER_ALG in ES256 | EdDSA) ;; *) die "MINSIGNER_ALG=$MINSIGNER_ALG: want ES256 or EdDSA" ;; esac
	case $AUTHLOAD_ALG in ES256 | EdDSA) ;; *) die "AUTHLOAD_ALG=$AUTHLOAD_ALG: want ES256 or EdDSA" ;; esac
	case $BACKEND in sqlite | postgres) ;; *) die "BACKEND=$BACKEND: want sqlite or postgres" ;; esac
	command -v "$WRK" >/dev/null || die "wrk not found (Debian: apt-get install -y wrk)"
	command -v curl >/dev/null || die "curl not found"
	command -v go >/dev/null || die "go not found"
	((${#SELECTED[@]} > 0)) || die "SCENARIOS is empty"
	for name in "${SELECTED[@]}"; do
		[[ -n ${SCENARIO_LABEL[$name]:-} ]] || die "unknown scenario $name (known: ${ALL_SCENARIOS[*]})"
		[[ -n ${SCENARIO_NEEDS_KEYHOLD[$name]:-} ]] && needs_keyhold=1
		conns_for "$name" >/dev/null
	done

	build_tools
	if ((needs_keyhold)); then
		start_keyhold
	fi
	for name in "${SELECTED[@]}"; do
		"scenario_$name"
	done
	print_report
}

main "$@"
