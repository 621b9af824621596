#!/usr/bin/env python3
"""Self-test of lib/sshd_harness.py with plain OpenSSH: no keyward needed.

Proves that the harness gives a real sshd and real users that behave as
sshd does for an administrator: authorized_keys with from=, command= and
expiry-time= options, StrictModes, RevokedKeys, TrustedUserCAKeys,
AuthorizedKeysCommand (and its safety rule), locked accounts; that each log
phrase the harness documents is really logged; and that everything is
removed afterwards, also when the test is stopped by SIGTERM or SIGKILL.

Exit 0 when every check passes, 1 otherwise. Without root it prints SKIP
and exits 0.
"""

import json
import os
import pwd
import re
import select
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import sshd_harness as h  # noqa: E402

ME = os.path.abspath(__file__)


class Checks:
    def __init__(self):
        self.failures = []

    def check(self, ok, what, detail=""):
        print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            self.failures.append(what)
            if detail:
                print("      " + str(detail).rstrip().replace("\n", "\n      "), flush=True)
        return ok


def login(c, sshd, user, key, what, *, ok, stdout=None, log=None, command="id -un", **kw):
    """One ssh login; checks its outcome, output and the sshd log line it causes."""
    mark = sshd.log_mark()
    r = h.ssh_login(user, key, sshd, command=command, **kw)
    good = r.ok == ok
    if not ok:
        good = good and r.returncode == 255 and "Permission denied (publickey)" in r.stderr
    if stdout is not None:
        good = good and r.stdout == stdout
    problem = ""
    for pattern in [log] if isinstance(log, (str, re.Pattern)) else (log or []):
        try:
            sshd.wait_for_log(pattern, since=mark)
        except h.HarnessError:
            good, problem = False, f"no log line with {pattern!r}"
    c.check(good, what, f"{problem}\n{r}\n--- sshd log since the login:\n"
            + "\n".join(sshd.log_text(mark).splitlines()[-60:]))
    return r


def user_gone(name, home):
    try:
        pwd.getpwnam(name)
        return False
    except KeyError:
        return home is None or not os.path.exists(home)


