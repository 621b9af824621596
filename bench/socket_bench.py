#!/usr/bin/env python3
"""add_key + revoke_key pairs through keywardd's socket, on an account of
1,000 keys, with fsync on.

    sudo KEYWARD_BUILD_DIR=build bench/socket_bench.py [MARKDOWN_OUT]

Run by hand, as root (not by ctest). What it does:

1. Makes a real system user with a home under /home (a real disk: fsync
   costs what it costs) and a web user, with the e2e harness
   (tests/e2e/lib/sshd_harness.py); both are removed at the end.
2. Starts keywardd as root (tests/e2e/lib/keyward_stack.py: passwd
   accounts, store %h/.ssh, codes through a command that appends them to a
   file), no keyward-web.
3. Prepares the account's store quickly: `keyward init --account`, then
   BENCH_KEYS (1000) random Ed25519 public keys (32 random bytes in an
   ssh-ed25519 blob; keyward, like sshd, checks only the length) written
   straight into users/ as <owner>+<device>+<date>+01.pub, owned by the
   user, then `keyward render --account`. list_keys must show them all.
4. Logs in over the socket as root (login, the code from the notifier's
   file, verify), then times BENCH_WARMUP (20) untimed pairs and BENCH_PAIRS
   (600) timed pairs on one connection: add_key of a fresh random key, then
   revoke_key of the file it made. Each request waits for its reply, so a
   pair is two round trips, each of which forks a child that drops to the
   user, takes the store's lock, writes the key file (or renames it into
   revoked/), re-renders authorized_keys from the 1,000 keys (temporary
   file, fsync, rename, fsync of the folder) and appends to the audit logs;
   keywardd also appends to its own audit log (synced) and alerts the
   administrator. keyward always fsyncs: there is no switch to turn it off.
   The alert channel is BENCH_ALERTS: "console" (default: keywardd writes
   the alert to its log, no process; what keywardd itself costs) or
   "command" (the e2e notifier: /bin/sh, cat and id for each message, which
   is what an administrator's own command costs on top; alerts that come
   while one is being sent go together in the next message).
5. Prints pairs per second and the p50/p90/p99/max latency of a pair, of
   add_key and of revoke_key, the CPU time keywardd and its children spent
   per pair (from /proc/PID/stat: utime, stime, cutime, cstime; a figure a
   busy machine disturbs less than wall time), the load average before and
   after, and
   writes the markdown table to MARKDOWN_OUT (default
   build/socket_bench.md).

The account holds BENCH_KEYS active keys throughout (each pair adds one and
revokes it); revoked/ grows by one file per pair.

Environment: KEYWARD_BUILD_DIR (keywardd, keyward; default build),
BENCH_KEYS (1000), BENCH_PAIRS (600), BENCH_WARMUP (20), BENCH_HOME_BASE
(/home), BENCH_ALERTS (console).
"""

import base64
import os
import secrets
import struct
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("KEYWARD_BUILD_DIR", os.path.join(REPO, "build"))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tests", "e2e", "lib"))
import sshd_harness as h  # noqa: E402
import keyward_stack as ks  # noqa: E402

KEYS = int(os.environ.get("BENCH_KEYS", "1000"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "600"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "20"))
HOME_BASE = os.environ.get("BENCH_HOME_BASE", "/home")
ALERTS = os.environ.get("BENCH_ALERTS", "console")
PREFIX = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32)


def die(msg):
    print("socket_bench: " + msg, file=sys.stderr)
    sys.exit(1)


