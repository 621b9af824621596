#!/usr/bin/env python3
"""Real ssh logins against a real sshd: an account of 10,000 keys vs one of 1 key.

    bench/ssh_logins.py [MARKDOWN_OUT]          (as root; run by hand)

Reuses tests/e2e/lib/sshd_harness.py: two real users are created (and
removed afterwards), each with keyward's default store (~/.ssh/users, made
with `keyward init --account USER` as root). The big account gets 9,999
Ed25519 key files (32 random bytes in a proper ssh-ed25519 blob, canonical
line, named by the store's rule) plus the login key; the small account gets
the login key only. The login key is added with `keyward add`, owner
zz-login@example.org, so that its file sorts last: in the rendered file it
is the last line, the worst case for sshd's scan.

Two sshd configurations (LogLevel INFO, so that logging costs nothing
noteworthy), each timed with LOGINS (50) logins per account, `ssh ...
true`, one after another, big and small interleaved so that a change in the
machine's load hits both alike, after WARMUP (3) untimed logins each:

  command  AuthorizedKeysFile none, AuthorizedKeysCommand "<root-owned copy of
           keyward> keys --config CFG %u %f", AuthorizedKeysCommandUser root
           (keyward drops to the user; it looks the fingerprint up in
           keys.index)
  file     AuthorizedKeysFile .ssh/authorized_keys, the file keyward rendered

Prints per configuration and account the total and mean (and median) per
login, and the ratios big/small; writes the markdown to MARKDOWN_OUT
(default build/ssh_logins.md). Every login must succeed, else it stops.

Environment: KEYWARD_BIN (default build/keyward), BENCH_KEYS (10000),
BENCH_LOGINS (50), BENCH_WARMUP (3).
"""

import base64
import json
import os
import statistics
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e", "lib"))
import sshd_harness as h  # noqa: E402

