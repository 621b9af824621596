#!/bin/sh
# keyward ca sign of 1,000 public keys in one run, against 1,000 runs of
# ssh-keygen -s (one key each), with the same Ed25519 CA key.
#
#   bench/ca_sign_vs_sshkeygen.sh [MARKDOWN_OUT]
#
# 1. Makes a CA with `keyward ca init` (Ed25519, no passphrase) and 1,000
#    distinct Ed25519 public key files (32 random bytes each: neither tool
#    checks an Ed25519 key beyond its length).
# 2. Checks the work is the same: both sign every key, ssh-keygen -L reads
#    every certificate keyward wrote, with the same principal, the same
#    extension set and the same CA.
# 3. Times with hyperfine (1 warm-up): `keyward ca sign -q -n user -V +1d
#    -O permit-pty KEY...` over all 1,000 files (BENCH_RUNS runs, default
#    10), and a shell loop running `ssh-keygen -q -s CA -I id -z N -n user
#    -V +1d -O clear -O permit-pty KEY` once per file (BENCH_SSHKEYGEN_RUNS
#    runs, default 3). keyward also reserves the serials, syncs the counter
#    and appends+syncs 1,000 issuance-log records; ssh-keygen does neither.
# 4. Prints the ratio of the means (and of CPU time) and writes a markdown
#    table to MARKDOWN_OUT (default build/ca_sign_vs_sshkeygen.md).
#
# Environment: KEYWARD_BIN (default build/keyward beside this script),
# BENCH_KEYS (1000), BENCH_RUNS (10), BENCH_SSHKEYGEN_RUNS (3).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
keyward=${KEYWARD_BIN:-$repo/build/keyward}
out=${1:-$repo/build/ca_sign_vs_sshkeygen.md}
count=${BENCH_KEYS:-1000}
runs=${BENCH_RUNS:-10}
keygen_runs=${BENCH_SSHKEYGEN_RUNS:-3}

for tool in hyperfine ssh-keygen python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "ca_sign_vs_sshkeygen: $tool is missing; run scripts/install-deps.sh" >&2
		exit 1
	fi
done
if [ ! -x "$keyward" ]; then
	echo "ca_sign_vs_sshkeygen: $keyward is not built (make build, or set KEYWARD_BIN)" >&2
	exit 1
fi
case $keyward in /*) ;; *) keyward=$(pwd)/$keyward ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/keyward-ca-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
chmod 700 "$tmp"
echo '{}' >"$tmp/keyward.conf"
"$keyward" ca init --config "$tmp/keyward.conf" --ca-dir "$tmp/ca" >/dev/null
ca_key=$tmp/ca/user_ca

mkdir "$tmp/keys"
python3 - "$tmp/keys" "$count" <<'EOF'
import base64, os, struct, sys
folder, n = sys.argv[1], int(sys.argv[2])
prefix = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32)
for i in range(n):
    with open(os.path.join(folder, "k%05d.pub" % i), "w") as f:
        f.write("ssh-ed25519 %s user%d@example.com\n" % (base64.b64encode(prefix + os.urandom(32)).decode(), i))
EOF

# The ssh-keygen side: one process per key, as an administrator's loop runs it.
cat >"$tmp/sshkeygen_loop.sh" <<EOF
#!/bin/sh
i=0
for k in "$tmp"/keys/k?????.pub; do
	i=\$((i + 1))
	ssh-keygen -q -s "$ca_key" -I "bench-\$i" -z "\$i" -n user -V +1d -O clear -O permit-pty "\$k" || exit 1
done
EOF
chmod +x "$tmp/sshkeygen_loop.sh"
cat >"$tmp/keyward_batch.sh" <<EOF
#!/bin/sh
exec "$keyward" ca sign -q --config "$tmp/keyward.conf" --ca-dir "$tmp/ca" -n user -V +1d -O permit-pty "$tmp"/keys/k?????.pub
EOF
chmod +x "$tmp/keyward_batch.sh"

# Same work on both sides.
"$tmp/keyward_batch.sh"
cat "$tmp"/keys/*-cert.pub >"$tmp/keyward-certs"
ssh-keygen -L -f "$tmp/keyward-certs" >"$tmp/keyward-L"
signed=$(grep -c 'user certificate' "$tmp/keyward-L")
rm -f "$tmp"/keys/*-cert.pub
"$tmp/sshkeygen_loop.sh"
cat "$tmp"/keys/*-cert.pub >"$tmp/sshkeygen-certs"
ssh-keygen -L -f "$tmp/sshkeygen-certs" >"$tmp/sshkeygen-L"
rm -f "$tmp"/keys/*-cert.pub
if [ "$signed" -ne "$count" ] || [ "$(grep -c 'user certificate' "$tmp/sshkeygen-L")" -ne "$count" ]; then
	echo "ca_sign_vs_sshkeygen: not every key was signed ($signed by keyward)" >&2
	exit 1
fi
for side in keyward sshkeygen; do
	grep -E 'Signing CA|^ {16}|Extensions|Critical' "$tmp/$side-L" | sort | uniq -c >"$tmp/$side-fields"
done
if ! cmp -s "$tmp/keyward-fields" "$tmp/sshkeygen-fields"; then
	echo "ca_sign_vs_sshkeygen: the certificates differ in CA, principals or options:" >&2
	diff "$tmp/sshkeygen-fields" "$tmp/keyward-fields" >&2 || true
	exit 1
fi
echo "ca_sign_vs_sshkeygen: both sign all $count keys with the same CA, principal and extensions"

mkdir -p "$(dirname "$out")"
hyperfine --warmup 1 --runs "$runs" --export-json "$tmp/keyward.json" \
	--command-name "keyward ca sign ($count keys, one run)" "$tmp/keyward_batch.sh"
hyperfine --warmup 1 --runs "$keygen_runs" --export-json "$tmp/sshkeygen.json" \
	--command-name "ssh-keygen -s ($count runs)" "$tmp/sshkeygen_loop.sh"

python3 - "$tmp/keyward.json" "$tmp/sshkeygen.json" "$out" "$count" <<'EOF'
import json, sys
kw, kg = (json.load(open(p))["results"][0] for p in sys.argv[1:3])
n = sys.argv[4]
ratio = kg["mean"] / kw["mean"]
cpu = (kg["user"] + kg["system"]) / (kw["user"] + kw["system"])
def row(name, r):
    return "| %s | %.1f ± %.1f | %.1f | %.1f | %.1f |" % (name, r["mean"] * 1e3, r["stddev"] * 1e3, r["min"] * 1e3,
                                                      r["max"] * 1e3, (r["user"] + r["system"]) * 1e3)
with open(sys.argv[3], "w") as f:
    f.write("| Command | Mean [ms] | Min [ms] | Max [ms] | CPU user+sys [ms] |\n|:---|---:|---:|---:|---:|\n")
    f.write(row("`keyward ca sign` of %s keys, one run" % n, kw) + "\n")
    f.write(row("`ssh-keygen -s`, %s runs" % n, kg) + "\n\n")
    f.write("**%.0fx faster** by mean wall time, %.0fx by CPU time (user+sys)\n" % (ratio, cpu))
print("ca_sign_vs_sshkeygen: keyward %.1f ms, ssh-keygen %.0f ms: %.0fx faster (%.0fx by CPU time)" %
      (kw["mean"] * 1e3, kg["mean"] * 1e3, ratio, cpu))
EOF
echo "ca_sign_vs_sshkeygen: markdown in $out"
