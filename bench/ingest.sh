#!/usr/bin/env bash
# ingest.sh - durable measurement ingest through enemane's HTTP API (issue 6)
# next to InfluxDB 1.x with the same points: 1,000 gateways x 20 channels x
# 60 minutes of 1-minute data (1.2 M points) on 4 keep-alive connections,
# points per second until every write was acknowledged durably, and bytes
# per point on disk afterwards.
#
# Builds a release enemane (./build-release) and bench/ingest_load, installs
# Debian's influxdb package when influxd is missing, then ROUNDS times:
#   1. enemane, line protocol: a fresh database and server (defaults:
#      synchronous=FULL, group commit), an operator (enemane admin
#      create-operator), logged in; ingest_load setup provisions GATEWAYS
#      gateways (POST /api/v1/gateways/bulk, text/csv) and registers each
#      (POST /api/v1/gateway/registration) - not timed - and, since uploads
#      older than the registration are refused per point and the data is the
#      past hour, moves the homes' registration time back an hour before it
#      (sqlite3 on the live database); then, timed,
#      ingest_load send --target lp: POST /write?db=home&precision=s, one
#      body per gateway (its 1,200 points; a gateway credential writes only
#      its own home), Basic auth device_code:secret, every answer 204. The
#      server is stopped (SIGTERM: it checkpoints) and the database file plus
#      its -wal measured.
#   2. enemane, JSON batches: the same on another fresh database with
#      POST /api/v1/gateway/measurements (every point accepted).
#   3. InfluxDB: a fresh influxd (own config, meta, data and WAL dirs in the
#      temp dir, 127.0.0.1 on free ports, HTTP auth off, WAL fsync before
#      every acknowledged write = the default wal-fsync-delay "0s"), CREATE
#      DATABASE, then timed the same lines plus a gw tag in bodies of 5,000
#      points. Then the cache snapshot is awaited (the WAL emptied into TSM
#      files), the points counted back with a query, and the data + WAL
#      dirs measured before influxd is stopped.
# The last two lines are
#   bench: enemane JSON batches: <pps> points/s, bytes/point <b>
#   ingest: enemane <pps> points/s, influxdb <pps> points/s, ratio <x>; bytes/point enemane <b>, influxdb <b>
# with the medians of the rounds (enemane = the line protocol runs; ratio =
# enemane / influxdb).
#
# Usage: bash bench/ingest.sh
# Environment knobs (defaults in brackets):
#   BENCH_ROUNDS [3]         BENCH_CONNECTIONS [4]   senders, keep-alive
#   BENCH_GATEWAYS [1000]    BENCH_CHANNELS [20]     BENCH_MINUTES [60]
#   BENCH_SEED [42]          BENCH_INFLUX_BATCH [5000] points per InfluxDB body
#   BENCH_START []           unix seconds of the first minute (default: the
#                            start of the hour before the current one)
#   BENCH_WORKERS [4]        enemane --http-workers
#   BENCH_SERVER_LOG [/dev/null]  where enemane's stdout/stderr go
#   BENCH_SERVER_ARGS []          extra `enemane serve` flags
#   BENCH_INFLUX_LOG [/dev/null]  where influxd's stdout/stderr go
#   BENCH_BIN []                  measure this binary instead of building one
set -euo pipefail
LCURL_MAX_TIME=60
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-4}
GATEWAYS=${BENCH_GATEWAYS:-1000}
CHANNELS=${BENCH_CHANNELS:-20}
MINUTES=${BENCH_MINUTES:-60}
SEED=${BENCH_SEED:-42}
INFLUX_BATCH=${BENCH_INFLUX_BATCH:-5000}
START=${BENCH_START:-$(( $(date +%s) / 3600 * 3600 - 3600 ))}
WORKERS=${BENCH_WORKERS:-4}
SERVER_LOG=${BENCH_SERVER_LOG:-/dev/null}
INFLUX_LOG=${BENCH_INFLUX_LOG:-/dev/null}
read -r -a SERVER_ARGS <<< "${BENCH_SERVER_ARGS:-}"
POINTS=$((GATEWAYS * CHANNELS * MINUTES))

command -v sqlite3 >/dev/null || die "the sqlite3 command-line tool is needed (apt-get install sqlite3)"

# ---- InfluxDB (Debian 12: influxdb 1.6.x) -------------------------------------------------
if ! command -v influxd >/dev/null; then
        echo "bench: installing Debian's influxdb package (apt-get)"
        sudo=()
        [[ $(id -u) == 0 ]] || sudo=(sudo)
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y influxdb >/dev/null ||
                die "cannot install influxdb (apt-get install influxdb)"