def random_key(comment):
    return "ssh-ed25519 %s %s" % (base64.b64encode(PREFIX + secrets.token_bytes(32)).decode(), comment)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def cpu_seconds(pid):
    """user+system CPU of a process and of the children it has reaped."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().strip()


def prepare_store(stack, user):
    r = subprocess.run([ks.KEYWARD, "init", "--config", stack.conf_path, "--account", user.name],
                       capture_output=True, text=True)
    if r.returncode != 0:
        die("keyward init: " + r.stderr)
    users = os.path.join(user.home, ".ssh", "users")
    date = time.strftime("%Y%m%d", time.gmtime())
    for i in range(KEYS):
        path = os.path.join(users, "bench%04d@example.org+dev%04d+%s+01.pub" % (i, i, date))
        h.write_file(path, random_key("bench-%d" % i) + "\n", 0o644, user.uid, user.gid)
    t0 = time.perf_counter()
    r = subprocess.run([ks.KEYWARD, "render", "--config", stack.conf_path, "--account", user.name],
                       capture_output=True, text=True)
    if r.returncode != 0:
        die("keyward render: " + r.stderr)
    return time.perf_counter() - t0


def active_keys(conn, session):
    r = conn.ask({"op": "list_keys", "session": session})
    if not r or not r.get("ok"):
        die("list_keys: %r" % r)
    return sum(1 for k in r["keys"] if k["state"] == "active")


def pair(conn, session, n):
    t0 = time.perf_counter()
    a = conn.ask({"op": "add_key", "session": session, "key": random_key("pair-%d" % n),
                  "owner": "bench@example.org", "device": "pair%05d" % n, "client": "192.0.2.1"})
    t1 = time.perf_counter()
    if not a or not a.get("ok"):
        die("add_key %d: %r" % (n, a))
    r = conn.ask({"op": "revoke_key", "session": session, "file": a["file"], "client": "192.0.2.1"})
    t2 = time.perf_counter()
    if not r or not r.get("ok"):
        die("revoke_key %d: %r" % (n, r))
    return t1 - t0, t2 - t1, t2 - t0


def row(name, values):
    v = sorted(x * 1000 for x in values)
    return "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |" % (name, sum(v) / len(v), percentile(v, 50),
                                                         percentile(v, 90), percentile(v, 99), v[-1])


def main():
    if os.geteuid() != 0:
        die("run it as root: keywardd drops to a real user for every store operation")
    ks.require_binaries("keywardd", "keyward")
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "socket_bench.md")
    home_base = HOME_BASE if os.path.isdir(HOME_BASE) else None
    try:
        with h.SystemUser("bench", home_base=home_base) as user, h.SystemUser("web", system=True) as web:
            h.write_as(user, os.path.join(user.home, ".phonenumber"), "+15555550100\n", 0o600)
            settings = {"session_idle": 3600}
            if ALERTS == "console":
                settings["alerts"] = {"channel": "console"}
            elif ALERTS != "command":
                die("BENCH_ALERTS is console or command, not %r" % ALERTS)
            with ks.Stack(web, web=False, settings=settings) as stack:
                render_s = prepare_store(stack, user)
                conn = ks.Conn(stack.socket_path, timeout=60)
                session = ks.socket_session(stack, conn, user.name, client="192.0.2.1")
                if not session:
                    die("no session:\n" + stack.keywardd_log())
                n = active_keys(conn, session)
                if n != KEYS:
                    die("list_keys shows %d active keys, not %d" % (n, KEYS))
                for i in range(WARMUP):
                    pair(conn, session, i)
                load_before = loadavg()
                adds, revokes, pairs = [], [], []
                cpu0 = cpu_seconds(stack.keywardd.pid)
                t0 = time.perf_counter()
                for i in range(PAIRS):
                    a, r, p = pair(conn, session, WARMUP + i)
                    adds.append(a)
                    revokes.append(r)
                    pairs.append(p)
                elapsed = time.perf_counter() - t0
                time.sleep(0.5)  # let keywardd reap the last alert commands
                cpu = cpu_seconds(stack.keywardd.pid) - cpu0
                load_after = loadavg()
                n = active_keys(conn, session)
                if n != KEYS:
                    die("after the run list_keys shows %d active keys, not %d" % (n, KEYS))
                if ALERTS == "command":
                    deadline = time.time() + 10
                    while len(stack.alerts()) < 2 * (WARMUP + PAIRS) and time.time() < deadline:
                        time.sleep(0.1)
                    told = len(stack.alerts())
                    messages = len([1 for _, body in stack.messages() if body.startswith("keyward: ")])
                    if told != 2 * (WARMUP + PAIRS):
                        die("the administrator was told of %d changes, not %d" % (told, 2 * (WARMUP + PAIRS)))
                    alert_note = "%d changes told in %d alert messages" % (told, messages)
                else:
                    alert_note = "alerts on keywardd's console"
                with open(os.path.join(user.home, ".ssh", "authorized_keys")) as f:
                    lines = sum(1 for line in f if line.startswith("ssh-ed25519 "))
                if lines != KEYS:
                    die("authorized_keys holds %d keys, not %d" % (lines, KEYS))
                conn.close()
                rw, rk = stack.stop()
                fs_type = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", user.home], capture_output=True,
                                         text=True).stdout.strip()
    finally:
        h.cleanup_all()

    rate = PAIRS / elapsed
    p99 = percentile(sorted(pairs), 99) * 1000
    text = "\n".join([
        "### keywardd: add_key + revoke_key through the socket",
        "",
        "`sudo KEYWARD_BUILD_DIR=build bench/socket_bench.py`: an account of %d keys (home on %s), "
        "%d timed pairs after %d untimed, one connection, one request at a time, fsync on, "
        "alert channel %s (%s). `keyward render` of the %d keys took %.0f ms." % (
            KEYS, fs_type, PAIRS, WARMUP, ALERTS, alert_note, KEYS, render_s * 1000),
        "",
        "**%.1f pairs per second** (%.1f s for %d pairs); p99 of a pair %.1f ms." % (rate, elapsed, PAIRS, p99),
        "",
        "CPU (user+system) of keywardd and every child it reaped (store workers, alert senders): "
        "%.1f ms per pair, so at most %.0f pairs per second on one idle core if the disk kept up." % (
            cpu / PAIRS * 1000, PAIRS / cpu if cpu else float("inf")),
        "",
        "| ms | mean | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|---|",
        row("add_key + revoke_key", pairs),
        row("add_key", adds),
        row("revoke_key", revokes),
        "",
        "Load average before the timed pairs: `%s`; after: `%s` (%d CPUs)." % (load_before, load_after,
                                                                                 os.cpu_count() or 0),
        "",
    ])
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
