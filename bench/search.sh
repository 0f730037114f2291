#!/usr/bin/env bash
# search.sh - throughput and latency of the charger search over a large
# seeded database.
#
# Builds a release enemane (./build-release), seeds a fresh database with
# `enemane admin seed-chargers` (BENCH_CHARGERS chargers spread over Japan,
# weighted to cities, slots for the next days, some reservations), starts
# `enemane serve` on a free loopback port, registers and logs in a member,
# and runs wrk with bench/search.lua: random points near cities, radius
# 3-5 km, limit 20, a 2-hour range tomorrow. ROUNDS rounds; the medians.
# The last line is always
#   search: <rps> req/s, p99 <ms> ms over <n> chargers
#
# Usage: bash bench/search.sh
# Environment knobs (defaults in brackets):
#   BENCH_CHARGERS [100000]  BENCH_SEED [1]
#   BENCH_DURATION [10s]     BENCH_ROUNDS [3]   BENCH_CONNECTIONS [32]
#   BENCH_THREADS [2]        BENCH_WORKERS [2] (enemane --http-workers)
#   BENCH_SERVER_LOG [/dev/null]  BENCH_SERVER_ARGS []
#   BENCH_BIN []             measure this binary instead of building one
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHARGERS=${BENCH_CHARGERS:-100000}
SEED=${BENCH_SEED:-1}
DURATION=${BENCH_DURATION:-10s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
WORKERS=${BENCH_WORKERS:-2}
SERVER_LOG=${BENCH_SERVER_LOG:-/dev/null}
read -r -a SERVER_ARGS <<< "${BENCH_SERVER_ARGS:-}"


# ---- build ----------------------------------------------------------------
bench_build

# ---- processes, cleaned up on any exit --------------------------------------
TMP=$(mktemp -d /tmp/enemane-bench-XXXXXX)
ENEMANE_PID=
cleanup()
{
        if [[ -n "$ENEMANE_PID" ]]; then
                kill -TERM "$ENEMANE_PID" 2>/dev/null || true
                for _ in $(seq 50); do
                        kill -0 "$ENEMANE_PID" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$ENEMANE_PID" 2>/dev/null || true
                wait "$ENEMANE_PID" 2>/dev/null || true
        fi
        rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- data ---------------------------------------------------------------------
t0=$(date +%s.%N)
"$BIN" admin seed-chargers --db-path "$TMP/enemane.db" --count "$CHARGERS" --seed "$SEED" \
        --log-level warn >/dev/null || die "seed-chargers failed"
t1=$(date +%s.%N)
echo "bench: seeded $CHARGERS chargers in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

PORT=$(free_port)
"$BIN" serve --listen-host 127.0.0.1 --listen-port "$PORT" --db-path "$TMP/enemane.db" \
        --http-workers "$WORKERS" "${SERVER_ARGS[@]}" </dev/null >"$SERVER_LOG" 2>&1 &
ENEMANE_PID=$!
URL=http://127.0.0.1:$PORT
wait_ready "$URL/readyz" 30 "$ENEMANE_PID" ||
        die "enemane did not answer 200 on $URL/readyz (run with BENCH_SERVER_LOG=/tmp/enemane-bench.log to see why)"

# ---- a member and a session -------------------------------------------------------
docs=$(lcurl "$URL/api/v1/documents") || die "GET /api/v1/documents failed"
TERMS_V=$(jq -r '.items[] | select(.document == "terms") | .version' <<< "$docs" | head -n1)
PRIVACY_V=$(jq -r '.items[] | select(.document == "privacy") | .version' <<< "$docs" | head -n1)
[[ -n "$TERMS_V" && -n "$PRIVACY_V" ]] || die "no terms/privacy versions: $docs"
EMAIL=bench-search@example.jp
PASSWORD=bench-password-123
member=$(jq -n --arg email "$EMAIL" --arg password "$PASSWORD" \
        --arg tv "$TERMS_V" --arg pv "$PRIVACY_V" '{
        kind: "individual", email: $email, password: $password,
        name: "Bench User", name_kana: "ベンチ ユーザー",
        phone: "090-0000-0000", birth_date: "1990-01-01",
        address: { postcode: "100-0001", prefecture: "東京都",
                   city: "千代田区", line1: "千代田1-1" },
        consents: [ { document: "terms", version: $tv },
                    { document: "privacy", version: $pv } ] }')
code=$(lcurl -o "$TMP/member.json" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' --data-binary "$member" "$URL/api/v1/members") ||
        die "POST /api/v1/members failed"
[[ "$code" == 201 ]] || die "POST /api/v1/members: $code $(cat "$TMP/member.json")"
login=$(jq -n --arg email "$EMAIL" --arg password "$PASSWORD" '{email: $email, password: $password}')
code=$(lcurl -o "$TMP/session.json" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' --data-binary "$login" "$URL/api/v1/sessions") ||
        die "POST /api/v1/sessions failed"
[[ "$code" == 201 ]] || die "POST /api/v1/sessions: $code $(cat "$TMP/session.json")"
TOKEN=$(jq -r '.token // empty' "$TMP/session.json")
[[ -n "$TOKEN" ]] || die "no token in $(cat "$TMP/session.json")"

# Tomorrow in Tokyo, and one request by hand to show the shape.
TOMORROW=$(TZ=Asia/Tokyo date -d tomorrow +%Y-%m-%d)
probe="$URL/api/v1/chargers/search?lat=35.6812&lon=139.7671&radius_m=3000&limit=20&from=${TOMORROW}T10:00:00%2B09:00&to=${TOMORROW}T12:00:00%2B09:00"
code=$(lcurl -o "$TMP/probe.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$probe")
[[ "$code" == 200 ]] || die "search probe: $code $(cat "$TMP/probe.json")"
echo "bench: probe near Tokyo station: $(jq '.items | length' "$TMP/probe.json") items," \
        "nearest $(jq '.items[0].distance_m' "$TMP/probe.json") m," \
        "price $(jq '.items[0].price' "$TMP/probe.json") yen"

# ---- measuring ------------------------------------------------------------------
# run_wrk: prints "<rps> <p99 ms>" of one run; non-2xx answers fail the bench.
run_wrk()
{
        local out rps p99
        out=$(timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s --latency \
                -H "Authorization: Bearer $TOKEN" -s bench/search.lua "$URL" -- "$TOMORROW") ||
                die "wrk failed"
        if grep -qE 'Non-2xx|Socket errors' <<< "$out"; then
                echo "$out" >&2
                die "errors while measuring (see wrk output above)"
        fi
        rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<< "$out")
        p99=$(awk '$1 == "99%" {
                v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
                printf "%.2f", v }' <<< "$out")
        [[ -n "$rps" && -n "$p99" ]] || { echo "$out" >&2; die "no Requests/sec or p99 from wrk"; }
        echo "$rps $p99"
}

echo "bench: wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds; machine: $(nproc) cores, shared"
timeout 30 wrk -t1 -c4 -d2s -H "Authorization: Bearer $TOKEN" -s bench/search.lua "$URL" \
        -- "$TOMORROW" >/dev/null       # warm-up: page cache, statement caches
rps_runs=()
p99_runs=()
for ((r = 1; r <= ROUNDS; r++)); do
        read -r rps p99 <<< "$(run_wrk)"
        echo "bench: round $r: $rps req/s, p99 $p99 ms"
        rps_runs+=("$rps")
        p99_runs+=("$p99")
done
echo "search: $(median "${rps_runs[@]}") req/s, p99 $(median "${p99_runs[@]}") ms over $CHARGERS chargers"
