#!/usr/bin/env bash
# booking.sh - durable charger bookings per second through enemane's HTTP
# API (issue 5): each booking a request (which holds the fee on the
# driver's wallet) then the host's approval, from 64 concurrent clients
# over 1,000 chargers, with the p99 latency of the pair and a check for
# double bookings in the database afterwards.
#
# Builds a release enemane (./build-release) and bench/booking_load, then:
#   1. starts enemane on a free loopback port with a fresh database and a
#      wallet webhook secret (server defaults otherwise: synchronous=FULL,
#      group commit), creates an operator (enemane admin create-operator)
#      and logs it in;
#   2. booking_load setup, through the API only: BENCH_HOSTS verified hosts
#      with active contracts, BENCH_DRIVERS drivers (declarations, an EV, a
#      signed top-up), BENCH_CHARGERS chargers (QR code mailed and attached,
#      one slot from tomorrow for BENCH_DAYS days);
#   3. a short warm-up, then ROUNDS rounds of booking_load run: CLIENTS
#      clients, each with its own driver session, book for BENCH_DURATION
#      seconds; server CPU time is read from /proc before and after;
#   4. counts, with the sqlite3 command-line tool, overlapping active
#      reservations (requested, confirmed, checked_in, overdue) on the same
#      charger: the double bookings, which must be 0.
# The last line is always
#   booking: <n> bookings/s, p99 <ms> ms, double bookings <count>
# with the medians of the rounds (p99 of a request + approve pair).
#
# Usage: bash bench/booking.sh
# Environment knobs (defaults in brackets):
#   BENCH_DURATION [15]   seconds per round      BENCH_ROUNDS [3]
#   BENCH_WARMUP [3]      seconds, not counted
#   BENCH_CLIENTS [64]    booking clients        BENCH_CHARGERS [1000]
#   BENCH_HOSTS [8]       BENCH_DRIVERS [64]     BENCH_DAYS [300] slot length
#   BENCH_MINUTES [60]    length of a booking    BENCH_PRICE [100] yen an hour
#   BENCH_CONTEND [1]     percent of attempts racing another client's next range
#   BENCH_SETUP_THREADS [8]
#   BENCH_WORKERS [64]    enemane --http-workers (a worker waits for its commit)
#   BENCH_SERVER_LOG [/dev/null]  where enemane's stdout/stderr go
#   BENCH_SERVER_ARGS []          extra `enemane serve` flags
#   BENCH_BIN []                  measure this binary instead of building one
set -euo pipefail
LCURL_MAX_TIME=30
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${BENCH_DURATION:-15}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-3}
CLIENTS=${BENCH_CLIENTS:-64}
CHARGERS=${BENCH_CHARGERS:-1000}
HOSTS=${BENCH_HOSTS:-8}
DRIVERS=${BENCH_DRIVERS:-64}
DAYS=${BENCH_DAYS:-300}
MINUTES=${BENCH_MINUTES:-60}
PRICE=${BENCH_PRICE:-100}
CONTEND=${BENCH_CONTEND:-1}
SETUP_THREADS=${BENCH_SETUP_THREADS:-8}
WORKERS=${BENCH_WORKERS:-64}
SERVER_LOG=${BENCH_SERVER_LOG:-/dev/null}
read -r -a SERVER_ARGS <<< "${BENCH_SERVER_ARGS:-}"
SECRET=bench-webhook-secret

command -v sqlite3 >/dev/null || die "the sqlite3 command-line tool is needed (apt-get install sqlite3)"

# ---- build ----------------------------------------------------------------
bench_build enemane bench/booking_load

