#!/usr/bin/env python3
"""keywardd's certificate authority through its socket: sign_cert, and what a
published KRL costs revoke_key.

    sudo KEYWARD_BUILD_DIR=build bench/cert_socket_bench.py [MARKDOWN_OUT]

Run by hand, as root (not by ctest). The set-up is bench/socket_bench.py's
(its helpers are imported): a real system user with a home under /home and
an account of BENCH_KEYS (1000) keys, keywardd as root through
tests/e2e/lib/keyward_stack.py, fsync on. On top of it: a user CA made by
`keyward ca init` (Ed25519, the stack's folder, on the same disk as /tmp)
and one role, "login" (the account's name, a day, permit-pty).

Phases, each on one connection, one request at a time:

  sign      BENCH_SIGNS (500) sign_cert of "login" for one public key, after
            BENCH_WARMUP untimed: each reserves a serial (fsync), signs and
            appends to issued.log (fsync), writes keywardd's audit line and
            starts the alert command.
  no KRL    BENCH_PAIRS (300) add_key + revoke_key pairs; the KRL file does
            not exist, so revoke_key only stats its path.
  KRL       the same after `keyward krl build`: every revoke_key also queues
            the key for the KRL, and keywardd rebuilds it in a child that
            stays root (reading every passwd account's revoked/ folder, with
            a child per account that drops to it), one at a time, coalescing
            the revokes that come meanwhile. After the last pair, the time
            until the KRL lists the last key (ssh-keygen -Q) is the
            publication lag; then every key revoked in the phase is checked
            to be in it.
  no KRL    again, after the KRL file is removed, to see how much the
            machine's load moved during the run.

Prints per phase the requests per second, mean/p50/p90/p99/max latency and
keywardd's CPU (itself and every child it reaped) per request, the number of
KRL rebuilds, and writes the markdown to MARKDOWN_OUT (default
build/cert_socket_bench.md).

Environment: KEYWARD_BUILD_DIR (default build), BENCH_KEYS (1000),
BENCH_SIGNS (500), BENCH_PAIRS (300), BENCH_WARMUP (20), BENCH_HOME_BASE.
"""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import socket_bench as sb  # noqa: E402  (sets KEYWARD_BUILD_DIR's default, the lib path)

h, ks = sb.h, sb.ks
SIGNS = int(os.environ.get("BENCH_SIGNS", "500"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "300"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "20"))


def die(msg):
    print("cert_socket_bench: " + msg, file=sys.stderr)
    sys.exit(1)


