#!/bin/sh
# keyward's KRL against ssh-keygen's, for 1,000,000 revoked serials and
# 100,000 revoked keys (issue 5).
#
#   bench/krl_vs_sshkeygen.sh [MARKDOWN_OUT]
#
# 1. Writes one ssh-keygen -k specification: 1,000,000 serials under one CA
#    (500,000 in dense ranges of 1,000 to 4,000, written as "serial: A-B";
#    300,000 in medium regions where about 3 serials in 8 of an 8,000-serial
#    window are revoked, and 200,000 sparse serials 2 to 1,000 apart, both
#    written one "serial: N" line each; the kinds interleaved) and 100,000
#    "key: ssh-ed25519 ..." lines (32 random bytes each: neither tool checks
#    an Ed25519 key beyond its length).
# 2. Builds the KRL with `ssh-keygen -k -s CA.pub` and with `keyward krl
#    build --spec ... --ca CA.pub --no-accounts`, timing both with hyperfine
#    (BUILD_RUNS runs, default 3: each ssh-keygen run takes seconds).
# 3. Checks that each tool reads both KRLs, and that they revoke the same
#    (`keyward krl show` lists the same serials and keys for both), and
#    compares their sizes: keyward's must not be larger.
# 4. Times `keyward krl check KRL KEY` against `ssh-keygen -Q -f KRL KEY` on
#    ssh-keygen's KRL and on keyward's, side by side in one hyperfine run
#    (CHECK_RUNS, default 20), after checking both print the same.
#
# Environment: KEYWARD_BIN (default build/keyward beside this script),
# BUILD_RUNS (3), CHECK_RUNS (20).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
keyward=${KEYWARD_BIN:-$repo/build/keyward}
out=${1:-$repo/build/krl_vs_sshkeygen.md}
build_runs=${BUILD_RUNS:-3}
check_runs=${CHECK_RUNS:-20}

for tool in hyperfine ssh-keygen python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "krl_vs_sshkeygen: $tool is missing; run scripts/install-deps.sh" >&2
		exit 1
	fi
done
if [ ! -x "$keyward" ]; then
	echo "krl_vs_sshkeygen: $keyward is not built (make build, or set KEYWARD_BIN)" >&2
	exit 1
fi
case $keyward in /*) ;; *) keyward=$(pwd)/$keyward ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/keyward-krl-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
cd "$tmp"

ssh-keygen -q -t ed25519 -N '' -C ca -f ca
ssh-keygen -q -t ed25519 -N '' -C subject -f subject
ssh-keygen -q -s ca -I probe -z 123456789 -n alice subject.pub
echo '{}' >empty.conf

python3 - spec <<'EOF'
import base64, os, random, struct, sys
rng = random.Random(5)
lines, at = [], 1000
dense = medium = sparse = 0
while dense + medium + sparse < 1_000_000:
    kind = rng.randrange(3)
    if kind == 0 and dense < 500_000:
        length = min(1000 + rng.randrange(3001), 500_000 - dense)
        at += 100 + rng.randrange(1000)
        lines.append("serial: %d-%d" % (at, at + length - 1))
        at += length
        dense += length
    elif kind == 1 and medium < 300_000:
        at += 100 + rng.randrange(1000)
        end = at + 8000
        while at < end and medium < 300_000:
            if rng.randrange(8) < 3:
                lines.append("serial: %d" % at)
                medium += 1
            at += 1
    elif kind == 2 and sparse < 200_000:
        for _ in range(1000):
            if sparse == 200_000:
                break
            at += 2 + rng.randrange(999)
            lines.append("serial: %d" % at)
            sparse += 1
prefix = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32)
for i in range(100_000):
    lines.append("key: ssh-ed25519 " + base64.b64encode(prefix + os.urandom(32)).decode())
with open(sys.argv[1], "w") as f:
    f.write("\n".join(lines) + "\n")
EOF
echo "krl_vs_sshkeygen: spec of $(wc -l <spec) lines ($(wc -c <spec) bytes)"

mkdir -p "$(dirname "$out")"
hyperfine --runs "$build_runs" --export-markdown build.md --export-json build.json \
	--command-name "ssh-keygen -k" "ssh-keygen -q -k -f ssh-keygen.krl -s ca.pub spec" \
	--command-name "keyward krl build" \
	"'$keyward' krl build --config empty.conf --ca-dir '$tmp/no-ca' --no-accounts --out keyward.krl --spec spec --ca ca.pub >/dev/null"

for krl in ssh-keygen.krl keyward.krl; do
	ssh-keygen -Q -f "$krl" subject-cert.pub >/dev/null || [ $? -eq 1 ] || {
		echo "krl_vs_sshkeygen: ssh-keygen cannot read $krl" >&2
		exit 1
	}
	"$keyward" krl show "$krl" | grep -v -e '^# KRL version' -e '^# Generated at' >"$krl.list"
done
if ! cmp -s ssh-keygen.krl.list keyward.krl.list; then
	echo "krl_vs_sshkeygen: the two KRLs do not revoke the same" >&2
	diff ssh-keygen.krl.list keyward.krl.list | head >&2 || true
	exit 1
fi
size_s=$(wc -c <ssh-keygen.krl)
size_k=$(wc -c <keyward.krl)
echo "krl_vs_sshkeygen: ssh-keygen.krl $size_s bytes, keyward.krl $size_k bytes; both revoke the same"
if [ "$size_k" -gt "$size_s" ]; then
	echo "krl_vs_sshkeygen: keyward's KRL is larger than ssh-keygen's" >&2
	exit 1
fi

for krl in ssh-keygen.krl keyward.krl; do
	a=$(ssh-keygen -Q -f "$krl" subject-cert.pub subject.pub; echo "rc=$?")
	b=$("$keyward" krl check "$krl" subject-cert.pub subject.pub; echo "rc=$?")
	if [ "$a" != "$b" ]; then
		echo "krl_vs_sshkeygen: on $krl, ssh-keygen says [$a], keyward says [$b]" >&2
		exit 1
	fi
done
hyperfine --warmup 2 --runs "$check_runs" -i --export-markdown check.md --export-json check.json \
	--command-name "ssh-keygen -Q (ssh-keygen's KRL)" "ssh-keygen -Q -f ssh-keygen.krl subject-cert.pub" \
	--command-name "keyward krl check (ssh-keygen's KRL)" "'$keyward' krl check ssh-keygen.krl subject-cert.pub" \
	--command-name "ssh-keygen -Q (keyward's KRL)" "ssh-keygen -Q -f keyward.krl subject-cert.pub" \
	--command-name "keyward krl check (keyward's KRL)" "'$keyward' krl check keyward.krl subject-cert.pub"

{
	echo "KRL of 1,000,000 serials and 100,000 keys: ssh-keygen $size_s bytes, keyward $size_k bytes."
	echo
	cat build.md
	echo
	cat check.md
} >"$out"
echo "krl_vs_sshkeygen: wrote $out"
