#!/usr/bin/env bash
# query.sh - the household's year and day views through enemane's HTTP API
# (issue 6): one home with 40 channels and a year of 1-minute data (~21 M
# points), then the latency of the views a home app shows, from one client.
#
# Builds a release enemane (./build-release) and bench/query_load, then:
#   1. starts enemane on a free loopback port with a fresh database (server
#      defaults), creates an operator (enemane admin create-operator), logs
#      it in and provisions one gateway (POST /api/v1/gateways), which
#      registers (POST /api/v1/gateway/registration, Basic auth);
#   2. moves the home's registration time back to before the year (sqlite3
#      on the live database: enemane reads the home on every upload), since
#      uploads older than the registration are refused per point and a
#      release build has no test clock: the year must lie in the past;
#   3. a member registers (GET /api/v1/documents, POST /api/v1/members) and
#      logs in; the gateway asks for a pairing code (POST
#      /api/v1/gateway/pairing-code) and the member links the home with it
#      (POST /api/v1/homes/link);
#   4. query_load load, not timed but reported: CHANNELS channels x the days
#      of the Tokyo calendar year YEAR, through POST /write (line protocol),
#      one body per channel and day (1,440 points), 4 connections;
#   5. query_load run: from one client on one keep-alive connection, VIEWS
#      times each (after a warm-up), alternately: the year view as the app
#      asks it, ONE request (GET /api/v1/homes/{id}/data?resolution=month
#      over the year: every channel's 12 buckets, their n adding up to every
#      minute of the year), the day view, one request (resolution=hour over
#      one Tokyo day, DAY: 24 buckets per channel), the same two views in the
#      per-channel form (GET .../series/{sid}/data for every series; a
#      view's latency is the sum of its requests'), and the home's summary
#      (GET /api/v1/homes/{id}/summary?period=month over the year).
# The last line is always
#   query: year p99 <ms> ms, day p99 <ms> ms
# (p99 of the one-request views; the per-channel ones are printed above it).
#
# Usage: bash bench/query.sh
# Environment knobs (defaults in brackets):
#   BENCH_CHANNELS [40]      BENCH_YEAR [last year, Tokyo]   BENCH_DAY [YEAR-07-15]
#   BENCH_VIEWS [200]        BENCH_WARMUP [5]     views not counted
#   BENCH_CONNECTIONS [4]    loading connections  BENCH_SEED [7]
#   BENCH_WORKERS [4]        enemane --http-workers
#   BENCH_SERVER_LOG [/dev/null]  where enemane's stdout/stderr go
#   BENCH_SERVER_ARGS []          extra `enemane serve` flags
#   BENCH_BIN []                  measure this binary instead of building one
set -euo pipefail
LCURL_MAX_TIME=60
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHANNELS=${BENCH_CHANNELS:-40}
YEAR=${BENCH_YEAR:-$(( $(TZ=Asia/Tokyo date +%Y) - 1 ))}
DAY=${BENCH_DAY:-$YEAR-07-15}
VIEWS=${BENCH_VIEWS:-200}
WARMUP=${BENCH_WARMUP:-5}
CONNS=${BENCH_CONNECTIONS:-4}
SEED=${BENCH_SEED:-7}
WORKERS=${BENCH_WORKERS:-4}
SERVER_LOG=${BENCH_SERVER_LOG:-/dev/null}
read -r -a SERVER_ARGS <<< "${BENCH_SERVER_ARGS:-}"

command -v sqlite3 >/dev/null || die "the sqlite3 command-line tool is needed (apt-get install sqlite3)"

YEAR_FROM=$YEAR-01-01T00:00:00+09:00
YEAR_TO=$((YEAR + 1))-01-01T00:00:00+09:00
DAY_FROM=${DAY}T00:00:00+09:00
DAY_TO=$(date -d "$DAY + 1 day" +%F)T00:00:00+09:00
START=$(date -d "$YEAR_FROM" +%s)
DAYS=$(( ($(date -d "$YEAR_TO" +%s) - START) / 86400 ))
(( $(date -d "$YEAR_TO" +%s) <= $(date +%s) )) || die "the year $YEAR is not over yet (BENCH_YEAR)"