fi
INFLUX_VERSION=$(influxd version 2>/dev/null | head -n1)

# ---- build ----------------------------------------------------------------------------------
bench_build enemane bench/ingest_load

# ---- processes, cleaned up on any exit ----------------------------------------------------------
TMP=$(mktemp -d /tmp/enemane-ingest-bench-XXXXXX)
ENEMANE_PID=
INFLUX_PID=
# stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS; 0 when it ended by itself
stop_pid()
{
        local pid=$1 secs=$2 i
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < secs * 10; i++)); do
                kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
                sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 1
}
cleanup()
{
        if [[ -n "$ENEMANE_PID" ]]; then stop_pid "$ENEMANE_PID" 10 || true; fi
        if [[ -n "$INFLUX_PID" ]]; then stop_pid "$INFLUX_PID" 10 || true; fi
        rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the load generator ------------------------------------------------------------------------
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

# pps_of LINE: the points/s of an ingest_load send line
pps_of()
{
        sed -n 's/.* = \([0-9]*\) points\/s.*/\1/p' <<< "$1"
}

# ---- enemane ------------------------------------------------------------------------------------
OP_EMAIL=ingest-bench@operator.test
PASSWORD=bench-password-123

# enemane_start DIR: a server on a fresh database in DIR, an operator logged in
# (sets ENEMANE_PID, URL, DB, OP_TOKEN)
enemane_start()
{
        local dir=$1 port login code
        mkdir -p "$dir"
        DB=$dir/enemane.db
        port=$(free_port)
        URL=http://127.0.0.1:$port
        "$BIN" serve --listen-host 127.0.0.1 --listen-port "$port" --db-path "$DB" \
                --http-workers "$WORKERS" --no-log-requests "${SERVER_ARGS[@]}" \
                </dev/null >>"$SERVER_LOG" 2>&1 &
        ENEMANE_PID=$!
        wait_ready "$URL/readyz" 20 "$ENEMANE_PID" ||
                die "enemane did not answer 200 on $URL/readyz (run with BENCH_SERVER_LOG=/tmp/enemane-bench.log to see why)"
        "$BIN" admin create-operator --db-path "$DB" --email "$OP_EMAIL" \
                --password "$PASSWORD" >"$dir/create-operator.log" 2>&1 ||
                { cat "$dir/create-operator.log" >&2; die "enemane admin create-operator failed"; }
        login=$(jq -n --arg email "$OP_EMAIL" --arg password "$PASSWORD" \
                '{email: $email, password: $password}')
        code=$(lcurl -o "$dir/session.json" -w '%{http_code}' -X POST \
                -H 'Content-Type: application/json' --data-binary "$login" \
                "$URL/api/v1/sessions") || die "POST /api/v1/sessions failed"
        [[ "$code" == 201 ]] || die "operator login: $code $(cat "$dir/session.json")"
        OP_TOKEN=$(jq -r '.token // empty' "$dir/session.json")
        [[ -n "$OP_TOKEN" ]] || die "no operator token"
}

# enemane_round TARGET ROUND: sets RES_PPS and RES_BYTES (TARGET lp or json)
enemane_round()
{
        local target=$1 r=$2 dir=$TMP/enemane-$1-$2 out c0 c1 pps bytes db_b wal_b
        local stored nseries nchunks blob nroll
        enemane_start "$dir"
        out=$(timeout 600 "$LOAD" setup --url "$URL" --op-token "$OP_TOKEN" \
                --gateways "$GATEWAYS" --threads "$CONNS" --out "$dir/gateways.txt") ||
                { echo "$out" >&2; die "ingest_load setup failed"; }
        echo "bench: round $r enemane $target: $out"
        # The data lies before the registration that just happened, and uploads
        # older than the registration are refused per point: move the homes'
        # registration time back (enemane reads the home on every upload).
        sqlite3 -cmd '.timeout 10000' "$DB" \
                "UPDATE homes SET started_at = $((START - 3600)) WHERE state = 'active';" ||
                die "sqlite3 could not move the registrations back"
        c0=$(proc_cpu "$ENEMANE_PID")
        out=$(timeout 1800 "$LOAD" send --target "$target" --url "$URL" \
                --creds "$dir/gateways.txt" --gateways "$GATEWAYS" --channels "$CHANNELS" \
                --minutes "$MINUTES" --start "$START" --seed "$SEED" --conns "$CONNS") ||
                { echo "$out" >&2; die "ingest_load send --target $target failed"; }
        c1=$(proc_cpu "$ENEMANE_PID")
        pps=$(pps_of "$out")
        [[ -n "$pps" ]] || die "cannot read ingest_load's line: $out"
        echo "bench: round $r enemane $target: $out"
        stop_pid "$ENEMANE_PID" 120 || echo "bench: enemane did not stop within 120 s (killed)" >&2
        ENEMANE_PID=
        # What the database holds: every point, in chunks (and hour/day/month rollups).
        read -r stored nseries nchunks blob nroll <<< "$(sqlite3 -readonly -separator ' ' "$DB" \
                "SELECT (SELECT IFNULL(sum(n), 0) FROM chunks), (SELECT count(*) FROM series),
                        (SELECT count(*) FROM chunks), (SELECT IFNULL(sum(length(data)), 0) FROM chunks),
                        (SELECT count(*) FROM rollups);")" ||
                die "sqlite3 could not read the stored points"
        echo "bench: round $r enemane $target: stored $stored points of $nseries series in" \
                "$nchunks chunks ($blob bytes of chunk data," \
                "$(awk -v b="$blob" -v n="$POINTS" 'BEGIN { printf "%.2f", b / n }') bytes/point)," \
                "$nroll rollup rows"
        [[ "$stored" == "$POINTS" ]] || die "enemane stored $stored points, not $POINTS"
        # Where the bytes are: pages per table with their indexes (sqlite3's dbstat)
        echo "bench: round $r enemane $target: database pages by table: $(sqlite3 -readonly \
                -separator ' ' "$DB" "SELECT IFNULL(i.tbl_name, d.name), sum(d.pgsize)
                        FROM dbstat d LEFT JOIN sqlite_schema i ON i.name = d.name
                        GROUP BY 1 ORDER BY 2 DESC LIMIT 6;" 2>/dev/null |
                awk '{ printf "%s%s %.1f MB", (NR > 1) ? ", " : "", $1, $2 / 1e6 }')"
        db_b=$(stat -c %s "$DB")
        wal_b=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
        bytes=$(awk -v a="$db_b" -v b="$wal_b" -v n="$POINTS" 'BEGIN { printf "%.2f", (a + b) / n }')
        awk -v r="$r" -v t="$target" -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
                -v n="$POINTS" -v a="$db_b" -v w="$wal_b" -v bp="$bytes" 'BEGIN {
                printf "bench: round %d enemane %s: server cpu %.1f s for the send (%.2f us/point);" \
                       " stopped: database %d bytes + WAL %d bytes = %s bytes/point\n",
                       r, t, c, 1e6 * c / n, a, w, bp }'
        rm -rf "$dir"
        RES_PPS=$pps
        RES_BYTES=$bytes
}