def eventually(predicate, timeout=60):
    """Waits (bounded) until predicate() holds; returns its last value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def plain_checks(c, user, keys_dir, gone):
    R = h.read_public_key
    good = h.make_keypair(keys_dir, comment="good")
    other = h.make_keypair(keys_dir, comment="other")
    from_key = h.make_keypair(keys_dir)
    forced = h.make_keypair(keys_dir)
    expired = h.make_keypair(keys_dir)
    revoked = h.make_keypair(keys_dir)
    ca = h.make_keypair(keys_dir, name="ca")
    cert_key = h.make_keypair(keys_dir)
    cert = h.sign_user_cert(ca[0], cert_key[1], "selftest-cert", [user.name], serial=42)
    wrong_key = h.make_keypair(keys_dir)
    wrong = h.sign_user_cert(ca[0], wrong_key[1], "wrong-principal", ["somebody-else"],
                             serial=43)
    old_key = h.make_keypair(keys_dir)
    old = h.sign_user_cert(ca[0], old_key[1], "old-cert", [user.name],
                           validity="20000101:20000102", serial=44)
    krl = h.make_krl(os.path.join(keys_dir, "revoked.krl"), [revoked[1]])
    ak = user.write_authorized_keys([
        R(good[1]),
        'from="127.0.0.2" ' + R(from_key[1]),
        'command="echo forced" ' + R(forced[1]),
        'expiry-time="20000101" ' + R(expired[1]),
        R(revoked[1]),
    ])
    st = os.stat(ak)
    c.check((st.st_uid, st.st_gid, st.st_mode & 0o7777) == (user.uid, user.gid, 0o600),
            "write_authorized_keys: owned by the user, mode 0600")
    st = os.stat(user.ssh_dir())
    c.check((st.st_uid, st.st_mode & 0o7777) == (user.uid, 0o700), "~/.ssh: user's, 0700")

    with h.Sshd({"RevokedKeys": krl, "TrustedUserCAKeys": ca[1]}) as sshd:
        gone["sshd"].append(sshd.pid and h.process_identity(sshd.pid))
        cfg = sshd.config_text()
        c.check("ListenAddress 127.0.0.1\n" in cfg and "/etc/ssh" not in cfg
                and f"Port {sshd.port}\n" in cfg and "StrictModes yes\n" in cfg,
                "own config: loopback, own port, own host key", cfg)
        c.check(sshd.alive() and sshd.log_contains(
            f"Server listening on 127.0.0.1 port {sshd.port}.") is not None,
            f"sshd listens on 127.0.0.1:{sshd.port}")

        login(c, sshd, user, good[0], "login with an authorized key runs id -un as the user",
              ok=True, stdout=user.name + "\n",
              log=[f"Accepted publickey for {user.name} from 127.0.0.1 port ",
                   f"found at {ak}:1"])
        c.check(h.can_login(user, good[0], sshd), "can_login: True for an authorized key")
        login(c, sshd, user, other[0], "a key not in authorized_keys is refused", ok=False,
              log=[f"Failed publickey for {user.name} from 127.0.0.1 port ",
                   f"Connection closed by authenticating user {user.name} 127.0.0.1 port "])
        c.check(not h.can_login(user, other[0], sshd), "can_login: False for it")
        r = h.ssh_login(user, good[0], sshd, extra_opts=[
            "StrictHostKeyChecking=yes", f"UserKnownHostsFile={sshd.known_hosts_path}"])
        c.check(r.ok, "extra_opts override the defaults: the pinned host key matches", r)
        r = h.ssh_login(user, good[0], sshd, extra_opts=["StrictHostKeyChecking=yes"])
        c.check(r.returncode == 255 and "Host key verification failed" in r.stderr,
                "  ... and an unknown host key is refused with StrictHostKeyChecking=yes", r)
        r = h.run_as(user, ["id", "-un"])
        c.check(r.returncode == 0 and r.stdout == user.name + "\n", "run_as runs as the user", r)
        login(c, sshd, user, from_key[0], 'from="127.0.0.2" refuses a login from 127.0.0.1',
              ok=False, log=f"{ak}:2: Authentication tried for {user.name} with correct key "
              "but not from a permitted host (host=127.0.0.1, ip=127.0.0.1, "
              "required=127.0.0.2).")
        r = login(c, sshd, user, from_key[0], 'from="127.0.0.2" accepts a login bound to '
                  '127.0.0.2', ok=True, source_address="127.0.0.2",
                  command='echo "$SSH_CONNECTION"',
                  log=f"Accepted publickey for {user.name} from 127.0.0.2 port ")
        c.check(r.stdout.startswith("127.0.0.2 "), "  ... and sshd sees 127.0.0.2 as the source",
                r)
        login(c, sshd, user, forced[0], 'command="echo forced" replaces the command', ok=True,
              stdout="forced\n",
              log="Starting session: forced-command (key-option) 'echo forced' for "
              + user.name)
        login(c, sshd, user, expired[0], "expiry-time in the past refuses the key", ok=False,
              log=f"{ak}:4: entry expired at 2000-01-01")
        login(c, sshd, user, revoked[0], "a key in the RevokedKeys KRL is refused", ok=False,
              log=re.compile(r"Authentication key ED25519 SHA256:\S+ revoked by file "
                             + re.escape(krl)))
        login(c, sshd, user, cert_key[0], "a certificate from TrustedUserCAKeys is accepted",
              ok=True, cert_path=cert, stdout=user.name + "\n",
              log=['Accepted certificate ID "selftest-cert" (serial 42) signed by ED25519 CA ',
                   f"Accepted publickey for {user.name} from 127.0.0.1 port "])
        login(c, sshd, user, wrong_key[0], "a certificate for another principal is refused",
              ok=False, cert_path=wrong, log="Certificate invalid: name is not a listed principal")
        login(c, sshd, user, old_key[0], "an expired certificate is refused", ok=False,
              cert_path=old, log="Certificate invalid: expired")

        # StrictModes (Debian also accepts group-writable with a private group)
        os.chmod(ak, 0o606)
        login(c, sshd, user, good[0], "StrictModes: world-writable authorized_keys is refused",
              ok=False, log=f"Authentication refused: bad ownership or modes for file {ak}")
        os.chmod(ak, 0o600)
        os.chmod(user.ssh_dir(), 0o707)
        login(c, sshd, user, good[0], "StrictModes: world-writable ~/.ssh is refused", ok=False,
              log="Authentication refused: bad ownership or modes for directory "
              + user.ssh_dir())
        os.chmod(user.ssh_dir(), 0o700)
        # sshd reads the file with the user's rights: root's must be readable.
        h.write_file(ak, R(good[1]) + "\n", 0o644, 0, 0)
        login(c, sshd, user, good[0], "StrictModes: authorized_keys owned by root is read",
              ok=True, stdout=user.name + "\n")
        nobody = pwd.getpwnam("nobody")
        os.chown(ak, nobody.pw_uid, nobody.pw_gid)
        login(c, sshd, user, good[0], "StrictModes: authorized_keys of another user is refused",
              ok=False, log=f"Authentication refused: bad ownership or modes for file {ak}")
        os.chown(ak, 0, 0)
        os.chmod(ak, 0o600)
        login(c, sshd, user, good[0], "an authorized_keys the user cannot read is refused",
              ok=False, log=f"Could not open user '{user.name}' authorized keys '{ak}': "
              "Permission denied")

        with h.SystemUser("locked", password="!") as locked:
            gone["users"].append((locked.name, locked.home))
            locked.write_authorized_keys([R(good[1])])
            login(c, sshd, locked, good[0], 'a "!" (locked) account is refused with UsePAM no',
                  ok=False, log=f"User {locked.name} not allowed because account is locked")
        c.check(user_gone(locked.name, locked.home), "the locked user is removed")
    c.check(not sshd.alive() and h.process_gone(gone["sshd"][-1]), "sshd stopped on exit")
    return good, other


def command_checks(c, user, akc, keys_dir, good, other, gone):
    R = h.read_public_key
    ran_as_dir = h.mkdir_as(akc, os.path.join(h.tempdir("akc"), "out"), 0o755)
    ran_as = os.path.join(ran_as_dir, "ran-as")
    script = (f'#!/bin/sh\nid -un > {ran_as}\n[ "$1" = "{user.name}" ] || exit 0\n'
              f"echo '{R(good[1])}'\n")
    unsafe = h.write_file(os.path.join(keys_dir, "keys-command.sh"), script, 0o755)

    cmd = h.install_root_owned_copy(unsafe)
    gone["paths"].append(os.path.dirname(cmd))
    c.check(h._secure_chain(cmd) is None and not cmd.startswith("/tmp/"),
            f"install_root_owned_copy: {cmd} root-owned up to /", h._secure_chain(cmd))
    overrides = {"AuthorizedKeysFile": "none",
                 "AuthorizedKeysCommand": f"{cmd} %u %f",
                 "AuthorizedKeysCommandUser": akc.name}
    with h.Sshd(overrides) as sshd:
        gone["sshd"].append(h.process_identity(sshd.pid))
        login(c, sshd, user, good[0], "AuthorizedKeysCommand: the key it prints is accepted",
              ok=True, stdout=user.name + "\n",
              log=[f'subprocess: AuthorizedKeysCommand command "{cmd} {user.name} SHA256:',
                   f"running as {akc.name} (flags ",
                   "Accepted key ED25519 SHA256:",
                   f"found at {cmd} %u %f:1",
                   f"Accepted publickey for {user.name} from 127.0.0.1 port "])
        try:
            with open(ran_as) as f:
                who = f.read().strip()
        except OSError as e:
            who = str(e)
        c.check(who == akc.name, "AuthorizedKeysCommand runs as AuthorizedKeysCommandUser", who)
        login(c, sshd, user, other[0], "AuthorizedKeysCommand: another key is refused",
              ok=False, log=f"Failed publickey for {user.name} from 127.0.0.1 port ")
    h.remove_root_owned(cmd)
    c.check(not os.path.exists(os.path.dirname(cmd)), "remove_root_owned removes the folder")

    overrides["AuthorizedKeysCommand"] = f"{unsafe} %u %f"
    with h.Sshd(overrides) as sshd:
        gone["sshd"].append(h.process_identity(sshd.pid))
        login(c, sshd, user, good[0], "AuthorizedKeysCommand under /tmp is refused as unsafe",
              ok=False, log=f'Unsafe AuthorizedKeysCommand "{unsafe}": bad ownership or '
              "modes for directory /tmp")


def harness_error_checks(c, gone):
    try:
        with h.Sshd({"NoSuchKeyword": "x"}):
            c.check(False, "sshd -t refuses a bad config")
    except h.HarnessError as e:
        c.check("NoSuchKeyword" in str(e), "a bad config: HarnessError with sshd -t's message",
                e)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        try:
            with h.Sshd({}, port=s.getsockname()[1]):
                c.check(False, "a taken fixed port: HarnessError")
        except h.HarnessError as e:
            c.check("Address already in use" in str(e), "a taken fixed port: HarnessError", e)
    try:
        h.Sshd({"ListenAddress": "0.0.0.0"})
        c.check(False, "a non-loopback ListenAddress is refused")
    except h.HarnessError:
        c.check(True, "a non-loopback ListenAddress is refused")


def signal_child():
    """Run by kill_checks: creates a user and an sshd, reports them, waits to be killed."""
    with h.SystemUser("sig") as user, h.Sshd({}) as sshd:
        print(json.dumps({"user": user.name, "home": user.home,
                          "sshd": h.process_identity(sshd.pid), "base": h.base_dir()}),
              flush=True)
        time.sleep(300)
    sys.exit(3)


def kill_checks(c):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
        name = signal.Signals(sig).name
        p = subprocess.Popen([sys.executable, ME, "--signal-child"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        try:
            ready, _, _ = select.select([p.stdout], [], [], 120)
            line = p.stdout.readline() if ready else ""
            if not line:
                p.kill()
                c.check(False, f"{name}: child reports its user and sshd", p.communicate()[1])
                continue
            info = json.loads(line)
            p.send_signal(sig)
            _, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:  # we are being stopped: let the child clean up
                p.terminate()
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if sig == signal.SIGKILL:
            c.check(p.returncode == -sig, f"{name}: the child died", p.returncode)
            # The sshd gets SIGTERM from PR_SET_PDEATHSIG; the user waits for a
            # sweep (this one, or a parallel test's: either may remove it).
            c.check(eventually(lambda: h.process_gone(info["sshd"])),
                    f"{name}: its sshd died with it")
            h.sweep_stale()
        else:
            c.check(p.returncode == 128 + sig, f"{name}: the child exits {128 + sig}",
                    f"status {p.returncode}\n{err}")
        # A parallel test's sweep may be removing them right now: wait for it.
        c.check(eventually(lambda: user_gone(info["user"], info["home"])),
                f"{name}: user {info['user']} and its home are gone", err)
        c.check(h.process_gone(info["sshd"]), f"{name}: its sshd is gone", err)
        c.check(eventually(lambda: not os.path.exists(info["base"])) or h._KEEP,
                f"{name}: its folder {info['base']} is gone", err)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--signal-child":
        signal_child()
    h.skip_unless_root("the sshd harness self-test")
    h.require_tools()
    start = time.monotonic()
    c = Checks()
    gone = {"users": [], "sshd": [], "paths": []}
    try:
        with h.SystemUser("self") as user, h.SystemUser("akc", system=True) as akc:
            gone["users"] += [(user.name, user.home), (akc.name, None)]
            c.check(pwd.getpwnam(user.name).pw_uid == user.uid and os.path.isdir(user.home)
                    and os.stat(user.home).st_uid == user.uid and user.name.startswith("kwt-"),
                    f"SystemUser {user.name}: uid {user.uid}, home {user.home}")
            c.check(akc.exists() and akc.home == "/nonexistent", f"system user {akc.name}")
            keys_dir = h.tempdir("keys")
            good, other = plain_checks(c, user, keys_dir, gone)
            command_checks(c, user, akc, keys_dir, good, other, gone)
            harness_error_checks(c, gone)
    finally:
        for name, home in gone["users"]:
            c.check(user_gone(name, home), f"user {name} is removed with its home")
        for ident in gone["sshd"]:
            c.check(h.process_gone(ident), f"sshd {ident} is gone")
        base = h.base_dir()
        h.cleanup_all()
        for path in gone["paths"] + ([] if h._KEEP else [base]):
            c.check(not os.path.exists(path), f"{path} is removed")
    kill_checks(c)
    print(f"sshd harness self-test: {len(c.failures)} failure(s), "
          f"{time.monotonic() - start:.1f}s")
    if c.failures:
        print("FAILED: " + "; ".join(c.failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
