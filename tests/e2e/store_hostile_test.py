#!/usr/bin/env python3
"""Hostile homes: root working on a real user's store.

A real unprivileged system user is created with useradd (and removed with
userdel -r in any case). As root, `keyward <command> --account USER` must:

  - drop to the user's uid and gid before touching the home folder: the
    files it creates are owned by the user, a root-only folder elsewhere
    cannot be written through --store, and the audit log says root acted;
  - refuse, with a clear message and a non-zero exit, when the store
    itself, users/, revoked/ or authorized_keys is a symbolic link (to a
    root-owned folder, or to a root-owned copy of /etc/passwd), a hard link,
    a FIFO (without hanging), or group/world-writable (sshd's StrictModes),
    the home folder included;
  - write nothing outside the store: the link targets keep their content,
    inode, mode and mtime, and no file appears beside them; and a refused
    change leaves the store itself as it was;
  - never copy what a key file in users/ links to into authorized_keys.

Needs root (to create the user and to be the privileged caller); without it
the test says so and exits 0. Environment: KEYWARD_BIN (required). Exits
non-zero on failure.
"""

import base64
import json
import os
import pwd
import grp
import secrets
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

KEYWARD = os.environ.get("KEYWARD_BIN", "")

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
        print("FAIL: " + msg, file=sys.stderr)
    return cond


def run(argv, stdin_bytes=None, timeout=30):
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env.pop("SUDO_USER", None)
    p = subprocess.run(argv, input=stdin_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def key_line(comment):
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + os.urandom(32)
    return "ssh-ed25519 %s %s" % (base64.b64encode(blob).decode(), comment)


def snapshot(root):
    """Every path under root (root included): kind, mode, owner, inode, links, mtime, content."""
    out = {}
    paths = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        paths += [os.path.join(dirpath, n) for n in dirnames + filenames]
    for p in paths:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_ino, st.st_nlink,
                 st.st_mtime_ns)
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                entry += (f.read(),)
        elif stat.S_ISLNK(st.st_mode):
            entry += (os.readlink(p),)
        out[p] = entry
    return out


def describe_diff(a, b):
    return "; ".join("%s %s" % (k, "appeared" if k not in a else "vanished" if k not in b else "changed")
                     for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))


class Env:
    def __init__(self, user, tmp):
        self.user = user
        pw = pwd.getpwnam(user)
        self.uid, self.gid, self.home = pw.pw_uid, pw.pw_gid, pw.pw_dir
        self.ssh = os.path.join(self.home, ".ssh")
        self.tmp = tmp
        self.cfg = os.path.join(tmp, "keyward.json")
        with open(self.cfg, "w") as f:
            json.dump({}, f)

    def kw(self, *args, stdin_bytes=None):
        return run([KEYWARD] + list(args[:1]) + ["--config", self.cfg, "--account", self.user] + list(args[1:]),
                   stdin_bytes=stdin_bytes)

    def reset(self):
        """A fresh store with one key and its rendered file, made by keyward as the user."""
        shutil.rmtree(self.ssh, ignore_errors=True)
        os.chmod(self.home, 0o750)
        rc, out, err = self.kw("init")
        check(rc == 0, "init --account: %r" % err)
        self.key = key_line("first@example.com")
        rc, out, err = self.kw("add", "--owner", "first@example.com", "--device", "laptop", "-",
                               stdin_bytes=(self.key + "\n").encode())
        check(rc == 0, "add --account: %r" % err)

    def path(self, *parts):
        return os.path.join(self.ssh, *parts)


def make_targets(tmp):
    """Root-owned things a planted link could point at."""
    victim = os.path.join(tmp, "victim")
    os.mkdir(victim, 0o755)
    shutil.copyfile("/etc/passwd", os.path.join(victim, "passwd"))
    os.chmod(os.path.join(victim, "passwd"), 0o644)
    folder = os.path.join(victim, "folder")
    os.mkdir(folder, 0o755)
    with open(os.path.join(folder, "existing"), "w") as f:
        f.write("root's file\n")
    for sub in ("users", "revoked"):
        os.mkdir(os.path.join(folder, sub), 0o755)
    shutil.copyfile("/etc/passwd", os.path.join(folder, "authorized_keys"))
    os.chmod(os.path.join(folder, "authorized_keys"), 0o644)
    # Make every timestamp old, so that a write would show in the mtime.
    for dirpath, dirnames, filenames in os.walk(victim):
        for n in dirnames + filenames + ["."]:
            os.utime(os.path.join(dirpath, n), (1000000000, 1000000000))
    return victim