# ---- InfluxDB ------------------------------------------------------------------------------------

# influx_round ROUND: sets RES_PPS and RES_BYTES
influx_round()
{
        local r=$1 dir=$TMP/influx-$1 port rport iurl out c0 c1 pps i n alloc apparent bytes
        local prev='' cur
        mkdir -p "$dir/meta" "$dir/data" "$dir/wal"
        port=$(free_port)
        rport=$(free_port)
        iurl=http://127.0.0.1:$port
        # Defaults except: loopback ports, own dirs, no usage reporting, no _internal
        # monitor database, no request/query logs, and the cache snapshot 5 s after
        # the last write (default 10 min) so the bench need not wait for it.
        # wal-fsync-delay "0s" (the default): the WAL is fsynced before a write is
        # acknowledged.
        cat > "$dir/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$rport"
[meta]
  dir = "$dir/meta"
  logging-enabled = false
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "5s"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$port"
  auth-enabled = false
  log-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
EOF
        influxd run -config "$dir/influxdb.conf" </dev/null >>"$INFLUX_LOG" 2>&1 &
        INFLUX_PID=$!
        wait_ready "$iurl/query?q=SHOW%20DATABASES" 30 "$INFLUX_PID" ||
                die "influxd did not answer on $iurl (run with BENCH_INFLUX_LOG=/tmp/influx-bench.log to see why)"
        lcurl -o /dev/null -X POST "$iurl/query" --data-urlencode 'q=CREATE DATABASE bench' ||
                die "influxdb: CREATE DATABASE failed"
        c0=$(proc_cpu "$INFLUX_PID")
        out=$(timeout 1800 "$LOAD" send --target influx --url "$iurl" --db bench \
                --gateways "$GATEWAYS" --channels "$CHANNELS" --minutes "$MINUTES" \
                --start "$START" --seed "$SEED" --conns "$CONNS" --batch "$INFLUX_BATCH") ||
                { echo "$out" >&2; die "ingest_load send --target influx failed"; }
        c1=$(proc_cpu "$INFLUX_PID")
        pps=$(pps_of "$out")
        [[ -n "$pps" ]] || die "cannot read ingest_load's line: $out"
        echo "bench: round $r influxdb: $out"
        # The cache snapshot: wait until no WAL segment holds data and the sizes
        # settle (compactions of the new TSM files), at most 120 s.
        for ((i = 0; i < 240; i++)); do
                sleep 0.5
                [[ -z "$(find "$dir/wal" -name '*.wal' -size +0c)" ]] || continue
                cur=$(find "$dir/data" "$dir/wal" -type f -printf '%s %p\n' | sort | md5sum)
                [[ "$cur" == "$prev" ]] && break
                prev=$cur
        done
        (( i < 240 )) || echo "bench: influxdb: the cache snapshot did not finish in 120 s" >&2
        n=$(lcurl -G "$iurl/query" --data-urlencode db=bench \
                --data-urlencode 'q=SELECT count(value) FROM power,energy,soc,gas,water' |
                jq '[.results[0].series[]?.values[0][1]] | add // 0')
        [[ "$n" == "$POINTS" ]] || die "influxdb holds $n points, not $POINTS"
        # Sizes after the snapshot: allocated blocks (du -B1: the series file's
        # segments are sparse, 4 MiB each when listed) and apparent sizes (du -b).
        alloc=$(du -s -B1 "$dir/data" "$dir/wal" | awk '{ s += $1 } END { print s }')
        apparent=$(du -sb "$dir/data" "$dir/wal" | awk '{ s += $1 } END { print s }')
        stop_pid "$INFLUX_PID" 30 || echo "bench: influxd did not stop within 30 s (killed)" >&2
        INFLUX_PID=
        bytes=$(awk -v a="$alloc" -v n="$POINTS" 'BEGIN { printf "%.2f", a / n }')
        awk -v r="$r" -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" -v n="$POINTS" \
                -v a="$alloc" -v p="$apparent" -v bp="$bytes" 'BEGIN {
                printf "bench: round %d influxdb: server cpu %.1f s for the send (%.2f us/point);" \
                       " after the cache snapshot: data + wal %d bytes allocated = %s bytes/point" \
                       " (du -sb, apparent: %d bytes = %.2f bytes/point)\n",
                       r, c, 1e6 * c / n, a, bp, p, p / n }'
        rm -rf "$dir"
        RES_PPS=$pps
        RES_BYTES=$bytes
}

