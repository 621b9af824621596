#!/bin/sh
# keyward-web's sign-in page under wrk, and its memory before and after.
#
#     bench/web_wrk.sh [MARKDOWN_OUT]
#
# Run by hand (not by ctest), as any user; as root keyward-web drops to
# `nobody` after binding (--user), as it would in production. What it does:
#
#   1. starts `keywardd --demo DIR` in a throwaway folder (the sign-in page
#      does not ask keywardd anything, but keyward-web runs as it would) and
#      `keyward-web --socket DIR/keywardd.sock --listen 127.0.0.1:0`;
#   2. checks that GET / answers 200 with a CSRF token and a cookie;
#   3. reads keyward-web's VmRSS (/proc/PID/status) at start, after a
#      warm-up (`wrk -t2 -c64 -d5s`), after a first timed run and after a
#      second one (`wrk -t2 -c64 -d30s` each, http://127.0.0.1:PORT/); each
#      timed run at 5,000 requests a second is 150,000 requests, so memory
#      is compared over well over 100,000 requests: flat means the RSS after
#      the second run is within BENCH_RSS_SLACK_KIB (1024) of the RSS after
#      the first;
#   4. prints wrk's report for both runs, the RSS figures, the load average
#      before and after, and writes a markdown summary to MARKDOWN_OUT
#      (default build/web_wrk.md).
#
# Every response of the page is a fresh one (a new CSRF token and a
# Set-Cookie), so this measures the page's real work, not a cache.
#
# Environment: KEYWARD_BUILD_DIR (default build), BENCH_DURATION (30s),
# BENCH_THREADS (2), BENCH_CONNECTIONS (64), BENCH_RSS_SLACK_KIB (1024),
# BENCH_WEB_THREADS (keyward-web's --threads; its default when unset).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${KEYWARD_BUILD_DIR:-$repo/build}
out=${1:-$build/web_wrk.md}
duration=${BENCH_DURATION:-30s}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-64}
slack=${BENCH_RSS_SLACK_KIB:-1024}

for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "web_wrk: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
for bin in keywardd keyward-web; do
  [ -x "$build/$bin" ] || { echo "web_wrk: $build/$bin is not built (set KEYWARD_BUILD_DIR)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/keyward-web-wrk.XXXXXX)
chmod 755 "$tmp"
kd_pid=
web_pid=
cleanup() {
  for pid in $web_pid $kd_pid; do
    if kill "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

"$build/keywardd" --demo "$tmp/demo" >"$tmp/keywardd.log" 2>&1 &
kd_pid=$!
i=0
until [ -S "$tmp/demo/keywardd.sock" ]; do
  i=$((i + 1))
  [ $i -lt 200 ] || { echo "web_wrk: keywardd --demo did not start:" >&2; cat "$tmp/keywardd.log" >&2; exit 1; }
  sleep 0.05
done

set -- --socket "$tmp/demo/keywardd.sock" --listen 127.0.0.1:0
[ "$(id -u)" = 0 ] && set -- "$@" --user nobody
[ -n "${BENCH_WEB_THREADS:-}" ] && set -- "$@" --threads "$BENCH_WEB_THREADS"
"$build/keyward-web" "$@" >"$tmp/web.out" 2>"$tmp/web.err" &
web_pid=$!
i=0
until grep -q 'http://127.0.0.1:[0-9]*/' "$tmp/web.out" 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 200 ] || { echo "web_wrk: keyward-web did not start:" >&2; cat "$tmp/web.err" >&2; exit 1; }
  sleep 0.05
done
port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/web.out" | head -n1)
url="http://127.0.0.1:$port/"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$web_pid/status"; }
requests() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1"; }
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
non2xx() { v=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1"); echo "${v:-0}"; }
errors() { sed -n 's/^ *Socket errors: *\(.*\)/\1/p' "$1"; }

# The page is what it should be before it is measured.
curl -s -D "$tmp/headers" -o "$tmp/page" "$url"
grep -q '^HTTP/1.1 200' "$tmp/headers" || { echo "web_wrk: GET / is not 200:" >&2; cat "$tmp/headers" >&2; exit 1; }
grep -qi '^set-cookie:' "$tmp/headers" || { echo "web_wrk: GET / sets no cookie" >&2; exit 1; }
grep -q 'name="csrf"' "$tmp/page" || { echo "web_wrk: GET / has no CSRF field" >&2; exit 1; }

rss_start=$(rss)
load_before=$(cat /proc/loadavg)
wrk -t"$threads" -c"$conns" -d5s "$url" >"$tmp/warmup.txt"
rss_warm=$(rss)
wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url" >"$tmp/run1.txt"
rss_run1=$(rss)
wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url" >"$tmp/run2.txt"
rss_run2=$(rss)
load_after=$(cat /proc/loadavg)
kill -0 "$web_pid" || { echo "web_wrk: keyward-web died" >&2; exit 1; }

echo "=== run 1"; cat "$tmp/run1.txt"
echo "=== run 2"; cat "$tmp/run2.txt"
n1=$(requests "$tmp/run1.txt"); n2=$(requests "$tmp/run2.txt"); nw=$(requests "$tmp/warmup.txt")
growth=$((rss_run2 - rss_run1))
if [ "$growth" -le "$slack" ]; then flat="flat (within $slack KiB)"; else flat="GREW by $growth KiB"; fi

mkdir -p "$(dirname "$out")"
cat >"$out" <<EOF
### keyward-web: the sign-in page under wrk

\`bench/web_wrk.sh\`: \`wrk -t$threads -c$conns -d$duration $url\` (GET /, a fresh CSRF token and cookie each time), twice after a 5 s warm-up, on $(nproc) CPUs.

| run | requests | requests/s | non-2xx | socket errors | VmRSS after |
|---|---|---|---|---|---|
| start | | | | | $rss_start KiB |
| warm-up (5 s) | $nw | $(rps "$tmp/warmup.txt") | $(non2xx "$tmp/warmup.txt") | $(errors "$tmp/warmup.txt" | tr -d '\n') | $rss_warm KiB |
| run 1 | $n1 | $(rps "$tmp/run1.txt") | $(non2xx "$tmp/run1.txt") | $(errors "$tmp/run1.txt" | tr -d '\n') | $rss_run1 KiB |
| run 2 | $n2 | $(rps "$tmp/run2.txt") | $(non2xx "$tmp/run2.txt") | $(errors "$tmp/run2.txt" | tr -d '\n') | $rss_run2 KiB |

Memory over run 2 ($n2 requests): $flat; over both runs ($((n1 + n2)) requests) $((rss_run2 - rss_warm)) KiB.
Latency (run 2): $(sed -n 's/^ *Latency *\([^ ]*\) *\([^ ]*\) *\([^ ]*\).*/avg \1, stdev \2, max \3/p' "$tmp/run2.txt" | head -n1); p50 $(sed -n 's/^ *50% *\(.*\)/\1/p' "$tmp/run2.txt"), p99 $(sed -n 's/^ *99% *\(.*\)/\1/p' "$tmp/run2.txt").

Load average before: \`$load_before\`; after: \`$load_after\`.
EOF
echo
cat "$out"