def refused(env, victim, what, commands, says, store_unchanged=True):
    """Each command exits non-zero with a message naming the problem and
    writes nothing outside the store (nor inside it when asked)."""
    for args in commands:
        before_victim = snapshot(victim)
        before_home = snapshot(env.home)
        stdin = None
        if args[0] == "add":
            stdin = (key_line("new@example.com") + "\n").encode()
        try:
            rc, out, err = env.kw(*args, stdin_bytes=stdin)
        except subprocess.TimeoutExpired:
            check(False, "%s: `keyward %s` hung" % (what, args[0]))
            continue
        label = "%s: keyward %s" % (what, " ".join(args))
        check(rc != 0, "%s: exit %d, expected a refusal (%r)" % (label, rc, out))
        check(err.startswith("keyward: "), "%s: no error message: %r" % (label, err))
        check(any(s in err for s in says), "%s: the message does not say %s: %r" % (label, " or ".join(says), err))
        after_victim = snapshot(victim)
        check(before_victim == after_victim, "%s: wrote outside the store: %s"
              % (label, describe_diff(before_victim, after_victim)))
        if store_unchanged:
            after_home = snapshot(env.home)
            check(before_home == after_home, "%s: a refused command changed the home folder: %s"
                  % (label, describe_diff(before_home, after_home)))


CHANGES = [("add", "--owner", "new@example.com", "--device", "d", "-"), ("render",), ("prune",),
           ("revoke", "first@example.com", "laptop"), ("import", "--owner", "x@example.com")]


def test_privilege_drop(env, victim):
    env.reset()
    rc, out, err = env.kw("add", "--owner", "second@example.com", "--device", "phone", "--days", "30", "-",
                          stdin_bytes=(key_line("second@example.com") + "\n").encode())
    check(rc == 0, "a second add: %r" % err)
    rc, out, err = env.kw("revoke", "second@example.com", "phone")
    check(rc == 0, "revoke --account: %r" % err)
    seen = []
    for dirpath, dirnames, filenames in os.walk(env.ssh):
        for n in ["."] + dirnames + filenames:
            p = os.path.normpath(os.path.join(dirpath, n))
            st = os.lstat(p)
            seen.append(os.path.relpath(p, env.ssh))
            check(st.st_uid == env.uid and st.st_gid == env.gid,
                  "%s is owned by %d:%d, not by the user %d:%d" % (p, st.st_uid, st.st_gid, env.uid, env.gid))
            check(st.st_mode & 0o022 == 0, "%s is group/world-writable" % p)
    for want in (".", "users", "revoked", "!!README!!", ".lock", "authorized_keys", "keys.index", "audit.log"):
        check(want in seen, "%s was not created" % want)
    check(len(os.listdir(env.path("users"))) == 1 and len(os.listdir(env.path("revoked"))) == 1,
          "the keys are not where they belong")
    with open(env.path("audit.log")) as f:
        records = [json.loads(l) for l in f]
    check([r["action"] for r in records] == ["add", "add", "revoke"], "audit actions: %r" % records)
    check(all(r["who"].startswith("root") and r["account"] == env.user for r in records),
          "the audit log does not say root acted on the account: %r" % records)
    # keys, as root for the user: the active key, nothing written.
    before = snapshot(env.home)
    rc, out, err = run([KEYWARD, "keys", "--config", env.cfg, env.user])
    check(rc == 0 and out == env.key + "\n", "keys USER as root: %d %r %r" % (rc, out, err))
    check(snapshot(env.home) == before, "keys wrote in the home folder")
    # With the user's rights, a root-owned folder elsewhere cannot be written.
    for args in (("init", "--store", os.path.join(victim, "folder", "store")),
                 ("render", "--store", os.path.join(victim, "folder")),
                 ("add", "--store", os.path.join(victim, "folder"), "--owner", "a@example.com", "--device", "d",
                  "-")):
        before = snapshot(victim)
        rc, out, err = env.kw(*args, stdin_bytes=(key_line("z") + "\n").encode())
        check(rc != 0, "keyward %s --account as root wrote into a root-owned folder" % args[0])
        check(snapshot(victim) == before, "keyward %s --account changed a root-owned folder: %s"
              % (args[0], describe_diff(before, snapshot(victim))))
    # A key file the user cannot read is not read with root's rights either.
    secret = os.path.join(env.tmp, "secret")
    os.mkdir(secret, 0o700)
    with open(os.path.join(secret, "key.pub"), "w") as f:
        f.write(key_line("secret@example.com") + "\n")
    rc, out, err = env.kw("add", "--owner", "s@example.com", "--device", "d", os.path.join(secret, "key.pub"))
    check(rc != 0 and "ermission denied" in err, "add read a root-only key file: %d %r" % (rc, err))