def own_cpu_seconds(pid):
    """user+system CPU of the process itself, without its children."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sign(conn, session, key):
    t0 = time.perf_counter()
    r = conn.ask({"op": "sign_cert", "session": session, "role": "login", "key": key, "client": "192.0.2.1"})
    t1 = time.perf_counter()
    if not r or not r.get("ok"):
        die("sign_cert: %r" % r)
    return t1 - t0, r


def rebuilds(stack):
    return stack.keywardd_log().count("rebuilt: version")


def phase_pairs(stack, conn, session, first):
    revokes, pairs, keys = [], [], []
    cpu0 = sb.cpu_seconds(stack.keywardd.pid)
    t0 = time.perf_counter()
    for i in range(PAIRS):
        n = first + i
        key = sb.random_key("pair-%d" % n)
        ta = time.perf_counter()
        a = conn.ask({"op": "add_key", "session": session, "key": key, "owner": "bench@example.org",
                      "device": "pair%05d" % n, "client": "192.0.2.1"})
        tb = time.perf_counter()
        if not a or not a.get("ok"):
            die("add_key %d: %r" % (n, a))
        r = conn.ask({"op": "revoke_key", "session": session, "file": a["file"], "client": "192.0.2.1"})
        tc = time.perf_counter()
        if not r or not r.get("ok"):
            die("revoke_key %d: %r" % (n, r))
        revokes.append(tc - tb)
        pairs.append(tc - ta)
        keys.append(key)
    elapsed = time.perf_counter() - t0
    return revokes, pairs, keys, elapsed, cpu0


def wait_revoked(krl, pub_path, timeout=120):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        q = subprocess.run(["ssh-keygen", "-Q", "-f", krl, pub_path], capture_output=True, text=True)
        if "REVOKED" in q.stdout:
            return time.perf_counter() - t0
        time.sleep(0.01)
    return None


def main():
    if os.geteuid() != 0:
        die("run it as root: keywardd drops to a real user for every store operation")
    ks.require_binaries("keywardd", "keyward")
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(sb.REPO, "build", "cert_socket_bench.md")
    home_base = sb.HOME_BASE if os.path.isdir(sb.HOME_BASE) else None
    results = {}
    try:
        with h.SystemUser("bench", home_base=home_base) as user, h.SystemUser("web", system=True) as web:
            h.write_as(user, os.path.join(user.home, ".phonenumber"), "+15555550100\n", 0o600)
            stack = ks.Stack(web, web=False, start=False, settings={"session_idle": 3600})
            try:
                stack.config["ca"]["roles"] = [{"name": "login", "principals": ["%u"], "max_validity": "1d",
                                                "extensions": ["permit-pty"], "accounts": ["*"]}]
                h.write_file(stack.conf_path, json.dumps(stack.config, indent=2) + "\n", 0o600)
                r = subprocess.run([ks.KEYWARD, "ca", "init", "--config", stack.conf_path], capture_output=True,
                                   text=True)
                if r.returncode != 0:
                    die("keyward ca init: " + r.stderr)
                stack.start()
                sb.prepare_store(stack, user)
                conn = ks.Conn(stack.socket_path, timeout=60)
                session = ks.socket_session(stack, conn, user.name, client="192.0.2.1")
                if not session:
                    die("no session:\n" + stack.keywardd_log())
                results["passwd_accounts"] = sum(1 for _ in open("/etc/passwd"))

                # sign_cert
                key = sb.random_key("cert")
                for _ in range(WARMUP):
                    sign(conn, session, key)
                load = [sb.loadavg()]
                cpu0 = sb.cpu_seconds(stack.keywardd.pid)
                own0 = own_cpu_seconds(stack.keywardd.pid)
                t0 = time.perf_counter()
                times = [sign(conn, session, key)[0] for _ in range(SIGNS)]
                elapsed = time.perf_counter() - t0
                own = own_cpu_seconds(stack.keywardd.pid) - own0
                time.sleep(0.5)
                results["sign"] = (times, elapsed, sb.cpu_seconds(stack.keywardd.pid) - cpu0, SIGNS, own)

                # add + revoke: no KRL, KRL, no KRL
                for i in range(WARMUP):
                    sb.pair(conn, session, i)
                n = WARMUP
                revokes, pairs, _, elapsed, cpu0 = phase_pairs(stack, conn, session, n)
                time.sleep(0.5)
                results["nokrl1"] = (revokes, pairs, elapsed, sb.cpu_seconds(stack.keywardd.pid) - cpu0)
                n += PAIRS

                r = subprocess.run([ks.KEYWARD, "krl", "build", "--config", stack.conf_path], capture_output=True,
                                   text=True)
                if r.returncode != 0:
                    die("keyward krl build: " + r.stderr)
                before = rebuilds(stack)
                revokes, pairs, keys, elapsed, cpu0 = phase_pairs(stack, conn, session, n)
                last = os.path.join(stack.dir, "last.pub")
                with open(last, "w") as f:
                    f.write(keys[-1] + "\n")
                lag = wait_revoked(stack.krl_path, last)
                if lag is None:
                    die("the last revoked key never reached the KRL:\n" + stack.keywardd_log()[-3000:])
                # Every key of the phase is in the KRL.
                files = []
                for i, k in enumerate(keys):  # ssh-keygen -Q reads one key per file
                    files.append(os.path.join(stack.dir, "revoked-%d.pub" % i))
                    with open(files[-1], "w") as f:
                        f.write(k + "\n")
                q = subprocess.run(["ssh-keygen", "-Q", "-f", stack.krl_path] + files, capture_output=True,
                                   text=True)
                revoked = q.stdout.count("REVOKED")
                if revoked != len(keys):
                    die("the KRL holds %d of the %d revoked keys" % (revoked, len(keys)))
                time.sleep(0.5)
                results["krl"] = (revokes, pairs, elapsed, sb.cpu_seconds(stack.keywardd.pid) - cpu0,
                                  rebuilds(stack) - before, lag, os.path.getsize(stack.krl_path))
                n += PAIRS
                os.remove(stack.krl_path)

                revokes, pairs, _, elapsed, cpu0 = phase_pairs(stack, conn, session, n)
                time.sleep(0.5)
                results["nokrl2"] = (revokes, pairs, elapsed, sb.cpu_seconds(stack.keywardd.pid) - cpu0)
                load.append(sb.loadavg())
                conn.close()
                fs_type = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", stack.dir], capture_output=True,
                                         text=True).stdout.strip()
            finally:
                stack.stop()
                h.remove_root_owned(stack.notifier)
    finally:
        h.cleanup_all()

    times, elapsed, cpu, count, own = results["sign"]
    k = results["krl"]
    lines = [
        "### keywardd: sign_cert, and revoke_key with a published KRL",
        "",
        "`sudo KEYWARD_BUILD_DIR=build bench/cert_socket_bench.py`: root keywardd, an Ed25519 user CA "
        "(folder on %s), an account of %d keys, %d passwd accounts on the machine; one connection, one request "
        "at a time, fsync on." % (fs_type, sb.KEYS, results["passwd_accounts"]),
        "",
        "**sign_cert: %.0f per second**, p99 %.1f ms; CPU per certificate %.2f ms in keywardd itself, %.2f ms "
        "with the children it reaped (the alert command, a shell script here)." % (
            count / elapsed, sb.percentile(sorted(times), 99) * 1000, own / count * 1000, cpu / count * 1000),
        "",
        "| ms | mean | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|---|",
        sb.row("sign_cert", times),
    ]
    for name, label in (("nokrl1", "no KRL"), ("krl", "KRL published"), ("nokrl2", "no KRL, again")):
        revokes, pairs, el, c = results[name][:4]
        lines.append(sb.row("revoke_key, %s (%.1f pairs/s, %.1f ms CPU/pair)" % (label, PAIRS / el, c / PAIRS * 1000),
                            revokes))
    lines += [
        "",
        "With the KRL published, the %d revokes made **%d rebuilds** (a revoke that comes while one runs "
        "waits for the next); the last key was in the KRL (%d bytes) %.0f ms after its revoke_key answered, and "
        "every revoked key was in it." % (PAIRS, k[4], k[6], k[5] * 1000),
        "",
        "Load average before: `%s`; after: `%s` (%d CPUs)." % (load[0], load[1], os.cpu_count() or 0),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