KEYWARD = os.path.abspath(os.environ.get("KEYWARD_BIN") or os.path.join(REPO, "build", "keyward"))
KEYS = int(os.environ.get("BENCH_KEYS", "10000"))
LOGINS = int(os.environ.get("BENCH_LOGINS", "50"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
PREFIX = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32)


def die(msg):
    print(f"ssh_logins: {msg}", file=sys.stderr)
    sys.exit(1)


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        die(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r


def fill_store(user, n):
    """n - 1 random Ed25519 key files in ~/.ssh/users, owned by the user."""
    users = os.path.join(user.ssh_dir(), "users")
    today = time.strftime("%Y%m%d", time.gmtime())
    for i in range(n - 1):
        b64 = base64.b64encode(PREFIX + os.urandom(32)).decode()
        path = os.path.join(users, f"user{i}@example.org+laptop+{today}+01.pub")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            os.fchown(fd, user.uid, user.gid)
            os.write(fd, f"ssh-ed25519 {b64} user{i}@host{i % 97}.example.org\n".encode())
        finally:
            os.close(fd)


def setup_account(user, cfg, n, pub):
    run([KEYWARD, "init", "--config", cfg, "--account", user.name])
    fill_store(user, n)
    r = run([KEYWARD, "add", "--config", cfg, "--account", user.name,
             "--owner", "zz-login@example.org", "--device", "bench", pub])
    if f"({n} keys)" not in r.stdout:
        die(f"keyward add did not render {n} keys:\n{r.stdout}{r.stderr}")
    with open(user.authorized_keys_path()) as f:
        last = f.read().splitlines()[-1]
    if h.read_public_key(pub).split()[1] not in last:
        die("the login key is not the last line of authorized_keys")


def login(user, key, sshd):
    t = time.perf_counter()
    r = h.ssh_login(user, key, sshd, command="true")
    elapsed = time.perf_counter() - t
    if not r.ok:
        sshd.dump_log(60)
        die(f"login of {user.name} failed: {r}")
    return elapsed


def measure(sshd, accounts, key):
    """{label: [seconds per login]}, big and small interleaved."""
    for _ in range(WARMUP):
        for _, user in accounts:
            login(user, key, sshd)
    times = {label: [] for label, _ in accounts}
    for i in range(LOGINS):
        order = accounts if i % 2 == 0 else accounts[::-1]
        for label, user in order:
            times[label].append(login(user, key, sshd))
    return times


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "ssh_logins.md")
    if os.geteuid() != 0:
        die("run as root: it creates users and starts sshd")
    h.require_tools()
    if not os.access(KEYWARD, os.X_OK):
        die(f"{KEYWARD} is not built (make build, or set KEYWARD_BIN)")
    load_before = loadavg()
    results = {}
    with h.SystemUser("bench-big") as big, h.SystemUser("bench-one") as small, \
            h.RootOwnedDir() as bin_dir:
        cmd = bin_dir.install_copy(KEYWARD, "keyward")
        cfg = h.write_file(os.path.join(bin_dir.path, "keyward.conf"), json.dumps(
            {"store": "%h/.ssh", "authorized_keys": "%h/.ssh/authorized_keys"}) + "\n")
        key, pub = h.make_keypair(h.tempdir("keys"), comment="bench-login")
        os.chmod(pub, 0o644)
        t = time.monotonic()
        setup_account(big, cfg, KEYS, pub)
        setup_account(small, cfg, 1, pub)
        print(f"ssh_logins: {big.name} has {KEYS} keys, {small.name} has 1 "
              f"({time.monotonic() - t:.1f}s)", flush=True)
        accounts = [(f"{KEYS} keys", big), ("1 key", small)]
        configs = [
            ("AuthorizedKeysCommand keyward keys %u %f",
             {"AuthorizedKeysFile": "none",
              "AuthorizedKeysCommand": f"{cmd} keys --config {cfg} %u %f",
              "AuthorizedKeysCommandUser": "root", "LogLevel": "INFO"}),
            ("AuthorizedKeysFile (rendered by keyward)",
             {"AuthorizedKeysFile": ".ssh/authorized_keys", "LogLevel": "INFO"}),
        ]
        for name, overrides in configs:
            with h.Sshd(overrides) as sshd:
                print(f"ssh_logins: {name}: {WARMUP} + {LOGINS} logins per account "
                      f"against {sshd!r}", flush=True)
                results[name] = measure(sshd, accounts, key)
    load_after = loadavg()

    rows = ["| sshd finds keys with | account | logins | total [s] | mean [ms] | median [ms] |"
            " min [ms] |",
            "|:---|:---|---:|---:|---:|---:|---:|"]
    ratios = []
    for name, times in results.items():
        for label, ts in times.items():
            rows.append(f"| {name} | {label} | {len(ts)} | {sum(ts):.2f} | "
                        f"{statistics.mean(ts) * 1000:.1f} | {statistics.median(ts) * 1000:.1f} | "
                        f"{min(ts) * 1000:.1f} |")
        b, s = times[f"{KEYS} keys"], times["1 key"]
        ratios.append(f"- {name}: {KEYS} keys against 1 key: **{sum(b) / sum(s):.2f}x** by total "
                      f"and mean, {statistics.median(b) / statistics.median(s):.2f}x by median")
    cmd_big = results[configs[0][0]][f"{KEYS} keys"]
    file_big = results[configs[1][0]][f"{KEYS} keys"]
    ratios.append(f"- {KEYS} keys, rendered file against the command: "
                  f"{sum(file_big) / sum(cmd_big):.2f}x by mean")
    ssh_v = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    text = "\n".join([
        f"# {LOGINS} real ssh logins: an account of {KEYS} keys against one of 1 key "
        "(bench/ssh_logins.py)",
        "",
        f"`{KEYWARD}`; {ssh_v}; {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; "
        f"{os.cpu_count()} CPU(s); load average {load_before} before, {load_after} after. "
        f"`ssh ... true` on 127.0.0.1, one login at a time, the two accounts interleaved, "
        f"{WARMUP} untimed logins each first; the login key is the last of the {KEYS} "
        "(last line of authorized_keys). Target: with the fingerprint lookup, the big account "
        "no slower than 1.1x the small one.",
        "",
        *rows,
        "",
        *ratios,
        "",
    ])
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(text)
    print()
    print(text)
    print(f"ssh_logins: markdown written to {out_path}")


if __name__ == "__main__":
    main()
