#!/usr/bin/env python3
"""Crash safety: `keyward render` and `keyward add` killed with SIGKILL at
random moments, hundreds of times.

A store of a few thousand Ed25519 keys (32 random bytes each, written
straight into users/ in keyward's canonical form) makes a render take long
enough to be killed anywhere: while reading users/, while writing the
temporary file, around the rename, while writing keys.index.

render: before each run a few "variant" keys move between users/ and a
folder outside the store, so each render has a new content to write. After
each kill authorized_keys must be exactly the version before the run or the
version the run was writing (header + the full set, byte for byte): never
empty, never torn, never a mix.

add: each run adds a new key and is killed. Afterwards authorized_keys is
the version before or the render of users/ as the kill left it; every file
in users/ is a complete canonical key file (no empty or half-written key);
every audit.log line is complete JSON.

Leftover temporary files (".authorized_keys.keyward-*", ".keys.index.keyward-*",
dot files in users/) are allowed but must never be picked up as keys: a
final render and `keyward check` must agree with the model of users/.
No one edits authorized_keys here, so no kill may make keyward take its own
file for a hand edit (no "authorized_keys.keyward-saved-*" copy).

The delays are spread over the measured duration of an uninterrupted run,
half of them near its end where the rename is; the whole test keeps to a
time budget (under a minute) but always makes at least 100 render kills.

Environment: KEYWARD_BIN (required). Exits non-zero on failure.
"""

import base64
import json
import os
import random
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

KEYWARD = os.environ.get("KEYWARD_BIN", "")
BASE_KEYS = int(os.environ.get("KEYWARD_CRASH_KEYS", "3000"))
RENDER_KILLS = int(os.environ.get("KEYWARD_CRASH_RENDER_KILLS", "300"))
ADD_KILLS = int(os.environ.get("KEYWARD_CRASH_ADD_KILLS", "120"))
BUDGET_SECONDS = float(os.environ.get("KEYWARD_CRASH_BUDGET", "40"))
MIN_RENDER_KILLS = 100  # past the budget if need be: a slow machine still gets hundreds of kills
MIN_ADD_KILLS = 40
VARIANTS = 24

failures = []
checks = 0
children = []


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def env():
    e = dict(os.environ)
    e["LC_ALL"] = "C"
    return e