def test_symlinks(env, victim):
    folder = os.path.join(victim, "folder")
    passwd = os.path.join(victim, "passwd")
    # The store itself.
    env.reset()
    shutil.rmtree(env.ssh)
    os.symlink(folder, env.ssh)
    refused(env, victim, "the store is a symlink to a root-owned folder",
            [("init",), ("list",)] + CHANGES, ["symbolic link"])
    os.unlink(env.ssh)
    # The store a symlink to a folder the user owns: still refused.
    own = os.path.join(env.home, "elsewhere")
    env.reset()
    os.rename(env.ssh, own)
    os.symlink(own, env.ssh)
    refused(env, victim, "the store is a symlink", [("list",), ("render",)], ["symbolic link"])
    os.unlink(env.ssh)
    shutil.rmtree(own)
    # users/ and revoked/.
    for sub in ("users", "revoked"):
        env.reset()
        real = env.path(sub + ".real")
        os.rename(env.path(sub), real)
        os.symlink(os.path.join(folder, sub), env.path(sub))
        refused(env, victim, "%s/ is a symlink to a root-owned folder" % sub, [("init",), ("list",)] + CHANGES,
                ["symbolic link"])
        os.unlink(env.path(sub))
        os.rename(real, env.path(sub))
    # authorized_keys, to a root-owned copy of /etc/passwd and to the user's own file.
    env.reset()
    ak = env.path("authorized_keys")
    os.unlink(ak)
    os.symlink(passwd, ak)
    refused(env, victim, "authorized_keys is a symlink to a copy of /etc/passwd", CHANGES, ["symbolic link"])
    rc, out, err = env.kw("check")
    check(rc != 0 and "symbolic link" in err, "check follows a symlinked authorized_keys: %d %r" % (rc, err))
    os.unlink(ak)
    own_file = env.path("mine")
    with open(own_file, "w") as f:
        f.write("# mine\n")
    os.chown(own_file, env.uid, env.gid)
    os.symlink("mine", ak)
    refused(env, victim, "authorized_keys is a symlink", [("render",)], ["symbolic link"])
    with open(own_file) as f:
        check(f.read() == "# mine\n", "render wrote through a symlink to the user's own file")
    os.unlink(ak)
    # keyward's other files in the store.
    for name in ("!!README!!", "audit.log", ".lock"):
        env.reset()
        os.unlink(env.path(name))
        os.symlink(passwd, env.path(name))
        refused(env, victim, "%s is a symlink to a copy of /etc/passwd" % name,
                [("add", "--owner", "n@example.com", "--device", "d", "-"), ("revoke", "first@example.com", "laptop"),
                 ("render",) if name != "audit.log" else ("prune",)], ["symbolic link"])
    # keys.index is only a cache: a planted link is replaced, never written through.
    env.reset()
    os.unlink(env.path("keys.index"))
    os.symlink(passwd, env.path("keys.index"))
    before = snapshot(victim)
    rc, out, err = run([KEYWARD, "keys", "--config", env.cfg, env.user])
    check(rc == 0 and out == env.key + "\n", "keys with a symlinked keys.index: %d %r %r" % (rc, out, err))
    rc, out, err = env.kw("render")
    check(rc == 0, "render with a symlinked keys.index: %r" % err)
    check(not os.path.islink(env.path("keys.index")), "render left the planted keys.index link")
    check(snapshot(victim) == before, "render wrote through a symlinked keys.index")
    # A key file in users/ that links to a root-only file is never read.
    env.reset()
    shadow = os.path.join(victim, "shadow")
    with open(shadow, "w") as f:
        f.write(key_line("root-secret@example.com") + "\n")
    os.chmod(shadow, 0o600)
    name = "evil@example.com+laptop+%s+01.pub" % time.strftime("%Y%m%d", time.gmtime())
    os.symlink(shadow, env.path("users", name))
    before = snapshot(victim)
    rc, out, err = env.kw("render")
    check(rc == 0 and ("left out " + name) in out and "symbolic link" in out,
          "render does not leave out a symlinked key file: %d %r %r" % (rc, out, err))
    with open(env.path("authorized_keys")) as f:
        check("root-secret" not in f.read(), "a symlinked key file was copied into authorized_keys")
    rc, out, err = run([KEYWARD, "keys", "--config", env.cfg, env.user])
    check("root-secret" not in out, "keys printed what a symlink in users/ points at")
    check(snapshot(victim) == before, "render changed the symlink's target")


