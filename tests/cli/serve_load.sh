#!/bin/sh
# serve_load.sh - load test of `linlearn serve` with wrk: 64 connections for 10 s in all (a 2 s
# warm-up, then 8 s), valid CSV requests of 10 rows; asserts zero non-2xx answers and socket
# errors, and that the server's RSS after the run stays within 20 % (+4 MB) of its RSS after the
# warm-up. Under sanitizers (LL_BUILD containing "san") the run is lighter: 16 connections, 1+3 s.
B=${LL_BUILD:-build}
BIN=${LL_BIN:-$PWD/$B/linlearn}
T=$(mktemp -d /tmp/ll_serve_load.XXXXXX)
pass=0
fail=0
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ok() { pass=$((pass + 1)); }
ko() { echo "FAIL: $*"; fail=$((fail + 1)); }

if ! command -v wrk >/dev/null; then
    echo "wrk is not installed (scripts/install-deps)"
    echo "[serve_load] 0 passed, 1 failed, 0 skipped"
    exit 1
fi
case $B in
*san*)
    CONN=16 WARM=1 RUN=3
    # ASan's quarantine holds freed blocks back on purpose; without it RSS shows our memory
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    ;;
*) CONN=64 WARM=2 RUN=8 ;;
esac

"$B/tests/test_serve" --write-model "$T/m" binary
cat >"$T/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/csv"
wrk.headers["Accept"] = "application/json"
wrk.body = "1,2,3\n-1,0.5,4\n0,0,2\n0.25,0.5,0.75\n9,8,7\n1,1,1\n0,0,0\n-3,2,-1\n5,0,5\n0.1,0.2,0.3\n"
LUA
: >"$T/log"
"$BIN" serve --model "$T/m" --port 0 --threads 2 2>"$T/log" &
SERVER_PID=$!
PORT=
i=0
while [ $i -lt 100 ] && [ -z "$PORT" ]; do
    sleep 0.1
    PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9][0-9]*\).*/\1/p' "$T/log")
    i=$((i + 1))
done
if [ -z "$PORT" ]; then
    cat "$T/log"
    echo "[serve_load] 0 passed, 1 failed, 0 skipped"
    exit 1
fi
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }

wrk -t2 -c"$CONN" -d"${WARM}s" -s "$T/post.lua" "http://127.0.0.1:$PORT/invocations" >"$T/warm" 2>&1
rss0=$(rss)
wrk -t2 -c"$CONN" -d"${RUN}s" --latency -s "$T/post.lua" "http://127.0.0.1:$PORT/invocations" >"$T/run" 2>&1
rss1=$(rss)
cat "$T/run"
echo "RSS after warm-up ${rss0} kB, after the run ${rss1} kB"

n=$(awk '/requests in/ { print $1 }' "$T/run")
if [ -n "$n" ] && [ "$n" -gt 0 ]; then ok; else ko "wrk made no requests"; fi
if grep -q 'Non-2xx' "$T/warm" "$T/run"; then ko "non-2xx answers to valid requests"; else ok; fi
if grep -q 'Socket errors' "$T/warm" "$T/run"; then ko "socket errors"; else ok; fi
if [ -n "$rss0" ] && [ -n "$rss1" ] && [ "$rss1" -le $((rss0 + rss0 / 5 + 4096)) ]; then ok; else
    ko "RSS grew from $rss0 kB to $rss1 kB"
fi
# the server still answers and stops cleanly
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ping")
if [ "$code" = 200 ]; then ok; else ko "ping after load: $code"; fi
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
st=$?
SERVER_PID=
if [ "$st" = 0 ]; then ok; else ko "exit status $st after SIGTERM"; fi
echo "[serve_load] $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
