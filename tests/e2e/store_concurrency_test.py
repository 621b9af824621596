#!/usr/bin/env python3
"""Concurrency: several processes add and revoke keys in one store at once.

Eight workers, each in its own thread driving real `keyward` processes,
add distinct keys (half of them under one shared owner and device, so that
serial numbers are handed out under contention) and revoke some of them
again, many rounds, while other threads run `keyward render`, read
authorized_keys and ask `keyward keys USER FINGERPRINT` the whole time.

At the end:
  - every add that reported success has its file, whole, in users/ (or in
    revoked/ when a revoke of it reported success), and nothing else is
    there: no key lost, none doubled, every file name distinct;
  - authorized_keys is exactly what render writes (`keyward check` exits 0
    and the file equals the model: README, then users/* in byte order);
  - no reader ever saw a torn line or a line that is not a known key;
  - `keys` never answered with a line other than the one asked for;
  - the audit log has exactly one well-formed JSON line per successful
    change, and they name exactly those changes.

Environment: KEYWARD_BIN (required). Works as any user. Exits non-zero on
failure.
"""

import base64
import collections
import hashlib
import json
import os
import pwd
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

KEYWARD = os.environ.get("KEYWARD_BIN", "")
WORKERS = int(os.environ.get("KEYWARD_CONCURRENCY_WORKERS", "8"))
ROUNDS = int(os.environ.get("KEYWARD_CONCURRENCY_ROUNDS", "12"))

failures = []
checks = 0
lock = threading.RLock()
live = set()
stop = threading.Event()


def check(cond, msg):
    global checks
    with lock:
        checks += 1
        if not cond:
            failures.append(msg)
            print("FAIL: " + msg, file=sys.stderr)
    return cond


