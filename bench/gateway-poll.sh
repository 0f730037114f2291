#!/usr/bin/env bash
# gateway-poll.sh - throughput and latency of the gateways' combined poll
# (issue 7, point 15): GET /api/v1/gateway/poll?cursor=N, the one request
# every gateway makes every few minutes (notices since the cursor, the
# notice lamp, the firmware update offered to it), spread over 100,000
# registered gateways.
#
# Builds a release enemane (./build-release) and bench/ingest_load, starts
# `enemane serve` on a fresh database and a free loopback port (defaults:
# durable writes, group commit), makes an operator (enemane admin
# create-operator) and logs in, then, not timed:
#   1. `ingest_load setup` provisions GATEWAYS gateways with POST
#      /api/v1/gateways/bulk (text/csv, CHUNK rows an upload: the server takes
#      at most 10,000) and registers each one (POST
#      /api/v1/gateway/registration with the terms in force from GET
#      /api/v1/documents, Basic auth), SETUP_THREADS at a time; it writes one
#      `Basic base64(code:secret)` line per gateway for the wrk script;
#   2. NOTICES live notices (POST /api/v1/notices; targeted in turn to every
#      gateway, to the gateways' model and to half of their firmware
#      versions) and a running firmware campaign for the model (an image
#      uploaded with POST /api/v1/firmware, then POST
#      /api/v1/firmware/campaigns), each only when the server has those
#      routes (src/api/routes_notices.inc, routes_firmware.inc); when not, the
#      script says so and polls without them;
#   3. one poll by hand that must answer 200 with notices, next_cursor, lamp
#      and update, to show the shape.
# Then wrk with bench/gateway-poll.lua: every request carries the
# Authorization header of another gateway (each wrk thread walks the whole
# list round-robin from its own starting point), GET
# /api/v1/gateway/poll?cursor=CURSOR; a warm-up, then ROUNDS rounds, the
# medians. Any answer other than 200, or a socket error, fails the bench.
# The last two lines are always
#   bench: target (issue 7): >= 20000 req/s and p99 < 10 ms: met|not met
#   gateway-poll: <rps> req/s, p99 <ms> ms over <n> gateways
#
# Usage: bash bench/gateway-poll.sh
# Environment knobs (defaults in brackets):
#   BENCH_GATEWAYS [100000]   BENCH_CHUNK [10000] rows per bulk upload
#   BENCH_SETUP_THREADS [16]  registrations in flight
#   BENCH_DURATION [15s]      BENCH_ROUNDS [3]     BENCH_WARMUP [3s]
#   BENCH_CONNECTIONS [64]    BENCH_THREADS [2] (wrk threads)
#   BENCH_CURSOR [0]          BENCH_MODE [rr] (rr or random: how a wrk thread
#                             picks the next gateway)
#   BENCH_NOTICES [3]         live notices to create (0: none)
#   BENCH_FW_PERCENT [100]    the campaign's share of the gateways (0-100)
#   BENCH_FW_BYTES [262144]   the firmware image's size
#   BENCH_WORKERS [4]         enemane --http-workers (the server's default)
#   BENCH_SERVER_LOG [/dev/null]  BENCH_SERVER_ARGS []
#   BENCH_BIN []              measure this binary instead of building one
set -euo pipefail
LCURL_MAX_TIME=60
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

GATEWAYS=${BENCH_GATEWAYS:-100000}
CHUNK=${BENCH_CHUNK:-10000}
SETUP_THREADS=${BENCH_SETUP_THREADS:-16}
DURATION=${BENCH_DURATION:-15s}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-3s}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
CURSOR=${BENCH_CURSOR:-0}
MODE=${BENCH_MODE:-rr}
NOTICES=${BENCH_NOTICES:-3}
FW_PERCENT=${BENCH_FW_PERCENT:-100}
FW_BYTES=${BENCH_FW_BYTES:-262144}
WORKERS=${BENCH_WORKERS:-4}
SERVER_LOG=${BENCH_SERVER_LOG:-/dev/null}
read -r -a SERVER_ARGS <<< "${BENCH_SERVER_ARGS:-}"
MODEL=BENCH-GW
TARGET_RPS=20000
TARGET_P99_MS=10

[[ "$MODE" == rr || "$MODE" == random ]] || die "BENCH_MODE must be rr or random"