# ---- build ----------------------------------------------------------------------------------
bench_build enemane bench/query_load

# ---- processes, cleaned up on any exit ----------------------------------------------------------
TMP=$(mktemp -d /tmp/enemane-query-bench-XXXXXX)
ENEMANE_PID=
cleanup()
{
        local pid=$ENEMANE_PID
        if [[ -n "$pid" ]]; then
                kill -TERM "$pid" 2>/dev/null || true
                for _ in $(seq 300); do
                        kill -0 "$pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        fi
        rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the load generator ------------------------------------------------------------------------
LOAD=$PWD/$BUILD_DIR/bench/query_load
if [[ -n "${BENCH_BIN:-}" || ! -x "$LOAD" ]]; then
        # not built by meson (BENCH_BIN, or bench/ not in the build): build it here
        LOAD=$TMP/query_load
        cc -std=c17 -O2 -D_GNU_SOURCE -Wall -Wextra bench/query_load.c \
                $(pkg-config --cflags --libs libcurl jansson) -lpthread -o "$LOAD" ||
                die "cannot build bench/query_load.c"
fi

# call METHOD PATH WANT [curl args...]: the answer's body on stdout; dies
# unless the status is WANT
call()
{
        local method=$1 path=$2 want=$3 code
        shift 3
        code=$(lcurl -o "$TMP/answer" -w '%{http_code}' -X "$method" "$@" "$URL$path") ||
                die "$method $path failed"
        [[ "$code" == "$want" ]] || die "$method $path: expected $want, got $code $(head -c 2000 "$TMP/answer")"
        cat "$TMP/answer"
}

# ---- enemane, its operator, the gateway, the member -------------------------------------------------
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
DB=$TMP/enemane.db
"$BIN" serve --listen-host 127.0.0.1 --listen-port "$PORT" --db-path "$DB" \
        --http-workers "$WORKERS" --no-log-requests "${SERVER_ARGS[@]}" \
        </dev/null >"$SERVER_LOG" 2>&1 &
ENEMANE_PID=$!
wait_ready "$URL/readyz" 20 "$ENEMANE_PID" ||
        die "enemane did not answer 200 on $URL/readyz (run with BENCH_SERVER_LOG=/tmp/enemane-bench.log to see why)"

JSON=(-H 'Content-Type: application/json')
PASSWORD=bench-password-123
OP_EMAIL=query-bench@operator.test
"$BIN" admin create-operator --db-path "$DB" --email "$OP_EMAIL" \
        --password "$PASSWORD" >"$TMP/create-operator.log" 2>&1 ||
        { cat "$TMP/create-operator.log" >&2; die "enemane admin create-operator failed"; }
OP_TOKEN=$(call POST /api/v1/sessions 201 "${JSON[@]}" --data-binary \
        "$(jq -n --arg e "$OP_EMAIL" --arg p "$PASSWORD" '{email: $e, password: $p}')" |
        jq -r '.token // empty')
[[ -n "$OP_TOKEN" ]] || die "no operator token"

gw=$(call POST /api/v1/gateways 201 "${JSON[@]}" -H "Authorization: Bearer $OP_TOKEN" \
        --data-binary '{"model":"BENCH-Q","firmware":"1.0.0"}')
CODE=$(jq -r '.device_code // empty' <<< "$gw")
SECRET=$(jq -r '.secret // empty' <<< "$gw")
[[ -n "$CODE" && -n "$SECRET" ]] || die "POST /api/v1/gateways: no device_code or secret in $gw"
GW_AUTH=(-u "$CODE:$SECRET")
HOME_ID=$(call POST /api/v1/gateway/registration 201 "${JSON[@]}" "${GW_AUTH[@]}" \
        --data-binary '{"terms_version":"1"}' | jq -r '.home_id // empty')
[[ -n "$HOME_ID" ]] || die "POST /api/v1/gateway/registration: no home_id"

# The year lies before the registration: move the registration back a day
# before the year (the server reads the home from the database on every upload).
sqlite3 -cmd '.timeout 10000' "$DB" \
        "UPDATE homes SET started_at = $((START - 86400)) WHERE id = $HOME_ID;" ||
        die "sqlite3 could not move the registration back"

consents=$(call GET /api/v1/documents 200 | jq -c '[.items[] | {document, version}]')
member=$(jq -n --arg p "$PASSWORD" --argjson c "$consents" '{kind: "individual",
        email: "member@query-bench.test", password: $p, name: "山田 太郎",
        name_kana: "ヤマダ タロウ", phone: "090-1234-5678", birth_date: "1990-01-01",
        address: {postcode: "100-0001", prefecture: "東京都", city: "千代田区",
                  line1: "千代田1-1"}, consents: $c}')
call POST /api/v1/members 201 "${JSON[@]}" --data-binary "$member" >/dev/null
TOKEN=$(call POST /api/v1/sessions 201 "${JSON[@]}" --data-binary \
        "$(jq -n --arg p "$PASSWORD" '{email: "member@query-bench.test", password: $p}')" |
        jq -r '.token // empty')
[[ -n "$TOKEN" ]] || die "no member token"
PAIRING=$(call POST /api/v1/gateway/pairing-code 201 "${JSON[@]}" "${GW_AUTH[@]}" \
        --data-binary '{}' | jq -r '.pairing_code // empty')
[[ -n "$PAIRING" ]] || die "POST /api/v1/gateway/pairing-code: no pairing_code"
LINKED=$(call POST /api/v1/homes/link 201 "${JSON[@]}" -H "Authorization: Bearer $TOKEN" \
        --data-binary "$(jq -n --arg d "$CODE" --arg p "$PAIRING" \
                '{device_code: $d, pairing_code: $p}')" | jq -r '.id // empty')
[[ "$LINKED" == "$HOME_ID" ]] || die "POST /api/v1/homes/link: home $LINKED, registered $HOME_ID"

# ---- a year of data -------------------------------------------------------------------------------
echo "bench: enemane $URL (pid $ENEMANE_PID, --http-workers $WORKERS), home $HOME_ID:" \
        "$CHANNELS channels x $DAYS days of $YEAR (Tokyo) x 1440 minutes; machine: $(nproc) cores, shared"
t0=$(date +%s.%N)
out=$("$LOAD" load --url "$URL" --code "$CODE" --secret "$SECRET" --start "$START" \
        --channels "$CHANNELS" --days "$DAYS" --seed "$SEED" --conns "$CONNS") ||
        { echo "$out" >&2; die "query_load load failed"; }
echo "bench: $out"
db_bytes=$(stat -c %s "$DB")
wal_bytes=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
echo "bench: loading took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s;" \
        "database file $((db_bytes / 1000000)) MB, WAL $((wal_bytes / 1000000)) MB (server running)"

# ---- the views ---------------------------------------------------------------------------------------
out=$("$LOAD" run --url "$URL" --token "$TOKEN" --home "$HOME_ID" --year-from "$YEAR_FROM" \
        --year-to "$YEAR_TO" --day-from "$DAY_FROM" --day-to "$DAY_TO" --views "$VIEWS" \
        --warmup "$WARMUP" --year-buckets 12 --day-buckets 24 --year-points $((DAYS * 1440)) \
        --day-points 1440 --summary) ||
        { echo "$out" >&2; die "query_load run failed"; }
sed 's/^/bench: /' <<< "$out"
# The app's views are one request each (GET /api/v1/homes/{id}/data: every
# channel at one resolution); the per-channel form (40 requests) is printed above.
Y99=$(sed -n 's/^query_load: year (one request) view .* view p50 [0-9.]* ms p99 \([0-9.]*\) ms.*/\1/p' <<< "$out")
D99=$(sed -n 's/^query_load: day (one request) view .* view p50 [0-9.]* ms p99 \([0-9.]*\) ms.*/\1/p' <<< "$out")
[[ -n "$Y99" && -n "$D99" ]] || die "cannot read query_load's lines: $out"
echo "query: year p99 $Y99 ms, day p99 $D99 ms"