def test_hard_links(env, victim):
    passwd = os.path.join(victim, "passwd")
    env.reset()
    ak = env.path("authorized_keys")
    os.unlink(ak)
    os.link(passwd, ak)
    refused(env, victim, "authorized_keys is a hard link to a root-owned file", CHANGES + [("check",)],
            ["hard link"])
    os.unlink(ak)
    # A hard link the user made to its own file elsewhere.
    env.reset()
    other = os.path.join(env.home, "other-name")
    os.link(ak, other)
    refused(env, victim, "authorized_keys has a second name", [("render",), ("add", "--owner", "n@example.com",
                                                                             "--device", "d", "-")],
            ["hard link"])
    os.unlink(other)
    # A key file hard-linked to a root-owned file is left out, never rendered.
    env.reset()
    name = "evil@example.com+laptop+%s+01.pub" % time.strftime("%Y%m%d", time.gmtime())
    target = os.path.join(victim, "hard.pub")
    with open(target, "w") as f:
        f.write(key_line("hardlinked@example.com") + "\n")
    os.link(target, env.path("users", name))
    rc, out, err = env.kw("render")
    check(rc == 0 and ("left out " + name) in out and "hard link" in out,
          "render does not leave out a hard-linked key file: %r %r" % (out, err))
    with open(env.path("authorized_keys")) as f:
        check("hardlinked@" not in f.read(), "a hard-linked key file was rendered")
    os.unlink(env.path("users", name))
    os.unlink(target)


def test_fifos(env, victim):
    env.reset()
    ak = env.path("authorized_keys")
    os.unlink(ak)
    os.mkfifo(ak, 0o600)
    os.chown(ak, env.uid, env.gid)
    refused(env, victim, "authorized_keys is a FIFO", CHANGES + [("check",)], ["FIFO"])
    os.unlink(ak)
    for sub in ("users", "revoked"):
        env.reset()
        shutil.rmtree(env.path(sub))
        os.mkfifo(env.path(sub), 0o600)
        os.chown(env.path(sub), env.uid, env.gid)
        refused(env, victim, "%s/ is a FIFO" % sub, [("list",)] + CHANGES, ["not a folder"])
        os.unlink(env.path(sub))
        os.mkdir(env.path(sub), 0o755)
    env.reset()
    for name in ("!!README!!", "audit.log"):
        real = env.path(name + ".real")
        if os.path.exists(env.path(name)):
            os.rename(env.path(name), real)
        os.mkfifo(env.path(name), 0o600)
        os.chown(env.path(name), env.uid, env.gid)
        refused(env, victim, "%s is a FIFO" % name,
                [("add", "--owner", "n@example.com", "--device", "d", "-"), ("revoke", "first@example.com",
                                                                              "laptop")], ["FIFO"])
        os.unlink(env.path(name))
        if os.path.exists(real):
            os.rename(real, env.path(name))