# ---- processes, cleaned up on any exit --------------------------------------
TMP=$(mktemp -d /tmp/enemane-booking-bench-XXXXXX)
ENEMANE_PID=
cleanup()
{
        local pid=$ENEMANE_PID
        if [[ -n "$pid" ]]; then
                kill -TERM "$pid" 2>/dev/null || true
                for _ in $(seq 50); do
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

# ---- the load generator ---------------------------------------------------------
LOAD=$PWD/$BUILD_DIR/bench/booking_load
if [[ -n "${BENCH_BIN:-}" || ! -x "$LOAD" ]]; then
        # not built by meson (BENCH_BIN, or bench/ not in the build): build it here
        LOAD=$TMP/booking_load
        cc -std=c17 -O2 -D_GNU_SOURCE -Wall -Wextra bench/booking_load.c \
                $(pkg-config --cflags --libs libcurl jansson libsodium) -lpthread -o "$LOAD" ||
                die "cannot build bench/booking_load.c"
fi

# ---- enemane and its operator ----------------------------------------------------------
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
DB=$TMP/enemane.db
"$BIN" serve --listen-host 127.0.0.1 --listen-port "$PORT" --db-path "$DB" \
        --http-workers "$WORKERS" --wallet-webhook-secret "$SECRET" --no-log-requests \
        "${SERVER_ARGS[@]}" </dev/null >"$SERVER_LOG" 2>&1 &
ENEMANE_PID=$!
wait_ready "$URL/readyz" 20 "$ENEMANE_PID" ||
        die "enemane did not answer 200 on $URL/readyz (run with BENCH_SERVER_LOG=/tmp/enemane-bench.log to see why)"

OP_EMAIL=booking-bench@operator.test
PASSWORD=bench-password-123
"$BIN" admin create-operator --db-path "$DB" --email "$OP_EMAIL" \
        --password "$PASSWORD" >"$TMP/create-operator.log" 2>&1 ||
        { cat "$TMP/create-operator.log" >&2; die "enemane admin create-operator failed"; }
login=$(jq -n --arg email "$OP_EMAIL" --arg password "$PASSWORD" '{email: $email, password: $password}')
code=$(lcurl -o "$TMP/session.json" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' --data-binary "$login" "$URL/api/v1/sessions") ||
        die "POST /api/v1/sessions failed"
[[ "$code" == 201 ]] || die "operator login: $code $(cat "$TMP/session.json")"
OP_TOKEN=$(jq -r '.token // empty' "$TMP/session.json")
[[ -n "$OP_TOKEN" ]] || die "no operator token"

# ---- hosts, drivers, chargers, through the API ---------------------------------------------
STATE=$TMP/booking.state
# Enough money for every booking this run can make, with a wide margin.
FUNDS=$(( (PRICE * MINUTES / 60 + 1) * 200000 ))
timeout 600 "$LOAD" setup --url "$URL" --op-token "$OP_TOKEN" --secret "$SECRET" \
        --state "$STATE" --hosts "$HOSTS" --drivers "$DRIVERS" --chargers "$CHARGERS" \
        --days "$DAYS" --price "$PRICE" --funds "$FUNDS" --threads "$SETUP_THREADS" ||
        die "booking_load setup failed"

# ---- measuring ------------------------------------------------------------------------------

# server_cpu: the server's user + system CPU time so far, in seconds
server_cpu()
{
        awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' \
                "/proc/$ENEMANE_PID/stat"
}

# writer_cpu: CPU time so far of the server's store-writer thread (the one
# thread that runs every write transaction), in seconds
writer_cpu()
{
        cat /proc/"$ENEMANE_PID"/task/*/stat 2>/dev/null |
                awk -v hz="$(getconf CLK_TCK)" '$2 == "(store-writer)" { s += $14 + $15 }
                        END { printf "%.3f", s / hz }'
}

# run_load SECONDS: prints booking_load's line (fails the bench on any error)
run_load()
{
        local out
        out=$(timeout $(($1 + 90)) "$LOAD" run --url "$URL" --state "$STATE" \
                --clients "$CLIENTS" --duration "$1" --minutes "$MINUTES" --contend "$CONTEND") ||
                { echo "$out" >&2; die "booking_load run failed"; }
        echo "$out"
}

echo "bench: enemane $URL (pid $ENEMANE_PID, --http-workers $WORKERS), $CLIENTS clients over" \
        "$CHARGERS chargers of $HOSTS hosts, $DRIVERS drivers, ${MINUTES}-minute bookings," \
        "contend $CONTEND%; ${DURATION}s x $ROUNDS rounds; machine: $(nproc) cores, shared"

run_load "$WARMUP" >/dev/null   # warm-up: page cache, statement caches, connections

b_runs=()
p_runs=()
total=0
for ((r = 1; r <= ROUNDS; r++)); do
        c0=$(server_cpu)
        w0=$(writer_cpu)
        out=$(run_load "$DURATION")
        c1=$(server_cpu)
        w1=$(writer_cpu)
        echo "bench: round $r: $out"
        n=$(sed -n 's/^booking_load: \([0-9]*\) bookings in .*/\1/p' <<< "$out")
        bps=$(sed -n 's/.* = \([0-9]*\) bookings\/s.*/\1/p' <<< "$out")
        p99=$(sed -n 's/.*pair p50 [0-9.]* ms p99 \([0-9.]*\) ms.*/\1/p' <<< "$out")
        [[ -n "$n" && -n "$bps" && -n "$p99" ]] || die "cannot read booking_load's line: $out"
        awk -v r="$r" -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v n="$n" -v d="$DURATION" 'BEGIN {
                per = (n > 0) ? 1000 * (c1 - c0) / n : 0
                wper = (n > 0) ? 1000 * (w1 - w0) / n : 0
                printf "bench: round %d: server cpu %.1f s in %d s (%.0f%% of one core), %.2f ms per booking;" \
                       " of it store-writer thread %.1f s (%.0f%% of the round), %.2f ms per booking\n",
                        r, c1 - c0, d, 100 * (c1 - c0) / d, per, w1 - w0, 100 * (w1 - w0) / d, wper }'
        b_runs+=("$bps")
        p_runs+=("$p99")
        total=$((total + n))
done

# What group commit did over the whole run (setup and warm-up included).
metrics=$(lcurl "$URL/metrics" 2>/dev/null || true)
awk '/^enemane_db_write_jobs_total / { j = $2 } /^enemane_db_commit_batches_total / { b = $2 }
     /^enemane_db_commit_duration_seconds_sum / { s = $2 } /^enemane_db_commit_duration_seconds_count / { c = $2 }
     END { if (b > 0 && c > 0) printf "bench: enemane group commit: %d write jobs in %d commits (%.1f per commit), %.2f ms per commit\n", j, b, j / b, 1000 * s / c }' \
        <<< "$metrics"

# ---- double bookings, straight from the database ------------------------------------------------
# Two active reservations of one charger whose ranges overlap ([a, b) and
# [c, d) overlap when a < d and c < b). Read while the server still runs:
# WAL readers see every committed transaction.
ACTIVE="('requested','confirmed','checked_in','overdue')"
DOUBLE=$(sqlite3 -readonly -cmd '.timeout 10000' "$DB" \
        "SELECT count(*) FROM reservations a JOIN reservations b
           ON b.charger_id = a.charger_id AND b.id > a.id
          AND b.starts_at < a.ends_at AND a.starts_at < b.ends_at
        WHERE a.state IN $ACTIVE AND b.state IN $ACTIVE;") ||
        die "sqlite3 could not count double bookings"
read -r confirmed requested <<< "$(sqlite3 -readonly -cmd '.timeout 10000' -separator ' ' "$DB" \
        "SELECT sum(state = 'confirmed'), sum(state = 'requested') FROM reservations;")"
echo "bench: database: ${confirmed:-0} confirmed and ${requested:-0} requested reservations" \
        "($total bookings counted in the rounds), $DOUBLE overlapping active pairs"
# Whether checkpoints kept up: a WAL that is never checkpointed, or never
# restarted from its start, only grows, and writing and reading it get slower.
db_bytes=$(stat -c %s "$DB")
wal_bytes=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
echo "bench: database file $((db_bytes / 1000000)) MB, WAL $((wal_bytes / 1000000)) MB"
(( ${confirmed:-0} >= total )) ||
        die "the database has fewer confirmed reservations ($confirmed) than bookings counted ($total)"

echo "booking: $(median "${b_runs[@]}") bookings/s, p99 $(median "${p_runs[@]}") ms, double bookings $DOUBLE"