# ---- build ----------------------------------------------------------------------------------
bench_build enemane bench/ingest_load
command -v wrk >/dev/null || die "wrk is missing (scripts/install-deps installs Debian's wrk)"

# ---- processes, cleaned up on any exit ----------------------------------------------------------
TMP=$(mktemp -d /tmp/enemane-poll-bench-XXXXXX)
ENEMANE_PID=
cleanup()
{
        if [[ -n "$ENEMANE_PID" ]]; then
                kill -TERM "$ENEMANE_PID" 2>/dev/null || true
                for _ in $(seq 100); do
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

# ---- the setup tool ------------------------------------------------------------------------------
LOAD=$PWD/$BUILD_DIR/bench/ingest_load
if [[ -n "${BENCH_BIN:-}" || ! -x "$LOAD" ]]; then
        # not built by meson (BENCH_BIN, or bench/ not in the build): build it here
        LOAD=$TMP/ingest_load
        cc -std=c17 -O2 -D_GNU_SOURCE -Wall -Wextra bench/ingest_load.c \
                $(pkg-config --cflags --libs libcurl jansson) -lpthread -o "$LOAD" ||
                die "cannot build bench/ingest_load.c"
fi

# proc_cpu PID: user + system CPU time of PID so far, in seconds
proc_cpu()
{
        awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
                "/proc/$1/stat"
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- server, operator --------------------------------------------------------------------------
T_SETUP=$(now)
DB=$TMP/enemane.db
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
"$BIN" serve --listen-host 127.0.0.1 --listen-port "$PORT" --db-path "$DB" \
        --http-workers "$WORKERS" --no-log-requests "${SERVER_ARGS[@]}" \
        </dev/null >"$SERVER_LOG" 2>&1 &
ENEMANE_PID=$!
wait_ready "$URL/readyz" 30 "$ENEMANE_PID" ||
        die "enemane did not answer 200 on $URL/readyz (run with BENCH_SERVER_LOG=/tmp/enemane-bench.log to see why)"

OP_EMAIL=poll-bench@operator.test
PASSWORD=bench-password-123
"$BIN" admin create-operator --db-path "$DB" --email "$OP_EMAIL" --password "$PASSWORD" \
        >"$TMP/create-operator.log" 2>&1 ||
        { cat "$TMP/create-operator.log" >&2; die "enemane admin create-operator failed"; }
login=$(jq -n --arg email "$OP_EMAIL" --arg password "$PASSWORD" '{email: $email, password: $password}')
code=$(lcurl -o "$TMP/session.json" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' --data-binary "$login" "$URL/api/v1/sessions") ||
        die "POST /api/v1/sessions failed"
[[ "$code" == 201 ]] || die "operator login: $code $(cat "$TMP/session.json")"
OP_TOKEN=$(jq -r '.token // empty' "$TMP/session.json")
[[ -n "$OP_TOKEN" ]] || die "no operator token"

# ---- gateways ---------------------------------------------------------------------------------
AUTH_FILE=$TMP/auth.txt
out=$(timeout 1800 "$LOAD" setup --url "$URL" --op-token "$OP_TOKEN" --gateways "$GATEWAYS" \
        --chunk "$CHUNK" --threads "$SETUP_THREADS" --model "$MODEL" --out "$TMP/gateways.txt" \
        --auth-out "$AUTH_FILE") || { echo "$out" >&2; die "ingest_load setup failed"; }
echo "bench: $out"
[[ "$(wc -l < "$AUTH_FILE")" == "$GATEWAYS" ]] || die "$AUTH_FILE does not hold $GATEWAYS lines"

# op_call METHOD PATH [curl args...]: the operator's request; prints the status,
# the body is in $TMP/op.json
op_call()
{
        local method=$1 path=$2
        shift 2
        lcurl -o "$TMP/op.json" -w '%{http_code}' -X "$method" \
                -H "Authorization: Bearer $OP_TOKEN" "$@" "$URL$path"
}

# has_route FILE METHOD PATH: the route file of the source tree names the route
has_route()
{
        [[ -f "$1" ]] && grep -qE "R\($2, *\"$3\"" "$1"
}

# ---- notices --------------------------------------------------------------------------------------
# Live now, lamp lit for a week; the targets vary (every gateway, the model,
# a firmware range that holds half of the gateways: 1.0.0-1.0.1 of 1.0.0-1.0.3),
# so the server matches each poll against them.
NOTICE_NOTE="no notices (BENCH_NOTICES=0)"
if ((NOTICES > 0)); then
        if has_route src/api/routes_notices.inc POST /api/v1/notices; then
                for ((i = 1; i <= NOTICES; i++)); do
                        case $((i % 3)) in
                        1) target='{}' ;;
                        2) target=$(jq -n --arg m "$MODEL" '{models: [$m]}') ;;
                        0) target='{"firmware": {"min": "1.0.0", "max": "1.0.1"}}' ;;
                        esac
                        body=$(jq -n --arg t "Bench notice $i" --argjson target "$target" '{
                                kind: "info", importance: "normal", title: $t,
                                body: "A notice from bench/gateway-poll.sh: the lamp stays lit for a week.",
                                lamp_seconds: 604800 } + (if $target == {} then {} else {target: $target} end)')
                        code=$(op_call POST /api/v1/notices -H 'Content-Type: application/json' \
                                --data-binary "$body") || die "POST /api/v1/notices failed"
                        [[ "$code" == 201 ]] || die "POST /api/v1/notices: $code $(cat "$TMP/op.json")"
                done
                NOTICE_NOTE="$NOTICES live notices (targets: all gateways, the model $MODEL, firmware 1.0.0-1.0.1, in turn)"
        else
                NOTICE_NOTE="no notices: the server has no POST /api/v1/notices (src/api/routes_notices.inc)"
        fi
