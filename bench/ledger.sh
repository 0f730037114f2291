#!/usr/bin/env bash
# ledger.sh - durable ledger transfers per second through enemane's HTTP API,
# next to PostgreSQL's pgbench (TPC-B like) on the same machine (issue 3).
#
# Builds a release enemane (./build-release) and bench/ledger_load, then:
#   1. starts enemane on a free loopback port with a fresh database and a
#      wallet webhook secret, creates an operator (enemane admin
#      create-operator) and BENCH_MEMBERS members, and tops their wallets up
#      through the signed top-up webhook;
#   2. initialises a throw-away PostgreSQL cluster in the temp dir (Debian's
#      postgresql, on 127.0.0.1 and a free port, fsync=on,
#      synchronous_commit=on) and runs pgbench -i -s 16;
#   3. alternately, ROUNDS rounds each: ledger_load (64 clients, each
#      transfer a hold then its capture, BENCH_DURATION seconds) and
#      pgbench -c 64 -j 2 -T BENCH_DURATION (the default TPC-B-like script).
# Both count only what is durable: enemane answers 2xx after the group
# commit's fsync, PostgreSQL commits with synchronous_commit=on.
# The last line is always
#   ledger: <tps> transfers/s, pgbench <tps> tps, ratio <x>
# with the medians of the rounds and ratio = ledger / pgbench.
#
# Usage: bash bench/ledger.sh
# Environment knobs (defaults in brackets):
#   BENCH_DURATION [10]  seconds per round      BENCH_ROUNDS [3]
#   BENCH_CLIENTS [64]   ledger_load clients    BENCH_MEMBERS [16] wallets used
#   BENCH_WORKERS [64]   enemane --http-workers (a worker waits for its commit,
#                        so fewer workers than clients means smaller group commits)
#   BENCH_PG_SCALE [16]  BENCH_PG_CLIENTS [64]  BENCH_PG_THREADS [2]
#   BENCH_SERVER_LOG [/dev/null]  where enemane's stdout/stderr go
#   BENCH_SERVER_ARGS []          extra `enemane serve` flags
#   BENCH_BIN []                  measure this binary instead of building one
set -euo pipefail
LCURL_MAX_TIME=30
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-64}
MEMBERS=${BENCH_MEMBERS:-16}
WORKERS=${BENCH_WORKERS:-64}
PG_SCALE=${BENCH_PG_SCALE:-16}
PG_CLIENTS=${BENCH_PG_CLIENTS:-64}
PG_THREADS=${BENCH_PG_THREADS:-2}
SERVER_LOG=${BENCH_SERVER_LOG:-/dev/null}
read -r -a SERVER_ARGS <<< "${BENCH_SERVER_ARGS:-}"
SECRET=bench-webhook-secret


as_root()
{
        if [[ $EUID -eq 0 ]]; then
                "$@"
        elif command -v sudo >/dev/null; then
                sudo "$@"
        else
                die "need root for: $*"
        fi
}

# ---- build ----------------------------------------------------------------
if ! compgen -G "/usr/lib/postgresql/*/bin/pgbench" >/dev/null; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                postgresql postgresql-contrib >&2 ||
                { as_root apt-get update >&2 &&
                  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
                        --no-install-recommends postgresql postgresql-contrib >&2; } ||
                die "cannot install postgresql"
fi
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
for tool in initdb pg_ctl pgbench; do
        [[ -x "$PG_BIN/$tool" ]] || die "$PG_BIN/$tool missing (postgresql install incomplete?)"
done

bench_build

# ---- processes, cleaned up on any exit --------------------------------------
TMP=$(mktemp -d /tmp/enemane-ledger-bench-XXXXXX)
chmod 711 "$TMP"                # the postgres user must reach its data dir
ENEMANE_PID=
PGDATA=$TMP/pg/data
PG_STARTED=0

# Runs a PostgreSQL tool as the postgres user when we are root (initdb and
# the server refuse to run as root), else as ourselves.
as_pg()
{
        if [[ $EUID -eq 0 ]]; then
                runuser -u postgres -- "$@"
        else
                "$@"
        fi
}

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
        if [[ "$PG_STARTED" == 1 ]]; then
                as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        fi
        rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the load generator ---------------------------------------------------------
LOAD=$PWD/$BUILD_DIR/bench/ledger_load
if [[ -n "${BENCH_BIN:-}" || ! -x "$LOAD" ]]; then
        # not built by meson (bench/ not in the build yet, or BENCH_BIN): build it here
        LOAD=$TMP/ledger_load
        cc -std=c17 -O2 -D_GNU_SOURCE -Wall -Wextra bench/ledger_load.c \
                $(pkg-config --cflags --libs libcurl jansson) -lpthread -o "$LOAD" ||
                die "cannot build bench/ledger_load.c"
fi

