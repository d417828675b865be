#!/usr/bin/env bash
# bench/failover.sh: a PostgreSQL primary fails and its streaming replica is promoted while two
# keyhold nodes run under load, pointed at both servers by a multi-host URL
# (target_session_attrs=read-write).
#
# It builds two PostgreSQL clusters of its own in a temporary directory on free ports (the
# replica made with pg_basebackup), never touching the machine's server; as root it runs
# PostgreSQL as the postgres user. Then: two keyhold nodes, a load of credential creations and
# token requests for LOAD_SECONDS, the primary crashed (pg_ctl stop -m immediate) after
# FAIL_AFTER seconds and the replica promoted at once. It reports the requests by status, the
# time from the crash to the first acknowledged write on the new primary, and whether every
# acknowledged credential is on the new primary.
#
# SYNC=1 (default) makes the replica synchronous (synchronous_standby_names), so that no
# acknowledged write can be lost by the promotion; SYNC=0 shows asynchronous replication.
#
# Usage: bench/failover.sh   (PGBIN, LOAD_SECONDS, FAIL_AFTER, SYNC to change the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
LOAD_SECONDS=${LOAD_SECONDS:-20}
FAIL_AFTER=${FAIL_AFTER:-6}
SYNC=${SYNC:-1}

work=$(mktemp -d /tmp/keyhold-failover.XXXXXX)
runas=()
if [ "$(id -u)" = 0 ]; then runas=(runuser -u postgres --); chown postgres "$work"; fi
pg() { local b=$1; shift; "${runas[@]}" "$PGBIN/$b" "$@"; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pg pg_ctl -D "$work/p1" -m immediate stop >/dev/null 2>&1 || true
  pg pg_ctl -D "$work/p2" -m immediate stop >/dev/null 2>&1 || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

P1=$(freeport); P2=$(freeport); N1=$(freeport); N2=$(freeport)
echo "== PostgreSQL ($PGBIN): primary on $P1, replica on $P2 (synchronous: $SYNC)"
pg initdb -D "$work/p1" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
{
  echo "listen_addresses = '127.0.0.1'"; echo "port = $P1"; echo "unix_socket_directories = '$work'"
  echo "wal_level = replica"; echo "max_wal_senders = 4"
  if [ "$SYNC" = 1 ]; then echo "synchronous_standby_names = '*'"; fi
} | "${runas[@]}" tee -a "$work/p1/postgresql.conf" >/dev/null
pg pg_ctl -D "$work/p1" -l "$work/p1.log" -w start >/dev/null
pg pg_basebackup -h 127.0.0.1 -p "$P1" -U postgres -D "$work/p2" -R -X stream
# The replica inherits the primary's settings; once promoted it has no standby of its own, so
# it must not wait for one (it would hold every commit until the client gives up).
printf "port = %s\nsynchronous_standby_names = ''\n" "$P2" | "${runas[@]}" tee -a "$work/p2/postgresql.conf" >/dev/null
pg pg_ctl -D "$work/p2" -l "$work/p2.log" -w start >/dev/null

echo "== keyhold: two nodes on postgres://127.0.0.1:$P1,127.0.0.1:$P2 (read-write)"
go build -o "$work/keyhold" ./cmd/keyhold
DB="postgres://postgres@127.0.0.1:$P1,127.0.0.1:$P2/postgres?sslmode=disable&target_session_attrs=read-write"
BASE=http://keyhold.failover.test
for n in $N1 $N2; do
  "$work/keyhold" serve --database "$DB" --listen "127.0.0.1:$n" --base-url "$BASE" \
    --max-credentials-per-owner 1000000 >"$work/node-$n.out" 2>"$work/node-$n.err" &
  pids+=($!)
done
for n in $N1 $N2; do
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$n/readyz" >/dev/null && break; sleep 0.1; done
done
boot=$(cat "$work/node-$N1.out" "$work/node-$N2.out")
ws=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["workspaceId"])' "$boot")
cid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["clientId"])' "$boot")
sec=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["clientSecret"])' "$boot")
wshex=${ws//-/}
token() {
  curl -s -o "$1" -w '%{http_code}' "http://127.0.0.1:$2/authorization/v2/oauth2/$wshex/token" \
    -d grant_type=client_credentials -d client_id="$cid" --data-urlencode client_secret="$sec"
}
token "$work/tok.json" "$N1" >/dev/null
adm=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$work/tok.json")

# The load: per node, one writer and one token requester, each line "epoch_ms status [clientId]".
end=$(( $(date +%s) + LOAD_SECONDS ))
for n in $N1 $N2; do
  ( i=0; while [ "$(date +%s)" -lt "$end" ]; do
      i=$((i+1))
      code=$(curl -s -m 20 -o "$work/w-$n.json" -w '%{http_code}' -H "Authorization: Bearer $adm" \
        -H 'Content-Type: application/json' -d "{\"credentialName\":\"fo-$n-$i\"}" "http://127.0.0.1:$n/workspaces/v1/credentials" || echo 000)
      id=""; [ "$code" = 201 ] && id=$(sed -n 's/.*"clientId":"\([^"]*\)".*/\1/p' "$work/w-$n.json")
      echo "$(date +%s%3N) $code $id"
    done ) >"$work/writes-$n.log" &
  pids+=($!)
  ( while [ "$(date +%s)" -lt "$end" ]; do echo "$(date +%s%3N) $(token /dev/null "$n" || echo 000)"; done ) >"$work/tokens-$n.log" &
  pids+=($!)
done

sleep "$FAIL_AFTER"
crash=$(date +%s%3N)
pg pg_ctl -D "$work/p1" -m immediate stop >/dev/null
pg pg_ctl -D "$work/p2" -w promote >/dev/null
promoted=$(date +%s%3N)
echo "== primary crashed; replica promoted $((promoted - crash)) ms later"
wait "${pids[@]:2}" 2>/dev/null || true
if [ -n "${VERBOSE:-}" ]; then head -n 5 "$work"/writes-*.log; fi

python3 - "$work" "$crash" "$promoted" "$N1" "$N2" <<'EOF'
import sys, collections, glob
work, crash, promoted = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def rows(pattern):
    out = []
    for f in glob.glob(work + "/" + pattern):
        for line in open(f):
            p = line.split()
            if len(p) >= 2:
                out.append((int(p[0]), p[1], p[2] if len(p) > 2 else ""))
    return out
w, t = rows("writes-*.log"), rows("tokens-*.log")
for name, rs in (("writes", w), ("tokens", t)):
    before = collections.Counter(s for ts, s, _ in rs if ts < crash)
    after = collections.Counter(s for ts, s, _ in rs if ts >= crash)
    print(f"{name}: before the crash {dict(before)}, after {dict(after)}")
first = min((ts for ts, s, _ in w if ts >= promoted and s == "201"), default=None)
print("first acknowledged write after the crash:", "none" if first is None else f"{first - crash} ms after it")
print("201 answers whose client id the script could not read:", sum(1 for _, s, i in w if s == "201" and not i))
open(work + "/acked", "w").write("".join(i + "\n" for _, s, i in w if s == "201" and i))
EOF
# Every acknowledged credential must be on the new primary: each gets a token from a node.
lost=0; n=0
while read -r id; do
  [ -z "$id" ] && continue
  n=$((n+1))
  found=$("${runas[@]}" "$PGBIN/psql" -h 127.0.0.1 -p "$P2" -U postgres -Atc "SELECT count(*) FROM credentials WHERE id = '$id'" postgres 2>/dev/null || echo 0)
  [ "$found" = 1 ] || lost=$((lost+1))
done <"$work/acked"
echo "acknowledged credentials: $n, missing on the new primary: $lost"
grep -h '"level":"ERROR"' "$work"/node-*.err | grep -v '"status":5' | head -n 5 || true
echo "5xx other than 503: $(cat "$work"/writes-*.log "$work"/tokens-*.log | awk '$2 ~ /^5/ && $2 != 503' | wc -l)"