fi
echo "bench: $NOTICE_NOTE"

# ---- firmware campaign -----------------------------------------------------------------------------
# An image for the gateways' model (version 2.0.0; they run 1.0.0-1.0.3), signed by the
# server, and a running campaign offering it to FW_PERCENT % of them.
if has_route src/api/routes_firmware.inc POST /api/v1/firmware &&
        has_route src/api/routes_firmware.inc POST /api/v1/firmware/campaigns; then
        head -c "$FW_BYTES" /dev/urandom > "$TMP/firmware.bin"
        code=$(op_call POST "/api/v1/firmware?model=$MODEL&version=2.0.0" \
                -H 'Content-Type: application/octet-stream' --data-binary "@$TMP/firmware.bin") ||
                die "POST /api/v1/firmware failed"
        [[ "$code" == 201 ]] || die "POST /api/v1/firmware: $code $(cat "$TMP/op.json")"
        image_id=$(jq -r '.id // empty' "$TMP/op.json")
        [[ -n "$image_id" ]] || die "no image id in $(cat "$TMP/op.json")"
        body=$(jq -n --argjson id "$image_id" --argjson p "$FW_PERCENT" '{image_id: $id, percent: $p}')
        code=$(op_call POST /api/v1/firmware/campaigns -H 'Content-Type: application/json' \
                --data-binary "$body") || die "POST /api/v1/firmware/campaigns failed"
        [[ "$code" == 201 ]] || die "POST /api/v1/firmware/campaigns: $code $(cat "$TMP/op.json")"
        FIRMWARE_NOTE="firmware campaign $(jq -r '.id' "$TMP/op.json") running: $MODEL 2.0.0"
        FIRMWARE_NOTE+=" ($FW_BYTES bytes, image $image_id) to $FW_PERCENT % of the gateways"
else
        FIRMWARE_NOTE="no firmware campaign: the server has no POST /api/v1/firmware or"
        FIRMWARE_NOTE+=" POST /api/v1/firmware/campaigns (src/api/routes_firmware.inc)"
fi
echo "bench: $FIRMWARE_NOTE"
echo "bench: setup (server, operator, $GATEWAYS gateways, notices, campaign) took $(since "$T_SETUP") s"

# ---- one poll by hand -----------------------------------------------------------------------------
code=$(lcurl -o "$TMP/poll.json" -w '%{http_code}' -H "Authorization: $(head -n1 "$AUTH_FILE")" \
        "$URL/api/v1/gateway/poll?cursor=$CURSOR") || die "GET /api/v1/gateway/poll failed"
[[ "$code" == 200 ]] || die "GET /api/v1/gateway/poll: $code $(head -c 2000 "$TMP/poll.json")"
jq -e 'has("notices") and has("next_cursor") and has("lamp") and has("update")' \
        "$TMP/poll.json" >/dev/null ||
        die "the poll's answer lacks notices, next_cursor, lamp or update: $(head -c 2000 "$TMP/poll.json")"
