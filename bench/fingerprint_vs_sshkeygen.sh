#!/bin/sh
# keyward fingerprint against ssh-keygen -l on a 100,000-line Ed25519 file.
#
#   bench/fingerprint_vs_sshkeygen.sh [MARKDOWN_OUT]
#
# 1. Writes 100,000 distinct "ssh-ed25519 <base64> user<i>@host<j>.example.com"
#    lines. Each key is 32 random bytes (os.urandom): neither keyward nor
#    ssh-keygen checks an Ed25519 key beyond its length, and the script
#    checks that ssh-keygen reads every line.
# 2. Checks that `keyward fingerprint FILE` and `ssh-keygen -l -f FILE`
#    print byte-identical output (a speed-up on different output would mean
#    nothing), and stops with the diff if they do not.
# 3. Times both with hyperfine in one run (1 warm-up, BENCH_RUNS runs,
#    default 10, at least 5), prints the ratio of the means, and writes the
#    hyperfine table plus the ratio as markdown to MARKDOWN_OUT
#    (default build/fingerprint_vs_sshkeygen.md).
#
# Environment: KEYWARD_BIN (default build/keyward beside this script),
# BENCH_LINES (100000), BENCH_RUNS (10).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
keyward=${KEYWARD_BIN:-$repo/build/keyward}
out=${1:-$repo/build/fingerprint_vs_sshkeygen.md}
lines=${BENCH_LINES:-100000}
runs=${BENCH_RUNS:-10}

for tool in hyperfine ssh-keygen python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "fingerprint_vs_sshkeygen: $tool is missing; run scripts/install-deps.sh" >&2
		exit 1
	fi
done
if [ ! -x "$keyward" ]; then
	echo "fingerprint_vs_sshkeygen: $keyward is not built (make build, or set KEYWARD_BIN)" >&2
	exit 1
fi
if [ "$runs" -lt 5 ]; then
	echo "fingerprint_vs_sshkeygen: BENCH_RUNS must be at least 5" >&2
	exit 1
fi
case $keyward in /*) ;; *) keyward=$(pwd)/$keyward ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/keyward-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
keys=$tmp/ed25519-$lines.pub

python3 - "$keys" "$lines" <<'EOF'
import base64, os, struct, sys
path, n = sys.argv[1], int(sys.argv[2])
prefix = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32)
with open(path, "w") as f:
    for i in range(n):
        b64 = base64.b64encode(prefix + os.urandom(32)).decode()
        f.write(f"ssh-ed25519 {b64} user{i}@host{i % 251}.example.com\n")
EOF

echo "fingerprint_vs_sshkeygen: $lines Ed25519 lines in $keys"
ssh-keygen -l -f "$keys" >"$tmp/ssh-keygen.out"
"$keyward" fingerprint "$keys" >"$tmp/keyward.out"
read_by_sshkeygen=$(wc -l <"$tmp/ssh-keygen.out")
if [ "$read_by_sshkeygen" -ne "$lines" ]; then
	echo "fingerprint_vs_sshkeygen: ssh-keygen printed $read_by_sshkeygen lines for $lines keys" >&2
	exit 1
fi
if ! cmp -s "$tmp/ssh-keygen.out" "$tmp/keyward.out"; then
	echo "fingerprint_vs_sshkeygen: keyward and ssh-keygen disagree (first differences, - ssh-keygen, + keyward):" >&2
	diff -u "$tmp/ssh-keygen.out" "$tmp/keyward.out" | head -n 20 >&2 || true
	exit 1
fi
echo "fingerprint_vs_sshkeygen: outputs are byte-identical ($(wc -c <"$tmp/keyward.out") bytes)"

mkdir -p "$(dirname "$out")"
hyperfine --warmup 1 --runs "$runs" \
	--export-markdown "$tmp/table.md" --export-json "$tmp/result.json" \
	--command-name "keyward fingerprint" "'$keyward' fingerprint '$keys' >/dev/null" \
	--command-name "ssh-keygen -l" "ssh-keygen -l -f '$keys' >/dev/null"

ratio=$(python3 - "$tmp/result.json" <<'EOF'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
k, s = r["keyward fingerprint"], r["ssh-keygen -l"]
if k <= s:
    print(f"keyward fingerprint is {s / k:.2f}x as fast as ssh-keygen -l ({k * 1000:.1f} ms against {s * 1000:.1f} ms)")
else:
    print(f"keyward fingerprint is {k / s:.2f}x SLOWER than ssh-keygen -l ({k * 1000:.1f} ms against {s * 1000:.1f} ms)")
EOF
)

{
	echo "# keyward fingerprint vs ssh-keygen -l"
	echo
	echo "$lines distinct Ed25519 keys, one per line; identical output checked first."
	echo "$(ssh -V 2>&1); $(hyperfine --version); $(nproc) CPU(s); $(date -u +%Y-%m-%dT%H:%M:%SZ)."
	echo
	cat "$tmp/table.md"
	echo
	echo "**$ratio.**"
} >"$out"

echo
echo "fingerprint_vs_sshkeygen: $ratio"
echo "fingerprint_vs_sshkeygen: markdown written to $out"