# ---- enemane: operator, members, top-ups --------------------------------------------
EPORT=$(free_port)
E_URL=http://127.0.0.1:$EPORT
"$BIN" serve --listen-host 127.0.0.1 --listen-port "$EPORT" --db-path "$TMP/enemane.db" \
        --http-workers "$WORKERS" --wallet-webhook-secret "$SECRET" --no-log-requests \
        "${SERVER_ARGS[@]}" </dev/null >"$SERVER_LOG" 2>&1 &
ENEMANE_PID=$!
wait_ready "$E_URL/readyz" 20 "$ENEMANE_PID" ||
        die "enemane did not answer 200 on $E_URL/readyz (run with BENCH_SERVER_LOG=/tmp/enemane-bench.log to see why)"

OP_EMAIL=ledger-bench@operator.test
PASSWORD=bench-password-123
"$BIN" admin create-operator --db-path "$TMP/enemane.db" --email "$OP_EMAIL" \
        --password "$PASSWORD" >"$TMP/create-operator.log" 2>&1 ||
        { cat "$TMP/create-operator.log" >&2; die "enemane admin create-operator failed"; }

# post_json PATH BODY [TOKEN]: prints the body, fails unless the status is 2xx
post_json()
{
        local path=$1 body=$2 token=${3:-} code
        local -a auth=()
        [[ -n "$token" ]] && auth=(-H "Authorization: Bearer $token")
        code=$(lcurl -o "$TMP/answer.json" -w '%{http_code}' -X POST "${auth[@]}" \
                -H 'Content-Type: application/json' --data-binary "$body" "$E_URL$path") ||
                die "POST $path failed"
        [[ "$code" == 2* ]] || die "POST $path: $code $(cat "$TMP/answer.json")"
        cat "$TMP/answer.json"
}

login=$(jq -n --arg email "$OP_EMAIL" --arg password "$PASSWORD" '{email: $email, password: $password}')
TOKEN=$(post_json /api/v1/sessions "$login" | jq -r '.token // empty')
[[ -n "$TOKEN" ]] || die "no operator token"

docs=$(lcurl "$E_URL/api/v1/documents") || die "GET /api/v1/documents failed"
TERMS_V=$(jq -r '.items[] | select(.document == "terms") | .version' <<< "$docs" | head -n1)
PRIVACY_V=$(jq -r '.items[] | select(.document == "privacy") | .version' <<< "$docs" | head -n1)
[[ -n "$TERMS_V" && -n "$PRIVACY_V" ]] || die "no terms/privacy versions: $docs"