def kw(*args, timeout=120):
    p = subprocess.run([KEYWARD] + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def spawn(*args):
    p = subprocess.Popen([KEYWARD] + [str(a) for a in args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env())
    children.append(p)
    return p


def kill_after(p, delay):
    """SIGKILL `p` after `delay` seconds (unless it ended); returns its status."""
    end = time.monotonic() + delay
    while time.monotonic() < end:
        if p.poll() is not None:
            break
        time.sleep(min(0.0005, max(0.0, end - time.monotonic())))
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
    rc = p.wait()
    children.remove(p)
    return rc


def delay(span):
    """Half the kills anywhere in a run, half near its end (the rename)."""
    if random.random() < 0.5:
        return random.uniform(0, span)
    return random.uniform(0.6 * span, 1.2 * span)


def key_line(i, tag="user"):
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + os.urandom(32)
    return "ssh-ed25519 %s %s%05d@example.com" % (base64.b64encode(blob).decode(), tag, i)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def today():
    return time.strftime("%Y%m%d", time.gmtime())


class Model:
    """What render must write: the README, then users/* in byte order."""

    def __init__(self, store):
        self.store = store
        self.users = os.path.join(store, "users")
        self.header = read(os.path.join(store, "!!README!!"))
        self.cache = {}  # file name -> content

    def files(self):
        return sorted(n for n in os.listdir(self.users) if not n.startswith("."))

    def content(self, name):
        if name not in self.cache:
            self.cache[name] = read(os.path.join(self.users, name))
        return self.cache[name]

    def render(self):
        return self.header + b"".join(self.content(n) for n in self.files())


def store_names_ok(store, allowed_extra):
    """Only keyward's own files, and the leftovers a kill may leave."""
    fixed = {"!!README!!", ".lock", "users", "revoked", "authorized_keys", "keys.index", "audit.log"}
    leftover = re.compile(r"^\.(authorized_keys|keys\.index)\.keyward-[0-9a-f]{16}$")
    saved = re.compile(r"^authorized_keys\.keyward-saved-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$")
    odd = [n for n in os.listdir(store) if n not in fixed and n not in allowed_extra
           and not leftover.match(n) and not saved.match(n)]
    return odd


def test_render_kills(tmp, store, model, deadline):
    ak = os.path.join(store, "authorized_keys")
    aside = os.path.join(tmp, "aside")
    variants = sorted(n for n in os.listdir(aside))
    current = read(ak)
    durations = []
    for _ in range(5):
        t = time.monotonic()
        name = random.choice(variants)
        src = os.path.join(aside, name) if os.path.exists(os.path.join(aside, name)) else os.path.join(model.users, name)
        dst = os.path.join(model.users, name) if src.startswith(aside) else os.path.join(aside, name)
        os.rename(src, dst)
        rc, _, err = kw("render", "--store", store)
        durations.append(time.monotonic() - t)
        check(rc == 0, "render: %s" % err)
    current = read(ak)
    check(current == model.render(), "an uninterrupted render differs from the model")
    span = sorted(durations)[len(durations) // 2] * 1.1
    print("render of %d keys takes about %.0f ms; kill delays spread over 0..%.0f ms"
          % (len(model.files()), 1000 * min(durations), 1000 * span))

    outcomes = {"old": 0, "new": 0, "finished": 0}
    kills = 0
    while kills < RENDER_KILLS and (time.monotonic() < deadline or kills < MIN_RENDER_KILLS):
        # Move 1..3 variants in or out, so that this render has new content.
        for name in random.sample(variants, random.randint(1, 3)):
            if os.path.exists(os.path.join(aside, name)):
                os.rename(os.path.join(aside, name), os.path.join(model.users, name))
            else:
                os.rename(os.path.join(model.users, name), os.path.join(aside, name))
        old, new = current, model.render()
        if old == new:
            continue
        p = spawn("render", "--store", store)
        rc = kill_after(p, delay(span))
        kills += 1
        now = read(ak)
        # Follow the machine's speed: shorter delays when runs finish first.
        span = span * 0.95 if rc == 0 else span * 1.01
        if rc == 0:
            outcomes["finished"] += 1
            check(now == new, "render exited 0 but authorized_keys is not the new version")
        elif now == old:
            outcomes["old"] += 1
        elif now == new:
            outcomes["new"] += 1
        else:
            check(False, "after a kill authorized_keys is neither the old nor the new version "
                         "(%d bytes; old %d, new %d; %s)" % (len(now), len(old), len(new),
                                                             "EMPTY" if not now else "torn"))
            current = now
            continue
        check(rc in (0, -signal.SIGKILL), "render died with status %r" % rc)
        current = now
        odd = store_names_ok(store, ())
        check(not odd, "unexpected files in the store after a kill: %r" % odd)
    print("render: %d kills: %d left the old version, %d the new one (killed after the rename), "
          "%d finished first" % (kills, outcomes["old"], outcomes["new"], outcomes["finished"]))
    check(kills >= min(RENDER_KILLS, MIN_RENDER_KILLS), "only %d render kills" % kills)
    check(outcomes["old"] + outcomes["new"] > 0, "no render was ever killed mid-way: the test proves nothing")
    return current


def test_add_kills(tmp, store, model, deadline, current):
    ak = os.path.join(store, "authorized_keys")
    audit = os.path.join(store, "audit.log")
    # Measure one add.
    line = key_line(0, "probe")
    path = os.path.join(tmp, "probe.pub")
    with open(path, "w") as f:
        f.write(line + "\n")
    t = time.monotonic()
    rc, out, err = kw("add", "--store", store, "--owner", "probe@example.com", "--device", "d", path)
    span = (time.monotonic() - t) * 1.0
    check(rc == 0, "add: %s" % err)
    current = read(ak)
    check(current == model.render(), "an uninterrupted add: authorized_keys differs from the model")
    known_lines = {}  # file name prefix -> the line its key file must hold
    outcomes = {"no file": 0, "file, old render": 0, "file, new render": 0, "finished": 0}
    kills = 0
    i = 0
    while kills < ADD_KILLS and (time.monotonic() < deadline or kills < MIN_ADD_KILLS):
        i += 1
        owner = "crash%05d@example.com" % i
        line = key_line(i, "crash")
        path = os.path.join(tmp, "add.pub")
        with open(path, "w") as f:
            f.write(line + "\n")
        name = "%s+d+%s+01.pub" % (owner, today())
        known_lines[name] = (line + "\n").encode()
        old = current
        p = spawn("add", "--store", store, "--owner", owner, "--device", "d", path)
        rc = kill_after(p, delay(span))
        kills += 1
        now = read(ak)
        # Every key file is whole: a known base key, or a crash key with its exact line.
        for n in model.files():
            if n.startswith("crash"):
                data = read(os.path.join(model.users, n))
                check(data == known_lines.get(n), "a torn key file in users/: %s = %r" % (n, data[:80]))
                model.cache[n] = data
        exists = os.path.exists(os.path.join(model.users, name))
        new = model.render()
        span = span * 0.95 if rc == 0 else span * 1.01
        if rc == 0:
            outcomes["finished"] += 1
            check(exists and now == new, "add exited 0 but the store is not complete")
        elif not exists:
            outcomes["no file"] += 1
            check(now == old, "no key file, yet authorized_keys changed")
        elif now == old:
            outcomes["file, old render"] += 1
        elif now == new:
            outcomes["file, new render"] += 1
        else:
            check(False, "after a killed add authorized_keys is neither the old nor the new version "
                         "(%d bytes; old %d, new %d)" % (len(now), len(old), len(new)))
        current = now
        # The audit log is whole lines of JSON.
        if os.path.exists(audit):
            data = read(audit)
            check(data == b"" or data.endswith(b"\n"), "audit.log ends in a torn line")
            for l in data.splitlines():
                try:
                    rec = json.loads(l)
                    check(rec.get("action") == "add", "audit record: %r" % rec)
                except ValueError:
                    check(False, "audit.log line is not JSON: %r" % l[:100])
        odd = store_names_ok(store, ())
        check(not odd, "unexpected files in the store after a killed add: %r" % odd)
    print("add: %d kills: %s" % (kills, ", ".join("%d %s" % (v, k) for k, v in outcomes.items())))
    check(kills >= min(ADD_KILLS, MIN_ADD_KILLS), "only %d add kills" % kills)
    return current


def main():
    if not KEYWARD or not os.access(KEYWARD, os.X_OK):
        print("KEYWARD_BIN must name the keyward binary", file=sys.stderr)
        return 2
    # So that a SIGTERM (a CTest timeout) still runs the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="keyward-crash-")
    try:
        os.chmod(tmp, 0o700)
        store = os.path.join(tmp, "store")
        rc, _, err = kw("init", "--store", store)
        if not check(rc == 0, "init: %s" % err):
            return 1
        users = os.path.join(store, "users")
        aside = os.path.join(tmp, "aside")
        os.mkdir(aside, 0o700)
        day = today()
        for i in range(BASE_KEYS + VARIANTS):
            owner = "user%05d@example.com" % i
            target = users if i < BASE_KEYS else aside
            with open(os.path.join(target, "%s+laptop+%s+01.pub" % (owner, day)), "w") as f:
                f.write(key_line(i) + "\n")
        model = Model(store)
        rc, out, err = kw("render", "--store", store)
        check(rc == 0, "first render: %s" % err)
        ak = os.path.join(store, "authorized_keys")
        check(read(ak) == model.render(), "the model of render does not match keyward's first render")
        rc, out, err = kw("check", "--store", store)
        check(rc == 0, "check after the first render: %s" % out)

        budget_end = start + BUDGET_SECONDS
        render_deadline = start + BUDGET_SECONDS * 0.6
        current = test_render_kills(tmp, store, model, render_deadline)
        current = test_add_kills(tmp, store, model, budget_end, current)

        # Leftovers must not be picked up as keys: plant one of each kind too.
        leftover = key_line(99999, "leftover") + "\n"
        for name in (".authorized_keys.keyward-0123456789abcdef", ".keys.index.keyward-0123456789abcdef"):
            with open(os.path.join(store, name), "w") as f:
                f.write(leftover)
        with open(os.path.join(users, ".leftover@example.com+d+%s+01.pub.keyward-0123456789abcdef" % day), "w") as f:
            f.write(leftover)
        rc, out, err = kw("render", "--store", store)
        check(rc == 0, "render after the kills: %s" % err)
        final = read(ak)
        check(final == model.render(), "the final render differs from the model of users/")
        check(b"leftover" not in final, "a leftover temporary file was rendered as a key")
        rc, out, err = kw("check", "--store", store)
        check(rc == 0, "check after the kills: exit %d: %s" % (rc, out[-400:]))
        rc, out, err = kw("list", "--store", store, "--json")
        check(rc == 0 and all(e.get("state") == "active" for e in json.loads(out or "[]")),
              "list after the kills shows invalid keys: %s" % err[-400:])

        # No one edited authorized_keys: a kill must not make keyward think so
        # (it would save a copy and report a hand edit). Any copy must at
        # least be a whole version.
        saved = [n for n in os.listdir(store) if n.startswith("authorized_keys.keyward-saved-")]
        check(not saved, "after kills keyward took its own authorized_keys for a hand edit %d times" % len(saved))
        for n in saved:
            data = read(os.path.join(store, n))
            check(data.startswith(model.header) and data.endswith(b"\n") and
                  all(l.startswith(b"#") or l.startswith(b"ssh-ed25519 ") for l in data.splitlines()),
                  "a saved copy is not a complete authorized_keys: %s" % n)
        leftovers = [n for n in os.listdir(store) if ".keyward-" in n and n.startswith(".")]
        print("%d leftover temporary files, %d copies saved as hand edits" % (len(leftovers), len(saved)))
    finally:
        for p in list(children):
            try:
                p.kill()
            except ProcessLookupError:
                pass
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed (%.1f s)" % (checks, len(failures), time.monotonic() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