def test_writable(env, victim):
    cases = [(lambda: env.home, 0o775, "the home folder is group-writable"),
             (lambda: env.home, 0o757, "the home folder is world-writable"),
             (lambda: env.ssh, 0o770, "the store is group-writable"),
             (lambda: env.ssh, 0o707, "the store is world-writable"),
             (lambda: env.path("users"), 0o775, "users/ is group-writable"),
             (lambda: env.path("users"), 0o1777, "users/ is world-writable (sticky)"),
             (lambda: env.path("revoked"), 0o775, "revoked/ is group-writable"),
             (lambda: env.path("authorized_keys"), 0o620, "authorized_keys is group-writable"),
             (lambda: env.path("authorized_keys"), 0o606, "authorized_keys is world-writable")]
    for where, mode, what in cases:
        env.reset()
        path = where()
        old = stat.S_IMODE(os.stat(path).st_mode)
        os.chmod(path, mode)
        commands = CHANGES if what.startswith("authorized_keys") else [("list",)] + CHANGES
        refused(env, victim, what, commands, ["writable by group or others"])
        os.chmod(path, old)
        rc, out, err = env.kw("check")
        check(rc == 0, "%s: check after restoring the mode: %r %r" % (what, out, err))
    # A store owned by someone else (neither the user nor root) is refused.
    env.reset()
    os.chown(env.path("users"), 65534, 65534)
    refused(env, victim, "users/ is owned by nobody", [("list",), ("render",)], ["owned by uid 65534"])
    os.chown(env.path("users"), env.uid, env.gid)


def create_user():
    for _ in range(5):
        name = "kwhost" + secrets.token_hex(4)
        try:
            pwd.getpwnam(name)
            continue
        except KeyError:
            pass
        p = subprocess.run(["useradd", "-m", "-s", "/usr/sbin/nologin", "-c", "keyward hostile test", name],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode == 0:
            return name
        if p.returncode == 10:  # the password file is locked by someone else
            time.sleep(0.5)
            continue
        raise RuntimeError("useradd failed: %s" % p.stderr.decode(errors="replace"))
    raise RuntimeError("useradd kept failing")


def remove_user(name):
    home = None
    try:
        home = pwd.getpwnam(name).pw_dir
    except KeyError:
        return
    for _ in range(10):
        p = subprocess.run(["userdel", "-r", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode in (0, 6, 12):  # done, no such user, home not removed
            break
        time.sleep(0.5)
    if home and home.startswith("/home/kwhost") and os.path.isdir(home):
        shutil.rmtree(home, ignore_errors=True)
    try:
        grp.getgrnam(name)
        subprocess.run(["groupdel", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except KeyError:
        pass


def main():
    if not KEYWARD or not os.access(KEYWARD, os.X_OK):
        print("KEYWARD_BIN must name the keyward binary", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("SKIP: store_hostile_test needs root (it creates a system user with useradd and runs keyward "
              "as root with --account); run it as root to prove the hostile-home refusals")
        return 0
    # So that a SIGTERM (a CTest timeout) still removes the user.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    start = time.monotonic()
    user = None
    tmp = tempfile.mkdtemp(prefix="keyward-hostile-")
    try:
        os.chmod(tmp, 0o755)  # the victim folder must be visible to the user, like /etc
        user = create_user()
        env = Env(user, tmp)
        victim = make_targets(tmp)
        test_privilege_drop(env, victim)
        test_symlinks(env, victim)
        test_hard_links(env, victim)
        test_fifos(env, victim)
        test_writable(env, victim)
    finally:
        if user:
            remove_user(user)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed (%.1f s)" % (checks, len(failures), time.monotonic() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