# signed top-up: HMAC-SHA256(secret, "<timestamp>.<body>") as in the wallet contract
topup()
{
        local member=$1 amount=$2 body ts sig code
        body=$(jq -cn --arg tx "bench-topup-$member" --argjson m "$member" --argjson a "$amount" \
                '{transaction_id: $tx, member_id: $m, amount: $a}')
        ts=$(date +%s)
        sig=$(python3 -c 'import hmac, hashlib, sys
print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' \
                "$SECRET" "$ts.$body")
        code=$(lcurl -o "$TMP/answer.json" -w '%{http_code}' -X POST \
                -H 'Content-Type: application/json' -H "X-Wallet-Timestamp: $ts" \
                -H "X-Wallet-Signature: sha256=$sig" --data-binary "$body" \
                "$E_URL/api/v1/wallet/topups") || die "top-up failed"
        [[ "$code" == 201 ]] || die "top-up of member $member: $code $(cat "$TMP/answer.json")"
}

WALLETS=()
for ((i = 1; i <= MEMBERS; i++)); do
        member=$(jq -n --arg email "wallet$i@bench.test" --arg password "$PASSWORD" \
                --arg tv "$TERMS_V" --arg pv "$PRIVACY_V" '{
                kind: "individual", email: $email, password: $password,
                name: "Bench User", name_kana: "ベンチ ユーザー",
                phone: "090-0000-0000", birth_date: "1990-01-01",
                address: { postcode: "100-0001", prefecture: "東京都",
                           city: "千代田区", line1: "千代田1-1" },
                consents: [ { document: "terms", version: $tv },
                            { document: "privacy", version: $pv } ] }')
        mid=$(post_json /api/v1/members "$member" | jq -r '.id')
        wallet=$(lcurl -H "Authorization: Bearer $TOKEN" "$E_URL/api/v1/members/$mid/wallet" |
                jq -r '.account_id // empty')
        [[ -n "$wallet" ]] || die "no wallet for member $mid"
        topup "$mid" 100000000
        WALLETS+=("$wallet")
done
WALLET_LIST=$(IFS=,; echo "${WALLETS[*]}")

# ---- PostgreSQL -----------------------------------------------------------------------
PGPORT=$(free_port)
while [[ "$PGPORT" == "$EPORT" ]]; do
        PGPORT=$(free_port)
done
mkdir -p "$TMP/pg"
[[ $EUID -eq 0 ]] && chown postgres: "$TMP/pg"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --no-sync \
        >"$TMP/pg/initdb.log" 2>&1 || { cat "$TMP/pg/initdb.log" >&2; die "initdb failed"; }
PG_STARTED=1
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$TMP/pg/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$TMP/pg -c fsync=on -c synchronous_commit=on -c max_connections=$((PG_CLIENTS + 20))" \
        start >/dev/null || { cat "$TMP/pg/server.log" >&2; die "PostgreSQL did not start"; }
PGARGS=(-h 127.0.0.1 -p "$PGPORT" -U postgres)
timeout 300 "$PG_BIN/pgbench" "${PGARGS[@]}" -i -q -s "$PG_SCALE" postgres >"$TMP/pg/init.log" 2>&1 ||
        { cat "$TMP/pg/init.log" >&2; die "pgbench -i failed"; }
PSQL=$PG_BIN/psql
[[ -x "$PSQL" ]] || PSQL=psql
fsync=$("$PSQL" "${PGARGS[@]}" -Atc 'show fsync' postgres)
sync_commit=$("$PSQL" "${PGARGS[@]}" -Atc 'show synchronous_commit' postgres)
[[ "$fsync" == on && "$sync_commit" == on ]] ||
        die "PostgreSQL runs with fsync=$fsync synchronous_commit=$sync_commit"

# ---- measuring ------------------------------------------------------------------------------

# run_ledger PREFIX SECONDS: prints the transfers/s of one ledger_load run
run_ledger()
{
        local out tps
        out=$(timeout $(($2 + 60)) "$LOAD" --url "$E_URL" --token "$TOKEN" \
                --wallets "$WALLET_LIST" --clients "$CLIENTS" --duration "$2" --prefix "$1") ||
                { echo "$out" >&2; die "ledger_load failed"; }
        echo "$out" >&2
        tps=$(sed -n 's/.* = \([0-9]*\) transfers\/s.*/\1/p' <<< "$out")
        [[ -n "$tps" ]] || die "no transfers/s from ledger_load: $out"
        echo "$tps"
}

# run_pgbench SECONDS: prints the tps of one pgbench run
run_pgbench()
{
        local out tps
        out=$(timeout $(($1 + 60)) "$PG_BIN/pgbench" "${PGARGS[@]}" -c "$PG_CLIENTS" \
                -j "$PG_THREADS" -T "$1" postgres 2>&1) ||
                { echo "$out" >&2; die "pgbench failed"; }
        tps=$(awk '/^tps = .*without initial connection time/ { printf "%.0f", $3 }' <<< "$out")
        [[ -n "$tps" ]] || { echo "$out" >&2; die "no tps from pgbench"; }
        echo "$tps"
}

echo "bench: enemane $E_URL (pid $ENEMANE_PID, --http-workers $WORKERS), PostgreSQL $(basename "$(dirname "$PG_BIN")") on 127.0.0.1:$PGPORT"
echo "bench: ledger_load $CLIENTS clients over $MEMBERS wallets, pgbench -c $PG_CLIENTS -j $PG_THREADS -s $PG_SCALE; ${DURATION}s x $ROUNDS rounds each; machine: $(nproc) cores, shared"

# Short warm-ups, not counted.
run_ledger warm 2 >/dev/null
run_pgbench 2 >/dev/null

l_runs=()
p_runs=()
for ((r = 1; r <= ROUNDS; r++)); do
        l=$(run_ledger "r$r" "$DURATION")
        p=$(run_pgbench "$DURATION")
        echo "bench: round $r: ledger $l transfers/s, pgbench $p tps"
        l_runs+=("$l")
        p_runs+=("$p")
done
# What group commit did over the whole run (warm-up and setup included).
metrics=$(lcurl "$E_URL/metrics" 2>/dev/null || true)
awk '/^enemane_db_write_jobs_total / { j = $2 } /^enemane_db_commit_batches_total / { b = $2 }
     /^enemane_db_commit_duration_seconds_sum / { s = $2 } /^enemane_db_commit_duration_seconds_count / { c = $2 }
     END { if (b > 0 && c > 0) printf "bench: enemane group commit: %d write jobs in %d commits (%.1f per commit), %.2f ms per commit\n", j, b, j / b, 1000 * s / c }' \
        <<< "$metrics"

L_MED=$(median "${l_runs[@]}")
P_MED=$(median "${p_runs[@]}")
RATIO=$(awk -v l="$L_MED" -v p="$P_MED" 'BEGIN { printf "%.2f", (p > 0) ? l / p : 0 }')
echo "ledger: $L_MED transfers/s, pgbench $P_MED tps, ratio $RATIO"