# next_cursor as the server wrote it: jq 1.6 reads numbers as doubles, and a
# cursor (publish time x 10^9 + notice id) has more digits than a double keeps
NEXT_CURSOR=$(grep -o '"next_cursor": *[0-9]*' "$TMP/poll.json" | grep -o '[0-9]*$' || true)
echo "bench: probe: $(jq -c --arg nc "${NEXT_CURSOR:-?}" '{notices: (.notices | length),
        next_cursor: $nc, lamp, update: (if .update == null then null else
        (.update | {campaign_id, version, size}) end)}' "$TMP/poll.json")," \
        "$(wc -c < "$TMP/poll.json") bytes"

# ---- measuring ------------------------------------------------------------------------------------
# run_wrk DURATION: prints "<rps> <p99 ms> <server cpu us/request> <gateways used>" of
# one run; any answer but 200 or a socket error fails the bench.
run_wrk()
{
        local out rps p99 c0 c1 req cpu_us lua
        c0=$(proc_cpu "$ENEMANE_PID")
        out=$(timeout 300 wrk -t"$THREADS" -c"$CONNS" -d"$1" --timeout 5s --latency \
                -s bench/gateway-poll.lua "$URL" -- "$AUTH_FILE" "$CURSOR" "$MODE" 1 "$THREADS") ||
                { echo "$out" >&2; die "wrk failed"; }
        c1=$(proc_cpu "$ENEMANE_PID")
        lua=$(grep '^gateway-poll-lua:' <<< "$out") ||
                { echo "$out" >&2; die "no summary line from bench/gateway-poll.lua"; }
        if grep -qE 'Non-2xx|Socket errors' <<< "$out" || ! grep -q ' non200 0 ' <<< "$lua"; then
                echo "$out" >&2
                die "errors while measuring (see wrk output above; first non-200 status:" \
                        "$(awk '{ print $7 }' <<< "$lua"))"
        fi
        rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<< "$out")
        p99=$(awk '$1 == "99%" {
                v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
                printf "%.2f", v }' <<< "$out")
        [[ -n "$rps" && -n "$p99" ]] || { echo "$out" >&2; die "no Requests/sec or p99 from wrk"; }
        req=$(awk '{ print $3 }' <<< "$lua")
        cpu_us=$(awk -v a="$c0" -v b="$c1" -v n="$req" 'BEGIN { printf "%.1f", (n > 0) ? 1e6 * (b - a) / n : 0 }')
        echo "$rps $p99 $cpu_us $(awk '{ print $9 }' <<< "$lua")"
}

echo "bench: wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds, GET /api/v1/gateway/poll?cursor=$CURSOR" \
        "over $GATEWAYS gateways ($MODE); enemane --http-workers $WORKERS;" \
        "machine: $(nproc) cores, shared"
# (res=$(run_wrk): an assignment fails with its command substitution, so a
# die inside run_wrk stops the script here too)
res=$(run_wrk "$WARMUP")        # warm-up: page cache, statement caches
echo "bench: warm-up ($WARMUP): $(awk '{ print $1 " req/s, p99 " $2 " ms" }' <<< "$res")"
rps_runs=()
p99_runs=()
for ((r = 1; r <= ROUNDS; r++)); do
        res=$(run_wrk "$DURATION")
        read -r rps p99 cpu_us used <<< "$res"
        echo "bench: round $r: $rps req/s, p99 $p99 ms, server cpu $cpu_us us/request," \
                "$used of $GATEWAYS gateways polled"
        rps_runs+=("$rps")
        p99_runs+=("$p99")
done
RPS=$(median "${rps_runs[@]}")
P99=$(median "${p99_runs[@]}")
met=$(awk -v r="$RPS" -v p="$P99" -v tr="$TARGET_RPS" -v tp="$TARGET_P99_MS" \
        'BEGIN { print (r >= tr && p < tp) ? "met" : "not met" }')
echo "bench: target (issue 7): >= $TARGET_RPS req/s and p99 < $TARGET_P99_MS ms: $met"
echo "gateway-poll: $RPS req/s, p99 $P99 ms over $GATEWAYS gateways"