def kw(*args, timeout=120):
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    p = subprocess.Popen([KEYWARD] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    with lock:
        live.add(p)
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        with lock:
            live.discard(p)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def new_key(comment):
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + os.urandom(32)
    fp = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return "ssh-ed25519 %s %s" % (base64.b64encode(blob).decode(), comment), fp


def read(path):
    with open(path, "rb") as f:
        return f.read().decode()


class Ledger:
    """What the workers were told happened."""

    def __init__(self):
        self.added = {}      # file -> line
        self.fp_of = {}      # file -> fingerprint
        self.revoked = set()
        self.changes = collections.Counter()  # (action, file) -> count
        self.lines = {}      # fingerprint -> line (every key ever offered)

    def record(self, action, file, line=None, fp=None):
        with lock:
            self.changes[(action, file)] += 1
            if action == "add":
                check(file not in self.added, "two adds reported the same file name %s" % file)
                self.added[file] = line
                self.fp_of[file] = fp
            elif action == "revoke":
                self.revoked.add(file)


def worker(n, cfg, tmp, ledger):
    shared = n % 2 == 0
    owner = "team@example.com" if shared else "w%d@example.com" % n
    mine = []
    for r in range(ROUNDS):
        if stop.is_set():
            return
        device = "shared" if shared else "dev%d" % r
        line, fp = new_key("w%d-r%d@example.com" % (n, r))
        with lock:
            ledger.lines[fp] = line
        path = os.path.join(tmp, "key-%d-%d.pub" % (n, r))
        with open(path, "w") as f:
            f.write(line + "\n")
        rc, out, err = kw("add", "--config", cfg, "--owner", owner, "--device", device, path)
        m = re.search(r"^added (\S+) (SHA256:\S+)$", out, re.M)
        if check(rc == 0 and m is not None, "worker %d add: exit %d %r %r" % (n, rc, out, err)):
            check(m.group(2) == fp, "add reported fingerprint %s, expected %s" % (m.group(2), fp))
            ledger.record("add", m.group(1), line, fp)
            mine.append((m.group(1), fp))
        # Every other round, revoke one of this worker's keys: by fingerprint
        # or by file name.
        if r % 2 == 1 and mine:
            file, kfp = mine.pop(random.randrange(len(mine)))
            selector = kfp if random.random() < 0.5 else file
            rc, out, err = kw("revoke", "--config", cfg, selector)
            if check(rc == 0 and ("revoked %s %s" % (file, kfp)) in out,
                     "worker %d revoke %s: exit %d %r %r" % (n, selector, rc, out, err)):
                check(out.count("\nrevoked ") + out.startswith("revoked ") == 1,
                      "a revoke by %s moved more than one key: %r" % (selector, out))
                ledger.record("revoke", file)


def renderer(cfg):
    while not stop.is_set():
        rc, out, err = kw("render", "--config", cfg)
        check(rc == 0, "concurrent render: exit %d %r" % (rc, err))
        time.sleep(0.005)


def reader(ak, header_lines, ledger, stats):
    line_re = re.compile(r"^ssh-ed25519 [A-Za-z0-9+/]{68} w\d+-r\d+@example\.com$")
    while not stop.is_set():
        try:
            data = read(ak)
        except FileNotFoundError:
            time.sleep(0.002)
            continue
        stats["reads"] += 1
        check(data.endswith("\n"), "a reader saw authorized_keys without its final newline (torn)")
        lines = data.splitlines()
        check(lines[:len(header_lines)] == header_lines, "a reader saw authorized_keys without its header")
        body = lines[len(header_lines):]
        with lock:
            known = set(ledger.lines.values())
        for l in body:
            check(line_re.match(l) is not None and l in known, "a reader saw a torn or unknown line: %r" % l[:120])
        check(len(body) == len(set(body)), "a reader saw the same key twice")
        time.sleep(0.001)


def asker(cfg, user, ledger, stats):
    while not stop.is_set():
        with lock:
            fps = list(ledger.lines.items())
        if not fps:
            time.sleep(0.01)
            continue
        fp, line = random.choice(fps)
        rc, out, err = kw("keys", "--config", cfg, user, fp)
        stats["asks"] += 1
        check(rc == 0, "keys: exit %d %r" % (rc, err))
        check(out in ("", line + "\n"), "keys %s answered %r" % (fp, out[:200]))


def main():
    if not KEYWARD or not os.access(KEYWARD, os.X_OK):
        print("KEYWARD_BIN must name the keyward binary", file=sys.stderr)
        return 2
    # So that a SIGTERM (a CTest timeout) still runs the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="keyward-concurrency-")
    threads = []
    try:
        os.chmod(tmp, 0o700)
        user = pwd.getpwuid(os.geteuid()).pw_name
        base = os.path.join(tmp, "stores")
        os.mkdir(base, 0o700)
        cfg = os.path.join(tmp, "keyward.json")
        with open(cfg, "w") as f:
            json.dump({"store": base + "/%u", "authorized_keys": base + "/%u/authorized_keys"}, f)
        store = os.path.join(base, user)
        rc, out, err = kw("init", "--config", cfg)
        if not check(rc == 0, "init: %r" % err):
            return 1
        header_lines = read(os.path.join(store, "!!README!!")).splitlines()
        ak = os.path.join(store, "authorized_keys")
        rc, out, err = kw("render", "--config", cfg)
        check(rc == 0, "first render: %r" % err)

        ledger = Ledger()
        stats = collections.Counter()
        background = [threading.Thread(target=renderer, args=(cfg,)),
                      threading.Thread(target=reader, args=(ak, header_lines, ledger, stats)),
                      threading.Thread(target=asker, args=(cfg, user, ledger, stats))]
        workers = [threading.Thread(target=worker, args=(n, cfg, tmp, ledger)) for n in range(WORKERS)]
        threads = background + workers
        for t in threads:
            t.start()
        for t in workers:
            t.join()
        stop.set()
        for t in background:
            t.join()

        users = sorted(n for n in os.listdir(os.path.join(store, "users")))
        revoked = sorted(n for n in os.listdir(os.path.join(store, "revoked")))
        want_users = sorted(f for f in ledger.added if f not in ledger.revoked)
        want_revoked = sorted(ledger.revoked)
        check(len(ledger.added) == WORKERS * ROUNDS, "%d of %d adds succeeded" % (len(ledger.added), WORKERS * ROUNDS))
        check(users == want_users, "users/ differs from the successful adds and revokes: missing %r, extra %r"
              % (sorted(set(want_users) - set(users)), sorted(set(users) - set(want_users))))
        check(revoked == want_revoked, "revoked/ differs: missing %r, extra %r"
              % (sorted(set(want_revoked) - set(revoked)), sorted(set(revoked) - set(want_revoked))))
        for f in users:
            check(read(os.path.join(store, "users", f)) == ledger.added.get(f, "?") + "\n", "key file %s" % f)
        for f in revoked:
            check(read(os.path.join(store, "revoked", f)) == ledger.added.get(f, "?") + "\n", "revoked file %s" % f)
        # Serials under contention: the shared owner and device got 01, 02, ... without a gap or a clash.
        shared = sorted(f for f in ledger.added if f.startswith("team@example.com+shared+"))
        serials = sorted(int(f.rsplit("+", 1)[1][:2]) for f in shared)
        check(serials == list(range(1, len(shared) + 1)), "serials of the shared device: %r" % serials)

        rc, out, err = kw("check", "--config", cfg)
        check(rc == 0, "check after the storm: exit %d %s" % (rc, out[-600:]))
        model = read(os.path.join(store, "!!README!!")) + "".join(
            read(os.path.join(store, "users", f)) for f in users)
        check(read(ak) == model, "authorized_keys is not the render of users/")
        rc, out, err = kw("keys", "--config", cfg, user)
        check(rc == 0 and out == model[len(read(os.path.join(store, "!!README!!"))):],
              "keys USER after the storm differs from authorized_keys")

        # The audit log: one whole JSON line per successful change.
        raw = read(os.path.join(store, "audit.log"))
        check(raw.endswith("\n"), "audit.log does not end with a newline")
        logged = collections.Counter()
        for l in raw.splitlines():
            try:
                rec = json.loads(l)
            except ValueError:
                check(False, "audit.log line is not JSON: %r" % l[:200])
                continue
            check(set(rec) >= {"time", "who", "account", "action", "file", "fingerprint"},
                  "audit record fields: %r" % rec)
            check(rec.get("account") == user, "audit record account: %r" % rec)
            check(rec.get("fingerprint") == ledger.fp_of.get(rec.get("file")),
                  "audit record fingerprint: %r" % rec)
            logged[(rec.get("action"), rec.get("file"))] += 1
        check(logged == ledger.changes, "audit log differs from the changes: missing %r, extra %r"
              % (dict(ledger.changes - logged), dict(logged - ledger.changes)))
        n_changes = sum(ledger.changes.values())
        print("%d workers x %d rounds: %d changes (%d adds, %d revokes), %d reads of authorized_keys, "
              "%d keys lookups" % (WORKERS, ROUNDS, n_changes, len(ledger.added), len(ledger.revoked),
                                   stats["reads"], stats["asks"]))
        check(stats["reads"] > 0 and stats["asks"] > 0, "the readers never ran")
    finally:
        stop.set()
        with lock:
            procs = list(live)
        for p in procs:
            try:
                p.kill()
            except ProcessLookupError:
                pass
        for t in threads:
            t.join(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed (%.1f s)" % (checks, len(failures), time.monotonic() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