# ---- measuring -----------------------------------------------------------------------------------
echo "bench: $GATEWAYS gateways x $CHANNELS channels x $MINUTES minutes = $POINTS points from" \
        "$(date -u -d "@$START" +%FT%TZ), $CONNS connections, $ROUNDS rounds; enemane" \
        "--http-workers $WORKERS; $INFLUX_VERSION, bodies of $INFLUX_BATCH points;" \
        "machine: $(nproc) cores, shared"

lp_pps=() lp_bytes=() js_pps=() js_bytes=() ix_pps=() ix_bytes=()
for ((r = 1; r <= ROUNDS; r++)); do
        enemane_round lp "$r"
        lp_pps+=("$RES_PPS"); lp_bytes+=("$RES_BYTES")
        enemane_round json "$r"
        js_pps+=("$RES_PPS"); js_bytes+=("$RES_BYTES")
        influx_round "$r"
        ix_pps+=("$RES_PPS"); ix_bytes+=("$RES_BYTES")
done

E=$(median "${lp_pps[@]}")
I=$(median "${ix_pps[@]}")
echo "bench: enemane JSON batches: $(median "${js_pps[@]}") points/s, bytes/point $(median "${js_bytes[@]}")"
echo "ingest: enemane $E points/s, influxdb $I points/s, ratio $(awk -v e="$E" -v i="$I" \
        'BEGIN { printf "%.2f", (i > 0) ? e / i : 0 }'); bytes/point enemane" \
        "$(median "${lp_bytes[@]}"), influxdb $(median "${ix_bytes[@]}")"
