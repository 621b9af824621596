#!/usr/bin/env python3
"""The per-key store through the real `keyward` binary and real files.

Flows:
  - init, add (--restrict, --command, --from, --days, --expires, --option),
    list and list --json, revoke by file name / fingerprint / owner+device,
    reinstate, render, check (exit 1 and a readable diff after a hand edit;
    render keeps a copy of the hand-edited file), import (owners from e-mail
    comments, --owner for the rest, a copy of the original kept, a second
    import adds nothing twice), prune, and
  - `keyward keys USER [FINGERPRINT]` with --config pointing at a JSON
    configuration whose "store" template is a temporary path (".../%u"):
    the account's keys, the matching one only, nothing for an unknown
    fingerprint or user (exit 0), and nothing written.
Bad input: a key file with two keys or an embedded newline or CR, a private
key, options in the key line, a weak key, a duplicate, a revoked key added
again, a device with '/' or '..', an owner that is not an e-mail address, an
unknown selector, a store that is not initialised, option values with a
newline, bad expiry dates: each exits non-zero with a clear message and
writes NOTHING (a recursive listing with modes and contents is compared
before and after). Options smuggled into a comment stay a comment.

Environment: KEYWARD_BIN (required). Works as any user. Exits non-zero on
failure.
"""

import base64
import calendar
import json
import os
import pwd
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
SSH_KEYGEN = shutil.which("ssh-keygen")

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def run(argv, stdin_bytes=None, timeout=60):
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env.pop("SUDO_USER", None)
    p = subprocess.run(argv, input=stdin_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def kw(*args, stdin_bytes=None):
    return run([KEYWARD] + [str(a) for a in args], stdin_bytes=stdin_bytes)


def ed25519_line(comment=None):
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + os.urandom(32)
    line = "ssh-ed25519 " + base64.b64encode(blob).decode()
    return line + (" " + comment if comment else "")


def fingerprint(line):
    blob = base64.b64decode(line.split()[1])
    import hashlib
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def key_body(line):
    """type and base64 of a key line (without options or comment)."""
    m = re.search(r"(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp256) (\S+)", line)
    return m.group(0) if m else None


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read().decode()


def snapshot(root):
    """Every path under root: kind, mode, owner, size, mtime and content."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_nlink)
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    entry += (f.read(), st.st_mtime_ns)
            elif stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(p),)
            out[os.path.relpath(p, root)] = entry
    return out


def diff_snapshots(a, b):
    lines = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            lines.append("%s: %s -> %s" % (k, "absent" if k not in a else "present",
                                           "absent" if k not in b else "changed" if k in a else "present"))
    return "; ".join(lines)


def expect_refused(root, what, args, says, stdin_bytes=None):
    """The command exits non-zero, says `says` on stderr, writes nothing."""
    before = snapshot(root)
    rc, out, err = kw(*args, stdin_bytes=stdin_bytes)
    check(rc != 0, "%s: exit %d, expected a refusal (out=%r)" % (what, rc, out))
    check(err.startswith("keyward: ") or "Error" in err, "%s: no error message: %r" % (what, err))
    for s in ([says] if isinstance(says, str) else says):
        check(s.lower() in err.lower(), "%s: expected %r in the message: %r" % (what, s, err))
    check(out == "", "%s: printed on stdout: %r" % (what, out))
    after = snapshot(root)
    check(before == after, "%s: something was written: %s" % (what, diff_snapshots(before, after)))


def readme(store):
    return read(os.path.join(store, "!!README!!"))


def users(store):
    return sorted(os.listdir(os.path.join(store, "users")))


def revoked(store):
    return sorted(os.listdir(os.path.join(store, "revoked")))


def audit(store):
    path = os.path.join(store, "audit.log")
    if not os.path.exists(path):
        return []
    records = []
    for line in read(path).splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            check(False, "audit.log line is not JSON: %r" % line)
    return records


def rendered_keys(store):
    ak = read(os.path.join(store, "authorized_keys"))
    head = readme(store)
    check(ak.startswith(head), "authorized_keys does not start with the README header")
    return ak[len(head):].splitlines()


def today():
    return time.strftime("%Y%m%d", time.gmtime())


def test_flows(tmp, real_keys):
    store = os.path.join(tmp, "store")
    rc, out, err = kw("init", "--store", store)
    check(rc == 0, "init: exit %d: %s" % (rc, err))
    for name in ("users", "revoked"):
        check(os.path.isdir(os.path.join(store, name)), "init did not create %s/" % name)
    check(all(l.startswith("#") for l in readme(store).splitlines() if l), "README has a non-comment line")
    check(not os.path.exists(os.path.join(store, "authorized_keys")), "init wrote authorized_keys")
    check(os.lstat(store).st_mode & 0o022 == 0, "the store is group/world-writable")
    rc, out, _ = kw("init", "--store", store)
    check(rc == 0 and "ready" in out, "a second init: exit %d %r" % (rc, out))

    # add with options and --days
    k1 = ed25519_line("alice laptop")
    f1 = write(os.path.join(tmp, "k1.pub"), k1 + "\n")
    t0 = int(time.time())
    rc, out, err = kw("add", "--store", store, "--owner", "alice@example.com", "--device", "laptop", "--restrict",
                      "--command", "echo hi", "--from", "10.0.0.0/8,192.0.2.1", "--days", "3", f1)
    t1 = int(time.time())
    check(rc == 0, "add: exit %d: %s" % (rc, err))
    name1 = "alice@example.com+laptop+%s+01.pub" % today()
    check(("added %s %s" % (name1, fingerprint(k1))) in out, "add output: %r" % out)
    check(users(store) == [name1], "users/ after add: %r" % users(store))
    line1 = read(os.path.join(store, "users", name1))
    m = re.fullmatch(r'restrict,command="echo hi",from="10\.0\.0\.0/8,192\.0\.2\.1",expiry-time="(\d{14})Z" '
                     + re.escape(k1) + "\n", line1)
    check(m is not None, "canonical key file: %r" % line1)
    if m:
        exp = calendar.timegm(time.strptime(m.group(1), "%Y%m%d%H%M%S"))
        check(t0 + 3 * 86400 <= exp <= t1 + 3 * 86400, "--days 3 gave expiry %d (now %d)" % (exp, t0))
    check(rendered_keys(store) == [line1.rstrip("\n")], "authorized_keys after add: %r" % rendered_keys(store))
    check(os.lstat(os.path.join(store, "authorized_keys")).st_mode & 0o077 == 0, "authorized_keys is not private")

    # --expires and --option, a real ssh-keygen key from stdin
    rc, out, err = kw("add", "--store", store, "--owner", "alice@example.com", "--device", "phone", "--expires",
                      "2099-12-31", "--option", "no-pty", "--option", 'environment="A=b"', "-",
                      stdin_bytes=(real_keys["ed25519"] + "\n").encode())
    check(rc == 0, "add --expires --option: exit %d: %s" % (rc, err))
    name2 = "alice@example.com+phone+%s+01.pub" % today()
    line2 = read(os.path.join(store, "users", name2)) if os.path.exists(os.path.join(store, "users", name2)) else ""
    check(line2 == 'no-pty,environment="A=b",expiry-time="20991231000000Z" ' + real_keys["ed25519"] + "\n",
          "key file with --expires/--option: %r" % line2)

    k3 = ed25519_line("bob@example.com")
    rc, out, err = kw("add", "--store", store, "--owner", "bob@example.com", "--device", "desk",
                      write(os.path.join(tmp, "k3.pub"), k3 + "\n"))
    check(rc == 0, "add bob: %s" % err)
    name3 = "bob@example.com+desk+%s+01.pub" % today()
    # A second key for the same device on the same day gets serial 02.
    k4 = ed25519_line()
    rc, out, err = kw("add", "--store", store, "--owner", "bob@example.com", "--device", "desk",
                      write(os.path.join(tmp, "k4.pub"), k4 + "\n"))
    name4 = "bob@example.com+desk+%s+02.pub" % today()
    check(rc == 0 and name4 in out, "second key for the same device: %r %r" % (out, err))
    check(users(store) == sorted([name1, name2, name3, name4]), "users/: %r" % users(store))
    # authorized_keys: the header, then the key files in byte order.
    want = [read(os.path.join(store, "users", n)).rstrip("\n") for n in sorted([name1, name2, name3, name4])]
    check(rendered_keys(store) == want, "render order / content: %r" % rendered_keys(store))

    # list and list --json
    rc, out, err = kw("list", "--store", store)
    check(rc == 0, "list: %s" % err)
    check("alice@example.com" in out and "laptop" in out and fingerprint(k1) in out and "active" in out,
          "list output: %r" % out)
    rc, out, err = kw("list", "--store", store, "--json")
    check(rc == 0, "list --json: %s" % err)
    try:
        listed = json.loads(out)
    except ValueError:
        listed = []
        check(False, "list --json is not JSON: %r" % out)
    by_file = {e.get("file"): e for e in listed}
    check(set(by_file) == {name1, name2, name3, name4}, "list --json files: %r" % sorted(by_file))
    e1 = by_file.get(name1, {})
    check(e1.get("owner") == "alice@example.com" and e1.get("device") == "laptop" and e1.get("date") == today()
          and e1.get("serial") == 1 and e1.get("type") == "ssh-ed25519" and e1.get("bits") == 256
          and e1.get("fingerprint") == fingerprint(k1) and e1.get("state") == "active"
          and isinstance(e1.get("expiry"), str), "list --json entry: %r" % e1)
    check(by_file.get(name3, {}).get("expiry", "x") is None, "a key without expiry: %r" % by_file.get(name3))
    check(by_file.get(name2, {}).get("expiry") == "2099-12-31T00:00:00Z", "expiry: %r" % by_file.get(name2))

    # revoke by file name, by fingerprint, by owner + device
    rc, out, err = kw("revoke", "--store", store, name1)
    check(rc == 0 and ("revoked " + name1) in out, "revoke by file name: %r %r" % (out, err))
    check(revoked(store) == [name1], "revoked/: %r" % revoked(store))
    check(all(key_body(k1) not in l for l in rendered_keys(store)), "a revoked key is still rendered")
    rc, out, err = kw("revoke", "--store", store, fingerprint(k3))
    check(rc == 0 and ("revoked " + name3) in out, "revoke by fingerprint: %r %r" % (out, err))
    rc, out, err = kw("revoke", "--store", store, "alice@example.com", "phone")
    check(rc == 0 and ("revoked " + name2) in out, "revoke by owner and device: %r %r" % (out, err))
    check(users(store) == [name4], "users/ after revokes: %r" % users(store))
    check(revoked(store) == sorted([name1, name2, name3]), "revoked/ after revokes: %r" % revoked(store))
    rc, out, err = kw("list", "--store", store, "--json")
    check({e["file"] for e in json.loads(out)} == {name4}, "list without --all shows revoked keys")
    rc, out, err = kw("list", "--store", store, "--json", "--all")
    states = {e["file"]: e["state"] for e in json.loads(out)}
    check(states == {name1: "revoked", name2: "revoked", name3: "revoked", name4: "active"},
          "list --all states: %r" % states)

    # reinstate
    rc, out, err = kw("reinstate", "--store", store, "bob@example.com+desk")
    check(rc == 0 and ("reinstated " + name3) in out, "reinstate by owner+device: %r %r" % (out, err))
    rc, out, err = kw("reinstate", "--store", store, name1)
    check(rc == 0, "reinstate by file: %r" % err)
    check(users(store) == sorted([name1, name3, name4]), "users/ after reinstate: %r" % users(store))
    want = [read(os.path.join(store, "users", n)).rstrip("\n") for n in users(store)]
    check(rendered_keys(store) == want, "authorized_keys after reinstate")

    # render and check
    ak = os.path.join(store, "authorized_keys")
    rc, out, err = kw("check", "--store", store)
    check(rc == 0, "check after changes: exit %d %r %r" % (rc, out, err))
    rc, out, err = kw("render", "--store", store)
    check(rc == 0 and "unchanged" in out, "render of an unchanged store: %r" % out)
    os.unlink(ak)
    rc, out, err = kw("check", "--store", store)
    check(rc == 1, "check without authorized_keys: exit %d" % rc)
    rc, out, err = kw("render", "--store", store)
    check(rc == 0 and os.path.exists(ak), "render after removal: %r" % err)
    good = read(ak)
    intruder = ed25519_line("intruder@evil.example")
    os.chmod(ak, 0o640)
    with open(ak, "a") as f:
        f.write(intruder + "\n")
    edited = read(ak)
    before = snapshot(tmp)
    rc, out, err = kw("check", "--store", store)
    check(rc == 1, "check after a hand edit: exit %d" % rc)
    check(re.search(r"^- \d+: " + re.escape(intruder) + "$", out, re.M) is not None,
          "check diff does not show the added line: %r" % out)
    check("keyward render" in out, "check does not say how to fix it: %r" % out)
    check(snapshot(tmp) == before, "check wrote something")
    # A removed line shows with "+".
    write(ak, good.replace(read(os.path.join(store, "users", name4)), ""), 0o640)
    rc, out, err = kw("check", "--store", store)
    check(rc == 1 and ("+ " + read(os.path.join(store, "users", name4)).rstrip("\n")) in out,
          "check diff for a removed line: %r" % out)
    write(ak, edited, 0o640)
    rc, out, err = kw("render", "--store", store)
    check(rc == 0, "render after a hand edit: %r" % err)
    m = re.search(r"saved as (\S+)", out)
    check(m is not None, "render does not say where the edited file was saved: %r" % out)
    if m:
        check(os.path.exists(m.group(1)) and read(m.group(1)) == edited, "the saved copy is not the edited file")
    check(read(ak) == good, "render did not restore authorized_keys")
    check(stat.S_IMODE(os.lstat(ak).st_mode) == 0o640, "render did not keep the file's mode")
    rc, out, err = kw("check", "--store", store)
    check(rc == 0, "check after render: %r" % out)

    # Options smuggled in a comment stay a comment.
    b64 = ed25519_line().split()[1]
    smuggled = 'ssh-ed25519 %s x command="/bin/evil",from="*" no-pty' % b64
    rc, out, err = kw("add", "--store", store, "--owner", "mallory@example.com", "--device", "laptop",
                      write(os.path.join(tmp, "smuggle.pub"), smuggled + "\n"))
    check(rc == 0, "a key with option-like text in its comment: %r" % err)
    mal = [l for l in rendered_keys(store) if b64 in l]
    check(mal == [smuggled], "the smuggled comment in authorized_keys: %r" % mal)

    # A --authorized-keys outside the store.
    outside_dir = os.path.join(tmp, "ak-elsewhere")
    os.mkdir(outside_dir, 0o700)
    rc, out, err = kw("render", "--store", store, "--authorized-keys", os.path.join(outside_dir, "authorized_keys"))
    check(rc == 0 and read(os.path.join(outside_dir, "authorized_keys")) == read(ak),
          "render --authorized-keys: %r" % err)

    # prune: a key already expired (through sshd's own option) goes to revoked/.
    expired = ed25519_line("old")
    rc, out, err = kw("add", "--store", store, "--owner", "old@example.com", "--device", "box", "--option",
                      'expiry-time="20000101Z"', write(os.path.join(tmp, "old.pub"), expired + "\n"))
    check(rc == 0, "add of an expired key: %r" % err)
    name_old = "old@example.com+box+%s+01.pub" % today()
    rc, out, err = kw("list", "--store", store, "--json")
    check({e["file"]: e["state"] for e in json.loads(out)}.get(name_old) == "expired", "list: not expired")
    rc, out, err = kw("prune", "--store", store)
    check(rc == 0 and ("pruned " + name_old) in out, "prune: %r %r" % (out, err))
    check(name_old in revoked(store) and name_old not in users(store), "prune did not move the key")
    rc, out, err = kw("prune", "--store", store)
    check(rc == 0 and "no expired keys" in out, "prune with nothing to do: %r" % out)
    rc, out, err = kw("check", "--store", store)
    check(rc == 0, "check after prune: %r" % out)

    # The audit log: one JSON line per change.
    actions = [(r.get("action"), r.get("file")) for r in audit(store)]
    want_actions = [("add", name1), ("add", name2), ("add", name3), ("add", name4), ("revoke", name1),
                    ("revoke", name3), ("revoke", name2), ("reinstate", name3), ("reinstate", name1),
                    ("add", "mallory@example.com+laptop+%s+01.pub" % today()), ("add", name_old),
                    ("prune", name_old)]
    check(actions == want_actions, "audit log actions: %r" % actions)
    for r in audit(store):
        check(set(r) >= {"time", "who", "account", "action", "file", "fingerprint"} and
              re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["time"]) and r["fingerprint"].startswith("SHA256:"),
              "audit record: %r" % r)
    return store


def test_import(tmp):
    store = os.path.join(tmp, "import-store")
    os.mkdir(store, 0o700)
    a = ed25519_line("alice@example.com")
    b = ed25519_line("bob@example.com")
    c = ed25519_line("carol's laptop")
    d = ed25519_line()
    original = ("# hand-made file\n" + a + "\n" + 'from="10.0.0.0/8" ' + b + "\n" + c + "\n\n" + d + "\n" +
                a.replace("alice@example.com", "alice again") + "\n" + "garbage here\n")
    ak = write(os.path.join(store, "authorized_keys"), original, 0o600)
    rc, out, err = kw("init", "--store", store)
    check(rc == 0 and "import" in out, "init over an existing authorized_keys: %r %r" % (out, err))
    check(read(ak) == original, "init changed the existing authorized_keys")
    rc, out, err = kw("import", "--store", store)
    check(rc == 0, "import: %r" % err)
    got = users(store)
    check(got == ["alice@example.com+imported+%s+01.pub" % today(), "bob@example.com+imported+%s+01.pub" % today()],
          "import without --owner: %r" % got)
    check("--owner" in out, "import does not say how to import the keys without an owner: %r" % out)
    m = re.search(r"the original is kept as (\S+)", out)
    check(m is not None and os.path.exists(m.group(1)) and read(m.group(1)) == original,
          "import did not keep a copy of the original: %r" % out)
    if len(got) > 1:
        check(read(os.path.join(store, "users", got[1])) == 'from="10.0.0.0/8" ' + b + "\n",
              "imported options: %r" % read(os.path.join(store, "users", got[1])))
    # The rest with --owner, from the saved original (authorized_keys is rendered now).
    rc, out, err = kw("import", "--store", store, "--owner", "admin@example.com", m.group(1) if m else original)
    check(rc == 0, "import --owner: %r" % err)
    got = users(store)
    check(len(got) == 4 and sum(n.startswith("admin@example.com+imported+") for n in got) == 2,
          "import --owner: %r" % got)
    before = snapshot(store)
    rc, out, err = kw("import", "--store", store, "--owner", "admin@example.com", m.group(1) if m else original)
    check(rc == 0 and "nothing new" in out, "a second import: %r %r" % (out, err))
    check(snapshot(store) == before, "a second import changed the store")
    rc, out, err = kw("check", "--store", store)
    check(rc == 0, "check after import: %r" % out)
    body = rendered_keys(store)
    check(len(body) == 4 and not any("garbage" in l for l in body), "rendered after import: %r" % body)
    expect_refused(tmp, "import --owner not-an-address", ("import", "--store", store, "--owner", "admin", ak),
                   "e-mail")


def test_keys_command(tmp):
    user = pwd.getpwuid(os.geteuid()).pw_name
    base = os.path.join(tmp, "central")
    os.mkdir(base, 0o755)
    cfg = write(os.path.join(tmp, "keyward.json"),
                json.dumps({"store": base + "/%u", "authorized_keys": base + "/%u/authorized_keys"}))
    # No store yet: keyward does not manage the account; sshd gets nothing.
    rc, out, err = kw("keys", "--config", cfg, user)
    check(rc == 0 and out == "", "keys before init: %d %r %r" % (rc, out, err))
    rc, out, err = kw("init", "--config", cfg)
    check(rc == 0 and os.path.isdir(os.path.join(base, user, "users")), "init through the template: %r" % err)
    k1, k2 = ed25519_line("one@example.com"), ed25519_line("two@example.com")
    for i, k in enumerate((k1, k2)):
        rc, out, err = kw("add", "--config", cfg, "--owner", "u%d@example.com" % i, "--device", "d",
                          write(os.path.join(tmp, "kk%d.pub" % i), k + "\n"))
        check(rc == 0, "add through the template: %r" % err)
    expired = ed25519_line("gone")
    rc, out, err = kw("add", "--config", cfg, "--owner", "old@example.com", "--device", "d", "--option",
                      'expiry-time="20000101Z"', write(os.path.join(tmp, "kkx.pub"), expired + "\n"))
    check(rc == 0, "add expired: %r" % err)
    ak = os.path.join(base, user, "authorized_keys")
    check(os.path.exists(ak), "the rendered file is not where the template says")
    before = snapshot(base)
    rc, out, err = kw("keys", "--config", cfg, user)
    want_all = sorted([k1, k2])
    check(rc == 0 and sorted(out.splitlines()) == want_all, "keys USER: %d %r %r" % (rc, out, err))
    rc, out, err = kw("keys", "--config", cfg, user, fingerprint(k2))
    check(rc == 0 and out == k2 + "\n", "keys USER FINGERPRINT: %r %r" % (out, err))
    rc, out, err = kw("keys", "--config", cfg, user, fingerprint(expired))
    check(rc == 0 and out == "", "keys for an expired key: %r" % out)
    rc, out, err = kw("keys", "--config", cfg, user, fingerprint(ed25519_line()))
    check(rc == 0 and out == "", "keys with an unknown fingerprint: %r" % out)
    for nobody in ("no-such-user-kw", "../../etc", "ROOT", "a" * 40):
        rc, out, err = kw("keys", "--config", cfg, nobody)
        check(rc == 0 and out == "" and err == "", "keys for unknown user %r: %d %r %r" % (nobody, rc, out, err))
        rc, out, err = kw("keys", "--config", cfg, nobody, fingerprint(k1))
        check(rc == 0 and out == "", "keys for unknown user %r with a fingerprint" % nobody)
    # Revoked keys disappear from keys at once.
    rc, out, err = kw("revoke", "--config", cfg, fingerprint(k2))
    check(rc == 0, "revoke through the template: %r" % err)
    before = snapshot(base)
    rc, out, err = kw("keys", "--config", cfg, user, fingerprint(k2))
    check(rc == 0 and out == "", "keys after revoke: %r" % out)
    rc, out, err = kw("keys", "--config", cfg, user)
    check(rc == 0 and out == k1 + "\n", "keys USER after revoke: %r" % out)
    check(snapshot(base) == before, "keys wrote something")
    # A broken configuration is an error, not an empty answer.
    bad_cfg = write(os.path.join(tmp, "bad.json"), '{"store": "%x"}')
    rc, out, err = kw("keys", "--config", bad_cfg, user)
    check(rc != 0 and "store" in err, "keys with a bad configuration: %d %r" % (rc, err))


def test_bad_input(tmp, real_keys):
    store = os.path.join(tmp, "bad-store")
    rc, _, err = kw("init", "--store", store)
    check(rc == 0, "init: %r" % err)
    good = ed25519_line("victim@example.com")
    rc, _, err = kw("add", "--store", store, "--owner", "victim@example.com", "--device", "laptop",
                    write(os.path.join(tmp, "good.pub"), good + "\n"))
    check(rc == 0, "add: %r" % err)
    name_good = "victim@example.com+laptop+%s+01.pub" % today()
    revoked_key = ed25519_line("gone@example.com")
    rc, _, err = kw("add", "--store", store, "--owner", "gone@example.com", "--device", "old",
                    write(os.path.join(tmp, "gone.pub"), revoked_key + "\n"))
    rc, _, err = kw("revoke", "--store", store, "gone@example.com", "old")
    check(rc == 0, "revoke: %r" % err)
    name_gone = "gone@example.com+old+%s+01.pub" % today()

    inputs = os.path.join(tmp, "inputs")
    os.mkdir(inputs)

    counter = [0]

    def add(owner, device, content, *extra):
        counter[0] += 1
        path = write(os.path.join(inputs, "in%d.pub" % counter[0]), content)
        return ("add", "--store", store, "--owner", owner, "--device", device) + extra + (path,)

    k = ed25519_line("x@example.com")
    cases = [
        ("two keys in a file", add("a@example.com", "d", k + "\n" + ed25519_line() + "\n"), "holds 2 keys"),
        ("an embedded newline", add("a@example.com", "d", k[:60] + "\n" + k[60:] + "\n"), "key"),
        ("an embedded CR", add("a@example.com", "d", k + " tail\rcommand=\"x\"\n"), "carriage return"),
        ("a bare CR line break", add("a@example.com", "d", k + "\r" + ed25519_line() + "\n"), "carriage return"),
        ("a NUL byte", add("a@example.com", "d", k + "\0\n"), "NUL"),
        ("a private key", add("a@example.com", "d", real_keys["private"]), "private key"),
        ("options in the key line", add("a@example.com", "d", 'command="/bin/sh" ' + k + "\n"), "options"),
        ("restrict in the key line", add("a@example.com", "d", "restrict " + k + "\n"), "options"),
        ("an empty file", add("a@example.com", "d", ""), "no public key"),
        ("not a key", add("a@example.com", "d", "hello world\n"), ""),
        ("a 1024-bit RSA key", add("a@example.com", "d", real_keys["rsa1024"] + "\n"), "2048"),
        ("a DSA key", add("a@example.com", "d", real_keys["dsa"] + "\n"), "DSA"),
        ("the same key again", add("a@example.com", "d", good + "\n"), "already"),
        ("a revoked key again", add("a@example.com", "d", revoked_key + "\n"), ["revoked", "reinstate " + name_gone]),
        ("a device with /", add("a@example.com", "lap/top", k + "\n"), "device"),
        ("a device ..", add("a@example.com", "..", k + "\n"), "device"),
        ("a device ../../etc", add("a@example.com", "../../etc", k + "\n"), "device"),
        ("a device with a leading dot", add("a@example.com", ".hidden", k + "\n"), "device"),
        ("a device with a blank", add("a@example.com", "my laptop", k + "\n"), "device"),
        ("a device with +", add("a@example.com", "a+b", k + "\n"), "device"),
        ("an owner that is not an address", add("alice", "d", k + "\n"), "e-mail"),
        ("an owner with a slash", add("al/ice@example.com", "d", k + "\n"), "e-mail"),
        ("an owner without a domain dot", add("alice@localhost", "d", k + "\n"), "alice@localhost"),
        ("a command with a newline", add("a@example.com", "d", k + "\n", "--command", "echo\nssh-ed25519 AAAA"),
         "one line"),
        ("a from with a CR", add("a@example.com", "d", k + "\n", "--from", "10.0.0.0/8\r"), "one line"),
        ("an --option with a newline", add("a@example.com", "d", k + "\n", "--option", 'command="a\nb"'), "line"),
        ("an --option with a CR", add("a@example.com", "d", k + "\n", "--option", 'command="a\rb"'), "line"),
        ("an unknown --option", add("a@example.com", "d", k + "\n", "--option", "bogus"), ""),
        ("an --option with a blank", add("a@example.com", "d", k + "\n", "--option", "no-pty ssh-rsa"), "blank"),
        ("an expiry in the past", add("a@example.com", "d", k + "\n", "--expires", "2001-01-01"), "past"),
        ("a date that does not exist", add("a@example.com", "d", k + "\n", "--expires", "2099-02-30"), "exist"),
        ("a bad date", add("a@example.com", "d", k + "\n", "--expires", "soon"), "YYYY-MM-DD"),
        ("negative --days", add("a@example.com", "d", k + "\n", "--days", "-2"), "days"),
        ("a missing key file", ("add", "--store", store, "--owner", "a@example.com", "--device", "d",
                                os.path.join(inputs, "missing.pub")), "missing.pub"),
        ("an unknown selector", ("revoke", "--store", store, "nosuch"), "nosuch"),
        ("a selector with ..", ("revoke", "--store", store, "../users/" + name_good), ""),
        ("an unknown fingerprint", ("revoke", "--store", store, fingerprint(ed25519_line())), "no active key"),
        ("an unknown owner and device", ("revoke", "--store", store, "nobody@example.com", "laptop"),
         "no active key"),
        ("three selector words", ("revoke", "--store", store, "a", "b", "c"), ""),
        ("reinstating an active key", ("reinstate", "--store", store, name_good), "no revoked key"),
        ("reinstating an unknown selector", ("reinstate", "--store", store, "nosuch"), "nosuch"),
    ]
    for what, args, says in cases:
        expect_refused(tmp, what, args, says)

    # A store that is not initialised: every command says to run init and
    # creates nothing.
    empty = os.path.join(tmp, "empty-store")
    os.mkdir(empty, 0o700)
    key_file = write(os.path.join(inputs, "k.pub"), k + "\n")
    for args in (("add", "--owner", "a@example.com", "--device", "d", key_file), ("list",), ("list", "--all"),
                 ("revoke", "a@example.com", "d"), ("reinstate", "a@example.com", "d"), ("render",), ("check",),
                 ("import", key_file), ("prune",)):
        for where in (empty, os.path.join(tmp, "no-such-store")):
            expect_refused(tmp, "%s on a store that is not initialised" % args[0],
                           (args[0], "--store", where) + args[1:], "keyward init")
    # init does not go through a missing parent.
    expect_refused(tmp, "init under a missing folder", ("init", "--store", os.path.join(tmp, "a", "b", "c")),
                   "does not exist")

    # The store is unchanged by all of that and still consistent.
    rc, out, err = kw("check", "--store", store)
    check(rc == 0, "check after the refusals: %r" % out)
    check(users(store) == [name_good] and revoked(store) == [name_gone], "the store changed")


def main():
    if not KEYWARD or not os.access(KEYWARD, os.X_OK):
        print("KEYWARD_BIN must name the keyward binary", file=sys.stderr)
        return 2
    if not SSH_KEYGEN:
        print("ssh-keygen is required", file=sys.stderr)
        return 2
    # So that a SIGTERM (a CTest timeout) still runs the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    tmp = tempfile.mkdtemp(prefix="keyward-store-cli-")
    try:
        os.chmod(tmp, 0o700)
        real = {}
        for name, args in (("ed25519", ["-t", "ed25519"]), ("rsa1024", ["-t", "rsa", "-b", "1024"]),
                           ("dsa", ["-t", "dsa"])):
            path = os.path.join(tmp, "real-" + name)
            rc, _, err = run([SSH_KEYGEN, "-q", "-N", "", "-C", name + "@example.com", "-f", path] + args)
            if rc != 0:
                print("ssh-keygen failed for %s: %s" % (name, err), file=sys.stderr)
                return 1
            real[name] = read(path + ".pub").rstrip("\n")
            if name == "ed25519":
                real["private"] = read(path)
        test_flows(tmp, real)
        test_import(tmp)
        test_keys_command(tmp)
        test_bad_input(tmp, real)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
