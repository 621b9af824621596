#!/bin/sh
# Runs every libFuzzer target in tests/fuzz/ for a bounded time and fails
# when one of them finds a crash, a leak, a timeout or runs out of memory.
#
#   scripts/fuzz.sh [BUILD_DIR] [TARGET...]
#
# BUILD_DIR (default build-fuzz) holds the binaries, built with
# -DKEYWARD_FUZZ=ON (`make fuzz` does all of it). TARGETs default to every
# tests/fuzz/*_fuzz.cc.
#
# Each target starts from its committed seeds in tests/fuzz/corpus/<target>/
# (read only: never written) and a fresh, temporary working corpus that
# receives what the run discovers; tests/fuzz/<target>.dict is used as a
# libFuzzer dictionary when it exists. Targets run JOBS at a time.
#
# Environment:
#   FUZZ_SECONDS   seconds per target (60)
#   FUZZ_MAX_LEN   largest input in bytes (16384: a certificate with an RSA
#                  CA is about 1.5 KB, the largest ML-DSA one about 8 KB)
#   FUZZ_TIMEOUT   seconds one input may take before it counts as a hang (10)
#   FUZZ_RSS_MB    memory limit per target in MB (2048)
#   JOBS           targets run at once (the number of CPUs)
#   FUZZ_KEEP=1    keep the working corpora and logs, and print where
#
# A crash leaves its input in BUILD_DIR/fuzz-artifacts/<target>/; the
# summary prints the command that replays it.
set -eu

cd "$(dirname "$0")/.."

build=${1:-build-fuzz}
[ $# -gt 0 ] && shift
seconds=${FUZZ_SECONDS:-60}
max_len=${FUZZ_MAX_LEN:-16384}
timeout=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 1)}

if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=""
	for src in tests/fuzz/*_fuzz.cc; do
		[ -e "$src" ] || continue
		name=$(basename "$src" .cc)
		targets="$targets $name"
	done
fi
if [ -z "$targets" ]; then
	echo "fuzz.sh: no fuzz targets in tests/fuzz/" >&2
	exit 1
fi

for t in $targets; do
	if [ ! -x "$build/$t" ]; then
		echo "fuzz.sh: $build/$t is missing: build it first (make fuzz, or cmake -DKEYWARD_FUZZ=ON)" >&2
		exit 1
	fi
done

# Readable stack traces in crash reports.
for s in llvm-symbolizer /usr/lib/llvm-14/bin/llvm-symbolizer; do
	if command -v "$s" >/dev/null 2>&1; then
		ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v "$s")}
		export ASAN_SYMBOLIZER_PATH
		break
	fi
done
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export UBSAN_OPTIONS

work=$(mktemp -d "${TMPDIR:-/tmp}/keyward-fuzz.XXXXXX")
if [ "${FUZZ_KEEP:-0}" = 1 ]; then
	trap 'echo "fuzz.sh: working corpora and logs kept in $work"' EXIT
else
	trap 'rm -rf "$work"' EXIT
fi
trap 'exit 130' INT TERM

# run_one TARGET: runs in the background, leaves TARGET.log and TARGET.rc.
run_one() {
	t=$1
	artifacts="$build/fuzz-artifacts/$t"
	rm -rf "$artifacts"
	mkdir -p "$artifacts" "$work/$t"
	set -- -max_total_time="$seconds" -max_len="$max_len" -timeout="$timeout" \
		-rss_limit_mb="$rss_mb" -print_final_stats=1 -artifact_prefix="$artifacts/"
	[ -f "tests/fuzz/$t.dict" ] && set -- "$@" -dict="tests/fuzz/$t.dict"
	# New inputs go to the first folder: the temporary one.
	set -- "$@" "$work/$t"
	[ -d "tests/fuzz/corpus/$t" ] && set -- "$@" "tests/fuzz/corpus/$t"
	echo "+ $build/$t $*" >"$work/$t.log"
	rc=0
	"$build/$t" "$@" >>"$work/$t.log" 2>&1 || rc=$?
	echo "$rc" >"$work/$t.rc"
}

final_stat() {  # final_stat NAME LOG: a value from libFuzzer's -print_final_stats
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

echo "fuzz.sh: $(echo $targets | wc -w) target(s), ${seconds}s each, $jobs at a time, -max_len=$max_len"
set -- $targets
while [ $# -gt 0 ]; do
	batch=""
	n=0
	while [ $# -gt 0 ] && [ "$n" -lt "$jobs" ]; do
		batch="$batch $1"
		n=$((n + 1))
		shift
	done
	echo "fuzz.sh: running$batch"
	for t in $batch; do
		run_one "$t" &
	done
	wait
done

failed=""
summary=""
for t in $targets; do
	log="$work/$t.log"
	rc=$(cat "$work/$t.rc" 2>/dev/null || echo 255)
	found=$(find "$build/fuzz-artifacts/$t" -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null | sort)
	execs=$(final_stat number_of_executed_units "$log")
	rate=$(final_stat average_exec_per_sec "$log")
	new=$(final_stat new_units_added "$log")
	rss=$(final_stat peak_rss_mb "$log")
	corpus=$(find "$work/$t" -type f | wc -l)
	if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
		status=ok
	else
		status=FAILED
		failed="$failed $t"
		echo
		echo "======== $t FAILED (exit status $rc); the end of its log:"
		tail -n 80 "$log"
		for f in $found; do
			echo "fuzz.sh: replay with: $build/$t $f"
		done
	fi
	line=$(printf 'fuzz: %-14s %-6s execs=%-10s execs/s=%-8s new_units=%-6s corpus=%-6s peak_rss_mb=%s' \
		"$t" "$status" "${execs:-?}" "${rate:-?}" "${new:-?}" "$corpus" "${rss:-?}")
	summary="$summary$line
"
done

echo
printf '%s' "$summary"
if [ -n "$failed" ]; then
	echo "fuzz.sh: FAILED:$failed" >&2
	exit 1
fi
echo "fuzz.sh: all $(echo $targets | wc -w) target(s) ran ${seconds}s without a finding"
