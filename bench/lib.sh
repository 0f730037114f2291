# bench/lib.sh - shell helpers shared by the benchmark scripts (sourced,
# not run): dying with a message, building the release binary, a free
# loopback port, a bounded local curl, waiting for a server to answer 200,
# and the median of a list of numbers.
#
# LCURL_MAX_TIME (seconds, default 10) bounds each lcurl call.

free_port()
{
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Local curl: never through a proxy, bounded.
lcurl()
{
        curl --noproxy '*' --silent --show-error --max-time "${LCURL_MAX_TIME:-10}" "$@"
}

# wait_ready URL SECONDS PID: 0 once URL answers 200, 1 when PID died or
# the time ran out.
wait_ready()
{
        local url=$1 secs=$2 pid=$3 i
        for ((i = 0; i < secs * 10; i++)); do
                kill -0 "$pid" 2>/dev/null || return 1
                if [[ "$(lcurl -o /dev/null -w '%{http_code}' "$url" 2>/dev/null || true)" == 200 ]]; then
                        return 0
                fi
                sleep 0.1
        done
        return 1
}

median()
{
        printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

die()
{
        echo "bench: $*" >&2
        exit 1
}

# bench_build [TARGET...]: installs what is missing, builds ./build-release
# (release, no sanitizers) unless BENCH_BIN names a binary; sets BIN and
# BUILD_DIR. With targets (e.g. enemane bench/booking_load) only those are
# built, so a broken test elsewhere in the tree does not stop a bench.
bench_build()
{
        BUILD_DIR=build-release
        bash scripts/install-deps
        if [[ -n "${BENCH_BIN:-}" ]]; then
                BIN=$BENCH_BIN
        else
                if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
                        if [[ -f "$BUILD_DIR/meson-private/coredata.dat" ]]; then
                                meson setup --reconfigure "$BUILD_DIR" --buildtype=release \
                                        -Db_sanitize=none
                        else
                                meson setup "$BUILD_DIR" --buildtype=release -Db_sanitize=none
                        fi
                fi
                ninja -C "$BUILD_DIR" "$@"
                BIN=$PWD/$BUILD_DIR/enemane
        fi
        [[ -x "$BIN" ]] || die "$BIN is not an executable (build failed?)"
}
